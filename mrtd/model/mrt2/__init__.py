"""Magenta RealTime 2 in PyTorch: depthformer language model and SpectroStream codec.

Loads the official ``.safetensors`` layout unchanged; proven against the official
JAX implementation by ``mrtd verify`` (see tests/fixtures/README.md). Imports only
torch, numpy, safetensors and mrtd.errors / mrtd.constants.
"""

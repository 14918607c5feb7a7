"""Magenta RealTime v1 in PyTorch: the T5 encoder / depthformer decoder language model.

Loads the official legacy T5X checkpoint (``target.*`` zarr arrays, dir or ``.tar``) with
json+gzip+numpy; proven against the official JAX code with random weights (see
tests/fixtures/v1/README.md). The model files import only torch, numpy and mrtd.errors
(the loader borrows mrtd.model.mrt2.checkpoint.progress_hook, the CLI's progress bar).
"""

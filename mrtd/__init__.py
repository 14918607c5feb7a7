"""mrtd: a Linux real-time host for Magenta RealTime 2 (MRT2).

The package is one pipeline: ``osc_schema`` describes every control, ``daemon``
turns controls into per-frame conditioning and plays audio out of JACK, and
``model`` is the PyTorch MRT2 (depthformer + SpectroStream codec).
"""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("mrtd")
except _metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+source"

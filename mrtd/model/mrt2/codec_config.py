"""SpectroStream codec configuration (48 kHz stereo, 25 Hz frames, RVQ 64 x 1024).

Field names follow the official ``spectrostream`` config so a manifest's
``config.spectrostream`` object (see ``../shared/oracle/fixtures/*.manifest.json``)
loads as-is. Defaults are the released MRT2 codec (both model sizes share it).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from math import prod
from typing import Any


@dataclass(frozen=True)
class CodecConfig:
    decoder_base_conv_depth: int = 64
    encoder_base_conv_depth: int = 32
    num_features: int = 256  # RVQ embedding width F
    num_quantizers: int = 64  # RVQ levels in the table
    num_embeddings: int = 1024  # codebook size
    rvq_levels: int = 12  # levels MRT2 uses (rvq_truncation_level)
    ratios: tuple[tuple[int, int], ...] = ((1, 2), (1, 2), (1, 3), (1, 2), (1, 2), (2, 2), (2, 1))
    mults: tuple[int, ...] = (2, 1, 2, 1, 1, 2, 1)
    num_bins: int = 480
    num_channels: int = 4
    channel_splits: int = 2
    decoder_lookahead: int = 1
    stft_frame_length: int = 960
    stft_frame_step: int = 480
    audio_sample_rate: int = 48000

    @property
    def time_stride(self) -> int:
        """STFT frames per codec frame (4)."""
        return prod(r[0] for r in self.ratios)

    @property
    def samples_per_frame(self) -> int:
        """Audio samples per codec frame and channel (1920 = 40 ms at 48 kHz)."""
        return self.time_stride * self.stft_frame_step

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CodecConfig":
        """Build from an official-style dict; unknown keys are ignored, lists become tuples."""
        names = {f.name for f in fields(cls)}
        kw: dict[str, Any] = {}
        for k, v in d.items():
            if k not in names:
                continue
            if k == "ratios":
                v = tuple(tuple(int(x) for x in r) for r in v)
            elif k == "mults":
                v = tuple(int(x) for x in v)
            elif k == "audio_sample_rate":
                v = int(v)
            kw[k] = v
        return cls(**kw)

"""Magenta RT v1 hyper-parameters (one frozen dataclass, gpt-fast style).

The named sizes are the official gin configs (``mrt_merged_{base,large}.gin``); a custom
size comes from an oracle ``config.json`` (its ``dims`` hold the gin overrides). Everything
outside ``dims`` (vocab, lengths, bucket tables) is fixed by the v1 gin files.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from mrtd.errors import UserError


class V1ConfigError(UserError):
    """A v1 config file that is unreadable or incomplete."""


@dataclass(frozen=True)
class V1Config:
    name: str = "v1_base"
    d_model: int = 768
    num_heads: int = 12
    head_dim: int = 64
    mlp_dim: int = 2048
    encoder_layers: int = 12
    temporal_layers: int = 20
    depth_layers: int = 4
    vocab: int = 29824  # PassThroughVocabulary(29698) rounded up to a multiple of 128
    levels: int = 16  # RVQ levels the decoder writes per frame
    encoder_levels: int = 4  # RVQ levels of the context the encoder reads
    context_frames: int = 250  # 10 s of context
    chunk_frames: int = 50  # 2 s generated per chunk
    style_tokens: int = 6  # first 6 of MusicCoCa's 12 tokens
    temporal_buckets: int = 128
    temporal_max_distance: int = 128
    depth_buckets: int = 16
    depth_max_distance: int = 16
    eps: float = 1e-6

    @property
    def encoder_len(self) -> int:
        """1006 = 250 frames x 4 levels + 6 style tokens."""
        return self.context_frames * self.encoder_levels + self.style_tokens

    @property
    def decoder_len(self) -> int:
        """800 = 50 frames x 16 levels."""
        return self.chunk_frames * self.levels

    @property
    def inner_dim(self) -> int:
        return self.num_heads * self.head_dim

    @classmethod
    def base(cls) -> V1Config:
        return cls()

    @classmethod
    def large(cls) -> V1Config:
        return cls(name="v1_large", d_model=1024, num_heads=16, head_dim=64, mlp_dim=2816,
                   encoder_layers=24, temporal_layers=20, depth_layers=4)

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> V1Config:
        """Config from an oracle ``config.json`` (its ``dims``: the gin overrides)."""
        path = Path(path)
        try:
            dims = json.loads(path.read_text())["dims"]
            return cls(
                name="v1_custom",
                d_model=int(dims["EMBED_DIM"]), num_heads=int(dims["NUM_HEADS"]),
                head_dim=int(dims["HEAD_DIM"]), mlp_dim=int(dims["MLP_DIM"]),
                encoder_layers=int(dims["NUM_ENCODER_LAYERS"]),
                temporal_layers=int(dims["NUM_TEMPORAL_LAYERS"]),
                depth_layers=int(dims["NUM_DEPTH_LAYERS"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise V1ConfigError(f"{path}: not a v1 config.json with 'dims' ({e!r})") from None


SIZES: dict[str, V1Config] = {"v1_base": V1Config.base(), "v1_large": V1Config.large()}

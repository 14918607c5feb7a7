"""Conditioning: the 144-id vector per frame and the encoder that embeds it.

Layout (official input order): ids[0:12] MusicCoCa levels, [12:140] note states for
MIDI pitches 0..127, [140] drums, [141] CFG musiccoca bin, [142] CFG notes bin,
[143] CFG drums bin; every raw value gets +7 so masked (-1) becomes 6.

The encoder has no transformer body: per frame it averages two branches, (a) the sum of
12 MusicCoCa dequantizer rows projected to ``enc_dim`` and (b) the mean over the 132
other channels of rows of ONE concatenated table at cumulative channel offsets, then
applies LayerNorm. The single table matters: the top CFG bin (id 47 of a 47-row
channel) reads the next channel's first row, exactly like the official lookup.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mrtd.model.mrt2.attention import layer_norm
from mrtd.model.mrt2.config import MRT2Config

# raw note states
NOTE_MASKED, NOTE_OFF, NOTE_SUSTAIN, NOTE_ONSET, NOTE_FREE = -1, 0, 1, 2, 3
# CFG discretisation: (step, max bin) per scale (musiccoca, notes, drums)
CFG_STEPS = ((0.2, 40), (0.2, 40), (1.0, 8))
DEFAULT_CFG = (3.0, 1.0, 1.0)


def cfg_bins(scales) -> np.ndarray:
    """Float CFG scales [..., 3] -> raw bins, float64 with round-half-even like the official."""
    s = np.asarray(scales, dtype=np.float64)
    out = np.empty(s.shape, dtype=np.int64)
    for i, (step, top) in enumerate(CFG_STEPS):
        v = (np.clip(s[..., i], -1.0, 7.0) + 1.0) / step
        out[..., i] = np.clip(np.round(v), 0, top)
    return out


def build_cond(
    style_tokens,
    notes=None,
    drums: int = -1,
    cfg_scales=DEFAULT_CFG,
    offset: int = 7,
) -> np.ndarray:
    """One frame's 144 conditioning ids (int32) from raw values.

    style_tokens: 12 MusicCoCa RVQ tokens 0..1023 (or -1 = masked);
    notes: 128 raw note states (-1 masked .. 3), default all masked;
    drums: -1 masked, 0 no drums, 1 play drums; cfg_scales: (musiccoca, notes, drums).
    """
    style = np.asarray(style_tokens, dtype=np.int64).reshape(-1)
    notes = np.full(128, NOTE_MASKED, np.int64) if notes is None else np.asarray(notes, np.int64).reshape(-1)
    if style.shape != (12,) or notes.shape != (128,):
        raise ValueError(f"need 12 style tokens and 128 note states, got {style.shape}, {notes.shape}")
    if style.min() < -1 or style.max() > 1023 or notes.min() < -1 or notes.max() > 3 or drums not in (-1, 0, 1):
        raise ValueError("conditioning value out of range")
    raw = np.concatenate([style, notes, [drums], cfg_bins(cfg_scales)])
    return (raw + offset).astype(np.int32)


def build_cond_batch(style_tokens, notes, drums, cfg_scales, offset: int = 7) -> np.ndarray:
    """Vectorised ``build_cond`` for B streams: [B,12], [B,128], [B], [B,3] -> [B,144] int32."""
    style = np.asarray(style_tokens, np.int64)
    raw = np.concatenate(
        [style, np.asarray(notes, np.int64), np.asarray(drums, np.int64)[:, None], cfg_bins(cfg_scales)], axis=1
    )
    return (raw + offset).astype(np.int32)


class ConditioningEncoder(nn.Module):
    """[..., 144] ids -> [..., enc_dim] cross-attention source in the compute dtype
    (stateless, per frame)."""

    def __init__(self, cfg: MRT2Config, dtype: torch.dtype = torch.float32):
        super().__init__()
        self.cfg = cfg
        self.style_table = nn.Parameter(torch.empty(cfg.style_channels * cfg.style_vocab, cfg.style_dim, dtype=dtype))
        self.style_adapter = nn.Parameter(torch.empty(cfg.enc_dim, cfg.style_dim, dtype=dtype))  # [out, in]
        self.regular_table = nn.Parameter(torch.empty(cfg.regular_rows, cfg.enc_dim, dtype=dtype))
        self.ln_scale = nn.Parameter(torch.empty(cfg.enc_dim))
        self.ln_bias = nn.Parameter(torch.empty(cfg.enc_dim))
        self.init_buffers(None)

    def init_buffers(self, device) -> None:
        """Row offsets per channel: style level q -> 1031q; other channels -> cumulative sums.
        (Re-run after building on the meta device.)"""
        cfg = self.cfg
        sizes = [v for c, v in cfg.cond_groups for _ in range(c)]
        reg_off = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        sty_off = np.arange(cfg.style_channels) * cfg.style_vocab
        off = torch.tensor(np.concatenate([sty_off, reg_off]), dtype=torch.long, device=device)
        self.register_buffer("offsets", off, persistent=False)

    def forward(self, ids: Tensor) -> Tensor:
        n = self.cfg.style_channels
        idx = ids.long() + self.offsets
        dt = self.regular_table.dtype  # compute dtype; every stage rounds to it like the official
        style = F.embedding(idx[..., :n], self.style_table).float().sum(-2).to(dt)
        a = F.linear(style, self.style_adapter)
        r = F.embedding(idx[..., n:], self.regular_table).float().mean(-2).to(dt)
        c = ((a.float() + r.float()) * 0.5).to(dt)
        return layer_norm(c, self.ln_scale, self.ln_bias, self.cfg.norm_eps)

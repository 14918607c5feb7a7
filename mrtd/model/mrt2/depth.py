"""Depth transformer: emits the 12 RVQ tokens of one frame autoregressively.

Position 0 is the temporal output, position q >= 1 the (sqrt(Dt)-scaled) decoder
embedding of token q-1. A dense adapter maps Dt -> Dd, then self-attention/FFN blocks
(full causal over the 12 positions, no sinks, norms reduced in float32), a final
LayerNorm and ``to_logits``; logits are soft-capped ``cap * tanh(x / cap)``.
The streaming path keeps a 12-slot K/V scratch that every frame overwrites.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mrtd.model.mrt2.attention import (
    FFN,
    Attention,
    Int8Weight,
    attend,
    layer_norm,
    linear,
)
from mrtd.model.mrt2.config import MRT2Config


class DepthLayer(nn.Module):
    def __init__(self, cfg: MRT2Config, dtype: torch.dtype):
        super().__init__()
        d = cfg.depth_dim
        self.self_attn = Attention(d, cfg.depth_heads, cfg.depth_head_dim, None, False, True, cfg.norm_eps, dtype)
        self.ffn = FFN(d, cfg.depth_ffn, True, cfg.norm_eps, dtype)


def soft_cap(x: Tensor, cap: float) -> Tensor:
    return torch.tanh(x / cap) * cap


class DepthStack(nn.Module):
    def __init__(self, cfg: MRT2Config, dtype: torch.dtype):
        super().__init__()
        self.cfg = cfg
        self.adapter = nn.Parameter(torch.empty(cfg.depth_dim, cfg.temporal_dim, dtype=dtype))
        self.layers = nn.ModuleList(DepthLayer(cfg, dtype) for _ in range(cfg.depth_layers))
        self.ln_scale = nn.Parameter(torch.empty(cfg.depth_dim))
        self.ln_bias = nn.Parameter(torch.empty(cfg.depth_dim))
        self.to_logits = nn.Parameter(torch.empty(cfg.vocab_size, cfg.depth_dim, dtype=dtype))
        self.logits_bias = nn.Parameter(torch.empty(cfg.vocab_size, dtype=dtype))

    def final_ln(self, x: Tensor) -> Tensor:
        return layer_norm(x, self.ln_scale, self.ln_bias, self.cfg.norm_eps)

    def forward(self, x: Tensor) -> Tensor:
        """Teacher-forced: x [N,12,Dt] -> soft-capped logits [N,12,V] (compute dtype)."""
        logits = linear(self.hidden(x), self.to_logits) + self.logits_bias
        return soft_cap(logits, self.cfg.soft_cap)

    def own_logits(self, x: Tensor) -> Tensor:
        """:meth:`forward` with each level's own 1024 codes only: [N,12,1024] soft-capped
        (training: 12x less work than the whole vocabulary)."""
        h, c = self.hidden(x), self.cfg
        out = []
        for q in range(h.shape[1]):
            lo, hi = c.num_reserved + q * c.codebook_size, c.num_reserved + (q + 1) * c.codebook_size
            out.append(linear(h[:, q], self.to_logits[lo:hi]) + self.logits_bias[lo:hi])
        return soft_cap(torch.stack(out, 1), c.soft_cap)

    def hidden(self, x: Tensor) -> Tensor:
        """Teacher-forced: x [N,12,Dt] -> the final normed states [N,12,Dd]."""
        x = linear(x, self.adapter)
        n = x.shape[1]
        mask = torch.ones(n, n, dtype=torch.bool, device=x.device).tril()
        for layer in self.layers:
            x = layer.self_attn(x, mask)
            x = layer.ffn(x)
        return self.final_ln(x)

    def new_cache(self, batch: int, device, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
        c = self.cfg
        shape = (c.depth_layers, batch, c.num_codebooks, c.depth_heads, c.depth_head_dim)
        return torch.zeros(shape, device=device, dtype=dtype), torch.zeros(shape, device=device, dtype=dtype)

    def step(self, x: Tensor, level: int, cache_k: Tensor, cache_v: Tensor) -> Tensor:
        """Position ``level`` (python int, so shapes are static): x [B,1,Dt] -> level-``level``
        logits [B,1,1024] over its own codebook, BEFORE the soft cap."""
        x = linear(x, self.adapter)
        for i, layer in enumerate(self.layers):
            a = layer.self_attn
            q, k, v = a.qkv(a.pre(x))
            cache_k[i, :, level] = k[:, 0]
            cache_v[i, :, level] = v[:, 0]
            x = a.out(x, attend(q, cache_k[i, :, : level + 1], cache_v[i, :, : level + 1], None, a.per_dim_scale))
            x = layer.ffn(x)
        lo = self.cfg.num_reserved + level * self.cfg.codebook_size
        hi = lo + self.cfg.codebook_size
        h = self.final_ln(x)
        if isinstance(self.to_logits, Int8Weight):  # only this level's 1024 rows are read
            return Int8Weight.matmul(h, *self.to_logits.rows(lo, hi)) + self.logits_bias[lo:hi]
        return F.linear(h, self.to_logits[lo:hi]) + self.logits_bias[lo:hi]

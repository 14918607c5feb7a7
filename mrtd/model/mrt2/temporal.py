"""Temporal transformer: one position per 40 ms frame.

Block = windowed causal self-attention (W past frames + current, 1 sink) -> windowed
cross-attention over the per-frame conditioning source (same window rule, 1 sink) ->
FFN; no final norm. Two equivalent paths: ``forward`` for a whole sequence with a
banded mask (``i - W <= j <= i``) and ``step`` for one frame against static ring
buffers of ``W + 1`` slots whose validity mask hides unwritten slots (attention is
order-free without positional encoding, so a ring needs no shifting).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mrtd.model.mrt2.attention import FFN, Attention, attend, linear
from mrtd.model.mrt2.config import MRT2Config


class TemporalLayer(nn.Module):
    def __init__(self, cfg: MRT2Config, dtype: torch.dtype):
        super().__init__()
        d, h, dh, sink, eps = cfg.temporal_dim, cfg.temporal_heads, cfg.temporal_head_dim, cfg.num_sinks > 0, cfg.norm_eps
        self.self_attn = Attention(d, h, dh, None, sink, False, eps, dtype)
        self.cross_attn = Attention(d, h, dh, cfg.enc_dim, sink, False, eps, dtype)
        self.ffn = FFN(d, cfg.temporal_ffn, False, eps, dtype)


def band_mask(t_q: int, t_k: int, window: int, device) -> Tensor:
    """[Tq,Tk] bool: key j visible to query i iff i - window <= j <= i."""
    i = torch.arange(t_q, device=device)[:, None]
    j = torch.arange(t_k, device=device)[None, :]
    return (j <= i) & (j >= i - window)


class TemporalStack(nn.Module):
    def __init__(self, cfg: MRT2Config, dtype: torch.dtype):
        super().__init__()
        self.cfg = cfg
        self.layers = nn.ModuleList(TemporalLayer(cfg, dtype) for _ in range(cfg.temporal_layers))

    def forward(self, x: Tensor, src: Tensor) -> Tensor:
        """Teacher-forced: x [B,T,Dt], src [B,T,De] (compute dtype) -> [B,T,Dt]."""
        t = x.shape[1]
        m_self = band_mask(t, t, self.cfg.self_window, x.device)
        m_cross = band_mask(t, src.shape[1], self.cfg.cross_window, x.device)
        for layer in self.layers:
            x = layer.self_attn(x, m_self)
            x = layer.cross_attn(x, m_cross, src)
            x = layer.ffn(x)
        return x

    def new_cache(self, batch: int, device, dtype: torch.dtype) -> dict[str, Tensor]:
        """Zeroed K/V rings [L,B,W+1,H,Dh] and slot validity [B,W+1] (shared by all layers)."""
        c = self.cfg
        s_self, s_cross = c.self_window + 1, c.cross_window + 1
        shape = (c.temporal_layers, batch)
        tail = (c.temporal_heads, c.temporal_head_dim)
        z = lambda s: torch.zeros(*shape, s, *tail, device=device, dtype=dtype)  # noqa: E731
        return dict(
            self_k=z(s_self), self_v=z(s_self),
            self_valid=torch.zeros(batch, s_self, dtype=torch.bool, device=device),
            cross_k=z(s_cross), cross_v=z(s_cross),
            cross_valid=torch.zeros(batch, s_cross, dtype=torch.bool, device=device),
        )

    def step(self, x: Tensor, src: Tensor, cache, pos: Tensor) -> Tensor:
        """One frame: x [B,1,Dt], src [B,1,De], pos [B] frame index -> [B,1,Dt].

        ``cache`` has the ``new_cache`` tensors as attributes (a StreamState). Writes this
        frame's keys/values into slot ``pos % S`` of every ring in place.
        """
        b = torch.arange(x.shape[0], device=x.device)
        s_self = pos % cache.self_valid.shape[1]
        s_cross = pos % cache.cross_valid.shape[1]
        cache.self_valid.index_put_((b, s_self), torch.ones_like(b, dtype=torch.bool))
        cache.cross_valid.index_put_((b, s_cross), torch.ones_like(b, dtype=torch.bool))
        m_self = cache.self_valid[:, None, None, :]
        m_cross = cache.cross_valid[:, None, None, :]
        for i, layer in enumerate(self.layers):
            a = layer.self_attn
            q, k, v = a.qkv(a.pre(x))
            cache.self_k[i].index_put_((b, s_self), k[:, 0])
            cache.self_v[i].index_put_((b, s_self), v[:, 0])
            x = a.out(x, _attend(a, q, cache.self_k[i], cache.self_v[i], m_self))
            a = layer.cross_attn
            q = a._split(linear(a.pre(x), a.wq))
            k, v = a.kv(src)
            cache.cross_k[i].index_put_((b, s_cross), k[:, 0])
            cache.cross_v[i].index_put_((b, s_cross), v[:, 0])
            x = a.out(x, _attend(a, q, cache.cross_k[i], cache.cross_v[i], m_cross))
            x = layer.ffn(x)
        return x


def _attend(a: Attention, q: Tensor, k: Tensor, v: Tensor, mask: Tensor) -> Tensor:
    return attend(q, k, v, mask, a.per_dim_scale, a.sink_k, a.sink_v)

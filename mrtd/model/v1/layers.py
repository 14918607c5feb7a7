"""Transformer pieces of the v1 T5 (flaxformer T5.1.1 style), shared by all three stacks.

Pre-norm residual blocks ``x + f(RMSNorm(x))``; RMSNorm reduces in float32 and rounds to the
compute dtype before its scale (flaxformer ``T5LayerNorm``); no biases anywhere; GeGLU MLP
with tanh-gelu; attention logits are *not* scaled by 1/sqrt(Dh) at run time (the official
init folds that into the query kernel), are computed and softmaxed in float32, and masked
keys get an additive -1e10 (flaxformer's mask-to-bias value). Matmuls run in the compute
dtype; the residual stream keeps whatever dtype it arrives in (float32 in the decoder even
in bfloat16 mode, as JAX's type promotion does there).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

MASK_BIAS = -1e10  # flaxformer: lax.select(mask > 0, 0, -1e10)


def rms_norm(x: Tensor, scale: Tensor, eps: float, dtype: torch.dtype) -> Tensor:
    """float32 RMSNorm, rounded to ``dtype``, then times the scale in ``dtype``."""
    xf = x.float()
    y = (xf * torch.rsqrt(xf.square().mean(-1, keepdim=True) + eps)).to(dtype)
    return y * scale.to(dtype)


def sinusoid(length: int, dim: int) -> Tensor:
    """flaxformer ``FixedEmbed``: [length, dim] float32, sin half then cos half, computed in
    float64 with timescales ``exp(-ln(1e4) * i / (dim/2 - 1))`` and rounded once."""
    half = dim // 2
    div = np.exp(-math.log(1e4) * np.arange(half, dtype=np.float64) / (half - 1))
    ang = np.arange(length, dtype=np.float64)[:, None] * div[None, :]
    return torch.from_numpy(np.concatenate([np.sin(ang), np.cos(ang)], 1).astype(np.float32))


def relative_buckets(rel: np.ndarray, num_buckets: int, max_distance: int) -> np.ndarray:
    """T5 unidirectional bucketing of ``rel = key - query`` (only the past is visible):
    distances below ``num_buckets // 2`` get their own bucket, larger ones share
    log-spaced buckets up to ``max_distance`` (float32 log as flaxformer computes it)."""
    n = np.maximum(-rel, 0)
    max_exact = num_buckets // 2
    with np.errstate(divide="ignore"):
        large = max_exact + (
            np.log(n.astype(np.float32) / np.float32(max_exact))
            / np.float32(math.log(max_distance / max_exact))
            * np.float32(num_buckets - max_exact)
        )
    large = np.minimum(np.where(n < max_exact, 0, large).astype(np.int32), num_buckets - 1)
    return np.where(n < max_exact, n, large)


def relative_bias(table: Tensor, length: int, max_distance: int) -> Tensor:
    """[H, num_buckets] learned table -> [H, length, length] bias (query, key) in its dtype."""
    pos = np.arange(length)
    buckets = relative_buckets(pos[None, :] - pos[:, None], table.shape[1], max_distance)
    return table[:, torch.from_numpy(buckets.astype(np.int64))]


def causal_bias(length: int) -> Tensor:
    """[length, length] float32: 0 where key <= query, -1e10 elsewhere."""
    i = torch.arange(length)
    return torch.where(i[None, :] <= i[:, None], 0.0, MASK_BIAS)


def attend(q: Tensor, k: Tensor, v: Tensor, bias: Tensor | None) -> Tensor:
    """q [B,H,Tq,Dh], k/v [B,H,Tk,Dh], bias broadcastable to [B,H,Tq,Tk] -> [B,Tq,H*Dh].

    float32 logits and softmax, no 1/sqrt(Dh); weights rounded to v's dtype.
    """
    logits = torch.matmul(q.float(), k.float().transpose(-1, -2))
    if bias is not None:
        logits = logits + bias
    p = torch.softmax(logits, -1).to(v.dtype)
    return torch.matmul(p, v).transpose(1, 2).flatten(-2)


class Attention(nn.Module):
    """Multi-head attention with separate Q/K/V/out kernels (torch layout ``[out, in]``)."""

    def __init__(self, d_model: int, heads: int, head_dim: int, dtype: torch.dtype):
        super().__init__()
        self.heads, self.head_dim = heads, head_dim
        inner = heads * head_dim
        self.query = nn.Parameter(torch.empty(inner, d_model, dtype=dtype))
        self.key = nn.Parameter(torch.empty(inner, d_model, dtype=dtype))
        self.value = nn.Parameter(torch.empty(inner, d_model, dtype=dtype))
        self.out = nn.Parameter(torch.empty(d_model, inner, dtype=dtype))

    def heads_of(self, t: Tensor) -> Tensor:
        """[B,T,H*Dh] -> [B,H,T,Dh]."""
        return t.unflatten(-1, (self.heads, self.head_dim)).transpose(1, 2)

    def q(self, h: Tensor) -> Tensor:
        return self.heads_of(F.linear(h, self.query))

    def kv(self, h: Tensor) -> tuple[Tensor, Tensor]:
        return self.heads_of(F.linear(h, self.key)), self.heads_of(F.linear(h, self.value))

    def forward(self, h: Tensor, src: Tensor, bias: Tensor | None) -> Tensor:
        """Whole-sequence attention of the normed input ``h`` over ``src`` (== h for self)."""
        k, v = self.kv(src)
        return F.linear(attend(self.q(h), k, v, bias), self.out)


class MLP(nn.Module):
    """GeGLU: ``wo(gelu_tanh(wi_0 h) * wi_1 h)``."""

    def __init__(self, d_model: int, mlp_dim: int, dtype: torch.dtype):
        super().__init__()
        self.wi_0 = nn.Parameter(torch.empty(mlp_dim, d_model, dtype=dtype))
        self.wi_1 = nn.Parameter(torch.empty(mlp_dim, d_model, dtype=dtype))
        self.wo = nn.Parameter(torch.empty(d_model, mlp_dim, dtype=dtype))

    def forward(self, h: Tensor) -> Tensor:
        a = F.gelu(F.linear(h, self.wi_0), approximate="tanh")
        return F.linear(a * F.linear(h, self.wi_1), self.wo)


class Layer(nn.Module):
    """One pre-norm T5 layer: self-attention, optional cross-attention, MLP.

    Parameter names follow the official keys (``pre_self_attention_layer_norm`` etc.) so the
    loader maps them one to one; the encoder's ``pre_attention_layer_norm`` / ``attention``
    are stored under the same attributes (see checkpoint.py).
    """

    def __init__(self, d_model: int, heads: int, head_dim: int, mlp_dim: int, cross: bool,
                 eps: float, dtype: torch.dtype):
        super().__init__()
        self.eps, self.dtype = eps, dtype
        self.pre_self_attention_layer_norm = nn.Parameter(torch.ones(d_model))
        self.self_attention = Attention(d_model, heads, head_dim, dtype)
        if cross:
            self.pre_cross_attention_layer_norm = nn.Parameter(torch.ones(d_model))
            self.encoder_decoder_attention = Attention(d_model, heads, head_dim, dtype)
        else:
            self.pre_cross_attention_layer_norm = None
            self.encoder_decoder_attention = None
        self.pre_mlp_layer_norm = nn.Parameter(torch.ones(d_model))
        self.mlp = MLP(d_model, mlp_dim, dtype)

    def norm(self, x: Tensor, scale: Tensor) -> Tensor:
        return rms_norm(x, scale, self.eps, self.dtype)

    def forward(self, x: Tensor, self_bias: Tensor | None, src: Tensor | None = None,
                cross_bias: Tensor | None = None) -> Tensor:
        """Whole sequence: x [B,T,D]; src [B,S,D] encoder output (cross layers only)."""
        h = self.norm(x, self.pre_self_attention_layer_norm)
        x = x + self.self_attention(h, h, self_bias)
        if self.encoder_decoder_attention is not None:
            h = self.norm(x, self.pre_cross_attention_layer_norm)
            x = x + self.encoder_decoder_attention(h, src, cross_bias)
        return x + self.mlp(self.norm(x, self.pre_mlp_layer_norm))

    def step(self, x: Tensor, pos: int, k_cache: Tensor, v_cache: Tensor, self_bias: Tensor,
             cross_kv: tuple[Tensor, Tensor] | None = None, cross_bias: Tensor | None = None) -> Tensor:
        """One position: x [B,1,D]; writes its key/value into slot ``pos`` of the static
        caches [B,H,L,Dh] and attends to slots ``0..pos``; ``self_bias`` [H,1,pos+1]."""
        a = self.self_attention
        h = self.norm(x, self.pre_self_attention_layer_norm)
        k, v = a.kv(h)
        k_cache[:, :, pos:pos + 1] = k
        v_cache[:, :, pos:pos + 1] = v
        ctx = attend(a.q(h), k_cache[:, :, :pos + 1], v_cache[:, :, :pos + 1], self_bias)
        x = x + F.linear(ctx, a.out)
        if self.encoder_decoder_attention is not None:
            c = self.encoder_decoder_attention
            h = self.norm(x, self.pre_cross_attention_layer_norm)
            x = x + F.linear(attend(c.q(h), cross_kv[0], cross_kv[1], cross_bias), c.out)
        return x + self.mlp(self.norm(x, self.pre_mlp_layer_norm))

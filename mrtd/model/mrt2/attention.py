"""Transformer pieces shared by the temporal and depth stacks.

Every residual branch is "primer hybrid": ``x + PostRMSNorm(f(PreRMSNorm(x)))``.
Attention has separate Q/K/V projections without biases, no positional encoding,
a learned per-dim query scale ``1.442695041/sqrt(Dh) * softplus(p)`` and optionally one
learned sink key/value whose logit uses the *unscaled* query (as the official code).
Softmax runs in float32; matmuls in the weights' (compute) dtype, each op rounded to it
(bias adds separately from matmuls) so bfloat16 compute tracks the official closely.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mrtd.model.mrt2 import int8_kernel

INVALID_LOGIT = -1e9  # value given to invisible keys (official _INVALID_LOGIT_VALUE)
_INV_SOFTPLUS0 = 1.442695041  # 1 / softplus(0)


def rms_norm(x: Tensor, scale: Tensor, eps: float, fp32: bool) -> Tensor:
    """RMSNorm with a multiplicative scale. ``fp32`` picks the reduction dtype (the official
    temporal stack reduces in the compute dtype, the depth stack in float32); the scale is
    applied in the compute dtype after the normalisation, as the official does."""
    if fp32:
        xf = x.float()
        y = (xf * torch.rsqrt(xf.square().mean(-1, keepdim=True) + eps)).to(x.dtype)
    else:
        y = x * torch.rsqrt(x.square().mean(-1, keepdim=True) + eps)
    return y * scale.to(x.dtype)


def layer_norm(x: Tensor, scale: Tensor, bias: Tensor, eps: float) -> Tensor:
    """LayerNorm reduced in float32, scale and bias applied in the input dtype."""
    y = F.layer_norm(x.float(), (x.shape[-1],), eps=eps).to(x.dtype)
    return y * scale.to(x.dtype) + bias.to(x.dtype)


_SCALE_CONST: dict[tuple[int, torch.dtype], float] = {}


def scale_const(head_dim: int, dtype: torch.dtype) -> float:
    """``1.442695041/sqrt(Dh)`` rounded to ``dtype`` on the host (computed once per key, so a
    traced or compiled step sees a plain float: no device copy, no graph break)."""
    key = (head_dim, dtype)
    c = _SCALE_CONST.get(key)
    if c is None:
        c = _SCALE_CONST[key] = float(torch.tensor(_INV_SOFTPLUS0 / math.sqrt(head_dim), dtype=dtype, device="cpu"))
    return c


def query_scale(per_dim_scale: Tensor, head_dim: int, dtype: torch.dtype) -> Tensor:
    """[Dh] factor ``1.442695041/sqrt(Dh) * softplus(p)``, computed in ``dtype`` as official
    (the constant is rounded to ``dtype`` on the host: CUDA-graph safe)."""
    return F.softplus(per_dim_scale.to(dtype)) * scale_const(head_dim, dtype)


class Int8Weight(nn.Module):
    """A weight-only int8 matrix ``[out, in]`` with one scale per output row (symmetric,
    ``|w| max / 127``), used in place of a compute-dtype weight by :func:`linear`.

    CPU: int8 weights, bfloat16 activations, float32 accumulation (a quarter of float32's
    weight bytes), by :mod:`mrtd.model.mrt2.int8_kernel` where it applies (one thread, up
    to 4 rows), else ``torch._weight_int8pack_mm``. Elsewhere (or for shapes that kernel
    does not take) the weight is dequantised per call: correct, and smaller in memory, but
    not faster without a fused kernel.
    """

    def __init__(self, w: Tensor):
        super().__init__()
        wf = w.detach().float()
        scale = wf.abs().amax(-1).clamp(min=1e-30) / 127.0
        q = torch.round(wf / scale[:, None]).clamp(-127, 127).to(torch.int8)
        self.register_buffer("int8", q.contiguous())  # row-major whatever the source layout
        self.register_buffer("scale", scale.to(w.dtype))

    @property
    def shape(self) -> torch.Size:
        return self.int8.shape

    def rows(self, lo: int, hi: int) -> tuple[Tensor, Tensor]:
        return self.int8[lo:hi], self.scale[lo:hi]

    @staticmethod
    def matmul(x: Tensor, q: Tensor, scale: Tensor) -> Tensor:
        k = q.shape[-1]
        if x.device.type == "cpu" and x.dtype == torch.bfloat16 and k % 16 == 0:
            # the packed kernel gives wrong numbers for in-widths that are not multiples of 16
            x2, s = x.reshape(-1, k).contiguous(), scale.to(x.dtype)
            y = int8_kernel.matmul(x2, q, s)  # the native loop where it applies (benchmarks/int8_kernel.py)
            if y is None:
                y = torch._weight_int8pack_mm(x2, q, s)
            return y.reshape(*x.shape[:-1], q.shape[0])
        return F.linear(x, q.to(x.dtype)) * scale.to(x.dtype)

    def forward(self, x: Tensor) -> Tensor:
        return self.matmul(x, self.int8, self.scale)


def linear(x: Tensor, w: Tensor | nn.Module) -> Tensor:
    """``F.linear(x, w)`` (no bias) for a compute-dtype weight or a quantised weight module
    (:class:`Int8Weight`, :class:`mrtd.model.mrt2.quant.Int4Weight`)."""
    return w(x) if isinstance(w, nn.Module) else F.linear(x, w)


INT8_WEIGHTS = ("wqkv", "wq", "wkv", "wo", "w1", "w2")


def quantize_int8(model: nn.Module) -> nn.Module:
    """Every attention/FFN projection, the depth input adapter and the output head of
    ``model`` become :class:`Int8Weight` (in place; embeddings, norms, biases unchanged):
    :func:`mrtd.model.mrt2.quant.quantize_lm` in ``int8`` mode."""
    from mrtd.model.mrt2.quant import quantize_lm

    return quantize_lm(model, "int8")


def attend(
    q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, per_dim_scale: Tensor,
    sink_k: Tensor | None = None, sink_v: Tensor | None = None,
) -> Tensor:
    """q [B,Tq,H,Dh], k/v [B,Tk,H,Dh], mask bool broadcastable to [B,H,Tq,Tk] -> [B,Tq,H*Dh].

    The sink logit is the raw (unscaled) query times the float32 sink key, in float32.
    Both products round to the compute dtype; on the CPU bfloat16 ones are computed in
    float32 first (:func:`product_dtype`).
    """
    md = product_dtype(q)
    logits = torch.einsum("bqhd,bkhd->bhqk", (q * query_scale(per_dim_scale, q.shape[-1], q.dtype)).to(md),
                          k.to(md)).to(q.dtype)
    if mask is not None:
        logits = logits.masked_fill(~mask, INVALID_LOGIT)
    logits = logits.float()
    if sink_k is not None:
        sink = torch.einsum("bqhd,hd->bhq", q.float(), sink_k.float()).unsqueeze(-1)
        logits = torch.cat([sink, logits], -1)
        v = torch.cat([sink_v.to(v.dtype).expand(v.shape[0], 1, -1, -1), v], 1)
    p = torch.softmax(logits, -1).to(q.dtype)
    return torch.einsum("bhqk,bkhd->bqhd", p.to(md), v.to(md)).to(q.dtype).flatten(-2)


def product_dtype(t: Tensor) -> torch.dtype:
    """The dtype attention's batched products run in. On the CPU, PyTorch's bfloat16 batched
    matmul at these sizes (one query row, 12-144 keys, head width 128) took 4-9x longer than
    float32's (51-221 against 14-26 us, one thread, Xeon); products of bfloat16 values are
    exact in float32 and both accumulate in float32, so the upcast result rounded back to
    bfloat16 is the same product, summed in another order."""
    return torch.float32 if t.dtype == torch.bfloat16 and t.device.type == "cpu" else t.dtype


class Attention(nn.Module):
    """Self-attention (``kv_dim=None``) or cross-attention over a ``kv_dim`` source."""

    def __init__(self, dim: int, heads: int, head_dim: int, kv_dim: int | None, sink: bool,
                 fp32_norm: bool, eps: float, dtype: torch.dtype):
        super().__init__()
        self.heads, self.head_dim, self.eps, self.fp32_norm = heads, head_dim, eps, fp32_norm
        scale_const(head_dim, dtype)  # the host constant exists before any step is traced
        self.is_cross = kv_dim is not None
        hd = heads * head_dim
        self.pre_norm = nn.Parameter(torch.empty(dim))
        self.post_norm = nn.Parameter(torch.empty(dim))
        if self.is_cross:
            self.wq = nn.Parameter(torch.empty(hd, dim, dtype=dtype))
            self.wkv = nn.Parameter(torch.empty(2 * hd, kv_dim, dtype=dtype))
        else:
            self.wqkv = nn.Parameter(torch.empty(3 * hd, dim, dtype=dtype))
        self.wo = nn.Parameter(torch.empty(dim, hd, dtype=dtype))
        self.per_dim_scale = nn.Parameter(torch.empty(head_dim))
        if sink:
            self.sink_k = nn.Parameter(torch.empty(heads, head_dim))  # float32: its logit is f32
            self.sink_v = nn.Parameter(torch.empty(heads, head_dim, dtype=dtype))
        else:
            self.sink_k = self.sink_v = None

    def _split(self, t: Tensor) -> Tensor:
        return t.unflatten(-1, (self.heads, self.head_dim))

    def qkv(self, h: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Self-attention projections of the pre-normed input: 3 x [..., H, Dh]."""
        return tuple(self._split(t) for t in linear(h, self.wqkv).chunk(3, -1))

    def kv(self, src: Tensor) -> tuple[Tensor, Tensor]:
        """Cross-attention key/value of the conditioning source: 2 x [..., H, Dh]."""
        return tuple(self._split(t) for t in linear(src, self.wkv).chunk(2, -1))

    def pre(self, x: Tensor) -> Tensor:
        return rms_norm(x, self.pre_norm, self.eps, self.fp32_norm)

    def out(self, x: Tensor, ctx: Tensor) -> Tensor:
        """Output projection, post norm and residual add."""
        return x + rms_norm(linear(ctx, self.wo), self.post_norm, self.eps, self.fp32_norm)

    def forward(self, x: Tensor, mask: Tensor | None, src: Tensor | None = None) -> Tensor:
        """Whole-sequence branch: x [B,T,D] (+ src [B,Ts,Dkv]) with a [T,Ts] visibility mask."""
        h = self.pre(x)
        if self.is_cross:
            q = self._split(linear(h, self.wq))
            k, v = self.kv(src)
        else:
            q, k, v = self.qkv(h)
        return self.out(x, attend(q, k, v, mask, self.per_dim_scale, self.sink_k, self.sink_v))


class FFN(nn.Module):
    """Non-gated GELU (tanh) feed-forward with biases, as a primer-hybrid residual branch."""

    def __init__(self, dim: int, hidden: int, fp32_norm: bool, eps: float, dtype: torch.dtype):
        super().__init__()
        self.eps, self.fp32_norm = eps, fp32_norm
        self.pre_norm = nn.Parameter(torch.empty(dim))
        self.post_norm = nn.Parameter(torch.empty(dim))
        self.w1 = nn.Parameter(torch.empty(hidden, dim, dtype=dtype))
        self.b1 = nn.Parameter(torch.empty(hidden, dtype=dtype))
        self.w2 = nn.Parameter(torch.empty(dim, hidden, dtype=dtype))
        self.b2 = nn.Parameter(torch.empty(dim, dtype=dtype))

    def forward(self, x: Tensor) -> Tensor:
        h = rms_norm(x, self.pre_norm, self.eps, self.fp32_norm)
        h = linear(F.gelu(linear(h, self.w1) + self.b1, approximate="tanh"), self.w2) + self.b2
        return x + rms_norm(h, self.post_norm, self.eps, self.fp32_norm)


def load_attention(m: Attention, t: dict[str, Tensor], p: str) -> dict[str, Tensor]:
    """Official keys under prefix ``p`` (``.../self_attention/``) -> this module's params."""
    a = p + "attention/"

    def lin(k: str) -> Tensor:  # [Din, H, Dh] kernel -> F.linear weight [H*Dh, Din]
        w = t.pop(a + k + "_projection/kernel")
        return w.reshape(w.shape[0], -1).t()

    out = {"pre_norm": t.pop(p + "pre_norm/scale"), "post_norm": t.pop(p + "post_norm/scale"),
           "per_dim_scale": t.pop(a + "per_dim_scale")}
    if m.is_cross:
        out["wq"] = lin("query")
        out["wkv"] = torch.cat([lin("key"), lin("value")])
    else:
        out["wqkv"] = torch.cat([lin("query"), lin("key"), lin("value")])
    w = t.pop(p + "output_projection/kernel")
    out["wo"] = w.reshape(w.shape[0], -1)
    if m.sink_k is not None:
        out["sink_k"] = t.pop(a + "sink_key_embeddings")[0]
        out["sink_v"] = t.pop(a + "sink_value_embeddings")[0]
    return out


def load_ffn(t: dict[str, Tensor], p: str) -> dict[str, Tensor]:
    return {"pre_norm": t.pop(p + "pre_norm/scale"), "post_norm": t.pop(p + "post_norm/scale"),
            "w1": t.pop(p + "ffn_layer1/kernel").t(), "b1": t.pop(p + "ffn_layer1/bias"),
            "w2": t.pop(p + "ffn_layer2/kernel").t(), "b2": t.pop(p + "ffn_layer2/bias")}


def attention_shapes(dim: int, heads: int, head_dim: int, kv_dim: int | None, sink: bool, p: str) -> dict:
    a = p + "attention/"
    s = {p + "pre_norm/scale": (dim,), p + "post_norm/scale": (dim,), a + "per_dim_scale": (head_dim,),
         a + "query_projection/kernel": (dim, heads, head_dim),
         a + "key_projection/kernel": (kv_dim or dim, heads, head_dim),
         a + "value_projection/kernel": (kv_dim or dim, heads, head_dim),
         p + "output_projection/kernel": (dim, heads, head_dim)}
    if sink:
        s[a + "sink_key_embeddings"] = (1, heads, head_dim)
        s[a + "sink_value_embeddings"] = (1, heads, head_dim)
    return s


def ffn_shapes(dim: int, hidden: int, p: str) -> dict:
    return {p + "pre_norm/scale": (dim,), p + "post_norm/scale": (dim,),
            p + "ffn_layer1/kernel": (dim, hidden), p + "ffn_layer1/bias": (hidden,),
            p + "ffn_layer2/kernel": (hidden, dim), p + "ffn_layer2/bias": (dim,)}

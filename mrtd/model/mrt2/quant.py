"""Weight-only quantisation of the MRT2 language model (temporal + depth stacks; never the
codec) for the CPU.

``int8``: :class:`~mrtd.model.mrt2.attention.Int8Weight`, one symmetric scale per output
row, run by the native loop of :mod:`mrtd.model.mrt2.int8_kernel` (one thread) or
``torch._weight_int8pack_mm`` (int8 weights, bfloat16 activations, float32 accumulation).
``int4``: :class:`Int4Weight`, asymmetric 4-bit groups along the input width
(``INT4_GROUP`` columns, one bfloat16 scale and zero per group and row), run by
``torch.ops.aten._weight_int4pack_mm_for_cpu``. Both kernels want bfloat16 activations:
with float32 activations they were 4-25x slower than plain float32 here (2-core Zen 4, one
row), so the quantised modes compute in bfloat16 (``COMPUTE_DTYPE``).

What is quantised: every attention/FFN projection, the depth input adapter and the output
head (``to_logits``). Embeddings, norms and biases stay in the compute dtype. In ``int4``
the output head stays int8: its row count (12 x 1024 + reserved rows) is not a multiple
of 16, which the int4 packing needs, and it is read 1024 rows per level at an offset the
packed layout cannot slice; any other matrix the int4 kernel cannot take (rows not a
multiple of 16, in-width not a multiple of the group) also falls back to int8.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mrtd.model.mrt2 import int8_kernel, native_step
from mrtd.model.mrt2.attention import FFN, INT8_WEIGHTS, Attention, Int8Weight

MODES = ("int8", "int4")
COMPUTE_DTYPE = torch.bfloat16
INT4_GROUP = 128  # as fast as int8 per call at one row here; 32 was ~20% slower


class Int4Weight(nn.Module):
    """A weight-only int4 matrix ``[out, in]``: per (row, group of ``group`` columns) an
    asymmetric 4-bit code, ``w = (q - 8) * scale + zero``, packed for the CPU kernel."""

    def __init__(self, w: Tensor, group: int = INT4_GROUP):
        super().__init__()
        n, k = w.shape
        if not can_int4(w, group):
            raise ValueError(f"int4 needs rows % 16 == 0 and in-width % {group} == 0, got {tuple(w.shape)}")
        wg = w.detach().float().reshape(n, k // group, group)
        lo, hi = wg.amin(-1, keepdim=True), wg.amax(-1, keepdim=True)
        scale = (hi - lo).clamp(min=1e-30) / 15.0
        zero = lo + 8.0 * scale
        q = torch.round((wg - lo) / scale).clamp(0, 15).to(torch.int32).reshape(n, k)
        self.group = group
        self.out_features, self.in_features = n, k
        self.register_buffer("int4", torch.ops.aten._convert_weight_to_int4pack_for_cpu(q.cpu(), 1))
        sz = torch.stack([scale[..., 0], zero[..., 0]], -1).transpose(0, 1).contiguous()  # [k/g, n, 2]
        self.register_buffer("scales_zeros", sz.to(COMPUTE_DTYPE))

    @property
    def shape(self) -> torch.Size:
        return torch.Size((self.out_features, self.in_features))

    def dequantized(self) -> Tensor:
        """The float32 matrix the codes stand for (for tests and non-bfloat16 inputs)."""
        eye = torch.eye(self.in_features, dtype=COMPUTE_DTYPE)
        cols = torch.ops.aten._weight_int4pack_mm_for_cpu(eye, self.int4, self.group, self.scales_zeros)
        return cols.float().t().contiguous()  # exact: one code * scale + zero per entry, in bf16

    def forward(self, x: Tensor) -> Tensor:
        k = self.in_features
        if x.dtype != COMPUTE_DTYPE:
            return nn.functional.linear(x, self.dequantized().to(x.dtype))
        y = torch.ops.aten._weight_int4pack_mm_for_cpu(x.reshape(-1, k).contiguous(), self.int4, self.group,
                                                      self.scales_zeros)
        return y.reshape(*x.shape[:-1], self.out_features)


def can_int4(w: Tensor, group: int = INT4_GROUP) -> bool:
    return w.dim() == 2 and w.shape[0] % 16 == 0 and w.shape[1] % group == 0 and w.device.type == "cpu"


def quantize_lm(model: nn.Module, mode: str, group: int = INT4_GROUP) -> nn.Module:
    """Weight-only ``mode`` (``int8`` | ``int4``) for every attention/FFN projection, the
    depth input adapter and the output head of an MRT2 language model, in place. The model
    should be in :data:`COMPUTE_DTYPE` on the CPU (the kernels' activation dtype)."""
    from mrtd.model.mrt2.depth import DepthStack

    if mode not in MODES:
        raise ValueError(f"quantisation mode must be one of {MODES}, got {mode!r}")
    with torch.no_grad():
        for m in list(model.modules()):
            names = INT8_WEIGHTS if isinstance(m, (Attention, FFN)) else (
                ("adapter", "to_logits") if isinstance(m, DepthStack) else ())
            for name in names:
                w = getattr(m, name, None)
                if not isinstance(w, Tensor):
                    continue
                delattr(m, name)
                if mode == "int4" and name != "to_logits" and can_int4(w, group):
                    setattr(m, name, Int4Weight(w, group))
                else:
                    setattr(m, name, Int8Weight(w))
    model.quant = mode
    int8_kernel.library()  # build the native kernel now, at load time, not on the first frame
    if hasattr(model, "temporal") and hasattr(model, "depth"):
        native_step.prepare(model)  # int8: the one-call native frame (int4: none)
    return model


def quant_of(model: nn.Module) -> str | None:
    """``int8`` / ``int4`` when :func:`quantize_lm` ran on ``model``, else None."""
    return getattr(model, "quant", None)


def quant_counts(model: nn.Module) -> dict[str, int]:
    """How many matrices of ``model`` are int8 and int4 (int4 falls back to int8 where the
    kernel cannot take the shape: on the tiny reference model, every matrix)."""
    mods = list(model.modules())
    return {"int8": sum(isinstance(m, Int8Weight) for m in mods), "int4": sum(isinstance(m, Int4Weight) for m in mods)}


def weight_count(module: nn.Module) -> int:
    """Parameters, counting int8/int4-quantised matrices (held as buffers) too; not the RVQ
    table (what a model's size is quoted in)."""
    return sum(p.numel() for p in module.parameters()) + sum(
        b.numel() for n, b in module.named_buffers() if n.endswith(".int8")) + sum(
        m.out_features * m.in_features for m in module.modules() if isinstance(m, Int4Weight))

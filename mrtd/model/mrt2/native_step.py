"""The int8 language model's frame in native code (``lm_step.c``): the whole temporal step
in one call, the 12 depth levels with their sampling in another.

Why: with int8 weights read by the native kernel (:mod:`mrtd.model.mrt2.int8_kernel`),
what was left of an eager frame on one core was ~3,000 small PyTorch operators (norms,
casts, attention over a few dozen keys), about 30 of its ~70 ms on the project's 2-core
Xeon: the difference between 0.53x and real time. ``lm_step.c`` runs those as plain loops
over float32 activations; weights are the same int8 codes and row scales.

Numerics: closer to the float32 model than the eager bfloat16 path (activations are not
rounded to bfloat16 between operators; keys and values are, where the stream state stores
them), deterministic on a given machine, and the same bits whatever torch's thread count
(the frame is one thread's work). It runs wherever it applies, one stage or two, on any
thread count: on the project's 2-core Xeon the one-thread native frame (31 ms) beats
PyTorch's int8 operators on two threads (49 ms). The eager path runs under
``torch.compile`` (which :meth:`FrameStep.compile` then skips), for more than
:data:`~mrtd.model.mrt2.int8_kernel.MAX_ROWS` streams, without a C compiler or with
``MRTD_INT8_KERNEL=torch``.

The plan is made by :func:`mrtd.model.mrt2.quant.quantize_lm` from the model as it is
then; it holds raw pointers to the int8 weights and float32 copies of the small vectors,
and re-checks the pointers before each frame, so a model moved or re-quantised later falls
back to the eager path instead of reading freed memory.
"""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from mrtd.model.mrt2 import int8_kernel
from mrtd.model.mrt2.attention import Attention, Int8Weight, query_scale

if TYPE_CHECKING:
    from mrtd.model.mrt2.depthformer import Depthformer, StreamState

ATTR = "_native_step"  # where the plan hangs on the model


class NativeStep:
    """Pointers into one int8 :class:`~mrtd.model.mrt2.depthformer.Depthformer`, in the
    orders ``lm_step.c`` reads (its ``T_*`` and ``D_*`` offsets)."""

    def __init__(self, model: "Depthformer", lib: ctypes.CDLL):
        self.lib, self.cfg = lib, model.cfg
        self._keep: list[Tensor] = []  # float32 copies and the int8 tensors pointed at
        self._mats: list[tuple[Int8Weight, int, int]] = []  # each matrix with the pointers taken
        c = model.cfg
        d_t, hd_t, d_d, hd_d = c.temporal_dim, c.temporal_heads * c.temporal_head_dim, c.depth_dim, (
            c.depth_heads * c.depth_head_dim)
        if len(model.temporal.layers) != c.temporal_layers or len(model.depth.layers) != c.depth_layers:
            raise TypeError("layer counts differ from the config")
        t_ptrs: list[int] = []
        for layer in model.temporal.layers:
            s, x, f = layer.self_attn, layer.cross_attn, layer.ffn
            t_ptrs += [self._vec(s.pre_norm, d_t), self._vec(s.post_norm, d_t), *self._mat(s.wqkv, 3 * hd_t, d_t),
                       *self._mat(s.wo, d_t, hd_t), *self._attn_tail(s)]
            t_ptrs += [self._vec(x.pre_norm, d_t), self._vec(x.post_norm, d_t), *self._mat(x.wq, hd_t, d_t),
                       *self._mat(x.wkv, 2 * hd_t, c.enc_dim), *self._mat(x.wo, d_t, hd_t), *self._attn_tail(x)]
            t_ptrs += self._ffn(f, d_t, c.temporal_ffn)
        d = model.depth
        d_ptrs = [*self._mat(d.adapter, d_d, d_t), self._vec(d.ln_scale, d_d), self._vec(d.ln_bias, d_d),
                  *self._mat(d.to_logits, c.vocab_size, d_d), self._vec(d.logits_bias, c.vocab_size)]
        for layer in d.layers:
            s = layer.self_attn
            if (s.heads, s.head_dim) != (c.depth_heads, c.depth_head_dim):
                raise TypeError("attention heads differ from the config")
            d_ptrs += [self._vec(s.pre_norm, d_d), self._vec(s.post_norm, d_d), *self._mat(s.wqkv, 3 * hd_d, d_d),
                       *self._mat(s.wo, d_d, hd_d),
                       self._vec(query_scale(s.per_dim_scale.float(), s.head_dim, torch.float32), c.depth_head_dim)]
            d_ptrs += self._ffn(layer.ffn, d_d, c.depth_ffn)
        self._t = (ctypes.c_void_p * len(t_ptrs))(*t_ptrs)
        self._d = (ctypes.c_void_p * len(d_ptrs))(*d_ptrs)
        self._t_dims = (ctypes.c_int * 8)(c.temporal_layers, c.temporal_dim, c.temporal_heads, c.temporal_head_dim,
                                          c.temporal_ffn, c.enc_dim, c.self_window + 1, c.cross_window + 1)
        self._d_dims = (ctypes.c_int * 9)(c.depth_layers, c.temporal_dim, c.depth_dim, c.depth_heads,
                                          c.depth_head_dim, c.depth_ffn, c.num_codebooks, c.codebook_size,
                                          c.num_reserved)
        self.eps = float(c.norm_eps)
        emb = model.embedding
        if tuple(emb.shape) != (c.vocab_size, c.temporal_dim) or emb.dtype != torch.bfloat16 or not emb.is_contiguous():
            raise TypeError("the token embedding is not a contiguous bfloat16 [vocab, width] table")
        self._emb, self._emb_ptr = emb, emb.data_ptr()
        self.emb_scale, self.cap = float(model.emb_scale), float(c.soft_cap)
        self.frames = 0  # temporal steps run here (benchmarks record it: proof the frame ran natively)

    # ---- building: every shape checked here, since the C code trusts them ----
    def _vec(self, t: Tensor, n: int) -> int:
        if tuple(t.shape) != (n,):
            raise TypeError(f"vector of shape {tuple(t.shape)}, expected ({n},)")
        f = t.detach().to("cpu", torch.float32).contiguous().clone()
        self._keep.append(f)
        return f.data_ptr()

    def _mat(self, w: object, rows: int, cols: int) -> tuple[int, int]:
        if not isinstance(w, Int8Weight):
            raise TypeError(f"not an int8 matrix: {type(w).__name__}")
        q, s = w.int8, w.scale
        if tuple(q.shape) != (rows, cols) or tuple(s.shape) != (rows,):
            raise TypeError(f"int8 matrix of shape {tuple(q.shape)}, expected {(rows, cols)}")
        if q.device.type != "cpu" or not q.is_contiguous() or s.dtype != torch.bfloat16 or not s.is_contiguous():
            raise TypeError("int8 matrix not in the CPU layout the kernel reads")
        self._keep += [q, s]
        self._mats.append((w, q.data_ptr(), s.data_ptr()))
        return q.data_ptr(), s.data_ptr()

    def _attn_tail(self, a: Attention) -> list[int]:
        """qscale, sink key, sink value (float32; the scale as exact as float32 allows)."""
        c = self.cfg
        if a.sink_k is None:
            raise TypeError("the temporal stack's attention has a sink")
        if (a.heads, a.head_dim) != (c.temporal_heads, c.temporal_head_dim):
            raise TypeError("attention heads differ from the config")
        hd = a.heads * a.head_dim
        return [self._vec(query_scale(a.per_dim_scale.float(), a.head_dim, torch.float32), a.head_dim),
                self._vec(a.sink_k.reshape(-1), hd), self._vec(a.sink_v.reshape(-1), hd)]

    def _ffn(self, f, dim: int, hidden: int) -> list[int]:
        return [self._vec(f.pre_norm, dim), self._vec(f.post_norm, dim), *self._mat(f.w1, hidden, dim),
                self._vec(f.b1, hidden), *self._mat(f.w2, dim, hidden), self._vec(f.b2, dim)]

    def current(self) -> bool:
        """Every matrix still holds the very tensors this plan points at (not moved or
        replaced since; ~40 us a check for mrt2_small)."""
        return self._emb.data_ptr() == self._emb_ptr and all(
            w.int8.data_ptr() == q and w.scale.data_ptr() == s for w, q, s in self._mats)

    # ---- running ----
    def temporal(self, x: Tensor, src: Tensor, state: "StreamState") -> Tensor:
        """:meth:`TemporalStack.step` for x [B,1,Dt], src [B,1,E] (bfloat16): [B,1,Dt] bfloat16."""
        c, b = self.cfg, x.shape[0]
        _need(x, (b, 1, c.temporal_dim), torch.bfloat16)
        _need(src, (b, 1, c.enc_dim), torch.bfloat16)
        _need(state.pos, (b,), torch.long)
        ring = (c.temporal_layers, b, None, c.temporal_heads, c.temporal_head_dim)
        for name, slots in (("self", c.self_window + 1), ("cross", c.cross_window + 1)):
            shape = ring[:2] + (slots,) + ring[3:]
            _need(getattr(state, f"{name}_k"), shape, torch.bfloat16)
            _need(getattr(state, f"{name}_v"), shape, torch.bfloat16)
            _need(getattr(state, f"{name}_valid"), (b, slots), torch.bool)
        out = torch.empty_like(x)
        rc = self.lib.mrtd_temporal_step(
            self._t, self._t_dims, self.eps, b, x.data_ptr(), src.data_ptr(), state.pos.data_ptr(),
            state.self_k.data_ptr(), state.self_v.data_ptr(), state.self_valid.data_ptr(),
            state.cross_k.data_ptr(), state.cross_v.data_ptr(), state.cross_valid.data_ptr(), out.data_ptr())
        if rc != 0:
            raise RuntimeError("native temporal step refused its shapes")
        self.frames += 1
        return out

    def depth_frame(self, o: Tensor, state: "StreamState", t: Tensor | None, k_idx: Tensor | None,
                    noise: Tensor | None, forced: Tensor | None) -> tuple[Tensor, Tensor]:
        """:meth:`Depthformer.step_depth`'s 12 levels in one call, the sampler included (the
        official rules of :func:`~mrtd.model.mrt2.sampler.sample_prepared`): o [B,1,Dt]
        bfloat16; ``t``/``k_idx`` [B,1] from :func:`~mrtd.model.mrt2.sampler.sampling_params`;
        noise [B,12,1024] float32 (None: greedy); forced [B,12] ids fed instead of samples.
        Returns tokens [B,12] int64 and the levels' logits [B,12,1024] float32 before the
        soft cap. One call instead of ~200 operators that each release and retake the
        interpreter lock the codec thread also wants."""
        c, b = self.cfg, o.shape[0]
        q, size = c.num_codebooks, c.codebook_size
        _need(o, (b, 1, c.temporal_dim), torch.bfloat16)
        shape = (c.depth_layers, b, q, c.depth_heads, c.depth_head_dim)
        _need(state.depth_k, shape, torch.bfloat16)
        _need(state.depth_v, shape, torch.bfloat16)
        if forced is not None:
            forced = forced.to(torch.long).contiguous()
            _need(forced, (b, q), torch.long)
        else:
            if noise is not None:
                if t is None:
                    raise ValueError("sampling with noise needs a temperature")
                _need(noise, (b, q, size), torch.float32)
            if t is not None:
                t = t.reshape(b).contiguous()
                _need(t, (b,), torch.float32)
            if k_idx is not None:
                k_idx = k_idx.reshape(b).contiguous()
                _need(k_idx, (b,), torch.long)
        emb = self._emb
        tokens = torch.empty(b, q, dtype=torch.long)
        logits = torch.empty(b, q, size, dtype=torch.float32)
        ptr = lambda x: None if x is None else x.data_ptr()  # noqa: E731
        rc = self.lib.mrtd_depth_frame(
            self._d, self._d_dims, self.eps, b, o.data_ptr(), emb.data_ptr(), self.emb_scale, self.cap,
            state.depth_k.data_ptr(), state.depth_v.data_ptr(), ptr(t), ptr(k_idx),
            ptr(noise) if forced is None else None, ptr(forced), tokens.data_ptr(), logits.data_ptr())
        if rc == -2:
            raise ValueError(f"a forced token is outside the vocabulary (0..{c.vocab_size - 1})")
        if rc != 0:
            raise RuntimeError("native depth step refused its shapes")
        return tokens, logits


def _need(t: Tensor, shape: tuple, dtype: torch.dtype) -> None:
    """Refuse (ValueError) a tensor the C code would misread: wrong shape, dtype, device or layout."""
    if (t.dtype != dtype or t.device.type != "cpu" or not t.is_contiguous() or t.dim() != len(shape)
            or any(n is not None and n != m for n, m in zip(shape, t.shape))):
        raise ValueError(f"native step: expected a contiguous CPU {dtype} tensor of shape {shape}, "
                         f"got {t.dtype} {tuple(t.shape)} on {t.device}")


def prepare(model: "Depthformer") -> NativeStep | None:
    """Make (or drop) ``model``'s plan: it exists for a bfloat16-compute CPU model whose
    language-model matrices are all int8 when the native library loads."""
    plan = None
    lib = int8_kernel.library()
    if lib is not None and getattr(model, "dtype", None) == torch.bfloat16 and model.embedding.device.type == "cpu":
        try:
            plan = NativeStep(model, lib)
        except TypeError:
            plan = None  # int4 matrices, or an unusual layout: the eager path
    object.__setattr__(model, ATTR, plan)
    return plan


def plan_of(model: "Depthformer") -> NativeStep | None:
    """``model``'s plan whether or not this thread may use it now (descriptions, benchmarks)."""
    return getattr(model, ATTR, None)


def drop(model: "Depthformer") -> None:
    """Forget ``model``'s plan: its frames run PyTorch's operators (comparisons, benchmarks)."""
    object.__setattr__(model, ATTR, None)


def ready(model: "Depthformer", batch: int) -> NativeStep | None:
    """The plan when this call may use it (not compiling, at most
    :data:`~mrtd.model.mrt2.int8_kernel.MAX_ROWS` streams), else None."""
    plan = getattr(model, ATTR, None)
    if plan is None or batch > int8_kernel.MAX_ROWS or torch.compiler.is_compiling():
        return None
    if not plan.current():
        drop(model)
        return None
    return plan

"""The MRT2 depthformer: conditioning encoder + temporal stack + depth stack + sampler.

Two paths that agree: ``forward`` (teacher forcing over a whole sequence, banded
attention masks) and ``step`` (one 40 ms frame per call against a ``StreamState`` of
static, preallocated tensors that are only ever written in place, so a step has fixed
shapes and can be captured in a CUDA graph). Weights load from the official flat Flax
keys (``params/depthformer/...``); matrices live in the compute dtype, norm parameters
in float32 (the official keeps params f32 and casts at use; same numbers).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mrtd.model.mrt2 import native_step
from mrtd.model.mrt2.attention import (
    attention_shapes,
    ffn_shapes,
    load_attention,
    load_ffn,
)
from mrtd.model.mrt2.checkpoint import read_shapes, read_tensors
from mrtd.model.mrt2.conditioning import ConditioningEncoder
from mrtd.model.mrt2.config import (
    DEPTHFORMER_PREFIX,
    MRT2Config,
    check_config,
    infer_config,
)
from mrtd.model.mrt2.depth import DepthStack, soft_cap
from mrtd.model.mrt2.sampler import sample_prepared, sampling_params
from mrtd.model.mrt2.temporal import TemporalStack

_ENC = DEPTHFORMER_PREFIX + "encoder/body/"
_MULAN = _ENC + "layers_1/branched_mulan_embedder/mulan_embedder/"
_REG = _ENC + "layers_1/branched_regular_embedder/regular_embedder/embedding"
_DEC = DEPTHFORMER_PREFIX + "decoder/"
_EMB = _DEC + "decoder_embedding/embedding/embedding"
_TMP = _DEC + "temporal_body/transformer/x_layers_{}/"
_DEP = _DEC + "depth_body/"


# projection matrices (F.linear weights [out, in]) whose memory layout set_weight_layout picks
_PROJECTIONS = frozenset({"wqkv", "wq", "wkv", "wo", "w1", "w2", "adapter", "to_logits", "style_adapter"})


@dataclass
class StreamState:
    """Everything a stream carries between frames; batch dim B = independent streams.

    prev [B,12] previous frame ids (0 = SOS), pos [B] frames seen; temporal K/V rings
    [L,B,W+1,H,Dh] with validity [B,W+1]; depth K/V scratch [Ld,B,12,Hd,Dh].
    """

    prev: Tensor
    pos: Tensor
    self_k: Tensor
    self_v: Tensor
    self_valid: Tensor
    cross_k: Tensor
    cross_v: Tensor
    cross_valid: Tensor
    depth_k: Tensor
    depth_v: Tensor

    @property
    def batch(self) -> int:
        return self.prev.shape[0]

    def reset(self, streams: Tensor | None = None) -> None:
        """Back to the start (SOS, empty windows), in place; ``streams`` [B] bool picks rows."""
        if streams is None:
            streams = torch.ones(self.batch, dtype=torch.bool, device=self.prev.device)
        m = streams.to(self.prev.device, torch.bool)
        self.prev.masked_fill_(m[:, None], 0)
        self.pos.masked_fill_(m, 0)
        self.self_valid.masked_fill_(m[:, None], False)
        self.cross_valid.masked_fill_(m[:, None], False)

    def clone(self) -> "StreamState":
        """A snapshot (deep copy) to restore later with ``copy_``."""
        return StreamState(**{f.name: getattr(self, f.name).clone() for f in fields(self)})

    def copy_(self, other: "StreamState") -> "StreamState":
        """Restore from a snapshot in place (buffers keep their storage)."""
        for f in fields(self):
            getattr(self, f.name).copy_(getattr(other, f.name))
        return self


@dataclass
class StepOutput:
    tokens: Tensor  # [B,12] int64 unique ids 6 + 1024q + code
    logits: Tensor  # [B,12,1024] own-codebook depth logits BEFORE the soft cap (compute dtype)
    temporal_out: Tensor  # [B,Dt] temporal transformer output
    temporal_in: Tensor  # [B,Dt] mean-embedded previous frame


class Depthformer(nn.Module):
    def __init__(self, cfg: MRT2Config, dtype: torch.dtype = torch.float32):
        super().__init__()
        self.cfg = cfg
        self.dtype = dtype
        self.encoder = ConditioningEncoder(cfg, dtype)
        self.embedding = nn.Parameter(torch.empty(cfg.vocab_size, cfg.temporal_dim, dtype=dtype))
        self.temporal = TemporalStack(cfg, dtype)
        self.depth = DepthStack(cfg, dtype)
        # sqrt(Dt) rounded to the compute dtype first, as the official Scale layer does
        self.emb_scale = float(torch.tensor(math.sqrt(cfg.temporal_dim), dtype=dtype, device="cpu"))

    # ---- shared pieces ----
    def embed(self, ids: Tensor) -> Tensor:
        return F.embedding(ids.long(), self.embedding) * self.emb_scale

    def embed_frame(self, ids: Tensor) -> Tensor:
        """[..., 12] ids -> [..., Dt]: mean of the level embeddings (float32 accumulation)."""
        # scale and mean fused in float32 (one rounding), as XLA does: bit-exact in bf16
        return (F.embedding(ids.long(), self.embedding).float() * self.emb_scale).mean(-2).to(self.dtype)

    def source(self, cond: Tensor) -> Tensor:
        return self.encoder(cond).to(self.dtype)

    # ---- teacher forcing ----
    def own_logits(self, cond: Tensor, target: Tensor, past: Tensor | None = None) -> Tensor:
        """:meth:`forward` with each level's own codebook only: [B,T,12,1024] float32
        soft-capped logits of the codes (what training needs; 12x less work). ``past``
        (default ``target``): the frames the temporal stack sees, so training can show it
        the model's own samples where it will meet them (scheduled sampling)."""
        d_in, _ = self._teacher(cond, target, past)
        return self.depth.own_logits(d_in.flatten(0, 1)).unflatten(0, target.shape[:2]).float()

    def _teacher(self, cond: Tensor, target: Tensor, past: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        """Teacher forcing up to the depth stack: its input [B,T,12,Dt] and the stages."""
        b, t, q = target.shape
        past = target if past is None else past
        src = self.source(cond)
        sos = torch.zeros(b, 1, q, dtype=target.dtype, device=target.device)
        x = self.embed_frame(torch.cat([sos, past[:, :-1]], 1))
        o = self.temporal(x, src)
        d_in = torch.cat([o[:, :, None], self.embed(target[:, :, :-1])], 2)
        return d_in, {"source": src, "temporal_in": x, "temporal_out": o}

    def forward(self, cond: Tensor, target: Tensor, return_aux: bool = False):
        """cond [B,T,144], target ids [B,T,12] -> soft-capped logits [B,T,12,V] float32.

        Frame t sees targets of frames < t (SOS before frame 0) in the temporal stack and
        levels < q of frame t in the depth stack.
        """
        d_in, aux = self._teacher(cond, target)
        logits = self.depth(d_in.flatten(0, 1)).unflatten(0, target.shape[:2]).float()
        if return_aux:
            return logits, {k: v.float() for k, v in aux.items()}
        return logits

    # ---- streaming ----
    def new_state(self, batch: int = 1, device: torch.device | str | None = None) -> StreamState:
        device = self.embedding.device if device is None else torch.device(device)
        c = self.cfg
        t = self.temporal.new_cache(batch, device, self.dtype)
        dk, dv = self.depth.new_cache(batch, device, self.dtype)
        return StreamState(
            prev=torch.zeros(batch, c.num_codebooks, dtype=torch.long, device=device),
            pos=torch.zeros(batch, dtype=torch.long, device=device),
            depth_k=dk, depth_v=dv, **t,
        )

    def step(
        self,
        state: StreamState,
        cond: Tensor,
        temperature: Tensor | None = None,
        top_k: Tensor | None = None,
        noise: Tensor | None = None,
        forced: Tensor | None = None,
    ) -> StepOutput:
        """One frame for B streams. cond [B,144] ids; temperature [B] (0 = greedy);
        top_k [B] (None = all 1024); noise [B,12,1024] Gumbel from per-stream generators
        (None = greedy); forced [B,12] ids fed instead of samples (prefill / parity).
        Updates ``state`` in place. Same as :meth:`step_temporal` then :meth:`step_depth`."""
        o, x = self.step_temporal(state, cond)
        tokens, logits = self.step_depth(state, o, temperature, top_k, noise, forced)
        return StepOutput(tokens, logits, o[:, 0], x[:, 0])

    def step_temporal(self, state: StreamState, cond: Tensor) -> tuple[Tensor, Tensor]:
        """First half of a frame: conditioning + previous frame -> temporal output.

        Returns ``(o, x)`` [B,1,Dt]: the temporal output and the mean-embedded previous
        frame; writes this frame's K/V into the temporal rings (``state.pos`` unchanged)."""
        src = self.source(cond)[:, None]
        x = self.embed_frame(state.prev)[:, None]
        native = native_step.ready(self, x.shape[0])
        if native is not None:
            return native.temporal(x, src, state), x
        return self.temporal.step(x, src, state, state.pos), x

    def step_depth(
        self,
        state: StreamState,
        o: Tensor,
        temperature: Tensor | None = None,
        top_k: Tensor | None = None,
        noise: Tensor | None = None,
        forced: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Second half: the 12 RVQ levels from the temporal output ``o`` [B,1,Dt].

        Returns ``(tokens [B,12], logits [B,12,1024])`` and completes the frame in ``state``
        (``prev`` = these tokens, ``pos`` + 1). Fixed shapes and no host syncs."""
        c = self.cfg
        k_idx = t = None
        if forced is None:
            t, k_idx = sampling_params(temperature, top_k, c.codebook_size, o.device)
        native = native_step.ready(self, o.shape[0])
        if native is not None:  # the 12 levels and their sampling in one native call
            tokens, lg = native.depth_frame(o, state, t, k_idx, noise, forced)
            state.prev.copy_(tokens)
            state.pos.add_(1)
            return tokens, lg
        h = o
        toks, logits = [], []
        for q in range(c.num_codebooks):
            lq = self.depth.step(h, q, state.depth_k, state.depth_v)[:, 0]
            logits.append(lq)
            if forced is not None:
                tok = forced[:, q].long()
            else:
                code = sample_prepared(soft_cap(lq, c.soft_cap), t, k_idx, None if noise is None else noise[:, q])
                tok = code + (c.num_reserved + q * c.codebook_size)
            toks.append(tok)
            if q + 1 < c.num_codebooks:
                h = self.embed(tok)[:, None]
        tokens = torch.stack(toks, 1)
        state.prev.copy_(tokens)
        state.pos.add_(1)
        return tokens, torch.stack(logits, 1)

    # ---- weight memory layout ----
    def set_weight_layout(self, layout: str) -> "Depthformer":
        """Memory layout of every projection matrix (logical shapes stay ``[out, in]``).

        ``"col"``: each is the transposed view of a contiguous ``[in, out]`` tensor, so
        ``F.linear`` runs ``x @ W^T`` over contiguous memory: faster GEMV on the CPU in
        float32 for 1-3 rows (measured 16.9 -> 22.5 GB/s alone, ~13% per temporal/depth
        stage of mrt2_small; BLAS sums in another order, parity unchanged). ``"row"``:
        contiguous ``[out, in]`` (what construction makes; best for bfloat16 on the CPU,
        for CUDA, and for 4+ rows). :func:`load_depthformer` applies :meth:`best_layout`."""
        if layout not in ("row", "col"):
            raise ValueError(f"layout must be 'row' or 'col', got {layout!r}")
        with torch.no_grad():
            for m in self.modules():
                for name, p in m.named_parameters(recurse=False):
                    if name in _PROJECTIONS and p.dim() == 2:
                        p.data = p.data.t().contiguous().t() if layout == "col" else p.data.contiguous()
        return self

    @staticmethod
    def best_layout(device: torch.device | str, dtype: torch.dtype, batch: int = 1) -> str:
        """The faster :meth:`set_weight_layout` for streaming ``batch`` streams (measured on
        a Zen 4 CPU with MKL; CUDA has no measured preference, row is the default)."""
        return "col" if torch.device(device).type == "cpu" and dtype == torch.float32 and batch <= 3 else "row"

    # ---- official checkpoint layout ----
    @staticmethod
    def checkpoint_shapes(cfg: MRT2Config) -> dict[str, tuple[int, ...]]:
        """Every ``params/depthformer/...`` key and its shape for ``cfg``."""
        c = cfg
        s: dict[str, tuple[int, ...]] = {
            _ENC + "encoder_ln/scale": (c.enc_dim,),
            _ENC + "encoder_ln/bias": (c.enc_dim,),
            _MULAN + "mulan_dequantizer/embedding": (c.style_channels * c.style_vocab, c.style_dim),
            _MULAN + "depth_input_adapter/kernel": (c.style_dim, c.enc_dim),
            _REG: (c.regular_rows, c.enc_dim),
            _EMB: (c.vocab_size, c.temporal_dim),
            _DEP + "depth_input_adapter/kernel": (c.temporal_dim, c.depth_dim),
            _DEP + "final_ln/scale": (c.depth_dim,),
            _DEP + "final_ln/bias": (c.depth_dim,),
            _DEP + "to_logits/kernel": (c.depth_dim, c.vocab_size),
            _DEP + "to_logits/bias": (c.vocab_size,),
        }
        sink = c.num_sinks > 0
        d, h, dh = c.temporal_dim, c.temporal_heads, c.temporal_head_dim
        for i in range(c.temporal_layers):
            p = _TMP.format(i)
            s.update(attention_shapes(d, h, dh, None, sink, p + "self_attention/"))
            s.update(attention_shapes(d, h, dh, c.enc_dim, sink, p + "cross_attention/"))
            s.update(ffn_shapes(d, c.temporal_ffn, p + "ffn/"))
        for i in range(c.depth_layers):
            p = _DEP + f"transformer/x_layers_{i}/"
            s.update(attention_shapes(c.depth_dim, c.depth_heads, c.depth_head_dim, None, False, p + "self_attention/"))
            s.update(ffn_shapes(c.depth_dim, c.depth_ffn, p + "ffn/"))
        return s

    @torch.no_grad()
    def load_official(self, tensors: dict[str, Tensor], device: torch.device | str = "cpu") -> "Depthformer":
        """Take the official tensors (consumed from ``tensors``) as this model's parameters.

        Works on a model built on the meta device: parameters are assigned, not copied,
        each converted to its parameter's dtype and moved to ``device`` one at a time.
        """
        t = tensors
        sd: dict[str, Tensor] = {
            "encoder.style_table": t.pop(_MULAN + "mulan_dequantizer/embedding"),
            "encoder.style_adapter": t.pop(_MULAN + "depth_input_adapter/kernel").t(),
            "encoder.regular_table": t.pop(_REG),
            "encoder.ln_scale": t.pop(_ENC + "encoder_ln/scale"),
            "encoder.ln_bias": t.pop(_ENC + "encoder_ln/bias"),
            "embedding": t.pop(_EMB),
            "depth.adapter": t.pop(_DEP + "depth_input_adapter/kernel").t(),
            "depth.ln_scale": t.pop(_DEP + "final_ln/scale"),
            "depth.ln_bias": t.pop(_DEP + "final_ln/bias"),
            "depth.to_logits": t.pop(_DEP + "to_logits/kernel").t(),
            "depth.logits_bias": t.pop(_DEP + "to_logits/bias"),
        }
        for i, layer in enumerate(self.temporal.layers):
            p = _TMP.format(i)
            for name, sub in (("self_attention", layer.self_attn), ("cross_attention", layer.cross_attn)):
                mod = "self_attn" if name == "self_attention" else "cross_attn"
                for k, v in load_attention(sub, t, p + name + "/").items():
                    sd[f"temporal.layers.{i}.{mod}.{k}"] = v
            for k, v in load_ffn(t, p + "ffn/").items():
                sd[f"temporal.layers.{i}.ffn.{k}"] = v
        for i, layer in enumerate(self.depth.layers):
            p = _DEP + f"transformer/x_layers_{i}/"
            for k, v in load_attention(layer.self_attn, t, p + "self_attention/").items():
                sd[f"depth.layers.{i}.self_attn.{k}"] = v
            for k, v in load_ffn(t, p + "ffn/").items():
                sd[f"depth.layers.{i}.ffn.{k}"] = v
        params = dict(self.named_parameters())
        for name in list(sd):
            ref = params[name]
            sd[name] = sd[name].to(device=device, dtype=ref.dtype).contiguous()
        self.load_state_dict(sd, strict=True, assign=True)
        self.encoder.init_buffers(device)
        return self


def load_depthformer(
    path: str | os.PathLike,
    cfg: MRT2Config | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> Depthformer:
    """Read the depthformer part of an official checkpoint; ``cfg=None`` infers it from shapes.

    Raises CheckpointError / ConfigError (UserErrors) naming the offending keys.
    """
    shapes = read_shapes(path, prefixes=(DEPTHFORMER_PREFIX,))
    if cfg is None:
        cfg = infer_config(shapes, str(path))
    else:
        check_config(cfg, shapes, str(path))
    tensors = read_tensors(path, Depthformer.checkpoint_shapes(cfg), prefixes=(DEPTHFORMER_PREFIX,))
    with torch.device("meta"):
        model = Depthformer(cfg, dtype)
    model.load_official(tensors, device)
    model.set_weight_layout(Depthformer.best_layout(device, dtype))
    return model.eval().requires_grad_(False)

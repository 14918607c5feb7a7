"""The whole-frame step over static buffers: temporal + 12 depth levels + sampler + codec.

:class:`FrameStep` owns every tensor a frame reads or writes for ``B`` independent
streams, allocated once: the inputs (conditioning ids, temperature, top-k, Gumbel noise),
the model and codec stream states, and the outputs (tokens, audio, per-stream valid
flag). A frame is :meth:`FrameStep.run`; live controls are written into the static
inputs with ``copy_`` (:meth:`FrameStep.set_controls`), never by rebuilding anything, so
on CUDA the frame can be recorded once as a CUDA graph (:meth:`FrameStep.capture`) and
replayed. On the CPU (or with ``capture`` not called) the same stages run eagerly, and
give bit-identical tokens and audio to the plain ``Depthformer.step`` + codec ``step``
formula. The execution mode (eager, compiled, graph) is chosen when it is set up
(:meth:`FrameStep.use`), not per frame, and nothing on the frame's path times itself:
a profiler walks :meth:`FrameStep.stages` instead (``mrtd bench``). The live engine
makes its frames with a ``FrameStep`` of batch 1 (``mrtd.engine.mrt2.MRT2Generator``).

Noise: stream ``b`` draws its Gumbel noise from its own CPU ``torch.Generator``, exactly
as the engine does (``sampler.gumbel_noise``); the numbers are drawn on the host and
copied into the static noise tensor, so a graph replay is as deterministic as the eager
step. On CUDA the next frame's noise is drawn while the GPU runs the current one.

Per-stream reset: the codec looks one frame ahead, so a stream's first step after a
reset makes no audio (``valid`` False, audio zeros). The codec's own gate is one flag for
the whole batch; a per-stream reset is handled here by zeroing that stream's audio and
overlap-add tail on its first step (the same numbers the gate gives).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import Tensor

from mrtd.model.mrt2 import native_step
from mrtd.model.mrt2.codec_decoder import (
    Conv,
    ConvT,
    DecoderState,
    Packs,
    SpectroStreamDecoder,
    can_pack,
)
from mrtd.model.mrt2.conditioning import build_cond
from mrtd.model.mrt2.depthformer import Depthformer, StreamState
from mrtd.model.mrt2.rvq import ids_to_codes
from mrtd.model.mrt2.sampler import gumbel_noise_into, make_generators

log = logging.getLogger("mrtd.model")

DEFAULT_TEMPERATURE = 1.3
DEFAULT_TOP_K = 40
STAGES = ("temporal", "depth", "codec")
CODEC_LAYOUTS = ("packed", "channels_last", "default")


def set_codec_layout(decoder: SpectroStreamDecoder, layout: str) -> SpectroStreamDecoder:
    """How the codec's conv weights are laid out for the kernels.

    ``"packed"`` (CPU): oneDNN's blocked layout, made once per conv (``Packs``) instead of
    on every call; the same primitive runs (bfloat16: the same bits), and a one-frame step
    of the mrt2_small codec took 58 -> 30 ms (bfloat16, one thread, Xeon with AMX).
    ``"channels_last"``: NHWC weights (CPU float32 ~14% faster per frame before packing
    existed; the tiny codec reference still within 1e-7). ``"default"``: contiguous NCHW,
    what loading makes. Values and shapes are unchanged."""
    if layout not in CODEC_LAYOUTS:
        raise ValueError(f"codec layout must be one of {CODEC_LAYOUTS}, got {layout!r}")
    if layout == "packed" and not can_pack():
        raise ValueError("codec layout 'packed' needs a torch build with oneDNN (mkldnn)")
    fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
    with torch.no_grad():
        for m in decoder.modules():
            if isinstance(m, (Conv, ConvT)):
                m.weight.data = m.weight.data.contiguous(memory_format=fmt)
                m.packs = Packs(isinstance(m, ConvT)) if layout == "packed" else None
    return decoder


def best_codec_layout(device: torch.device | str, dtype: torch.dtype) -> str:
    """packed on a CPU with oneDNN; else channels_last for CPU float32; else default."""
    if torch.device(device).type != "cpu":
        return "default"
    if can_pack():
        return "packed"
    return "channels_last" if dtype == torch.float32 else "default"


@dataclass
class FrameOutput:
    """Views of the static outputs (overwritten by the next frame: copy what you keep)."""

    tokens: Tensor  # [B,12] int64 LM ids
    audio: Tensor  # [B,1920,2] float32 codec output of the PREVIOUS frame (lookahead)
    valid: np.ndarray  # [B] bool (host): False on a stream's first step after a reset


class FrameStep:
    """One 40 ms frame for ``batch`` streams over static, preallocated tensors."""

    def __init__(self, model: Depthformer, decoder: SpectroStreamDecoder, batch: int = 1, *,
                 seeds: Sequence[int] | None = None, device: torch.device | str | None = None,
                 compile: bool = False):
        if batch < 1:
            raise ValueError("batch must be >= 1")
        self.model, self.decoder = model, decoder
        self.cfg = cfg = model.cfg
        self.batch = batch
        self.device = torch.device(device) if device is not None else model.embedding.device
        dec_dev = decoder.in_first.weight.device
        if dec_dev != self.device:
            raise ValueError(f"model on {self.device} but codec on {dec_dev}")
        dev, q, size = self.device, cfg.num_codebooks, cfg.codebook_size
        self.on_cuda = dev.type == "cuda"
        # stream states (static: only ever written in place)
        self.state: StreamState = model.new_state(batch, dev)
        self.dec_state: DecoderState = decoder.init_state(batch)
        self.dec_steps = torch.zeros(batch, dtype=torch.long, device=dev)  # codec steps since reset
        # static inputs
        masked = torch.from_numpy(build_cond([-1] * cfg.style_channels)).long()
        self.cond = masked.to(dev).repeat(batch, 1)  # [B,144] int64
        self.temperature = torch.full((batch,), DEFAULT_TEMPERATURE, dtype=torch.float32, device=dev)
        self.top_k = torch.full((batch,), DEFAULT_TOP_K, dtype=torch.long, device=dev)
        self.noise = torch.zeros(batch, q, size, dtype=torch.float32, device=dev)
        # static outputs
        self.tokens = torch.zeros(batch, q, dtype=torch.long, device=dev)
        self.audio = torch.zeros(batch, cfg.codec.samples_per_frame, 2, dtype=torch.float32, device=dev)
        self.valid = torch.zeros(batch, dtype=torch.bool, device=dev)
        self._t_out = torch.zeros(batch, 1, cfg.temporal_dim, dtype=model.dtype, device=dev)
        self._host_steps = np.zeros(batch, np.int64)  # host mirror of dec_steps (no sync for `valid`)
        # noise: per-stream CPU generators; on CUDA a pinned double buffer drawn one frame ahead
        self.generators = make_generators(list(seeds) if seeds is not None else [0] * batch)
        if len(self.generators) != batch:
            raise ValueError(f"{len(self.generators)} seeds for {batch} streams")
        self._host_noise: list[Tensor] = []
        self._copied: list[torch.cuda.Event | None] = []
        self._ahead = False  # the current host buffer holds the next frame's noise already
        self._gen_before_ahead: list[Tensor] = []
        self._slot = 0
        if self.on_cuda:
            self._host_noise = [torch.empty(batch, q, size, pin_memory=True) for _ in range(2)]
            self._copied = [None, None]
        self.graphs: list[torch.cuda.CUDAGraph] | None = None
        self.split = False
        self.capture_s = 0.0
        self._fns: list[Callable[[], None]] = self._eager_stages()
        self.compiled = False
        self.compile_s = 0.0
        self.mode = "eager"
        self._plan: list[Callable[[], None]] = []
        self.use("eager")
        if compile:
            self.compile()

    # ---- controls (host) -------------------------------------------------------------------
    def _rows(self, streams) -> slice | list[int]:
        return slice(None) if streams is None else ([streams] if isinstance(streams, int) else list(streams))

    def set_controls(self, *, cond=None, temperature=None, top_k=None, streams=None) -> None:
        """Write live controls into the static inputs (``copy_``; a graph sees them at its
        next replay). ``cond``: [144] or [n,144] ids; ``temperature``/``top_k``: scalar or
        [n]; ``streams``: int, list of stream indices, or None for all."""
        rows = self._rows(streams)
        with torch.inference_mode():
            if cond is not None:
                c = torch.as_tensor(np.asarray(cond), dtype=torch.long)
                self.cond[rows] = c.to(self.device)
            if temperature is not None:
                self.temperature[rows] = torch.as_tensor(temperature, dtype=torch.float32).to(self.device)
            if top_k is not None:
                self.top_k[rows] = torch.as_tensor(top_k, dtype=torch.long).to(self.device)

    def seed(self, seeds: Sequence[int], streams=None) -> None:
        """Re-seed streams' noise generators (``torch.Generator.manual_seed``)."""
        idx = list(range(self.batch) if streams is None else ([streams] if isinstance(streams, int) else streams))
        self._forget_ahead(set(idx))  # noise drawn ahead came from the old seeds
        for i, s in zip(idx, seeds, strict=True):
            self.generators[i].manual_seed(int(s))

    def generator_state(self, stream: int) -> Tensor:
        """Stream ``stream``'s noise generator state as before any noise drawn ahead (a copy)."""
        gen = self._gen_before_ahead[stream] if self._ahead else self.generators[stream].get_state()
        return gen.clone()

    def set_generator_state(self, stream: int, state: Tensor) -> None:
        """Put a :meth:`generator_state` back for one stream; the others keep their place."""
        self._forget_ahead({stream})
        self.generators[stream].set_state(state)

    def _forget_ahead(self, streams: set[int]) -> None:
        """CUDA: drop the noise drawn ahead; every generator but ``streams``' goes back to
        before it, so the next frame draws the same numbers it would have (one stream's
        change must not make the others skip a frame of noise)."""
        if self._ahead:
            for i, st in enumerate(self._gen_before_ahead):
                if i not in streams:
                    self.generators[i].set_state(st)
            self._ahead = False

    def reset(self, streams=None) -> None:
        """Streams back to the start (SOS, empty windows, codec silent for one step), in place."""
        with torch.inference_mode():
            if streams is None:
                self.state.reset()
                self.dec_state.reset()
                self.dec_steps.zero_()
                self._host_steps[:] = 0
                return
            idx = [streams] if isinstance(streams, int) else list(streams)
            m = torch.zeros(self.batch, dtype=torch.bool)
            m[idx] = True
            self._host_steps[idx] = 0
            m = m.to(self.device)
            self.state.reset(m)
            self.dec_steps.masked_fill_(m, 0)
            self.dec_state.tail.masked_fill_(m[:, None, None], 0.0)
            for buf in self.dec_state.bufs:  # rows are (stream, channel group), stream major
                buf.unflatten(0, (self.batch, -1)).masked_fill_(m.view(-1, *([1] * buf.dim())), 0.0)

    def set_codec_steps(self, steps: int, streams=None) -> None:
        """Codec steps since reset, for streams whose codec state was primed or restored
        outside :meth:`run` (a prefill's codec warm-up, a saved state put back): 0 makes the
        next frame the silent lookahead frame, more makes its audio valid."""
        rows = self._rows(streams)
        self._host_steps[rows] = int(steps)
        with torch.inference_mode():
            self.dec_steps[rows] = int(steps)
            if steps > 0:  # the codec's batch-wide gate is 0 only before its first step (rows
                self.dec_state.gate.fill_(1.0)  # at 0 steps stay silent: dec_steps masks them)
        if streams is None:
            self.dec_state.steps = int(steps)

    def codec_steps(self) -> np.ndarray:
        """[B] codec steps since each stream's reset (host mirror: no device sync)."""
        return self._host_steps.copy()

    # ---- the frame ------------------------------------------------------------------------
    def _lm(self) -> None:
        # the plain eager frame: the language model's own one-frame entry point, which is
        # step_temporal then step_depth (the same ops as the two stages, one call)
        self.tokens.copy_(self.model.step(self.state, self.cond, self.temperature, self.top_k, self.noise).tokens)

    def _temporal(self) -> None:
        o, _ = self.model.step_temporal(self.state, self.cond)
        self._t_out.copy_(o)

    def _depth(self) -> None:
        toks, _ = self.model.step_depth(self.state, self._t_out, self.temperature, self.top_k, self.noise)
        self.tokens.copy_(toks)

    def _codec(self, tokens: Tensor | None = None) -> None:
        first = self.dec_steps == 0
        audio, _ = self.decoder.step(ids_to_codes(self.tokens if tokens is None else tokens), self.dec_state)
        # a stream's first step after a reset is the lookahead frame: silent, and its
        # overlap-add tail must not leak (what the codec's batch-wide gate does)
        self.audio.copy_(audio.masked_fill(first[:, None, None], 0.0))
        self.dec_state.tail.masked_fill_(first[:, None, None], 0.0)
        self.valid.copy_(~first)
        self.dec_steps.add_(1)

    def compile(self) -> None:
        """``torch.compile`` the temporal and depth stages (Inductor fuses their elementwise
        work: far fewer kernels on CUDA, and no per-op Python on the CPU; measured 2.1x per
        demo frame on the CPU). The codec stays eager. The first frame after this compiles
        (about a minute for the demo on 2 CPU cores; leaves the stream states untouched)
        and :meth:`capture` records the compiled kernels. Numerics: fused float math may
        round differently from eager (check against it: tokens should match)."""
        if self.compiled:
            return
        if native_step.ready(self.model, self.batch) is not None:
            # the int8 model's native frame (native_step) is faster than its compiled
            # operators (mrt2_small on the Xeon: 1.11x against 0.69-0.77x) and needs no compiling
            log.info("compile: not needed, the int8 language model runs its native frame")
            return
        t0 = time.perf_counter()
        self._fns = [torch.compile(self._temporal, dynamic=False), torch.compile(self._depth, dynamic=False),
                     self._codec]
        snap = self.snapshot()
        with torch.inference_mode():
            for fn in self._fns:
                fn()
        if self.on_cuda:
            torch.cuda.synchronize(self.device)
        self.restore(snap)
        self.compiled = True
        self.compile_s = time.perf_counter() - t0
        self.use("graph" if self.graphs is not None else "compiled")  # graphs replay what they recorded

    # ---- execution mode: chosen once, so run() only runs ------------------------------------
    def modes(self) -> list[str]:
        """The modes this step can run in now: eager always, compiled after :meth:`compile`,
        graph after :meth:`capture`."""
        return ["eager"] + ["compiled"] * self.compiled + ["graph"] * (self.graphs is not None)

    def use(self, mode: str) -> None:
        """Run later frames ``eager`` (the plain ops), ``compiled`` (the torch.compile'd
        stages) or as the captured ``graph`` (one replay, or one per stage after
        ``capture(split=True)``). The frame's numbers do not depend on the mode on the CPU;
        benchmarks switch to eager to check a faster mode against it."""
        if mode not in self.modes():
            raise ValueError(f"mode {mode!r} is not available (have: {', '.join(self.modes())})")
        self.mode = mode
        self._plan = [fn for _, fn in self.stages()] if mode != "eager" else [self._draw_noise, self._lm, self._codec]

    def stages(self) -> list[tuple[str, Callable[[], None]]]:
        """The frame in the current mode as named steps: ``noise``, then ``temporal``,
        ``depth``, ``codec`` (or ``frame``, a whole-frame graph). Calling them in order
        (under ``torch.inference_mode``) and then :meth:`end_frame` makes the same frame as
        :meth:`run`; a profiler times the gaps between them (``mrtd bench``), so the frame
        itself never times anything."""
        if self.mode == "graph":
            names = list(STAGES) if self.split else ["frame"]
            fns = [g.replay for g in self.graphs]
        else:
            names, fns = list(STAGES), (self._fns if self.mode == "compiled" else self._eager_stages())
        return [("noise", self._draw_noise), *zip(names, fns, strict=True)]

    def stage_names(self) -> list[str]:
        """Names of the steps of :meth:`stages`: noise, then the stages (or "frame")."""
        return [name for name, _ in self.stages()]

    def _eager_stages(self) -> list[Callable[[], None]]:
        return [self._temporal, self._depth, self._codec]

    def _draw_noise(self) -> None:
        """This frame's noise into the static tensor (CUDA: from the host buffer drawn ahead)."""
        if not self.on_cuda:
            gumbel_noise_into(self.generators, self.noise)
            return
        buf = self._host_noise[self._slot]
        if not self._ahead:
            self._wait_copied(self._slot)
            gumbel_noise_into(self.generators, buf)
        self.noise.copy_(buf, non_blocking=True)
        ev = torch.cuda.Event()
        ev.record(torch.cuda.current_stream(self.device))  # the copy's stream (any current device)
        self._copied[self._slot] = ev
        self._ahead = False

    def _draw_ahead(self) -> None:
        """CUDA: draw the next frame's noise on the host while the GPU runs this one."""
        self._slot ^= 1
        self._wait_copied(self._slot)
        self._gen_before_ahead = [g.get_state() for g in self.generators]
        gumbel_noise_into(self.generators, self._host_noise[self._slot])
        self._ahead = True

    def _wait_copied(self, slot: int) -> None:
        ev = self._copied[slot]
        if ev is not None:
            ev.synchronize()
            self._copied[slot] = None

    def run(self) -> FrameOutput:
        """Make one frame for every stream in the mode chosen by :meth:`use` (asynchronous on
        CUDA: the outputs are ready once the stream is synchronised, e.g. by :meth:`fetch`).
        Eager, this is ``Depthformer.step`` + the codec stage (the same numbers as the
        stages run one by one)."""
        with torch.inference_mode():
            for fn in self._plan:
                fn()
        return self.end_frame()

    def run_lm(self) -> Tensor:
        """The language model's half of :meth:`run` (noise, temporal, depth, in the mode
        chosen by :meth:`use`): this frame's tokens, in the static buffer the next frame
        overwrites. With :meth:`run_codec` on another thread this is the two-stage frame
        (:mod:`mrtd.engine.two_stage`); the two halves touch disjoint tensors. CPU only."""
        if self.on_cuda:
            raise RuntimeError("the two-stage frame is for the CPU (on CUDA the frame is one graph)")
        with torch.inference_mode():
            for fn in self._plan[:-1]:
                fn()
        return self.tokens

    def run_codec(self, tokens: Tensor) -> tuple[Tensor, np.ndarray]:
        """The codec's half of :meth:`run` on ``tokens`` [B,12] (a copy the language model
        no longer writes): the audio [B,1920,2] (a static buffer) and the per-stream
        ``valid`` flags, the same numbers as :meth:`run` makes from these tokens."""
        with torch.inference_mode():
            self._codec(tokens)
        valid = self._host_steps > 0
        self._host_steps += 1
        return self.audio, valid

    def end_frame(self) -> FrameOutput:
        """The frame's bookkeeping after its steps: on CUDA, draw the next frame's noise
        while the GPU runs this one; the per-stream ``valid`` flags."""
        if self.on_cuda:
            with torch.inference_mode():
                self._draw_ahead()
        valid = self._host_steps > 0
        self._host_steps += 1
        return FrameOutput(self.tokens, self.audio, valid)

    def fetch(self) -> tuple[np.ndarray, np.ndarray]:
        """Tokens [B,12] and audio [B,1920,2] of the last frame on the host (synchronising)."""
        return self.tokens.cpu().numpy(), self.audio.float().cpu().numpy()

    # ---- snapshots -------------------------------------------------------------------------
    def snapshot(self) -> dict:
        """Everything that decides the coming frames: stream states, codec state, noise
        generators (as before any noise drawn ahead). For :meth:`restore`."""
        return self.join_snapshot(self.lm_snapshot(), self.codec_snapshot())

    def lm_snapshot(self) -> dict:
        """The language model's half of :meth:`snapshot` (its stream state and the noise
        generators): what the thread running the language model owns."""
        with torch.inference_mode():
            gens = self._gen_before_ahead if self._ahead else [g.get_state() for g in self.generators]
            return {"tensors": [getattr(self.state, f.name).clone() for f in fields(self.state)],
                    "generators": [s.clone() for s in gens]}

    def codec_snapshot(self) -> dict:
        """The codec's half of :meth:`snapshot` (its streaming state and step counts): what the
        thread running the codec owns, so the two-stage engine's codec thread can take it."""
        with torch.inference_mode():
            return {"tensors": [t.clone() for t in self.dec_state.tensors()] + [self.dec_steps.clone()],
                    "host_steps": self._host_steps.copy(), "codec_steps": self.dec_state.steps}

    @staticmethod
    def join_snapshot(lm: dict, codec: dict) -> dict:
        """:meth:`snapshot` from its two halves."""
        return {"tensors": lm["tensors"] + codec["tensors"], "generators": lm["generators"],
                "host_steps": codec["host_steps"], "codec_steps": codec["codec_steps"]}

    def restore(self, snap: dict) -> None:
        """Back to a :meth:`snapshot` in place (buffers keep their storage)."""
        with torch.inference_mode():
            self._restore(snap["tensors"])
        for g, s in zip(self.generators, snap["generators"], strict=True):
            g.set_state(s)
        self._host_steps[:] = snap["host_steps"]
        self.dec_state.steps = snap["codec_steps"]
        self._ahead = False

    # ---- CUDA graph ------------------------------------------------------------------------
    def _snapshot(self) -> list[Tensor]:
        return self.snapshot()["tensors"]

    def _restore(self, snap: list[Tensor]) -> None:
        dst = [getattr(self.state, f.name) for f in fields(self.state)] + self.dec_state.tensors() + [self.dec_steps]
        for d, s in zip(dst, snap, strict=True):
            d.copy_(s)

    def capture(self, split: bool = False, warmup: int = 3) -> bool:
        """Record the frame as CUDA graph(s); later :meth:`run` calls replay them.

        ``split``: one graph per stage (temporal, depth, codec) so stage times can be
        measured; otherwise one graph for the whole frame. Warm-up and capture leave the
        stream states as they were, also when capture fails (the error is raised and
        the step stays eager). Returns False (and stays eager) off CUDA."""
        if not self.on_cuda:
            return False
        t0 = time.perf_counter()
        self.release()
        steps = self.dec_state.steps
        with torch.inference_mode(), torch.cuda.device(self.device):
            snap = self._snapshot()
            try:
                side = torch.cuda.Stream(self.device)
                side.wait_stream(torch.cuda.current_stream(self.device))
                with torch.cuda.stream(side):
                    for _ in range(max(1, warmup)):
                        for fn in self._fns:
                            fn()
                torch.cuda.current_stream(self.device).wait_stream(side)
                torch.cuda.synchronize(self.device)
                groups = [[f] for f in self._fns] if split else [self._fns]
                graphs, pool = [], None
                for grp in groups:
                    g = torch.cuda.CUDAGraph()
                    with torch.cuda.graph(g, pool=pool, stream=side, capture_error_mode="thread_local"):
                        for fn in grp:
                            fn()
                    pool = g.pool()
                    graphs.append(g)
                torch.cuda.synchronize(self.device)
            finally:  # a failed capture too leaves the streams as they were (then eager)
                self._restore(snap)
                self.dec_state.steps = steps
        self.graphs, self.split = graphs, split
        self.capture_s = time.perf_counter() - t0
        self.use("graph")
        return True

    def release(self) -> None:
        """Drop the graphs (back to the compiled stages if any, else eager)."""
        self.graphs = None
        self.use("compiled" if self.compiled else "eager")

"""Several voices from one loaded MRT2 model: one batched frame step for all of them.

``mrtd serve --voices N`` runs N independent streams (each its own :class:`Engine`:
seed, controls, prompt slots, queue, effects, event log, banks) that share the model and
codec weights. Their frames are made together, one :class:`FrameStep` of batch N, so N
voices cost about what one does on a GPU and much less than N processes on a CPU.

Each voice's engine keeps its own generation thread and does everything a single
engine does; only the model step is shared. :class:`VoiceGenerator` is the engine's
generator for row ``n`` of the batch: its :meth:`~VoiceGenerator.step` writes the
voice's controls into its row and waits at :class:`VoiceBatch` until the round runs.

A round runs when every voice that can take a frame has arrived, or (live) a few
milliseconds after the first arrived, so a voice that is late never holds the others
up. A voice that can take a frame is one whose engine runs, whose output is not
paused, and whose queue has room, or holds at most its budget while others wait: that
voice joins the round one frame early (its queue then holds up to one frame, 40 ms,
over its budget), which keeps the voices' frames together after one of them was reset
or started late, instead of paying a batched step per voice. A voice that does not
take part in a round keeps its stream exactly as it was: its rows (model state, codec
state, sampler noise state) are put back after the step. So a voice that pauses,
resets, prefills or loads a bank does it alone, and what one voice plays never depends
on what the others do: its rows go through the same arithmetic whoever else is in the
round (bit for bit on the CPU in float32). Against a one-voice engine the tokens are the
same, the audio equal to float32 rounding (a batched matrix product rounds differently
from a single row's; measured ≤ 2e-7).

Row operations (reset, snapshot, restore, prefill, banks, loops) run on the voice's own
thread; the long ones (a prefill, on a private single-stream step) without the batch's
lock, so the other voices play on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import fields
from typing import Any

import numpy as np
import torch
from torch import Tensor

from mrtd.constants import FRAME
from mrtd.engine.generator import Block, FrameControls, encode_prefill, silence_codes
from mrtd.engine.mrt2 import OUTPUT_GAIN, MRT2Generator, Snapshot, snapshot_from_bank
from mrtd.model.mrt2.framestep import FrameStep

MAX_WAIT_S = 0.010  # live: how long the first voice of a round waits for the others
POLL_S = 0.002  # waiting voices re-check who can still join (queues drain without telling)


class VoiceBatch:
    """The shared step: one :class:`FrameStep` of ``len(seeds)`` streams and the rounds."""

    def __init__(self, model: Any, decoder: Any, seeds: list[int], *, encoder: Any = None,
                 max_wait_s: float | None = MAX_WAIT_S):
        if len(seeds) < 1:
            raise ValueError("a voice batch needs at least one voice")
        self.model, self.decoder, self.encoder = model, decoder, encoder
        self.fs = FrameStep(model, decoder, len(seeds), seeds=seeds)
        self.max_wait_s = max_wait_s  # None: wait for every live voice (offline rendering)
        self.lock = threading.Lock()
        self._cond = threading.Condition(self.lock)
        self._arrived: dict[int, FrameControls] = {}
        self._first = 0.0
        self._round = 0
        self._results: dict[int, tuple[Tensor, np.ndarray, bool]] = {}
        self.rounds = 0  # batched steps run (for status and benchmarks)
        self.voices = [VoiceGenerator(self, n) for n in range(len(seeds))]

    @property
    def size(self) -> int:
        return self.fs.batch

    def pending(self) -> bool:
        """A round is gathering: a voice with room to spare may join it early."""
        return bool(self._arrived)

    # ---- the round ---------------------------------------------------------------------
    def step(self, row: int, controls: FrameControls) -> tuple[Tensor, np.ndarray, bool]:
        """Row ``row``'s next frame made with ``controls``: (tokens [1, 12] host copy,
        audio [FRAME, 2] at output scale, valid)."""
        with self._cond:
            self.fs.set_controls(cond=controls.cond, temperature=controls.temperature, top_k=controls.top_k,
                                 streams=row)
            if not self._arrived:
                self._first = time.monotonic()
            self._arrived[row] = controls
            my_round = self._round
            while self._round == my_round:
                if self._should_run():
                    self._run()
                    break
                self._cond.wait(POLL_S)
            return self._results.pop(row)

    def _should_run(self) -> bool:
        if self.max_wait_s is not None and time.monotonic() - self._first >= self.max_wait_s:
            return True
        return all(n in self._arrived or not v.can_join() for n, v in enumerate(self.voices))

    def _run(self) -> None:
        """One batched frame (lock held); rows that did not arrive are put back as they were."""
        fs = self.fs
        idle = [n for n in range(fs.batch) if n not in self._arrived]
        steps = fs.codec_steps()
        kept = [(n, self._row_state(n), fs.generator_state(n), int(steps[n])) for n in idle]
        out = fs.run()
        tokens = out.tokens.to("cpu", copy=True)
        audio = out.audio.float().cpu().numpy()
        for n in self._arrived:
            self._results[n] = (tokens[n:n + 1], audio[n] * OUTPUT_GAIN, bool(out.valid[n]))
        for n, state, gen, steps in kept:  # (CUDA: the noise drawn ahead for them is dropped)
            self._put_row(n, state, steps)
            fs.set_generator_state(n, gen)
        self._arrived.clear()
        self._round += 1
        self.rounds += 1
        self._cond.notify_all()

    def leave(self) -> None:
        """A voice stopped taking part (its thread ends): wake the round so it need not wait."""
        with self._cond:
            self._cond.notify_all()

    def set_generator(self, n: int, seed: int | None = None, state: Tensor | None = None) -> None:
        """Re-seed row ``n`` or put its generator state back (lock held)."""
        if state is not None:
            self.fs.set_generator_state(n, state)
        else:
            self.fs.seed([int(seed)], streams=[n])

    def capture(self) -> bool:
        """CUDA: the batched frame as a CUDA graph (once, for every voice)."""
        with self.lock:
            if self.fs.graphs is None and self.fs.on_cuda:
                self.fs.capture()
            return self.fs.graphs is not None

    # ---- rows ----------------------------------------------------------------------------
    def row_views(self, n: int) -> list[Tensor]:
        """Views of row ``n`` of every stream tensor, in the order of a single stream's
        (model state fields, codec buffers, codec tail)."""
        fs, b = self.fs, self.fs.batch
        views = []
        for f in fields(fs.state):
            t = getattr(fs.state, f.name)
            views.append(t[:, n:n + 1] if t.dim() >= 4 else t[n:n + 1])  # K/V caches are [L, B, ...]
        views += [buf.unflatten(0, (b, -1))[n] for buf in fs.dec_state.bufs]  # (stream, group) rows
        views.append(fs.dec_state.tail[n:n + 1])
        return views

    def _row_state(self, n: int) -> list[Tensor]:
        return [v.clone() for v in self.row_views(n)]

    def _put_row(self, n: int, tensors: list[Tensor], steps: int) -> None:
        with torch.inference_mode():
            for dst, src in zip(self.row_views(n), tensors, strict=True):
                dst.copy_(src)
        self.fs.set_codec_steps(steps, streams=[n])


class VoiceGenerator:
    """Row ``n`` of a :class:`VoiceBatch` as one voice's stream generator (the engine's
    ``generator``). Snapshots and banks have the layout of a single MRT2 stream, so a
    bank saved by any voice (or by a one-voice daemon) loads into any other."""

    lag = 1

    def __init__(self, batch: VoiceBatch, row: int):
        self.batch, self.row = batch, row
        self.model, self.decoder, self.encoder = batch.model, batch.decoder, batch.encoder
        self.name = self.model.cfg.name
        self.device = batch.fs.device
        self.can_join: Callable[[], bool] = lambda: True  # set by whoever runs the voice
        self._out = np.zeros((1, FRAME, 2), np.float32)
        self._single: MRT2Generator | None = None  # a private one-stream step for prefills
        self.graph_error: str | None = None

    @property
    def defaults(self) -> dict[str, Any]:
        """The model's own starting controls (see :attr:`MRT2Generator.defaults`)."""
        return dict(getattr(self.model, "sampling_defaults", {}))

    # ---- the step ------------------------------------------------------------------------
    def step(self, controls: FrameControls) -> Block:
        tokens, audio, valid = self.batch.step(self.row, controls)
        self._out[0] = audio if valid else 0.0
        return Block(tokens, self._out, np.array([valid]), self.lag)

    # ---- state: the row as a single stream ------------------------------------------------
    def snapshot(self) -> Snapshot:
        b = self.batch
        with b.lock:
            t = b._row_state(self.row)
            steps = int(b.fs.codec_steps()[self.row])
        return self._as_single(t, steps)

    def restore(self, snap: Snapshot, seed: int) -> None:
        state, codec = snap
        tensors = [getattr(state, f.name) for f in fields(state)] + list(codec[:-2])
        b = self.batch
        with b.lock:
            b._put_row(self.row, tensors, int(codec[-1][0]))
            b.set_generator(self.row, seed=seed)

    def _as_single(self, t: list[Tensor], steps: int) -> Snapshot:
        """Row tensors -> (StreamState of one stream, codec buffers + tail + gate + steps)."""
        fs = self.batch.fs
        names = [f.name for f in fields(fs.state)]
        state = type(fs.state)(**dict(zip(names, t[:len(names)])))
        codec = [*t[len(names):], torch.tensor([1.0 if steps > 0 else 0.0]), torch.tensor([steps])]
        return state, codec

    # ---- history (loops, rewind) ------------------------------------------------------------
    def history_snapshot(self) -> dict:
        b = self.batch
        with b.lock:
            return {"tensors": b._row_state(self.row), "generator": b.fs.generator_state(self.row),
                    "steps": int(b.fs.codec_steps()[self.row])}

    def history_restore(self, snap: dict) -> None:
        b = self.batch
        with b.lock:
            b._put_row(self.row, snap["tensors"], snap["steps"])
            b.set_generator(self.row, state=snap["generator"])

    def reseed(self, seed: int) -> None:
        with self.batch.lock:
            self.batch.set_generator(self.row, seed=seed)

    # ---- prefill, audio, banks ----------------------------------------------------------------
    def prefill(self, codes: torch.Tensor, cond: np.ndarray) -> None:
        """Teacher-forced on a private single-stream step (the other voices play on
        meanwhile), then put into this voice's row."""
        if self._single is None:
            self._single = MRT2Generator(self.model, self.decoder, seed=0, encoder=self.encoder)
        one = self._single
        one.prefill(codes, cond)
        state, codec = one.snapshot()
        tensors = [getattr(state, f.name) for f in fields(state)] + list(codec[:-2])
        b = self.batch
        with b.lock:
            b._put_row(self.row, tensors, int(codec[-1][0]))

    def silence_codes(self) -> torch.Tensor:
        return silence_codes(self.encoder, self.decoder, 12)

    def encode(self, wave: np.ndarray) -> torch.Tensor:
        return encode_prefill(self.encoder, wave, 12)

    def bank_tensors(self) -> dict[str, torch.Tensor]:
        state, codec = self.snapshot()
        t = {f"model.{f.name}": getattr(state, f.name) for f in fields(state)}
        t.update({f"codec.{i}": x for i, x in enumerate(codec)})
        return {k: v.detach().to("cpu", copy=True).contiguous() for k, v in t.items()}

    def from_bank(self, tensors: dict[str, torch.Tensor]) -> Snapshot:
        state, codec = self.snapshot()
        return snapshot_from_bank(state, codec[:-1], tensors)

    # ---- how it runs ------------------------------------------------------------------------
    def capture(self) -> bool:
        """CUDA: the batch's graph (captured once, by the first voice asked)."""
        try:
            return self.batch.capture()
        except Exception as e:  # noqa: BLE001 - any capture failure means: run eager
            self.batch.fs.release()
            self.graph_error = f"{type(e).__name__}: {e}"
            return False

    @property
    def graphed(self) -> bool:
        return self.batch.fs.mode == "graph"

    def describe(self) -> str:
        name = lambda dt: str(dt).replace("torch.", "")
        graph = ", CUDA graph" if self.graphed else ""
        return f"{self.device} {name(self.model.dtype)}, {self.batch.size} voices in one batched step{graph}"


def voice_engines(model: Any, decoder: Any, seeds: list[int], *, encoder: Any = None,
                  max_wait_s: float | None = MAX_WAIT_S, per_voice: Callable[[int], dict] | None = None,
                  **engine_kw: Any) -> list:
    """One :class:`Engine` per seed, all on one :class:`VoiceBatch`. ``per_voice(n)``
    (1-based) gives a voice's own engine keywords (event log, bank folder)."""
    from mrtd.engine.engine import Engine

    batch = VoiceBatch(model, decoder, seeds, encoder=encoder, max_wait_s=max_wait_s)
    engines = []
    for n, gen in enumerate(batch.voices):
        kw = {**engine_kw, **(per_voice(n + 1) if per_voice else {})}
        e = Engine(generator=gen, seed=seeds[n], **kw)
        gen.can_join = _can_join(e)
        e.wants_frame = _wants_frame(e, batch)
        engines.append(e)
    return engines


def _can_join(e: Any) -> Callable[[], bool]:
    """Live: this voice can take a frame now (its engine runs and is not paused, and its
    queue has room or holds at most its budget)."""
    out = e.output

    def can_join() -> bool:
        # a replayed loop makes no model step: the others need not wait for it
        return not e.stopped and not out.paused and not e.looper.replaying and out.queued <= out.budget
    return can_join


def _wants_frame(e: Any, batch: VoiceBatch) -> Callable[[], bool]:
    """The engine's "make a frame now": room in its queue, or a round gathering that its
    queue can take one frame early (see the module docstring)."""
    out = e.output

    def wants() -> bool:
        return out.has_room() or (batch.pending() and out.queued <= out.budget)
    return wants


def render_voices(engines: list, seconds: float) -> list[np.ndarray]:
    """Offline: ``seconds`` of every voice (each ``[n, 2]``), made in lockstep rounds
    (the batch waits for every voice still rendering)."""
    from mrtd.engine.render import render

    batch: VoiceBatch = engines[0].generator.batch
    done = [False] * len(engines)
    out: list[np.ndarray | None] = [None] * len(engines)
    errors: list[BaseException] = []
    for n, e in enumerate(engines):
        e.generator.can_join = lambda n=n, e=e: not (done[n] or e.output.paused or e.looper.replaying)

    def run(n: int) -> None:
        try:
            out[n] = render(engines[n], seconds)
        except BaseException as err:  # noqa: BLE001 - re-raised on the caller's thread
            errors.append(err)
        finally:
            done[n] = True
            batch.leave()

    threads = [threading.Thread(target=run, args=(n,), name=f"mrtd-voice-{n + 1}") for n in range(len(engines))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return [a for a in out if a is not None]

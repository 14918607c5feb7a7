"""MRT2 in two stages on two sets of cores: the language model of frame F+1 runs on the
generation thread while the codec decodes frame F on a thread of its own.

Why: on a CPU the frame is three stages in a row (temporal, depth, codec), and with one
or two cores the matmuls do not scale well enough to use both cores inside one stage
(mrt2_small, int8: language model 69 ms and codec 50 ms on one thread each, 75 ms on two
threads together, ``benchmarks/README.md``). The codec of frame F needs nothing from
frame F+1, so each stage gets its own cores and the frame costs the slower stage, not
the sum.

What it costs: one more frame (40 ms) between a step and its audio. The stream is
exactly the one-stage stream, one step later: step ``k`` returns the audio the one-stage
generator returns at step ``k - 1`` (``Block.lag`` 2 instead of 1), bit for bit when each
stage has the same thread count as the one-stage step. That is the whole contract:
snapshots carry the decoded frame not yet returned, so resets, prefill, bank loads, loops
and rewinds (:mod:`mrtd.engine.looper`) land where they land in one stage, and replays
stay exact. Every state operation first waits for the codec thread (``drain``), except
the looper's periodic history snapshot: it comes every ~13 frames for mrt2_small, and
waiting there ran the two stages one after the other for that frame (7% of the generation
thread's time live). Its codec half is taken by the codec thread right after the frame it
is decoding (:class:`Later`), and completed when the snapshot is restored.
"""

from __future__ import annotations

import atexit
import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from mrtd.engine.generator import Block, FrameControls
from mrtd.engine.mrt2 import OUTPUT_GAIN, MRT2Generator, Snapshot

# the decoded frame not yet returned: its audio at output scale (None: nothing decoded
# yet, as after a reset) and whether it is valid
Pending = tuple[np.ndarray | None, bool]
NOTHING: Pending = (None, False)


def split_threads(threads: int) -> tuple[int, int]:
    """(language-model threads, codec threads) for ``threads`` CPU threads in all: the
    codec gets half, rounded down, at least one (it is the lighter stage in int8/int4)."""
    codec = max(1, threads // 2)
    return max(1, threads - codec), codec


class Later:
    """A value made on the codec thread after the frame it is decoding (the codec half of a
    history snapshot); :meth:`get` waits for it. ``nbytes``: its size, known in advance
    (the history's memory budget counts it before it exists)."""

    def __init__(self, make: Callable[[Pending], Any], nbytes: int):
        self._make, self.nbytes = make, nbytes
        self._ready = threading.Event()
        self._value: Any = None

    def fill(self, result: Pending | BaseException) -> None:
        """On the codec thread; a failed frame leaves its error (raised by :meth:`get`)."""
        try:
            self._value = result if isinstance(result, BaseException) else self._make(result)
        except BaseException as e:  # noqa: BLE001 - raised by get()
            self._value = e
        finally:
            self._ready.set()

    def get(self) -> Any:
        self._ready.wait()
        if isinstance(self._value, BaseException):
            raise self._value
        return self._value


class CodecThread:
    """The codec stage: decodes one frame's tokens at a time on its own thread with its
    own torch thread count; at most one frame in flight (a queue of one)."""

    def __init__(self, fs: Any, threads: int):
        self.fs, self.threads = fs, threads
        self._todo: queue.Queue = queue.Queue(maxsize=1)
        self._done: queue.Queue = queue.Queue(maxsize=1)
        self.busy = False  # a frame is in flight
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # the two below, between the generation and codec threads
        self._working = False  # the codec thread is decoding (not yet finished) a frame
        self._hook: Later | None = None

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="mrtd-codec", daemon=True)
        self._thread.start()
        _LIVE.add(self)

    def _run(self) -> None:
        torch.set_num_threads(self.threads)  # this thread's OpenMP team only
        torch.set_grad_enabled(False)
        while True:
            tokens = self._todo.get()
            if tokens is None:
                return
            try:
                audio, valid = self.fs.run_codec(tokens)
                result: Pending | BaseException = (audio[0].numpy() * OUTPUT_GAIN, bool(valid[0]))
            except BaseException as e:  # noqa: BLE001 - handed to the caller of take()
                result = e
            with self._lock:
                hook, self._hook, self._working = self._hook, None, False
            if hook is not None:
                hook.fill(result)  # before the next frame can change the codec's state
            self._done.put(result)

    def submit(self, tokens: torch.Tensor) -> None:
        """Decode ``tokens`` [1,12] (not written again by the caller) in the background."""
        if self._thread is None:  # first use, or after close(): an engine may start again
            self._start()
        with self._lock:
            self._working = True
        self._todo.put(tokens)
        self.busy = True

    def after_current(self, make: Callable[[Pending], Any], nbytes: int) -> Later | None:
        """``make(result)`` run on the codec thread right after the frame it is decoding (with
        that frame's result), or None when no frame is being decoded now: then the codec is
        idle and the caller may read its state after :meth:`take`, without waiting."""
        with self._lock:
            if not self._working or self._hook is not None:
                return None
            self._hook = later = Later(make, nbytes)
            return later

    def take(self) -> Pending:
        """The frame in flight, once decoded (the codec's error, if it failed)."""
        self.busy = False
        got = self._done.get()
        if isinstance(got, BaseException):
            raise got
        return got

    def close(self) -> None:
        """Stop the thread (a frame in flight is finished and dropped)."""
        if self._thread is None:
            return
        if self.busy:
            self._done.get()
            self.busy = False
        self._todo.put(None)
        self._thread.join(5)
        self._thread = None


# codec threads still running: stopped before the interpreter exits, since one that is
# inside a torch op while the runtime is torn down aborts the process
_LIVE: weakref.WeakSet[CodecThread] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for stage in list(_LIVE):
        stage.close()


class TwoStageMRT2Generator(MRT2Generator):
    """An MRT2 stream whose codec runs on its own thread (:mod:`.two_stage`); CPU only.
    ``lm_threads`` is the torch thread count of whichever thread calls :meth:`step`."""

    lag = 2

    def __init__(self, model, decoder, *, seed: int = 0, encoder: Any = None, lm_threads: int = 1,
                 codec_threads: int = 1):
        super().__init__(model, decoder, seed=seed, encoder=encoder)
        if self.fs.on_cuda:
            raise ValueError("two stages are for the CPU (on CUDA the frame is one graph)")
        self.lm_threads, self.codec_threads = lm_threads, codec_threads
        self.codec = CodecThread(self.fs, codec_threads)
        self._ready: Pending = NOTHING  # decoded, not yet returned (when the codec is idle)
        self._caller: int | None = None

    # ---- the step ----------------------------------------------------------------------
    def _own_threads(self) -> None:
        me = threading.get_ident()
        if me != self._caller:  # torch's thread count is per OpenMP thread: set it once per caller
            torch.set_num_threads(self.lm_threads)
            self._caller = me

    def step(self, controls: FrameControls) -> Block:
        self._own_threads()
        fs = self.fs
        fs.set_controls(cond=controls.cond, temperature=controls.temperature, top_k=controls.top_k)
        tokens = fs.run_lm().to("cpu", copy=True)  # overlaps the codec of the last frame's tokens
        audio, valid = self._pending()
        self.codec.submit(tokens)
        if valid and audio is not None:
            self._out[0] = audio
        return Block(tokens, self._out, np.array([valid]), self.lag)

    def _pending(self) -> Pending:
        if self.codec.busy:
            return self.codec.take()
        got, self._ready = self._ready, NOTHING
        return got

    def drain(self) -> None:
        """Wait for the codec thread: its frame is kept to be returned by the next step,
        and the codec state is the state after it (as the one-stage generator's is)."""
        if self.codec.busy:
            self._ready = self.codec.take()

    def _pending_copy(self) -> Pending:
        audio, valid = self._ready
        return (None if audio is None else audio.copy(), valid)

    def _put_pending(self, pending: Pending | None) -> None:
        audio, valid = pending if pending is not None else NOTHING
        self._ready = (None if audio is None else audio.copy(), valid)

    # ---- state: the one-stage state plus the decoded frame not yet returned -----------
    def snapshot(self) -> tuple:
        self.drain()
        state, codec = super().snapshot()
        return state, codec, self._pending_copy()

    def restore(self, snap: Snapshot | tuple, seed: int) -> None:
        self.drain()
        super().restore((snap[0], snap[1]), seed)
        self._put_pending(snap[2] if len(snap) > 2 else None)  # a bank's snapshot: nothing pending

    def history_snapshot(self) -> dict:
        """The one-stage snapshot plus the decoded frame not yet returned. While the codec is
        decoding, its half (with that frame) is taken by the codec thread when it is done: the
        language model goes on meanwhile (:meth:`history_restore` completes it)."""
        lm = self.fs.lm_snapshot()
        later = self.codec.after_current(self._codec_half, self._codec_bytes()) if self.codec.busy else None
        if later is not None:
            return {"lm": lm, "codec": later}
        self.drain()  # nothing being decoded: at most the finished frame to collect
        return self._joined(lm, self._codec_half(self._ready))

    def _codec_half(self, result: Pending) -> dict:
        audio, valid = result
        return {**self.fs.codec_snapshot(), "pending": (None if audio is None else audio.copy(), valid)}

    def _codec_bytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in self.fs.dec_state.tensors()) + self._out[0].nbytes

    def _joined(self, lm: dict, codec: dict) -> dict:
        return {**self.fs.join_snapshot(lm, codec), "pending": codec["pending"]}

    def history_restore(self, snap: dict) -> None:
        self.drain()
        if "lm" in snap:  # taken while the codec was decoding: its half, made since
            codec = snap["codec"].get() if isinstance(snap["codec"], Later) else snap["codec"]
            snap = self._joined(snap["lm"], codec)
        self.fs.restore(snap)
        self._put_pending(snap.get("pending"))

    def prefill(self, codes: torch.Tensor, cond: np.ndarray) -> None:
        self.drain()
        super().prefill(codes, cond)
        self._ready = NOTHING

    def bank_tensors(self) -> dict[str, torch.Tensor]:
        self.drain()
        return super().bank_tensors()

    # ---- how it runs -------------------------------------------------------------------
    def time_frames(self, warmup: int, frames: int) -> float:
        """Seconds per frame of this pipeline on the calling thread, then everything put
        back (for the start-up speed line)."""
        import time

        snap = self.history_snapshot()
        controls = FrameControls(self.fs.cond[0].cpu().numpy(), float(self.fs.temperature[0]),
                                 int(self.fs.top_k[0]))
        try:
            for _ in range(warmup):
                self.step(controls)
            t0 = time.perf_counter()
            for _ in range(frames):
                self.step(controls)
            self.drain()
            return (time.perf_counter() - t0) / frames
        finally:
            self.history_restore(snap)

    def describe(self) -> str:
        return (f"{super().describe()}, two stages (language model {self.lm_threads} thread(s), "
                f"codec {self.codec_threads} on its own thread)")

    def close(self) -> None:
        """Stop the codec thread; the frame it was decoding is kept for the next step."""
        self.drain()
        self.codec.close()


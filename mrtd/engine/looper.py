"""Exact loops, freeze and rewind: the stream's recent history, replayed or resumed.

The looper sits where the engine asks the generator for a frame (:meth:`Looper.step`),
on the generation thread. It keeps the last :attr:`History.capacity` frames the model
made, each with what is needed to repeat it and to resume from it:

* the audio the model made (pre-effects, at output scale: ``FRAME x 2`` float32, 15 KiB)
  and its tokens, so a loop pass replays it sample for sample;
* the controls the frame was made with (conditioning ids, temperature, top-k), so a
  stretch can be made again exactly;
* every K frames, and on every frame that starts a bar, a snapshot of the whole stream
  state: model state, codec state and the sampler's ``torch.Generator`` state (MRT2:
  :meth:`~mrtd.model.mrt2.framestep.FrameStep.snapshot`). Resuming from frame ``t``
  restores the nearest snapshot at or before ``t`` and makes the frames in between again
  with their recorded controls and noise (deterministic: bit for bit on CPU float32),
  output discarded. A bar-aligned target (what quantised loops and rewinds give) is a
  snapshot itself: nothing is made again.

Why not a snapshot per frame: MRT2's state is dominated by the temporal K/V rings and
the codec's streaming buffers, about 12 MiB a frame for mrt2_small in float32 (8 MiB with a
bfloat16 model; 0.27 MiB for the demo), i.e. 4.7 GiB for 400 frames. K is chosen so the
periodic snapshots fit :data:`SNAPSHOT_BUDGET` (the demo: every frame or two; mrt2_small:
about every 30 frames, so an unaligned resume makes at most K-1 frames again in one step).

Positions: MRT2's codec looks one frame ahead (``Block.lag``), so the step at engine
frame ``n`` writes the audio of frame ``n - lag``. A loop or rewind applied at frame F
takes over from the audio of frame F on, i.e. exactly where the clock puts frame F: the
step at F still makes frame F-1's audio (the last frame of the loop), the next plays the
loop's first frame.

Seams: a pass start (and a rewind, and a loop released mid-pass) crossfades, over
:data:`SEAM_MS` (20 ms), from what would have followed the frame just played (the
recorded next frame, or one frame made from the live state and thrown away) into the new
frame, equal-power. Outside those 20 ms every pass of an exact loop is the recorded
audio, sample for sample.

Controls during an exact loop are applied to the state (and logged) but the loop plays
recorded audio, so they are heard once the loop is released (and /mrtd/responsive does not
cut the queue for them); a vary loop makes each pass again from the state at the loop
start with new noise (seed + 1000003 x pass + the frame it was engaged on: replays exactly)
and the current controls. /mrtd/loop/vary takes effect at the next pass.
``/mrtd/loop/off``: exact loops go on with the frames that followed the loop when it was
engaged (as if the loop had not happened; released on a pass boundary there is no seam at
all, since that is how the music went on); a vary loop goes on from the live pass (no
seam). ``/mrtd/rewind`` releases a loop. A reset, prefill or bank load clears the history.
Magenta RT v1 (2 s chunks) is refused: its generator keeps no per-frame state.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from mrtd.constants import FRAME, SAMPLE_RATE
from mrtd.controls.events import Event
from mrtd.engine.generator import Block, FrameControls
from mrtd.errors import ControlError

if TYPE_CHECKING:
    from mrtd.engine.engine import Engine

HISTORY_FRAMES = 400  # 16 s: 8 bars at 120 BPM in 4/4
SNAPSHOT_BUDGET = 256 * 2**20  # bytes for the periodic snapshots (bar-start ones come on top)
SEAM_MS = 20.0
SEAM = int(SEAM_MS / 1000 * SAMPLE_RATE)  # 960 samples
VARY_SEED_STRIDE = 1_000_003  # a vary pass's noise: seed + stride * (pass + 1) + the frame it was engaged on
ADDRESSES = ("/mrtd/loop", "/mrtd/loop/vary", "/mrtd/loop/off", "/mrtd/rewind")
STATE = "/mrtd/loop/state"


@dataclass
class _Entry:
    """One frame the model made (absolute index in the history)."""

    audio: np.ndarray | None  # [FRAME, 2] pre-effects audio at output scale; None: the silent lookahead step
    tokens: torch.Tensor  # [1, 12]
    controls: FrameControls  # what it was made with
    snap: Any = None  # the stream state before it was made (every K frames and on bar starts)


@dataclass
class _Loop:
    start: int  # absolute history index of the loop's first frame
    length: int  # frames
    bars: float
    engaged: int  # the engine frame whose audio the first pass replaces
    snap: Any  # the live state when engaged (before frame `engaged` was made)


def nbytes(x: Any) -> int:
    """Bytes held by a snapshot (tensors, arrays, nested lists/tuples/dicts/dataclasses)."""
    if isinstance(x, torch.Tensor):
        return x.numel() * x.element_size()
    if isinstance(x, np.ndarray):
        return x.nbytes
    if isinstance(x, dict):
        return sum(nbytes(v) for v in x.values())
    if isinstance(x, (list, tuple)):
        return sum(nbytes(v) for v in x)
    if hasattr(x, "__dataclass_fields__"):
        return sum(nbytes(getattr(x, k)) for k in x.__dataclass_fields__)
    size = getattr(x, "nbytes", None)  # an object that says its size (a snapshot half still being made)
    return size if isinstance(size, int) else 0


class History:
    """The last ``capacity`` frames made, indexed by an absolute counter."""

    def __init__(self, capacity: int):
        self.capacity = int(capacity)
        self.entries: deque[_Entry] = deque()
        self.first = 0  # absolute index of entries[0]
        self.snap_bytes = 0  # one snapshot's size (measured on the first)
        self.every = 1  # K: a periodic snapshot every K frames
        self._since = 0  # frames since the last snapshot
        self.force = False  # the next frame does not follow the last one: snapshot it
        # running totals (status reads them from any thread: no walk over the entries)
        self.audio_bytes = self.snapshots = self.other_bytes = 0

    @property
    def end(self) -> int:
        return self.first + len(self.entries)

    def __getitem__(self, i: int) -> _Entry:
        return self.entries[i - self.first]

    def clear(self) -> None:
        self.first = self.end
        self.entries.clear()
        self._since = 0
        self.audio_bytes = self.snapshots = self.other_bytes = 0

    def _count(self, e: _Entry, sign: int) -> None:
        self.audio_bytes += sign * (e.audio.nbytes if e.audio is not None else 0)
        self.snapshots += sign * (e.snap is not None)
        self.other_bytes += sign * (e.tokens.numel() * e.tokens.element_size() + e.controls.cond.nbytes)

    def wants_snapshot(self, bar_start: bool) -> bool:
        return not self.entries or self.force or bar_start or self._since + 1 >= self.every

    def append(self, entry: _Entry) -> None:
        if entry.snap is not None:
            if not self.snap_bytes:
                self.snap_bytes = nbytes(entry.snap)
                self.every = max(1, math.ceil(self.snap_bytes * self.capacity / SNAPSHOT_BUDGET))
            self._since, self.force = 0, False
        else:
            self._since += 1
        self.entries.append(entry)
        self._count(entry, 1)
        while len(self.entries) > self.capacity:
            self._count(self.entries.popleft(), -1)
            self.first += 1

    def key_at_or_before(self, t: int) -> int | None:
        for i in range(t, self.first - 1, -1):
            if self[i].snap is not None:
                return i
        return None

    def first_audio(self) -> int:
        """The first index from which every frame has audio."""
        i = self.end
        while i > self.first and self[i - 1].audio is not None:
            i -= 1
        return i

    def memory(self) -> dict[str, int]:
        return {"audio_bytes": self.audio_bytes, "snapshots": self.snapshots,
                "snapshot_bytes": self.snapshots * self.snap_bytes, "other_bytes": self.other_bytes}


class Looper:
    """The engine's history, loops and rewinds (generation thread only)."""

    def __init__(self, engine: Engine, capacity: int = HISTORY_FRAMES):
        self.engine = engine
        gen = engine.generator
        # loops need per-frame state: a generator with full snapshots and one frame a step
        self.supported = engine.chunk_frames == 1 and hasattr(gen, "history_snapshot")
        self.history = History(capacity)
        self.loop: _Loop | None = None
        self.vary = False
        self.pass_ = 0
        self._pending: tuple[str, Any, int] | None = None  # (kind, arg, engine frame) waiting for its audio
        self._last: int | None = None  # history index of the recorded frame just replayed (None: live)
        self._live_vary = False  # the live state is a vary pass (not the engaged state)
        self._out = np.zeros((1, FRAME, 2), np.float32)
        self._k = -1  # index in the pass of the frame just played
        self._fade_in = np.sin(0.5 * np.pi * (np.arange(SEAM, dtype=np.float64) + 0.5) / SEAM).astype(
            np.float32)[:, None]
        self._fade_out = np.cos(0.5 * np.pi * (np.arange(SEAM, dtype=np.float64) + 0.5) / SEAM).astype(
            np.float32)[:, None]

    # ---- controls (generation thread, at a frame boundary) --------------------------------
    @staticmethod
    def handles(address: str) -> bool:
        return address in ADDRESSES or address == STATE

    def apply(self, address: str, values: tuple) -> None:
        """Apply a loop control; ControlError (nothing changes) if it cannot be done."""
        e = self.engine
        if not self.supported:
            raise ControlError(address, "loops and rewind need a model made frame by frame (MRT2); "
                               "Magenta RT v1 makes 2 s chunks and keeps no per-frame state")
        if address == "/mrtd/loop/vary":
            self.vary = bool(values[0])
            self._tell()
            return
        if address == "/mrtd/loop/off":
            if self.loop is not None or (self._pending and self._pending[0] == "loop"):
                self._pending = ("off", None, e.frame)
            return
        bars = float(values[0])
        if not (bars > 0 and math.isfinite(bars)):
            raise ControlError(address, f"needs a positive number of bars, got {values[0]!r}")
        length = e.clock.bars_to_frames(bars)
        h, lp = self.history, self.loop
        # the frames F-L .. F-1: the last L of the history once this step has made frame F-1
        # (looping: the last L of the loop's content)
        end = lp.start + lp.length if lp is not None else h.end + 1
        have = max(0, end - max(h.first_audio(), h.first))
        if length > min(have, h.capacity - 1):
            raise ControlError(address, f"{bars:g} bars are {length} frames; the history holds {have} frames "
                               f"({have / e.clock.bars_to_frames(1):.2f} bars at {e.clock.bpm:g} BPM; "
                               f"at most {h.capacity - 1})")
        if address == "/mrtd/rewind":
            k = h.key_at_or_before(min(end - length, h.end - 1)) if h.entries else None
            if k is None or (lp is None and k == h.first and len(h.entries) >= h.capacity):
                raise ControlError(address, "the stream state at that frame is no longer in the history")
        self._pending = ("loop" if address == "/mrtd/loop" else "rewind", (bars, length), e.frame)

    def clear(self) -> None:
        """A reset, prefill or bank load: the history is of another stream now."""
        was = self.loop is not None
        self.history.clear()
        self.loop, self._pending, self._last, self._live_vary, self.pass_ = None, None, None, False, 0
        if was:
            self._tell()

    # ---- the frame (engine.step_frame's generator call) ----------------------------------
    def step(self, controls: FrameControls) -> Block:
        gen = self.engine.generator
        if not self.supported:
            return gen.step(controls)
        lag = int(getattr(gen, "lag", 0))
        p = self.engine.frame - lag  # the frame whose audio this step makes
        if self._pending is not None and p >= self._pending[2]:
            kind, arg, _ = self._pending
            self._pending = None
            if kind == "loop":
                return self._engage(*arg, controls)
            if kind == "rewind":
                return self._rewind(arg[1], controls)
            return self._release(controls)
        if self.loop is None:
            return self._record(controls)
        return self._loop_frame(controls)

    def _record(self, controls: FrameControls) -> Block:
        """A normal frame: made, and kept."""
        gen, h = self.engine.generator, self.history
        p = self.engine.frame - int(getattr(gen, "lag", 0))
        clock = self.engine.clock
        snap = gen.history_snapshot() if h.wants_snapshot(clock.next_boundary(p, "bar") == p) else None
        block = gen.step(controls)
        audio = block.audio[0].copy() if block.valid[0] else None
        h.append(_Entry(audio, block.tokens, FrameControls(controls.cond.copy(), controls.temperature,
                                                                   controls.top_k, controls.guidance), snap))
        self._last = None
        return block

    def _play(self, i: int, seam: np.ndarray | None) -> Block:
        """Recorded frame ``i``, crossfaded in from ``seam`` (what would have followed)."""
        e = self.history[i]
        out = self._out[0]
        out[:] = e.audio
        if seam is not None:
            self._crossfade(out, seam)
        self._last = i
        return Block(e.tokens, self._out, np.ones(1, bool), int(getattr(self.engine.generator, "lag", 0)))

    def _crossfade(self, out: np.ndarray, seam: np.ndarray) -> None:
        out[:SEAM] = seam * self._fade_out + out[:SEAM] * self._fade_in

    def _continuation(self, controls: FrameControls, keep_live: bool) -> np.ndarray:
        """The first 20 ms of what would have followed the frame just played: the recorded
        next frame, or one frame made from the live state (put back if ``keep_live``)."""
        h, gen = self.history, self.engine.generator
        if self._last is not None and self._last + 1 < h.end:
            return h[self._last + 1].audio[:SEAM].copy()
        snap = gen.history_snapshot() if keep_live else None
        block = gen.step(controls)
        seam = block.audio[0, :SEAM].copy() if block.valid[0] else np.zeros((SEAM, 2), np.float32)
        if snap is not None:
            gen.history_restore(snap)
        return seam

    def _restore(self, t: int) -> None:
        """The live state back to just before history frame ``t`` was made."""
        h, gen = self.history, self.engine.generator
        k = h.key_at_or_before(t)
        if k is None:
            raise RuntimeError(f"no snapshot at or before history frame {t}")
        gen.history_restore(h[k].snap)
        for i in range(k, t):
            gen.step(h[i].controls)

    def _made(self, block: Block, seam: np.ndarray | None) -> Block:
        """A live frame with a seam crossfade on its start."""
        if seam is not None and block.valid[0]:
            self._out[0] = block.audio[0]
            self._crossfade(self._out[0], seam)
            block = Block(block.tokens, self._out, block.valid, block.lag)
        return block

    def _engage(self, bars: float, length: int, controls: FrameControls) -> Block:
        h, gen = self.history, self.engine.generator
        if self.loop is not None:  # a new length while looping: the last frames of the loop's content
            end, snap = self.loop.start + self.loop.length, self.loop.snap
        else:
            end, snap = h.end, gen.history_snapshot()
            self._live_vary = False
        start = max(end - length, h.first_audio())
        self.loop = _Loop(start, end - start, bars, self.engine.frame, snap)
        self.pass_, self._k = -1, -1
        return self._loop_frame(controls)

    def _loop_frame(self, controls: FrameControls) -> Block:
        lp, gen = self.loop, self.engine.generator
        assert lp is not None
        if 0 <= self._k < lp.length - 1:  # inside a pass
            self._k += 1
            if self._live_vary:
                return gen.step(controls)
            return self._play(lp.start + self._k, None)
        # a pass starts
        self._k = 0
        self.pass_ += 1
        self._tell()
        if self.vary and self.history.key_at_or_before(lp.start) is not None:
            seam = self._continuation(controls, keep_live=False)
            self._restore(lp.start)
            c = self.engine.controls
            gen.reseed((c.seed + VARY_SEED_STRIDE * (self.pass_ + 1) + lp.engaged) % 2**63)
            self._live_vary, self._last = True, None
            return self._made(gen.step(controls), seam)
        seam = self._continuation(controls, keep_live=not self._live_vary)
        if self._live_vary:  # back to exact: the live state is the one the loop was engaged on
            gen.history_restore(lp.snap)
            self._live_vary = False
        return self._play(lp.start, seam)

    def _release(self, controls: FrameControls) -> Block:
        lp = self.loop
        self.loop, self.pass_ = None, 0
        self._tell()
        if lp is None:
            return self._record(controls)
        if self._live_vary:  # a vary pass goes on as it is (not what the history holds next)
            self._live_vary, self.history.force = False, True
            return self._record(controls)
        at_end = self._last is not None and self._last + 1 == lp.start + lp.length
        seam = None if at_end or self._last is None else self._continuation(controls, keep_live=True)
        # the live state is the engaged one: the frames that followed the loop
        return self._made(self._record(controls), seam)

    def _rewind(self, length: int, controls: FrameControls) -> Block:
        h = self.history
        lp = self.loop
        end = lp.start + lp.length if lp is not None else h.end
        seam = self._continuation(controls, keep_live=False)
        if lp is not None:
            self.loop, self.pass_, self._live_vary = None, 0, False
            self._tell()
        self._restore(end - length)
        h.force = True  # the history goes on from frame end-length, not from its last frame
        return self._made(self._record(controls), seam)

    # ---- state out -------------------------------------------------------------------------
    @property
    def replaying(self) -> bool:
        """An exact loop plays recorded audio (a control changes nothing heard until released)."""
        return self.loop is not None and not self._live_vary

    def state(self) -> tuple[bool, float, int, bool]:
        lp = self.loop
        return (lp is not None, lp.bars if lp else 0.0, max(self.pass_, 0) + 1 if lp else 0, self.vary)

    def _tell(self) -> None:
        self.engine.outbox.tell(Event(self.engine.frame, STATE, self.state()))

    def value(self, address: str) -> tuple | None:
        if address == STATE:
            return self.state()
        if address == "/mrtd/loop/vary":
            return (self.vary,)
        return None

    def status(self) -> dict[str, Any]:
        h = self.history
        active, bars, pass_, vary = self.state()
        st: dict[str, Any] = {"active": active, "bars": bars, "pass": pass_, "vary": vary}
        if not self.supported:
            st["supported"] = False
            return st
        mem = h.memory()
        st.update(history_frames=len(h.entries), history_capacity=h.capacity,
                  history_bars=len(h.entries) / self.engine.clock.bars_to_frames(1),
                  snapshot_every=h.every, snapshot_size=h.snap_bytes, **mem,
                  memory_bytes=mem["audio_bytes"] + mem["snapshot_bytes"] + mem["other_bytes"]
                  + (h.snap_bytes if self.loop is not None else 0))
        return st

"""LFOs (modulation lanes): modulators that move a numeric control frame by frame.

Each LFO is bound to one numeric one-value control (``/mrtd/lfo/N/target``: a guidance
scale, the temperature, a prompt weight, an effect parameter) and has a shape (sine,
triangle, saw, square, random_hold), a rate (``hz``, free-running, or ``beats``, one
cycle every so many beats locked to the engine's :class:`~mrtd.engine.clock.MusicalClock`),
a depth and an offset (both as fractions of the control's schema range: the value is
``min + (max - min) * clip(offset + depth * wave, 0, 1)``), a phase and an on switch.

They run on the generation thread as a frame hook: at the start of each frame the hook
works out each LFO's value and, when it differs from the control's current value, posts it
for this frame. It is then applied, logged and told to the subscribers like any change of
that control, marked as *derived* (``via`` the LFO's address): a replay leaves those lines
out and the LFO, rebuilt from its own logged settings, makes the same values again on the
same frames (random_hold draws from the engine seed, the LFO's index and the cycle
number), so a take with LFOs renders bit for bit.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mrtd.constants import FRAME_RATE
from mrtd.controls.events import Event
from mrtd.controls.state import MRT2_ONLY
from mrtd.errors import ControlError
from mrtd.osc_schema import NAMESPACE
from mrtd.osc_schema.namespace import LFOS
from mrtd.osc_schema.schema import Arg

if TYPE_CHECKING:
    from mrtd.engine.engine import Engine

log = logging.getLogger("mrtd.engine")
PREFIX = "/mrtd/lfo/"
# numeric, but no sound to move: applied at the next reset, or the output queue's size
NOT_MODULATED = frozenset(("/mrtd/seed", "/mrtd/seed/rotation", "/mrtd/latency_ms", "/mrtd/reset/fade_ms"))


class Derived:
    """The reply path of a derived change (an LFO step, a morph step): its ``via`` marks
    the logged event; a refusal is logged (the listeners hear it as /mrtd/error anyway)."""

    def __init__(self, via: str):
        self.via = via

    def __call__(self, address: str, reason: str) -> None:
        log.warning("%s: %s refused: %s", self.via, address, reason)


def held_back(engine: Engine, address: str) -> bool:
    """Inside a chunk of a chunk model (Magenta RT v1) a generation control waits for the
    chunk's end: a step there would only be overwritten by the next, so none is posted."""
    return engine.chunk_frames > 1 and engine._mid_chunk() and engine._waits_for_chunk(address)


def numeric_arg(address: str) -> Arg | None:
    """The one numeric argument of a control an LFO or a morph may move, or None."""
    p = NAMESPACE.get(address)
    if (p is None or p.route not in ("engine", "effects") or p.access != "rw" or p.role in ("action", "playing")
            or len(p.args) != 1 or p.repeats or p.alt_args or address in NOT_MODULATED):
        return None
    a = p.args[0]
    if a.kind not in ("float", "int") or a.min is None or a.max is None or a.max <= a.min:
        return None
    return a


def _position(arg: Arg, value: float) -> float:
    """Where ``value`` sits in the argument's range, 0..1."""
    return min(1.0, max(0.0, (float(value) - arg.min) / (arg.max - arg.min)))  # type: ignore[operator]


def _default(address: str) -> Any:
    return NAMESPACE[address].default[0]  # type: ignore[index]


@dataclass
class Lfo:
    index: int  # 1-based
    target: str = ""
    shape: str = "sine"
    hz: float = 0.5
    beats: float = 4.0
    sync: bool = False  # True: the rate is ``beats`` (locked to the beat grid); False: ``hz``
    depth: float = 0.0
    offset: float = 0.5
    phase: float = 0.0
    on: bool = True
    # free-running: ``anchor_cycles`` cycles had passed at ``anchor_frame`` (the frame it was
    # bound or switched on); a rate change re-anchors, so the wave stays continuous and no
    # rounding accumulates
    anchor_frame: int = 0
    anchor_cycles: float = 0.0
    last_frame: int | None = None  # the last frame evaluated (the hook may be called twice for one)
    moved_to: float | None = None  # the control was set by someone else (a fader, a morph): the new centre
    _hold: tuple[int, float] = (-1, 0.0)  # random_hold: (cycle, value) drawn last

    @classmethod
    def fresh(cls, index: int) -> Lfo:
        p = f"{PREFIX}{index}/"
        return cls(index, target=_default(p + "target"), shape=_default(p + "shape"), hz=_default(p + "hz"),
                   beats=_default(p + "beats"), depth=_default(p + "depth"), offset=_default(p + "offset"),
                   phase=_default(p + "phase"), on=_default(p + "on"))

    def restart(self, frame: int) -> None:
        self.anchor_frame, self.anchor_cycles, self.last_frame, self.moved_to = frame, 0.0, None, None

    def cycles(self, frame: int) -> float:
        return self.anchor_cycles + self.hz * (frame - self.anchor_frame) / FRAME_RATE

    def set_hz(self, frame: int, hz: float) -> None:
        self.anchor_cycles, self.anchor_frame = self.cycles(frame), frame
        self.hz, self.sync = hz, False

    def wave(self, x: float, seed: int) -> float:
        """The shape at ``x`` cycles, in [-1, 1]."""
        k = math.floor(x)
        p = x - k
        s = self.shape
        if s == "sine":
            return math.sin(2.0 * math.pi * p)
        if s == "triangle":  # starts at 0 rising, like the sine
            return 4.0 * p if p < 0.25 else 2.0 - 4.0 * p if p < 0.75 else 4.0 * p - 4.0
        if s == "saw":
            return 2.0 * p - 1.0
        if s == "square":
            return 1.0 if p < 0.5 else -1.0
        if self._hold[0] != k:  # random_hold: one value a cycle, from (seed, LFO, cycle)
            rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, self.index, k % (1 << 62)])
            self._hold = (k, float(rng.uniform(-1.0, 1.0)))
        return self._hold[1]


class Modulators:
    """The engine's LFOs: their settings (``/mrtd/lfo/N/...``) and the frame hook."""

    def __init__(self, engine: Engine, count: int = LFOS):
        self.engine = engine
        self.lfos = [Lfo.fresh(n) for n in range(1, count + 1)]
        self._replies = [Derived(f"{PREFIX}{n}") for n in range(1, count + 1)]
        engine.outbox.listeners.append(self._heard)

    @staticmethod
    def handles(address: str) -> bool:
        return address.startswith(PREFIX)

    def _split(self, address: str) -> tuple[Lfo, str]:
        n, _, what = address[len(PREFIX):].partition("/")
        return self.lfos[int(n) - 1], what

    # ---- at receipt (any thread) -----------------------------------------------------------
    def check(self, address: str, values: tuple) -> tuple:
        if address.startswith(PREFIX) and address.endswith("/target") and values[0] != "":
            self._bindable(address, values[0])
        return values

    def _bindable(self, address: str, target: str) -> Arg:
        if NAMESPACE.get(target) is None:
            raise ControlError(address, f"{target!r} is not an mrtd address")
        arg = numeric_arg(target)
        if arg is None:
            raise ControlError(address, f"{target} is not a numeric one-value control an LFO can move "
                               "(see /mrtd/lfo/N/target in docs/osc.md)")
        if self.engine.controls.family == "v1" and target in MRT2_ONLY:
            raise ControlError(address, f"{target} is an MRT2 control: the model playing has no such input")
        return arg

    # ---- on the generation thread ------------------------------------------------------------
    def apply(self, address: str, values: tuple) -> None:
        lfo, what = self._split(address)
        v = values[0]
        if what == "target":
            if v == lfo.target:
                return  # bound already: it keeps running as it is
            if v != "":
                arg = self._bindable(address, v)
            if lfo.target and lfo.on:
                self._centre(lfo)
            lfo.target = v
            if v != "":
                lfo.offset = _position(arg, self.engine.value(v)[0])  # type: ignore[index]
            lfo.restart(self.engine.frame)
        elif what == "on":
            if lfo.on and not v and lfo.target:
                self._centre(lfo)
            if v and not lfo.on:
                lfo.restart(self.engine.frame)
            lfo.on = bool(v)
        elif what == "hz":
            lfo.set_hz(self.engine.frame, float(v))
        elif what == "beats":
            lfo.beats, lfo.sync = float(v), True
        elif what in ("shape", "depth", "offset", "phase"):
            setattr(lfo, what, v)

    def value(self, address: str) -> tuple | None:
        if NAMESPACE.get(address) is None:
            return None
        lfo, what = self._split(address)
        return (getattr(lfo, what),) if what in ("target", "shape", "hz", "beats", "depth", "offset", "phase",
                                                 "on") else None

    def _heard(self, ev: Event) -> None:
        """Outbox listener (generation thread): a running LFO's control set by anything but
        an LFO (a fader, a MIDI knob, a scene) moves the LFO's centre there."""
        if not ev.args or ev.via.startswith(PREFIX):
            return
        for lfo in self.lfos:
            if lfo.target == ev.address and lfo.on:
                lfo.moved_to = ev.args[0]

    def hook(self, frame: int) -> None:
        """Frame hook: post each running LFO's value for ``frame`` (once per frame)."""
        for lfo in self.lfos:
            if (not (lfo.on and lfo.target) or (lfo.last_frame is not None and frame <= lfo.last_frame)
                    or held_back(self.engine, lfo.target)):
                continue
            lfo.last_frame = frame
            if lfo.moved_to is not None:  # re-centred: its offset changes, visibly (a derived change)
                arg = numeric_arg(lfo.target)
                offset, lfo.moved_to = _position(arg, lfo.moved_to), None  # type: ignore[arg-type]
                if offset != lfo.offset:
                    lfo.offset = offset
                    self.engine.schedule.add([(f"{PREFIX}{lfo.index}/offset", (offset,))], frame,
                                             self._replies[lfo.index - 1])
            x = (self.engine.clock.beat_at(frame) / lfo.beats if lfo.sync else lfo.cycles(frame)) + lfo.phase
            w = lfo.wave(x, self.engine.controls.seed)
            self._post(lfo, min(1.0, max(0.0, lfo.offset + lfo.depth * w)), frame)

    def _centre(self, lfo: Lfo) -> None:
        """The control back to the LFO's offset (switched off or unbound), on this frame."""
        self._post(lfo, lfo.offset, self.engine.frame)

    def _post(self, lfo: Lfo, norm: float, frame: int) -> None:
        arg = numeric_arg(lfo.target)
        if arg is None:
            return
        v: float | int = arg.min + (arg.max - arg.min) * norm  # type: ignore[operator]
        v = round(v) if arg.kind == "int" else float(v)
        cur = self.engine.value(lfo.target)
        if cur is None or cur[0] != v:
            self.engine.schedule.add([(lfo.target, (v,))], frame, self._replies[lfo.index - 1])

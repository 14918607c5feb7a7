"""Tempo sources and quantised changes, on the generation thread.

:class:`Tempo` owns the engine's :class:`~mrtd.engine.clock.MusicalClock` from the
control side: ``/mrtd/tempo/*`` and ``/mrtd/quantize*`` are applied here, and one frame
hook (called with the frame about to be made, before its controls) follows the chosen
source and tells subscribers the bar and beat:

- ``internal``: the clock runs on its own (frame 0 is bar 1).
- ``jack``: the JACK transport's position (bar/beat/tick and BPM from the timebase
  master), read through a small query object the daemon wires in (:attr:`Tempo.jack`,
  see :mod:`mrtd.audio.transport`: the engine imports nothing of JACK), mapped onto the
  frame that plays at that moment.
- ``link``: an Ableton Link session (:mod:`mrtd.remote.link`, made by :attr:`Tempo.link_factory`).

A followed position moves the grid only through a logged ``/mrtd/tempo/sync`` control
posted for that frame, and only when it departs from what the clock already predicts
(a new tempo, meter, a locate, drift): the event log then carries the grid, so a take
re-renders offline, where no transport or Link session exists, with the same bar lines.

Quantisation (:meth:`Tempo.defer`) is asked by the schedule for every untimed control
as it becomes due: a quantised address waits for the frame of the next beat or bar
(``clock.next_boundary``: the frame itself when it plays one) and is then applied like
a control timed for that frame. Timed controls (OSC bundle timetags, MIDI, frame hooks)
keep their frame.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from mrtd.constants import SAMPLE_RATE
from mrtd.controls.events import Event
from mrtd.engine.clock import Position
from mrtd.errors import ControlError
from mrtd.osc_schema import NAMESPACE
from mrtd.osc_schema.namespace import MAX_BEATS_PER_BAR

if TYPE_CHECKING:
    from mrtd.engine.engine import Engine

SOURCES = ("internal", "jack", "link")
SYNC = "/mrtd/tempo/sync"
POSITION = "/mrtd/tempo/position"
NEXT_UNIT = "/mrtd/quantize/next"
HANDLED = frozenset(p.address for p in NAMESPACE if p.address.startswith(("/mrtd/tempo/", "/mrtd/quantize")))
MIN_BPM, MAX_BPM = NAMESPACE["/mrtd/tempo/bpm"].args[0].min or 20.0, NAMESPACE["/mrtd/tempo/bpm"].args[0].max or 999.0
DRIFT_BEATS = 2e-3  # a followed position this far (beats) from the clock's own moves the grid (1 ms at 120 BPM)

# actions, effect switches and musical-time controls that land on the grid (beside every
# generation control); the rest of the actions (saving, prefill, LFO settings) and output,
# playing and tempo controls never wait
_QUANTISED_ACTIONS = ("/mrtd/reset", "/mrtd/bank/load", "/mrtd/scene/recall", "/mrtd/scene/morph", "/mrtd/loop",
                      "/mrtd/loop/vary", "/mrtd/loop/off", "/mrtd/rewind", "/mrtd/fx/bypass")
_NOT_QUANTISED = ("/mrtd/seed", "/mrtd/seed/rotation")


def _quantised(p: Any) -> bool:
    if p.access == "r" or p.address in _NOT_QUANTISED:
        return False
    if p.address in _QUANTISED_ACTIONS or (p.route == "effects" and p.address.endswith("/on")):
        return True
    if p.address.startswith("/mrtd/lfo/") and p.address.endswith("/on"):
        return True
    return p.route == "engine" and p.role == ""


QUANTISED = frozenset(p.address for p in NAMESPACE if _quantised(p))


class Source(Protocol):
    """A tempo source the engine can poll from the generation thread (never blocking)."""

    def query(self, sample_now: int) -> Position | None:
        """The position for output sample ``sample_now`` or another recent sample (None:
        no answer now; the clock runs on)."""
        ...


class Tempo:
    """The musical clock's controls and sources, for one engine."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.clock = engine.clock
        self.source = "internal"
        self.quantize = "off"
        self.transport = False  # JACK transport start/stop pauses/resumes
        self.jack: Source | None = None  # wired by the daemon (mrtd.audio.transport.JackTransport)
        self.link_factory: Callable[[float, int], Any] | None = None  # (bpm, quantum) -> a Link source
        self.link: Any = None
        self.sample_now: Callable[[], int | None] | None = None  # the output sample heard now (daemon: JACK)
        self._next_unit: str | None = None  # /mrtd/quantize/next sent alone: for the next quantised change
        self._tell: Event | None = None
        self._told: tuple[int, int] | None = self.clock.position(0)[:2]  # subscribers get the state on subscribing
        self._rolling: bool | None = None
        self._followed = -1  # the last frame a source was polled for
        engine.frame_hooks.append(self.on_frame)
        engine.schedule.quantiser = self

    @staticmethod
    def handles(address: str) -> bool:
        return address in HANDLED

    # ---- quantisation (asked by the schedule, generation thread) ---------------------------
    def tag(self, items: list[tuple[str, Any]]) -> list[tuple[str, Any, str]]:
        """Untimed controls as they arrive, each with its unit ("" = the global mode):
        ``/mrtd/quantize/next`` sets it for the messages after it in the batch (an OSC
        bundle); sent alone, it is kept for the next quantised control to arrive (and told
        to subscribers). Any thread (under the schedule's lock)."""
        if len(items) == 1 and items[0][0] == NEXT_UNIT:
            self._next_unit = items[0][1][0]
            self._tell = Event(self.engine.frame, NEXT_UNIT, tuple(items[0][1]))
            return []
        out, unit = [], ""
        for address, values in items:
            if address == NEXT_UNIT:
                unit = values[0]
            elif not unit and self._next_unit is not None and address in QUANTISED:
                out.append((address, values, self._next_unit))
                self._next_unit = None
            else:
                out.append((address, values, unit))
        return out

    def flush(self) -> None:
        """After the schedule's lock: tell subscribers a unit kept for the next change."""
        ev, self._tell = self._tell, None
        if ev is not None:
            self.engine.outbox.tell(ev)

    def defer(self, frame: int, address: str, unit: str) -> int | None:
        """The frame an untimed control due at ``frame`` waits for, or None to apply it now.
        ``unit``: its own (``/mrtd/quantize/next``) or "" for the global mode."""
        if address not in QUANTISED:
            return None
        u = unit or self.quantize
        if u == "off":
            return None
        at = self.clock.next_boundary(frame, u)
        return at if at > frame else None

    def note_unit(self, frame: int, address: str, unit: str | None) -> None:
        """A quantised control about to be applied other than the global mode says (with
        its own unit, or timed: None, never quantised): log ``/mrtd/quantize/next`` right
        before it, so re-rendering the log (where it comes untimed) applies it the same way."""
        unit = "off" if unit is None else unit
        if unit and unit != self.quantize and address in QUANTISED:
            self.engine.outbox.applied(Event(frame, NEXT_UNIT, (unit,)))

    # ---- controls (generation thread) ---------------------------------------------------
    def apply(self, address: str, v: tuple) -> None:
        frame, c = self.engine.frame, self.clock
        if address == "/mrtd/tempo/source":
            self._set_source(v[0])
        elif address == "/mrtd/tempo/bpm":
            if self.source == "jack" and self.jack is not None:
                raise ControlError(address, "the tempo comes from the JACK transport's timebase master now "
                                   "(/mrtd/tempo/source internal to set it here)")
            if self.source == "link" and self.link is not None:
                self.link.set_tempo(float(v[0]))
            c.set_tempo(frame, float(v[0]))
        elif address == "/mrtd/tempo/meter":
            if self.source == "jack" and self.jack is not None:
                raise ControlError(address, "the meter comes from the JACK transport's timebase master now "
                                   "(/mrtd/tempo/source internal to set it here)")
            if self.source == "link" and self.link is not None:
                self.link.set_meter(int(v[0]), int(v[1]))
            c.set_meter(frame, int(v[0]), int(v[1]))
        elif address == SYNC:
            bar, beat, bpm, bpb, unit = v
            c.follow(frame, int(bar), 1, 0.0, float(bpm), int(bpb), int(unit))
            c.anchor_beat += float(beat) - 1.0  # the beat within the bar, with its fraction
            self._told = None
        elif address == "/mrtd/tempo/transport":
            self.transport = bool(v[0])
            self._rolling = None
        elif address == "/mrtd/quantize":
            self.quantize = v[0]
        # /mrtd/quantize/next reaches here only as the logged note of a control's own unit

    def _set_source(self, source: str) -> None:
        if source == self.source:
            return
        if source == "link":
            if self.link is None and self.link_factory is not None:
                self.link = self.link_factory(self.clock.bpm, self.clock.beats_per_bar)  # ControlError if missing
        elif self.link is not None:
            close = getattr(self.link, "close", None)
            if close is not None:
                close()
            self.link = None
        self.source = source
        self._rolling, self._followed = None, -1

    def value(self, address: str) -> tuple | None:
        c = self.clock
        if address == "/mrtd/tempo/source":
            return (self.source,)
        if address == "/mrtd/tempo/bpm":
            return (c.bpm,)
        if address == "/mrtd/tempo/meter":
            return (c.beats_per_bar, c.beat_unit)
        if address == POSITION:
            bar, beat, _ = c.position(self.engine.frame)
            return (bar, beat)
        if address == "/mrtd/tempo/transport":
            return (self.transport,)
        if address == "/mrtd/quantize":
            return (self.quantize,)
        return None

    # ---- the frame hook (generation thread) -------------------------------------------------
    def on_frame(self, frame: int) -> None:
        """Follow the source for ``frame`` (once per frame; the transport's start/stop also
        while paused), then tell subscribers a new beat."""
        src = self.link if self.source == "link" else self.jack if self.source == "jack" else None
        if src is not None:
            self._follow(src, frame)
        pos = self.clock.position(frame)[:2]
        if pos != self._told:
            self._told = pos
            self.engine.outbox.tell(Event(frame, POSITION, pos))

    def _follow(self, src: Source, frame: int) -> None:
        e = self.engine
        now = self.sample_now() if self.sample_now is not None else None
        if now is None:
            now = e.output.read
        p = src.query(now)
        if p is None:
            return
        if self.source == "jack" and self.transport and p.rolling != self._rolling:
            if self._rolling is not None or not p.rolling:  # not on switching on with a rolling transport
                e.schedule.add([("/mrtd/pause", (not p.rolling,))], frame)
            self._rolling = p.rolling
        if frame == self._followed or not p.rolling:
            return  # a stopped transport leaves the grid running at its tempo
        self._followed = frame
        # in the schema's ranges, so the logged sync replays
        bpm = min(max(float(p.bpm), MIN_BPM), MAX_BPM)
        bpb, unit = min(max(int(p.beats_per_bar), 1), MAX_BEATS_PER_BAR), min(max(int(p.beat_unit), 1), 64)
        beats = p.beats + (self.frame_sample(frame) - p.sample) * bpm / (60.0 * SAMPLE_RATE)
        c = self.clock
        if (abs(c.beat_at(frame) - beats) <= DRIFT_BEATS and c.bar_beat == 0.0 and abs(c.bpm - bpm) < 1e-6
                and (c.beats_per_bar, c.beat_unit) == (bpb, unit)):
            return
        bar = math.floor(beats / bpb)
        beat = min(beats - bar * bpb + 1.0, bpb + 1.0)
        values = (bar + 1, beat, bpm, bpb, unit)
        # applied here, before this frame's controls (quantised ones see the new grid), and
        # logged like a control of this frame, so a re-render puts the grid in the same place
        self.apply(SYNC, values)
        e.outbox.applied(Event(frame, SYNC, values))

    def frame_sample(self, frame: int) -> int:
        """The output stream sample where ``frame``'s audio starts playing (made now, it is
        queued after what is written, behind the generator's lag)."""
        e = self.engine
        lag = int(getattr(e.generator, "lag", 0))
        return e.output.written + (frame - e.frame + lag) * e.output.frame

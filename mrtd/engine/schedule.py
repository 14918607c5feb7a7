"""Posted controls waiting for their frame, and where their outcome goes.

Any thread posts (OSC, MIDI, the render's event file); only the generation thread takes.
A control is checked before it gets here (so a bad one is refused to its sender at once),
then waits in a heap keyed by the frame it is due at, with the sender's reply path kept
beside it: an error found only when the control is applied still reaches the one who
sent it. Controls posted together (an OSC bundle) go in under one lock, so the
generation thread sees all of them or none at a frame boundary.

An untimed control (posted for "the next frame") may be quantised: as it becomes due,
the schedule asks its :attr:`Schedule.quantiser` (the engine's :class:`~mrtd.engine.tempo.Tempo`)
whether it waits for a beat or bar, and if so puts it back for the next frame, where it
is asked again: the grid may move meanwhile (a tempo change, a followed transport), and a
waiting change lands on the first frame that is a boundary of the grid as it is then,
checked at the point of that frame's controls where a replay of the log checks it.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from mrtd.controls.events import Event, EventWriter
from mrtd.errors import UserError, reason_for

log = logging.getLogger("mrtd.engine")

Reply = Callable[[str, str], None]  # (address, reason): an /mrtd/error to the message's sender
NEXT = -1  # the frame key of "the next frame boundary": due at any frame


class Quantiser(Protocol):
    """Decides which untimed controls wait for the grid (:class:`mrtd.engine.tempo.Tempo`)."""

    def tag(self, items: list[tuple[str, Any]]) -> list[tuple[str, Any, str]]: ...

    def defer(self, frame: int, address: str, unit: str) -> int | None: ...

    def flush(self) -> None: ...

    def note_unit(self, frame: int, address: str, unit: str | None) -> None: ...


class Schedule:
    """A frame-keyed heap of (address, values, reply); ties keep the order of posting.

    Each entry also keeps its quantisation: None for a timed control, the unit it asked
    for ("" = the global mode) for an untimed one."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, str, Any, Reply | None, str | None]] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self.quantiser: Quantiser | None = None

    def add(self, items: list[tuple[str, Any]], frame: int | None = None, reply: Reply | None = None) -> None:
        """Queue ``(address, values)`` pairs for frame ``frame`` (None: the next frame; a
        frame already generated means as soon as possible), all under one lock. Untimed
        ones may be quantised (``/mrtd/quantize/next`` among them sets their unit)."""
        key = NEXT if frame is None else int(frame)
        with self._lock:
            if self.quantiser is None:
                tagged: list[tuple[str, Any, str | None]] = [(a, v, None) for a, v in items]
            elif frame is None:
                tagged = list(self.quantiser.tag(items))
            else:  # a timed control keeps its frame: a unit of its own means nothing
                tagged = [(a, v, None) for a, v in items if a != "/mrtd/quantize/next"]
            for address, values, unit in tagged:
                heapq.heappush(self._heap, (key, next(self._seq), address, values, reply, unit))
        if self.quantiser is not None:
            self.quantiser.flush()

    def pop_due(self, frame: int) -> tuple[str, Any, Reply | None] | None:
        """The next control due at or before ``frame`` (untimed quantised ones put on the
        frame of their beat or bar instead), or None."""
        q = self.quantiser
        with self._lock:
            while True:
                if not self._heap or self._heap[0][0] > frame:
                    return None
                _, seq, address, values, reply, unit = heapq.heappop(self._heap)
                if unit is None or q is None:
                    break
                if q.defer(frame, address, unit) is None:
                    break
                heapq.heappush(self._heap, (frame + 1, seq, address, values, reply, unit))
        if q is not None:
            q.note_unit(frame, address, unit)
        return address, values, reply

    def __len__(self) -> int:
        return len(self._heap)


class Outbox:
    """Where each applied change and each late refusal goes: the engine's log of applied
    events, the event file (replayable), the listeners (OSC feedback) and, for an error,
    the message's own sender. ``strict`` (offline) raises a refusal instead."""

    def __init__(self, event_sink: EventWriter | None = None, strict: bool = False):
        self.event_sink = event_sink
        self.strict = strict
        self.listeners: list[Callable[[Event], None]] = []  # told of every applied change
        self.applied_events: deque[Event] = deque(maxlen=4096)
        self.errors: deque[str] = deque(maxlen=64)

    def applied(self, ev: Event) -> None:
        self.applied_events.append(ev)
        if self.event_sink is not None:
            self.event_sink.write([ev])
        self.tell(ev)

    def refused(self, frame: int, address: str, e: UserError, reply: Reply | None) -> None:
        """An error found as a message is applied: to its sender and to the listeners."""
        self.errors.append(f"frame {frame}: {e}")
        log.error("frame %d: %s", frame, e)
        if self.strict:
            raise e
        reason = reason_for(e, address)
        if reply is not None:
            try:
                reply(address, reason)
            except Exception:  # a reply path must never stop the stream
                log.exception("replying to the sender of %s failed", address)
        self.tell(Event(frame, "/mrtd/error", (address, reason)))  # to the OSC subscribers

    def tell(self, ev: Event) -> None:
        for listener in self.listeners:
            try:
                listener(ev)
            except Exception:  # a feedback target must never stop the stream
                log.exception("listener failed on %s", ev.address)


class Replay:
    """A frame hook feeding an event log back: at each frame, the events of that frame (and
    any earlier ones not fed yet) are posted one by one, untimed, as if just received (a
    logged ``/mrtd/quantize/next`` together with the event it precedes, which it alone
    concerns); a refusal goes to the outbox (raised offline, where the outbox is strict)."""

    def __init__(self, post_many: Callable[..., list], outbox: Outbox, events: list[Event]):
        self.post_many, self.outbox = post_many, outbox
        self.events = sorted(events, key=lambda e: e.frame)  # stable: file order within a frame
        self.i = 0

    def __call__(self, frame: int) -> None:
        j = self.i
        while j < len(self.events) and self.events[j].frame <= frame:
            j += 1
        if j == self.i:
            return
        batch, self.i = self.events[self.i:j], j
        k = 0
        while k < len(batch):
            n = 2 if batch[k].address == "/mrtd/quantize/next" and k + 1 < len(batch) else 1
            group = batch[k:k + n]
            k += n
            for e, result in zip(group, self.post_many([(e.address, e.args) for e in group], None)):
                if isinstance(result, UserError):
                    self.outbox.refused(frame, e.address, result, None)

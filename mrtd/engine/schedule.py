"""Posted controls waiting for their frame, and where their outcome goes.

Any thread posts (OSC, MIDI, the render's event file); only the generation thread takes.
A control is checked before it gets here (so a bad one is refused to its sender at once),
then waits in a heap keyed by the frame it is due at, with the sender's reply path kept
beside it: an error found only when the control is applied still reaches the one who
sent it. Controls posted together (an OSC bundle) go in under one lock, so the
generation thread sees all of them or none at a frame boundary.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from mrtd.controls.events import Event, EventWriter
from mrtd.errors import UserError, reason_for

log = logging.getLogger("mrtd.engine")

Reply = Callable[[str, str], None]  # (address, reason): an /mrtd/error to the message's sender
NEXT = -1  # the frame key of "the next frame boundary": due at any frame


class Schedule:
    """A frame-keyed heap of (address, values, reply); ties keep the order of posting."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, str, Any, Reply | None]] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()

    def add(self, items: list[tuple[str, Any]], frame: int | None = None, reply: Reply | None = None) -> None:
        """Queue ``(address, values)`` pairs for frame ``frame`` (None: the next frame; a
        frame already generated means as soon as possible), all under one lock."""
        key = NEXT if frame is None else int(frame)
        with self._lock:
            for address, values in items:
                heapq.heappush(self._heap, (key, next(self._seq), address, values, reply))

    def pop_due(self, frame: int) -> tuple[str, Any, Reply | None] | None:
        """The next control due at or before ``frame``, or None."""
        with self._lock:
            if not self._heap or self._heap[0][0] > frame:
                return None
            _, _, address, values, reply = heapq.heappop(self._heap)
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

"""Feedback to OSC subscribers: state changes as they happen, meters at a steady rate.

Kept apart from the subscriber table because this is the one part of the OSC server
that other threads call into: the hub tells its listeners on whatever thread made the
change (the generation thread, for everything applied on a frame; the MIDI thread; the
loop). That side must never block nor grow without bound, whatever the subscribers do,
so a change is only put in a small coalescing table under a short lock, and the loop is
woken once per burst to send what is pending. A state address keeps only its latest
value (a fader moved 1000 times between two wake-ups is sent once, where it ended);
events (``/mrtd/error``, triggers) keep each occurrence.

``/mrtd/meters`` and ``/mrtd/frame`` are not changes: they are read and sent to every
subscriber ``meter_hz`` times a second by one task on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from mrtd.remote.changes import ChangeQueue
from mrtd.remote.osc.packet import encode_message
from mrtd.remote.osc.subscriptions import Subscriptions
from mrtd.remote.ratelimit import RateLog

MAX_PENDING_FEEDBACK = 4096  # state changes waiting to go out (coalesced per address)


class Feedback:
    """Sends the hub's state changes and the meters to ``subs``."""

    def __init__(self, hub: Any, subs: Subscriptions, rlog: RateLog, *, meter_hz: float = 20.0):
        self.hub, self.subs, self._rlog = hub, subs, rlog
        self.meter_hz = float(meter_hz)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._meter_task: asyncio.Task | None = None
        self.queue = ChangeQueue(self._send, MAX_PENDING_FEEDBACK)

    def start(self) -> None:
        """On the loop: listen to the hub and start the meter feed."""
        self._loop = asyncio.get_running_loop()
        self.queue.bind(self._loop)
        self.hub.add_listener(self.on_change)
        self._meter_task = self._loop.create_task(self._meter_loop())

    async def stop(self) -> None:
        self.hub.remove_listener(self.on_change)
        self.queue.bind(None)
        self._loop = None
        if self._meter_task is not None:
            self._meter_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._meter_task
            self._meter_task = None

    def on_change(self, address: str, values: tuple) -> None:
        """Any thread (the engine's, mostly): queue a state change for the subscribers
        (coalesced, never blocking: :class:`~mrtd.remote.changes.ChangeQueue`)."""
        if self.subs:
            self.queue.put(address, values)

    def _send(self, items: list[tuple[str, tuple]], dropped: int) -> None:
        """On the loop: encode each change once and send it to every subscriber."""
        if dropped:
            self._rlog.warning("fb-dropped", "OSC feedback: %d changes dropped: the loop fell behind", dropped)
        for address, values in items:
            try:
                packet = encode_message(address, values)
            except Exception:
                self._rlog.exception("encode", "cannot encode feedback %s %r", address, values)
                continue
            self.subs.broadcast(packet)

    async def _meter_loop(self) -> None:
        """``/mrtd/meters`` and ``/mrtd/frame`` to subscribers, ``meter_hz`` times a second."""
        loop = asyncio.get_running_loop()
        period = 1.0 / self.meter_hz
        due = loop.time()
        while True:
            due += period
            await asyncio.sleep(max(0.0, due - loop.time()))
            due = max(due, loop.time() - period)  # after a stall: no burst of catch-up ticks
            if not self.subs:
                continue
            try:
                meters = encode_message("/mrtd/meters", tuple(self.hub.meters()), "ffffff")
                frame = encode_message("/mrtd/frame", tuple(self.hub.value("/mrtd/frame") or (0,)), "i")
            except Exception:
                self._rlog.exception("meters", "reading the meters failed")
                continue
            self.subs.broadcast(meters)
            self.subs.broadcast(frame)

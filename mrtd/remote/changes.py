"""State changes handed from any thread to the network loop, coalesced.

The engine thread reports every applied change to the hub's listeners; the OSC and
OSCQuery servers must pass them on without ever making that thread wait. A
:class:`ChangeQueue` takes a change under a short lock and wakes the loop once per
burst; state is coalesced per address (the latest value wins, in the order of the
latest changes), events and errors keep each occurrence. When the loop falls behind,
changes beyond ``limit`` are dropped and counted, never queued without bound.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Callable
from typing import Any

from mrtd.osc_schema import NAMESPACE

Change = tuple[str, tuple]


class ChangeQueue:
    """Changes for ``flush(changes, dropped)``, called on ``loop`` (see :meth:`bind`)."""

    def __init__(self, flush: Callable[[list[Change], int], None], limit: int):
        self._flush_to, self.limit = flush, limit
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._pending: dict[Any, Change] = {}
        self._scheduled = False
        self._dropped = 0
        self._seq = itertools.count()

    def bind(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """The loop that flushes (None: changes are ignored, the server is stopping)."""
        self._loop = loop

    def put(self, address: str, values: tuple) -> None:
        """Any thread: queue one change; never blocks beyond a short lock."""
        loop = self._loop
        if loop is None:
            return
        p = NAMESPACE.get(address)
        state = p is not None and p.access in ("rw", "r") and address != "/mrtd/error"
        key: Any = address if state else (address, next(self._seq))
        with self._lock:
            pending = self._pending
            if key in pending:
                del pending[key]  # re-inserted last: keeps the order of the latest changes
            elif len(pending) >= self.limit:
                self._dropped += 1
                return
            pending[key] = (address, tuple(values))
            if self._scheduled:
                return
            self._scheduled = True
        try:
            loop.call_soon_threadsafe(self._flush)
        except RuntimeError:  # the loop is closed: the daemon is going down
            pass

    def _flush(self) -> None:
        with self._lock:
            items = list(self._pending.values())
            self._pending.clear()
            self._scheduled = False
            dropped, self._dropped = self._dropped, 0
        self._flush_to(items, dropped)

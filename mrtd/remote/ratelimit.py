"""Flood control shared by the network servers: a token bucket for replies, and log
lines limited to one per kind every few seconds (with a count of those held back), so a
flood of bad input costs little CPU and never floods the log."""

from __future__ import annotations

import logging
import time
from typing import Any


class TokenBucket:
    """At most ``rate`` events a second (bursts up to one second's worth)."""

    def __init__(self, rate: float):
        self.rate = rate
        self.tokens = rate
        self.t = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.t) * self.rate)
        self.t = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class RateLog:
    """One log line per kind every ``interval`` seconds, with a count of those held back."""

    def __init__(self, logger: logging.Logger, interval: float = 5.0):
        self.logger, self.interval = logger, interval
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def _due(self, kind: str) -> int | None:
        now = time.monotonic()
        if now - self._last.get(kind, -1e9) < self.interval:
            self._held[kind] = self._held.get(kind, 0) + 1
            return None
        self._last[kind] = now
        return self._held.pop(kind, 0)

    def warning(self, kind: str, msg: str, *args: Any) -> None:
        held = self._due(kind)
        if held is not None:
            self.logger.warning(msg + (f" (and {held} more like it)" if held else ""), *args)

    def exception(self, kind: str, msg: str, *args: Any) -> None:
        held = self._due(kind)
        if held is not None:
            self.logger.exception(msg + (f" (and {held} more like it)" if held else ""), *args)

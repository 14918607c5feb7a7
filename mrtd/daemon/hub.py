"""The hub: where every control message goes, whoever sent it (OSC, MIDI, a config file).

One entry point, :meth:`Hub.handle`, validates a message against the OSC schema and
routes it: engine controls and effects are queued on the engine for a frame; daemon
controls (recording, MIDI channel, input prefill) go to handlers the daemon registers.
A refused message raises :class:`UserError` with the reason and changes nothing.

Feedback flows the other way: every applied change (an engine event on its frame, or a
daemon setting) is passed to each listener as ``(address, values)``, so an OSC
subscriber's fader follows a MIDI-driven change. :meth:`value` reads any readable
address back; :meth:`status` and :meth:`meters` are the daemon's health in one place.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from mrtd.daemon.engine import Engine
from mrtd.daemon.events import Event
from mrtd.errors import UserError
from mrtd.osc_schema import NAMESPACE, SchemaError
from mrtd.osc_schema.namespace import PROMPT_SLOTS

log = logging.getLogger("mrtd.hub")

Listener = Callable[[str, tuple], None]
Handler = Callable[[tuple], None]
Getter = Callable[[], tuple]


class Clock(Protocol):
    """The audio side's clock (the JACK host): playback position of a wall-clock time."""

    def stream_sample_at(self, t_wall: float) -> int | None: ...

    def status(self) -> dict[str, Any]: ...


class Hub:
    """Routes validated controls to the engine or the daemon; fans out state changes."""

    def __init__(self, engine: Engine, *, device: str = "cpu"):
        self.engine = engine
        self.device = device
        self.clock: Clock | None = None
        self.levels: Callable[[], tuple[float, float, float, float]] | None = None  # output peak/rms L/R
        self._handlers: dict[str, Handler] = {}
        self._getters: dict[str, Getter] = {}
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        engine.listeners.append(self._on_event)

    # ---- wiring (daemon start-up) --------------------------------------------------------
    def register(self, address: str, handler: Handler | None = None, getter: Getter | None = None) -> None:
        """Let the daemon own ``address``: ``handler`` applies it (on the caller's thread,
        at once), ``getter`` reads it back."""
        if address not in NAMESPACE:
            raise KeyError(address)
        if handler is not None:
            self._handlers[address] = handler
        if getter is not None:
            self._getters[address] = getter

    def add_listener(self, fn: Listener) -> None:
        with self._lock:
            self._listeners = [*self._listeners, fn]

    def remove_listener(self, fn: Listener) -> None:
        with self._lock:
            self._listeners = [f for f in self._listeners if f is not fn]

    # ---- controls in ---------------------------------------------------------------------
    def handle(self, address: str, args: tuple | list = (), frame: int | None = None) -> tuple | None:
        """Validate and apply or schedule one message; returns the converted values
        (None for a button release, which is ignored).

        ``frame``: the engine frame it is for (None: the next frame boundary). Raises
        UserError (text starts with the address) when the message is refused."""
        result = self.handle_many([(address, args)], frame)[0]
        if isinstance(result, UserError):
            raise result
        return result

    def handle_many(self, messages: list[tuple[str, tuple | list]], frame: int | None = None) -> list:
        """Several messages that belong together (an OSC bundle): the engine's share is
        queued atomically, so all of it lands on one frame. Returns, per message, its
        values, None (ignored button release) or the UserError that refused it."""
        results: list = [None] * len(messages)
        batch: list[tuple[str, tuple | list]] = []
        slots: list[int] = []
        for i, (address, args) in enumerate(messages):
            try:
                args = self.button_args(address, args)
                if args is None:
                    continue  # a button release
                handler = self._handlers.get(address)
                if handler is None:  # the engine checks (schema + its own rules) and queues
                    slots.append(i)
                    batch.append((address, args))
                    continue
                try:
                    values = NAMESPACE.check(address, list(args))
                except SchemaError as e:
                    raise UserError(f"{address}: {e}") from None
                handler(values)
                self.notify(address, values)
                results[i] = values
            except UserError as e:
                results[i] = e
        if batch:
            for i, result in zip(slots, self.engine.post_many(batch, frame)):
                results[i] = result
        return results

    @staticmethod
    def button_args(address: str, args: tuple | list) -> tuple | list | None:
        """The controller convention for triggers: an event without arguments also takes
        one number, as TouchOSC and Max buttons send (1 press, 0 release): non-zero
        triggers it (no arguments), zero is ignored (None)."""
        param = NAMESPACE.get(address)
        if (param is None or param.access != "event" or param.args or param.alt_args or len(args) != 1
                or isinstance(args[0], bool) or not isinstance(args[0], (int, float))):
            return args
        if args[0] != args[0]:  # NaN
            raise UserError(f"{address}: a trigger takes no argument or one number, got NaN")
        return () if args[0] else None

    def frame_for_time(self, t_wall: float) -> int | None:
        """The engine frame for a control timed at wall-clock ``t_wall`` (time.time()),
        at the engine's constant lead; None when the audio side cannot map it."""
        if self.clock is None:
            return None
        sample = self.clock.stream_sample_at(t_wall)
        return None if sample is None else self.engine.frame_for_sample(sample)

    # ---- state out -----------------------------------------------------------------------
    def notify(self, address: str, values: tuple) -> None:
        for fn in self._listeners:
            try:
                fn(address, values)
            except Exception:
                log.exception("feedback listener failed on %s", address)

    def _on_event(self, ev: Event) -> None:
        """Engine thread: an event was applied; tell listeners what changed."""
        self.notify(ev.address, ev.args)
        a = ev.address
        if a == "/mrtd/prompt/weights" or a.endswith("/clear") and a.startswith("/mrtd/prompt/"):
            for n in range(1, PROMPT_SLOTS + 1):
                w = f"/mrtd/prompt/{n}/weight"
                self.notify(w, self.value(w) or ())
        if a in ("/mrtd/notes/pitch", "/mrtd/notes/list", "/mrtd/notes/clear"):
            self.notify("/mrtd/notes/frame", self.value("/mrtd/notes/frame") or ())
        if a.startswith("/mrtd/prompt/") or a == "/mrtd/style/levels":
            self.notify("/mrtd/style/tokens", self.value("/mrtd/style/tokens") or ())
        if a == "/mrtd/bank/load":
            for p in NAMESPACE:
                if p.access == "rw":
                    v = self.value(p.address)
                    if v is not None:
                        self.notify(p.address, v)

    def value(self, address: str) -> tuple | None:
        """The current value of a readable address; None if it has none (events, unknown)."""
        getter = self._getters.get(address)
        if getter is not None:
            return getter()
        if address == "/mrtd/frame":
            return (self.engine.frame,)
        if address == "/mrtd/meters":
            return self.meters()
        return self.engine.value(address)

    def status(self) -> dict[str, Any]:
        """Model, device, fps, queue, underruns, xruns, latency, frame (and more)."""
        s = self.engine.status()
        s["device"] = self.device
        s["xruns"] = 0
        if self.clock is not None:
            s.update(self.clock.status())
        return s

    def meters(self) -> tuple[float, float, float, float, float, float]:
        """Output peak L/R, rms L/R (linear), generation frames/s, queued ms."""
        st = self.engine.status()
        levels = self.levels() if self.levels is not None else (0.0, 0.0, 0.0, 0.0)
        return (*levels, float(st["fps"]), float(st["queued_ms"]))

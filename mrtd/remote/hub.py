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

import hmac
import ipaddress
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from mrtd.errors import ControlError, UserError
from mrtd.osc_schema import NAMESPACE, SchemaError, is_pattern

if TYPE_CHECKING:  # only for hints: the remote side never needs torch to import
    from mrtd.controls.events import Event
    from mrtd.engine.engine import Engine

log = logging.getLogger("mrtd.hub")

# answered by the network servers themselves, never routed here (patterns skip them)
SERVER_ADDRESSES = frozenset({"/mrtd/ping", "/mrtd/status", "/mrtd/get", "/mrtd/subscribe", "/mrtd/unsubscribe"})

Listener = Callable[[str, tuple], None]
Handler = Callable[[tuple], None]
Getter = Callable[[], tuple]


@dataclass(frozen=True)
class Sender:
    """Who sent a message, for answers that come later and for authorisation.

    ``host``: the sender's IP address ("" for the daemon's own operator: the command
    line and the config file). ``reply(address, reason)`` sends ``/mrtd/error address
    reason`` back to this sender alone; it is called from the generation thread (an error
    found when a message is applied on its frame), so it must be thread-safe and must
    never block. ``key`` identifies the sender's endpoint (transport, host, port).
    ``token_ok``: this connection carried the token itself, so it is authorised without
    ``/mrtd/auth`` and without authorising its whole host (a browser tab on a shared
    machine unlocks only its own websocket)."""

    host: str = ""
    reply: Callable[[str, str], None] | None = None
    key: tuple = ()
    token_ok: bool = False  # proved the daemon's token on connecting (a websocket opened with ?token=)

    @property
    def local(self) -> bool:
        """The operator, or a process on this machine (loopback)."""
        return not self.host or is_loopback(self.host)


def is_loopback(host: str) -> bool:
    """Is ``host`` (an address, with or without an IPv6 scope, or a local name) this
    machine's loopback: a sender that needs no token, a ``--host`` that stays local."""
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


class Clock(Protocol):
    """The audio side's clock (the JACK host): playback position of a wall-clock time."""

    def stream_sample_at(self, t_wall: float) -> int | None: ...

    def status(self) -> dict[str, Any]: ...


def _first_error(old: Any, new: UserError) -> UserError:
    return old if isinstance(old, UserError) else new


class Hub:
    """Routes validated controls to the engine or the daemon; fans out state changes."""

    def __init__(self, engine: Engine, *, device: str = "cpu"):
        self.engine = engine
        self.device = device
        self.clock: Clock | None = None
        self.levels: Callable[[], tuple[float, float, float, float]] | None = None  # output peak/rms L/R
        self._handlers: dict[str, Handler] = {}
        self._with_sender: set[str] = set()
        self._getters: dict[str, Getter] = {}
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self.token: str | None = None  # set when the daemon listens beyond loopback (--token)
        self._authorised: list[frozenset[str]] = [frozenset()]  # hosts that sent the token (a box voices share)
        self._auth_lock = threading.Lock()
        engine.listeners.append(self._on_event)

    # ---- wiring (daemon start-up) --------------------------------------------------------
    def register(self, address: str, handler: Handler | None = None, getter: Getter | None = None, *,
                 with_sender: bool = False) -> None:
        """Let the daemon own ``address``: ``handler`` applies it (on the caller's thread,
        at once; ``with_sender``: called as ``handler(values, sender)``, for work whose
        errors come later), ``getter`` reads it back."""
        if address not in NAMESPACE:
            raise KeyError(address)
        if handler is not None:
            self._handlers[address] = handler
            if with_sender:
                self._with_sender.add(address)
        if getter is not None:
            self._getters[address] = getter

    def add_listener(self, fn: Listener) -> None:
        with self._lock:
            self._listeners = [*self._listeners, fn]

    def remove_listener(self, fn: Listener) -> None:
        with self._lock:
            self._listeners = [f for f in self._listeners if f is not fn]

    # ---- controls in ---------------------------------------------------------------------
    def handle(self, address: str, args: tuple | list = (), frame: int | None = None,
               sender: Sender | None = None) -> tuple | None:
        """Validate and apply or schedule one message; returns the converted values
        (None for a button release, which is ignored, and for an address pattern).

        ``frame``: the engine frame it is for (None: the next frame boundary). Raises
        UserError when the message is refused (a :class:`ControlError`, whose address
        and reason stay apart for the ``/mrtd/error`` reply). An error
        found later, when the message is applied on its frame, goes to ``sender.reply``
        and to the listeners (as ``/mrtd/error``)."""
        result = self.handle_many([(address, args)], frame, sender)[0]
        if isinstance(result, UserError):
            raise result
        return result

    def handle_many(self, messages: list[tuple[str, tuple | list]], frame: int | None = None,
                    sender: Sender | None = None) -> list:
        """Several messages that belong together (an OSC bundle): the engine's share is
        queued atomically, so all of it lands on one frame. Returns, per message, its
        values, None (ignored button release, or a pattern that fully applied) or the
        UserError that refused it. An address pattern (``/mrtd/fx/*/on 1``) is expanded
        to every matching address, all landing on the same frame."""
        results: list = [None] * len(messages)
        batch: list[tuple[str, tuple | list]] = []
        owners: list[int] = []  # index in ``messages`` of each batch entry
        for i, (address, args) in enumerate(messages):
            try:
                targets = self._expand(address)
                for target in targets:
                    try:
                        args2 = self._admit(target, args, sender)
                        if args2 is None:
                            continue  # a button release
                        handler = self._handlers.get(target)
                        if handler is None:  # the engine checks (schema + its own rules) and queues
                            owners.append(i)
                            batch.append((target, args2))
                            continue
                        values = self._check_schema(target, args2)
                        if target in self._with_sender:
                            handler(values, sender)  # type: ignore[call-arg]
                        else:
                            handler(values)
                        self.notify(target, values)
                        if target == address:
                            results[i] = values
                    except UserError as e:
                        if target != address:
                            e = ControlError(address, f"{e}")
                        results[i] = _first_error(results[i], e)
            except UserError as e:
                results[i] = e
        if batch:
            reply = sender.reply if sender is not None else None
            for (target, _), i, result in zip(batch, owners, self.engine.post_many(batch, frame, reply=reply)):
                address = messages[i][0]
                if isinstance(result, UserError):
                    if target != address:
                        result = ControlError(address, f"{result}")
                    results[i] = _first_error(results[i], result)
                elif target == address and not isinstance(results[i], UserError):
                    results[i] = result
        return results

    def check(self, address: str, args: tuple | list = (), sender: Sender | None = None) -> None:
        """Refuse (UserError) a message that could not be applied, without applying it:
        for bundles timed so far ahead that they wait before reaching the engine."""
        for target in self._expand(address):
            try:
                args2 = self._admit(target, args, sender)
                if args2 is not None:
                    self._check_schema(target, args2)
            except UserError as e:
                raise e if target == address else ControlError(address, f"{e}") from None

    def _expand(self, address: str) -> list[str]:
        """A plain address as itself; an OSC address pattern as the addresses it matches
        (those the servers answer themselves, ping/status/get/subscriptions, excepted)."""
        if address == "/mrtd/auth" or not is_pattern(address):
            return [address]
        try:
            found = [p.address for p in NAMESPACE.match(address) if p.address not in SERVER_ADDRESSES]
        except SchemaError as e:
            raise ControlError(address, f"{e}") from None
        if not found:
            raise ControlError(address, "no address matches this pattern")
        return found

    def _admit(self, address: str, args: tuple | list, sender: Sender | None) -> tuple | list | None:
        """Button convention, then authorisation: the args to use, None for a release."""
        if address == "/mrtd/auth":
            self._auth(args, sender)
            return None
        args = self.button_args(address, args)
        if args is None:
            return None
        p = NAMESPACE.get(address)
        if p is not None and p.guarded and not self.authorised(sender):
            raise ControlError(address, f"not allowed from {sender.host if sender else '?'} without the daemon's "
                            "token: send /mrtd/auth TOKEN first (printed at start-up, or set with --token)")
        return args

    def _check_schema(self, address: str, args: tuple | list) -> tuple:
        try:
            return NAMESPACE.check(address, list(args))
        except SchemaError as e:
            raise ControlError(address, f"{e}") from None

    # ---- authorisation (only when the daemon listens beyond loopback) --------------------
    def authorised(self, sender: Sender | None) -> bool:
        """May ``sender`` use guarded addresses (files: recording, banks, prefill, audio
        prompts)? Always when no token is set (loopback-only daemon), for the operator
        and for this machine; otherwise only hosts that sent ``/mrtd/auth`` with it."""
        if self.token is None or sender is None or sender.local or sender.token_ok:
            return True
        return sender.host in self._authorised[0]

    def token_matches(self, token: str | None) -> bool:
        """Is ``token`` the daemon's (constant time)? True when none is set: nothing to prove."""
        if self.token is None:
            return True
        return token is not None and hmac.compare_digest(token.encode(), self.token.encode())

    def _auth(self, args: tuple | list, sender: Sender | None) -> None:
        values = self._check_schema("/mrtd/auth", args)
        if self.token is None:
            return  # nothing to unlock
        if not hmac.compare_digest(str(values[0]).encode(), self.token.encode()):
            log.warning("wrong /mrtd/auth token from %s", sender.host if sender else "?")
            raise ControlError("/mrtd/auth", "wrong token")
        if sender is not None and sender.host:
            with self._auth_lock:
                self._authorised[0] = self._authorised[0] | {sender.host}
            log.warning("host %s authorised for files (recording, banks, prefill, audio prompts)", sender.host)

    def share_auth(self, main: Hub) -> None:
        """Voices (``--voices N``): one token and one set of authorised hosts for the whole
        daemon, so a host that sent ``/mrtd/auth`` to any voice (or on any voice's port)
        may use the guarded addresses of every voice. Call before serving."""
        self.token = main.token
        self._authorised, self._auth_lock = main._authorised, main._auth_lock

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
            raise ControlError(address, "a trigger takes no argument or one number, got NaN")
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
        """Engine thread: an event was applied; tell listeners what changed, and what it
        changed as a side effect (the schema's ``echoes``: a slot weight after
        ``/mrtd/prompt/weights``, the style tokens after a prompt, all state after a bank)."""
        self.notify(ev.address, ev.args)
        p = NAMESPACE.get(ev.address)
        for echo in p.echoes if p is not None else ():
            for address in (a.address for a in NAMESPACE if a.access == "rw") if echo == "*" else (echo,):
                v = self.value(address)
                if v is not None:
                    self.notify(address, v)

    def value(self, address: str) -> tuple | None:
        """The current value of a readable address; None if it has none (events, unknown)."""
        getter = self._getters.get(address)
        if getter is not None:
            return getter()
        if address == "/mrtd/spectrum":  # the daemon registers the tap's; none without audio
            return None
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

"""The OSC server: UDP and TCP on one port, every packet checked, each message dispatched.

It runs on the daemon's asyncio loop (:class:`~mrtd.remote.loop.LoopThread`). Each
packet is decoded by the strict, bounded :mod:`mrtd.remote.osc.packet` (python-osc's
parser can hang on hostile input, so it is never used here), and each message goes to
:meth:`Hub.handle` for the next frame boundary — or for a frame, when a bundle's time
tag says when. A refused message changes nothing and is answered with
``/mrtd/error <address> <reason>``. The server answers ping, status, get and
(un)subscribe itself, at their plain addresses only; everything else, OSC address
patterns (``/mrtd/fx/*/on``, expanded by the hub) and ``/mrtd/auth`` included, goes to
the hub with who sent it.

This module is the endpoint and the dispatch: what to do with a message, and when.
The other jobs live beside it, each with its own rules:

* :mod:`~mrtd.remote.osc.connections` — UDP peers and TCP connections: framing,
  fairness, timeouts and eviction (the rules against misbehaving clients);
* :mod:`~mrtd.remote.osc.subscriptions` — the subscriber table: who may be pointed at,
  who makes room when it is full, who also gets a sender's replies;
* :mod:`~mrtd.remote.osc.feedback` — state changes from any thread, coalesced, and the
  meters, to the subscribers;
* :mod:`~mrtd.remote.ratelimit` — flood control for error replies and log lines.

Where replies go (``/mrtd/pong``, ``/mrtd/status``, ``/mrtd/get`` answers,
``/mrtd/subscribed``, ``/mrtd/error``): to the sender (the UDP source address, or back
on the same TCP connection), and to every subscriber registered from the sender's host
(see :meth:`Subscriptions.reply`).

Every sender gets its answer: each message reaches the hub with a
:class:`~mrtd.remote.hub.Sender` whose ``reply`` sends ``/mrtd/error`` back to that
sender (UDP source or TCP connection) when the error is only found as the message is
applied on its frame (on the generation thread: handed to the loop, never blocking).
A sender that is itself a subscriber gets it once, through the hub's feedback.

Bundles: an immediate (1) or past time tag applies now; a future one applies at the
engine frame that plays at that time (:meth:`Hub.frame_for_time`), or, when the audio
side cannot map that time yet, at that time via ``loop.call_at`` — never by sleeping.
More than ``max_ahead_s`` ahead is refused. Messages of one bundle are applied
together, with the same frame.

A message ``/mrtd/error`` is never answered (two daemons, or a daemon subscribed to
itself, must not bounce errors forever), and error replies and log lines are rate
limited so a flood costs little.

Voices: with ``voices`` set (``{1: main, 2: voice 2's server, ...}``, by the daemon for
``--voices N``), a message ``/mrtd/voice/<n>/<rest>`` arriving here is handed to voice
n's server as ``/mrtd/<rest>``, from a :class:`VoicePeer` that rewrites everything sent
back to voice form; the rules are in :mod:`mrtd.remote.osc.voices`. With one voice
(``voices`` empty, or only this server) nothing of this runs: such an address is an
unknown one, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

from mrtd.errors import UserError, reason_for
from mrtd.osc_schema import NAMESPACE, SchemaError
from mrtd.remote.hub import Sender
from mrtd.remote.osc.connections import (
    IDLE_TIMEOUT_S,
    MAX_CONNECTIONS,
    PARTIAL_FRAME_TIMEOUT_S,
    Connections,
    Peer,
    TcpConn,
    UdpProtocol,
    error_packet,
)
from mrtd.remote.osc.feedback import Feedback
from mrtd.remote.osc.packet import (
    IMMEDIATE,
    Message,
    PacketError,
    decode_packet,
    encode_message,
    ntp_to_unix,
)
from mrtd.remote.osc.subscriptions import Subscriptions
from mrtd.remote.osc.voices import VoiceRefused, split_voice, voice_packet, voice_prefix
from mrtd.remote.ratelimit import RateLog, TokenBucket

log = logging.getLogger("mrtd.osc")

TCP_BACKLOG = 512  # pending connects the kernel holds while the loop accepts (a burst must not cost a SYN retry)
MAX_SCHEDULED = 1024  # future bundles waiting for their time
ERROR_REPLIES_PER_S = 500.0

LocalHandler = Callable[[tuple, Peer], None]


class VoicePeer(Peer):
    """A sender that addressed voice n through the main port: the same UDP peer or TCP
    connection, seen by voice n's server under its own key (the voice prefix appended,
    so its subscriptions stay apart from plain ones), every packet sent to it rewritten
    to voice form (:func:`~mrtd.remote.osc.voices.voice_packet`)."""

    def __init__(self, inner: Peer, n: int, server: OscServer):
        self.inner, self.voice = inner, n
        self.prefix = voice_prefix(n)
        self.host, self.port = inner.host, inner.port
        self.key = (*inner.key, self.prefix)
        token_ok = inner.sender.token_ok if inner.sender is not None else False
        self.sender = Sender(inner.host, server.reply_fn(self), self.key, token_ok=token_ok)

    @property
    def base(self) -> Peer:
        return self.inner

    def send(self, packet: bytes) -> None:
        self.inner.send(voice_packet(packet, self.prefix))


class OscServer:
    """mrtd's OSC endpoint: UDP and TCP on ``host``:``port`` (0: one free port for both).

    ``allow_remote_subscribe``: subscriptions may point at any host, not only the
    sender's own (off by default: the port must not stream at third parties).
    ``max_connections``, ``idle_timeout_s`` and ``partial_frame_timeout_s`` bound the
    TCP clients (see :mod:`~mrtd.remote.osc.connections`); tests make them short."""

    def __init__(self, hub: Any, host: str = "127.0.0.1", port: int = 0, *, meter_hz: float = 20.0,
                 max_ahead_s: float = 60.0, max_subscribers: int = 32, allow_remote_subscribe: bool = False,
                 max_connections: int = MAX_CONNECTIONS, idle_timeout_s: float = IDLE_TIMEOUT_S,
                 partial_frame_timeout_s: float = PARTIAL_FRAME_TIMEOUT_S):
        if not 10.0 <= meter_hz <= 200.0:
            raise ValueError(f"meter_hz must be within 10..200, got {meter_hz}")
        if max_subscribers < 1 or max_connections < 1 or idle_timeout_s <= 0 or partial_frame_timeout_s <= 0:
            raise ValueError("max_subscribers, max_connections and the timeouts must be positive")
        self.hub = hub
        self.host, self._want_port = host, int(port)
        self.max_ahead_s = float(max_ahead_s)
        self.rlog = RateLog(log)
        self.subscriptions = Subscriptions(hub, self.rlog, self.refuse, host=host, max_subscribers=max_subscribers,
                                           allow_remote_subscribe=allow_remote_subscribe)
        self.subscriptions.own_ports = self._own_ports
        self.feedback = Feedback(hub, self.subscriptions, self.rlog, meter_hz=meter_hz)
        self._voices: dict[int, OscServer] = {}
        self._main: OscServer | None = None  # the server whose ``voices`` this one is in
        self.connections = Connections(self.rlog, is_subscribed=self._is_subscribed,
                                       forget=self._forget, max_connections=max_connections,
                                       idle_timeout_s=idle_timeout_s, partial_frame_timeout_s=partial_frame_timeout_s)
        self._port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.AbstractServer | None = None
        self._scheduled: set[asyncio.TimerHandle] = set()
        self._sweep_task: asyncio.Task | None = None
        self._closed = True
        self._errors = TokenBucket(ERROR_REPLIES_PER_S)
        self._local: dict[str, LocalHandler] = {
            "/mrtd/ping": self._ping, "/mrtd/status": self._status, "/mrtd/get": self._get,
            "/mrtd/subscribe": self.subscriptions.subscribe, "/mrtd/unsubscribe": self.subscriptions.unsubscribe,
        }

    @property
    def port(self) -> int:
        """The bound port (UDP and TCP); 0 before :meth:`start`."""
        return self._port

    @property
    def udp(self) -> asyncio.DatagramTransport | None:
        """The UDP socket's transport (replies to UDP senders leave from it)."""
        return self._udp

    @property
    def meter_hz(self) -> float:
        return self.feedback.meter_hz

    @property
    def max_subscribers(self) -> int:
        return self.subscriptions.max_subscribers

    @property
    def max_connections(self) -> int:
        return self.connections.max_connections

    def subscribers(self) -> list[tuple[str, int]]:
        """(host, port) of each subscriber (a TCP one: its connection's peer address)."""
        return self.subscriptions.targets()

    # ---- voices ----------------------------------------------------------------------------
    @property
    def voices(self) -> dict[int, OscServer]:
        """Voice number (from 1) -> that voice's server, this one among them; empty for
        one voice, or holding only this one: no ``/mrtd/voice/...`` routing. The servers must share this one's
        loop: a routed message is dispatched on the voice's server from here."""
        return self._voices

    @voices.setter
    def voices(self, voices: dict[int, OscServer]) -> None:
        table = dict(voices or {})
        for n, server in table.items():
            if isinstance(n, bool) or not isinstance(n, int) or n < 1 or not isinstance(server, OscServer):
                raise ValueError(f"voices maps numbers from 1 to OSC servers, got {n!r}: {server!r}")
        self._voices = table
        for server in table.values():
            if server is not self:
                server._main = self

    def _own_ports(self) -> set[int]:
        """This daemon's OSC ports, every voice's: no subscription may point at one."""
        main = self._main or self
        return {self.port, main.port, *(s.port for s in main._voices.values())}

    def _is_subscribed(self, key: tuple) -> bool:
        """Is the TCP connection ``key`` a subscriber here, plainly or in any voice form?"""
        if key in self.subscriptions:
            return True
        return any((*key, voice_prefix(n)) in s.subscriptions for n, s in self._voices.items())

    def _forget(self, key: tuple) -> None:
        """A TCP connection closed: its subscriptions end, plain and in voice form."""
        self.subscriptions.drop(key)
        for n, s in self._voices.items():
            s.subscriptions.drop((*key, voice_prefix(n)))

    # ---- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Bind UDP and TCP on the same port and start the meter feed."""
        loop = self._loop = asyncio.get_running_loop()
        for _ in range(1 if self._want_port else 20):
            tcp = await loop.create_server(lambda: TcpConn(self, self.connections), self.host, self._want_port,
                                           reuse_address=True, backlog=TCP_BACKLOG)
            port = tcp.sockets[0].getsockname()[1]
            try:
                udp, _ = await loop.create_datagram_endpoint(lambda: UdpProtocol(self), local_addr=(self.host, port))
            except OSError:
                tcp.close()
                if self._want_port:
                    raise
                continue
            break
        else:
            raise OSError(f"no port free for both UDP and TCP on {self.host}")
        with contextlib.suppress(OSError):
            udp.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self._tcp, self._udp, self._port = tcp, udp, port
        self.subscriptions.port = port
        self._closed = False
        self.connections.accepting = True
        self.feedback.start()
        self._sweep_task = loop.create_task(self.connections.sweep_loop())
        log.info("OSC on %s:%d (UDP and TCP)", self.host, port)

    async def stop(self) -> None:
        """Stop listening, cancel scheduled bundles, drop subscribers and connections."""
        if self._closed:
            return
        self._closed = True
        await self.feedback.stop()
        if self._sweep_task is not None:
            self._sweep_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sweep_task
        for h in self._scheduled:
            h.cancel()
        self._scheduled.clear()
        await self.subscriptions.close()
        self.connections.close_all()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()
        if self._udp is not None:
            self._udp.close()
        self._tcp = self._udp = None

    # ---- packets in -----------------------------------------------------------------------
    def on_packet(self, data: bytes, peer: Peer) -> None:
        """A datagram or a TCP frame from ``peer``: decode it, dispatch its messages."""
        if self._closed:
            return
        self.subscriptions.heard_from(peer)
        try:
            messages = decode_packet(data)
        except PacketError as e:
            self.refuse(peer, e.address, str(e))
            return
        if len(self._voices) > 1:
            self._route(messages, peer)
            return
        for timetag, group in itertools.groupby(messages, key=lambda m: m.timetag):
            self._dispatch(timetag, list(group), peer)

    def _route(self, messages: list[Message], peer: Peer) -> None:
        """Messages to this server and, in voice form, to the voices: per bundle (time
        tag), each voice's share dispatched together on that voice's server."""
        peers: dict[int, VoicePeer] = {}
        for timetag, group in itertools.groupby(messages, key=lambda m: m.timetag):
            shares: dict[int, list[Message]] = {}  # 0: plain, for this server
            for m in group:
                try:
                    found = split_voice(m.address, self._voices)
                except VoiceRefused as e:
                    if not m.address.endswith("/error"):  # never answer an error
                        self.refuse(peer, m.address, str(e))
                    continue
                if found is None:
                    shares.setdefault(0, []).append(m)
                else:
                    n, plain = found
                    shares.setdefault(n, []).append(Message(plain, m.args, m.timetag))
            for n, share in shares.items():
                if n == 0:
                    self._dispatch(timetag, share, peer)
                    continue
                server = self._voices[n]
                if server._closed:
                    for m in share:
                        self.refuse(peer, voice_prefix(n) + m.address[5:], f"voice {n} is not running")
                    continue
                vpeer = peers.get(n)
                if vpeer is None:
                    vpeer = peers[n] = VoicePeer(peer, n, server)
                    server.subscriptions.heard_from(vpeer)
                server._dispatch(timetag, share, vpeer)

    def _dispatch(self, timetag: int | None, group: list[Message], peer: Peer) -> None:
        """Apply a bundle's messages now, at their frame, or at their time."""
        if timetag is None or timetag <= IMMEDIATE:
            self._apply_all(group, None, peer)
            return
        t = ntp_to_unix(timetag)
        ahead = t - time.time()
        if ahead <= 0:
            self._apply_all(group, None, peer)
            return
        if ahead > self.max_ahead_s:
            for m in group:
                self.refuse(peer, m.address, f"time tag is {ahead:.1f} s ahead; at most {self.max_ahead_s:g} s")
            return
        frame = self._frame_for(t)
        if frame is not None:
            self._apply_all(group, frame, peer)
            return
        group = [m for m in group if self._precheck(m, peer)]  # errors now, not in a minute
        if not group:
            return
        if len(self._scheduled) >= MAX_SCHEDULED:
            for m in group:
                self.refuse(peer, m.address, f"more than {MAX_SCHEDULED} bundles are waiting for their time")
            return
        assert self._loop is not None

        def fire() -> None:
            self._scheduled.discard(handle)
            self._apply_all(group, self._frame_for(t), peer)

        handle = self._loop.call_at(self._loop.time() + ahead, fire)
        self._scheduled.add(handle)

    def _frame_for(self, t: float) -> int | None:
        try:
            return self.hub.frame_for_time(t)
        except Exception:
            self.rlog.exception("clock", "frame_for_time failed")
            return None

    def _precheck(self, m: Message, peer: Peer) -> bool:
        """Refuse now what could not be applied when its time comes (the hub knows
        address patterns and authorisation)."""
        try:
            if m.address in self._local:
                NAMESPACE.check(m.address, list(m.args))
            else:
                self.hub.check(m.address, m.args, sender=peer.sender)
            return True
        except SchemaError as e:
            self.refuse(peer, m.address, str(e))
            return False
        except UserError as e:
            self.refuse(peer, m.address, reason_for(e, m.address))
            return False

    def _apply_all(self, group: list[Message], frame: int | None, peer: Peer) -> None:
        """A bundle's messages: the server's own one by one, the rest through the hub in
        one atomic batch so they land on the same frame."""
        if len(group) == 1:
            self._apply(group[0], frame, peer)
            return
        batch = []
        for m in group:
            if m.address in self._local:
                self._apply(m, frame, peer)
            else:
                batch.append(m)
        try:
            results = self.hub.handle_many([(m.address, m.args) for m in batch], frame, sender=peer.sender)
        except Exception as e:  # a bug must cost one bundle, never the server
            self.rlog.exception("internal", "OSC bundle failed")
            results = [e] * len(batch)
        for m, r in zip(batch, results):
            if isinstance(r, Exception):
                self.refuse(peer, m.address, reason_for(r, m.address))

    def _apply(self, m: Message, frame: int | None, peer: Peer) -> None:
        """One message: answered here (ping, status, get, subscriptions) or handed to the hub."""
        a = m.address
        try:
            local = self._local.get(a)
            if local is None:
                self.hub.handle(a, m.args, frame, sender=peer.sender)
            else:
                local(NAMESPACE.check(a, list(m.args)), peer)
        except SchemaError as e:
            self.refuse(peer, a, str(e))
        except UserError as e:
            self.refuse(peer, a, reason_for(e, a))
        except Exception as e:  # a bug must cost one message, never the server
            self.rlog.exception("internal", "OSC %s failed", a)
            self.refuse(peer, a, f"internal error: {type(e).__name__}: {e}")

    # ---- replies --------------------------------------------------------------------------
    def refuse(self, peer: Peer, address: str, reason: str) -> None:
        """``/mrtd/error address reason`` to ``peer`` (and its host's subscribers), rate limited."""
        if address == "/mrtd/error":
            return  # never answer an error with an error
        self.rlog.warning("refused", "OSC from %s refused: %s: %s", peer.host, address or "?", reason)
        if not self._errors.take():
            return
        self.subscriptions.reply(peer, error_packet(address, reason))

    def reply_fn(self, peer: Peer) -> Callable[[str, str], None]:
        """``Sender.reply`` for ``peer``: any thread, never blocks (the send happens on the loop)."""
        def reply(address: str, reason: str) -> None:
            loop = self._loop
            if loop is None or self._closed:
                return
            try:
                loop.call_soon_threadsafe(self._late_refuse, peer, address, reason)
            except RuntimeError:  # the loop is closed: the daemon is going down
                pass
        return reply

    def _late_refuse(self, peer: Peer, address: str, reason: str) -> None:
        """Loop: an error found when ``peer``'s message was applied on its frame. Only
        to the sender itself: subscribers (the sender among them, if it is one, and the
        subscribers of its host) get the same error from the hub's feedback."""
        if self._closed or address == "/mrtd/error" or peer.key in self.subscriptions:
            return
        if self._errors.take():
            peer.send(error_packet(address, reason))

    # ---- messages the server answers itself -------------------------------------------------
    def _ping(self, values: tuple, peer: Peer) -> None:
        self.subscriptions.reply(peer, encode_message("/mrtd/pong"))

    def _status(self, values: tuple, peer: Peer) -> None:
        s = self.hub.status()
        out = (str(s.get("model", "")), str(s.get("device", "")), float(s.get("fps", 0.0)),
               float(s.get("queued_ms", 0.0)), int(s.get("underruns", 0)), int(s.get("xruns", 0)),
               float(s.get("latency_ms", 0.0)), int(s.get("frame", 0)))
        self.subscriptions.reply(peer, encode_message("/mrtd/status", out, "ssffiifi"))

    def _get(self, values: tuple, peer: Peer) -> None:
        address = values[0]
        if address not in NAMESPACE:
            raise SchemaError(f"unknown address {address}")
        value = self.hub.value(address)
        if value is None:
            raise SchemaError(f"{address} has no value to read")
        self.subscriptions.reply(peer, encode_message(address, value))

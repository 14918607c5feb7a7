"""The OSC server: UDP and TCP on one port, every packet checked, replies and feedback.

It runs on the daemon's asyncio loop (:class:`~mrtd.remote.loop.LoopThread`). Each
packet is decoded by the strict, bounded :mod:`mrtd.remote.osc.packet` (python-osc's
parser can hang on hostile input, so it is never used here), and each message goes to
:meth:`Hub.handle` for the next frame boundary — or for a frame, when a bundle's time
tag says when. A refused message changes nothing and is answered with
``/mrtd/error <address> <reason>``. The server answers ping, status, get and
(un)subscribe itself, at their plain addresses only; everything else, OSC address
patterns (``/mrtd/fx/*/on``, expanded by the hub) and ``/mrtd/auth`` included, goes to
the hub with who sent it.

TCP: each connection may use either framing, detected from its first byte: OSC 1.0
int32 size prefixes (liblo's ``osc.tcp://``, TouchOSC "OSC 1.0") or SLIP (OSC 1.1,
python-osc's default, TouchOSC "OSC 1.1"). Replies go back on the connection in its
framing. A bad frame gets an error reply and the connection lives on while the framing
is in sync; an impossible size prefix or unknown framing closes it. Frames are bounded
(64 KiB), clients are served a bounded number of frames per turn, and a client that
does not read its replies is dropped, so no client can stall another.

Connections are bounded, so idle or trickling clients cannot lock others out: a frame
that has started must be complete within ``partial_frame_timeout_s`` (10 s: stops SLIP
trickled a byte a second and size-prefix slowloris); a connection without a complete
frame for ``idle_timeout_s`` (600 s) is closed, unless it is a subscriber still reading
its feedback (its output keeps draining); and when ``max_connections`` (64) are open,
a new connection evicts the least recently active one instead of being refused. A
connection closed so is told why first (``/mrtd/error "" "connection closed: ..."``)
when its output is not backed up. One periodic sweep on the loop checks the timeouts
(no timer per connection).

Where replies go (``/mrtd/pong``, ``/mrtd/status``, ``/mrtd/get`` answers,
``/mrtd/subscribed``, ``/mrtd/error``):

* to the sender: the UDP source address, or back on the same TCP connection; and
* to every subscriber registered from the sender's host (once each; a subscriber that
  is the sender itself gets one copy). Max's ``udpsend``/``udpreceive``, Pd's
  ``netsend``/``netreceive`` and liblo's ``oscsend``/``oscdump`` send from a throwaway
  port and listen on another, so the reply to the source port alone would be lost:
  ``/mrtd/subscribe 9001`` once, and replies and feedback arrive on port 9001.

Subscribers (``/mrtd/subscribe [host] port``, or with no arguments: the sender itself,
which over TCP means the connection) receive every state change — whoever made it:
OSC, MIDI, a bank load — plus ``/mrtd/meters`` and ``/mrtd/frame`` at ``meter_hz``, and
on subscribing a snapshot of the current state so faders start in the right place.
UDP feedback leaves from a socket connected to the subscriber (its source port is not
the server's), so a subscriber that vanishes shows up as ECONNREFUSED and is dropped.
Host names are looked up off the loop; IP addresses are (un)subscribed at once, so the
reply order follows the request order. A subscription may only point at the sender's
own host (or, from loopback, at loopback), so the port cannot be used to stream at a
third party, unless the server is built with ``allow_remote_subscribe`` (the CLI's
``--allow-remote-subscribe``); the refusal comes before any packet is sent. Nothing
expires with time (a Max patch or TouchOSC layout subscribes once and must keep
working for hours): when the table (``max_subscribers``, 32) is full, a new
subscription evicts the least recently heard-from subscriber — heard from: its last
(re)subscription, or any packet from its own endpoint, its TCP connection or the host
that subscribed it — which gets a last ``/mrtd/error /mrtd/subscribe "subscription
ended: ..."`` and nothing more.

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
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from mrtd.errors import UserError, reason_for
from mrtd.osc_schema import NAMESPACE, SchemaError
from mrtd.remote.hub import Sender
from mrtd.remote.osc.packet import (
    IMMEDIATE,
    MAX_PACKET,
    Message,
    PacketError,
    StreamDeframer,
    decode_packet,
    encode_message,
    ntp_to_unix,
)
from mrtd.remote.ratelimit import RateLog, TokenBucket

log = logging.getLogger("mrtd.osc")

MAX_CONNECTIONS = 64  # TCP clients at once; one more evicts the least recently active
IDLE_TIMEOUT_S = 3600.0  # a TCP client without a complete frame this long is closed (not a reading subscriber)
PARTIAL_FRAME_TIMEOUT_S = 10.0  # a started TCP frame must be complete within this
SWEEP_S = 1.0  # how often the connection timeouts are checked (at most)
TCP_BACKLOG = 512  # pending connects the kernel holds while the loop accepts (a burst must not cost a SYN retry)
MAX_SCHEDULED = 1024  # future bundles waiting for their time
MAX_PENDING_FEEDBACK = 4096  # state changes waiting to go out (coalesced per address)
TCP_BACKLOG_LIMIT = 1 << 20  # bytes queued to a TCP client before it counts as not reading
UDP_BACKLOG_LIMIT = 256 << 10  # bytes queued on a UDP socket before sends are skipped
FRAMES_PER_TURN = 256  # TCP frames of one client handled before others get a turn
ERROR_REPLIES_PER_S = 500.0
SUBSCRIBER_ERRORS_TO_DROP = 3
NO_SNAPSHOT = {"/mrtd/meters", "/mrtd/frame"}  # sent periodically anyway


class OscServer:
    """mrtd's OSC endpoint: UDP and TCP on ``host``:``port`` (0: one free port for both).

    ``allow_remote_subscribe``: subscriptions may point at any host, not only the
    sender's own (off by default: the port must not stream at third parties).
    ``max_connections``, ``idle_timeout_s`` and ``partial_frame_timeout_s`` bound the
    TCP clients (see the module's docstring); tests make them short."""

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
        self.meter_hz, self.max_ahead_s, self.max_subscribers = float(meter_hz), float(max_ahead_s), max_subscribers
        self.allow_remote_subscribe = bool(allow_remote_subscribe)
        self.max_connections = int(max_connections)
        self.idle_timeout_s, self.partial_frame_timeout_s = float(idle_timeout_s), float(partial_frame_timeout_s)
        self._sweep_s = min(SWEEP_S, self.idle_timeout_s / 4, self.partial_frame_timeout_s / 4)
        self._heard = itertools.count(1)  # the order subscribers were last heard from
        self._port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.AbstractServer | None = None
        self._conns: set[_TcpConn] = set()
        self._subs: dict[tuple, _Subscriber] = {}
        self._scheduled: set[asyncio.TimerHandle] = set()
        self._tasks: set[asyncio.Task] = set()
        self._meter_task: asyncio.Task | None = None
        self._sweep_task: asyncio.Task | None = None
        self._closed = True
        self._errors = TokenBucket(ERROR_REPLIES_PER_S)
        self._rlog = RateLog(log)
        self._fb_lock = threading.Lock()
        self._fb_pending: dict[Any, tuple[str, tuple]] = {}
        self._fb_scheduled = False
        self._fb_seq = itertools.count()
        self._local: dict[str, Callable[[tuple, _Peer], None]] = {
            "/mrtd/ping": self._ping, "/mrtd/status": self._status, "/mrtd/get": self._get,
            "/mrtd/subscribe": self._subscribe, "/mrtd/unsubscribe": self._unsubscribe,
        }

    @property
    def port(self) -> int:
        """The bound port (UDP and TCP); 0 before :meth:`start`."""
        return self._port

    def subscribers(self) -> list[tuple[str, int]]:
        """(host, port) of each subscriber (a TCP one: its connection's peer address)."""
        return [sub.target for sub in list(self._subs.values())]

    # ---- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Bind UDP and TCP on the same port and start the meter feed."""
        loop = self._loop = asyncio.get_running_loop()
        for _ in range(1 if self._want_port else 20):
            tcp = await loop.create_server(lambda: _TcpConn(self), self.host, self._want_port,
                                           reuse_address=True, backlog=TCP_BACKLOG)
            port = tcp.sockets[0].getsockname()[1]
            try:
                udp, _ = await loop.create_datagram_endpoint(lambda: _UdpProtocol(self), local_addr=(self.host, port))
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
        self._closed = False
        self.hub.add_listener(self._on_change)
        self._meter_task = loop.create_task(self._meter_loop())
        self._sweep_task = loop.create_task(self._sweep_loop())
        log.info("OSC on %s:%d (UDP and TCP)", self.host, port)

    async def stop(self) -> None:
        """Stop listening, cancel scheduled bundles, drop subscribers and connections."""
        if self._closed:
            return
        self._closed = True
        self.hub.remove_listener(self._on_change)
        tasks = [t for t in (self._meter_task, self._sweep_task, *self._tasks) if t is not None]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        for h in self._scheduled:
            h.cancel()
        self._scheduled.clear()
        for sub in list(self._subs.values()):
            sub.close()
        self._subs.clear()
        for conn in list(self._conns):
            conn.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()
        if self._udp is not None:
            self._udp.close()
        self._tcp = self._udp = None

    # ---- packets in -----------------------------------------------------------------------
    def _on_datagram(self, data: bytes, addr: tuple) -> None:
        self._on_packet(data, _UdpPeer(self, addr[0], addr[1]))

    def _on_packet(self, data: bytes, peer: _Peer) -> None:
        if self._closed:
            return
        self._heard_from(peer)
        try:
            messages = decode_packet(data)
        except PacketError as e:
            self._refuse(peer, e.address, str(e))
            return
        for timetag, group in itertools.groupby(messages, key=lambda m: m.timetag):
            self._dispatch(timetag, list(group), peer)

    def _dispatch(self, timetag: int | None, group: list[Message], peer: _Peer) -> None:
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
                self._refuse(peer, m.address, f"time tag is {ahead:.1f} s ahead; at most {self.max_ahead_s:g} s")
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
                self._refuse(peer, m.address, f"more than {MAX_SCHEDULED} bundles are waiting for their time")
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
            self._rlog.exception("clock", "frame_for_time failed")
            return None

    def _precheck(self, m: Message, peer: _Peer) -> bool:
        """Refuse now what could not be applied when its time comes (the hub knows
        address patterns and authorisation)."""
        try:
            if m.address in self._local:
                NAMESPACE.check(m.address, list(m.args))
            else:
                self.hub.check(m.address, m.args, sender=peer.sender)
            return True
        except SchemaError as e:
            self._refuse(peer, m.address, str(e))
            return False
        except UserError as e:
            self._refuse(peer, m.address, reason_for(e, m.address))
            return False

    def _apply_all(self, group: list[Message], frame: int | None, peer: _Peer) -> None:
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
            self._rlog.exception("internal", "OSC bundle failed")
            results = [e] * len(batch)
        for m, r in zip(batch, results):
            if isinstance(r, Exception):
                a = m.address
                self._refuse(peer, a, reason_for(r, a))

    def _apply(self, m: Message, frame: int | None, peer: _Peer) -> None:
        """One message: answered here (ping, status, get, subscriptions) or handed to the hub."""
        a = m.address
        try:
            local = self._local.get(a)
            if local is None:
                self.hub.handle(a, m.args, frame, sender=peer.sender)
            else:
                local(NAMESPACE.check(a, list(m.args)), peer)
        except SchemaError as e:
            self._refuse(peer, a, str(e))
        except UserError as e:
            self._refuse(peer, a, reason_for(e, a))
        except Exception as e:  # a bug must cost one message, never the server
            self._rlog.exception("internal", "OSC %s failed", a)
            self._refuse(peer, a, f"internal error: {type(e).__name__}: {e}")

    # ---- replies --------------------------------------------------------------------------
    def _reply(self, peer: _Peer, packet: bytes) -> None:
        """To the sender, and to each subscriber registered from the sender's host."""
        peer.send(packet)
        for sub in list(self._subs.values()):
            if sub.owner == peer.host and sub.key != peer.key:
                sub.send(packet)

    def _refuse(self, peer: _Peer, address: str, reason: str) -> None:
        if address == "/mrtd/error":
            return  # never answer an error with an error
        self._rlog.warning("refused", "OSC from %s refused: %s: %s", peer.host, address or "?", reason)
        if not self._errors.take():
            return
        self._reply(peer, _error(address, reason))

    def _reply_fn(self, peer: _Peer) -> Callable[[str, str], None]:
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

    def _late_refuse(self, peer: _Peer, address: str, reason: str) -> None:
        """Loop: an error found when ``peer``'s message was applied on its frame. Only
        to the sender itself: subscribers (the sender among them, if it is one, and the
        subscribers of its host) get the same error from the hub's feedback."""
        if self._closed or address == "/mrtd/error" or peer.key in self._subs:
            return
        if self._errors.take():
            peer.send(_error(address, reason))

    # ---- messages the server answers itself -------------------------------------------------
    def _ping(self, values: tuple, peer: _Peer) -> None:
        self._reply(peer, encode_message("/mrtd/pong"))

    def _status(self, values: tuple, peer: _Peer) -> None:
        s = self.hub.status()
        out = (str(s.get("model", "")), str(s.get("device", "")), float(s.get("fps", 0.0)),
               float(s.get("queued_ms", 0.0)), int(s.get("underruns", 0)), int(s.get("xruns", 0)),
               float(s.get("latency_ms", 0.0)), int(s.get("frame", 0)))
        self._reply(peer, encode_message("/mrtd/status", out, "ssffiifi"))

    def _get(self, values: tuple, peer: _Peer) -> None:
        address = values[0]
        if address not in NAMESPACE:
            raise SchemaError(f"unknown address {address}")
        value = self.hub.value(address)
        if value is None:
            raise SchemaError(f"{address} has no value to read")
        self._reply(peer, encode_message(address, value))

    def _target(self, values: tuple, peer: _Peer) -> tuple[str, int] | None:
        """(host, port) a (un)subscribe names; None: the sender itself."""
        if not values:
            return None
        return (peer.host, values[0]) if len(values) == 1 else (values[0], values[1])

    def _subscribe(self, values: tuple, peer: _Peer) -> None:
        target = self._target(values, peer)
        if target is None and isinstance(peer, _TcpConn):
            self._add_subscriber(peer.as_subscriber(), peer)
            return
        host, port = target if target is not None else (peer.host, peer.port)
        ip = _ip_literal(host)
        if ip is not None:  # at once, so replies keep the order of the requests
            self._subscribe_udp(ip, port, peer)
        else:
            self._spawn(self._resolve_then("/mrtd/subscribe", host, port, peer, self._subscribe_udp))

    def _subscribe_udp(self, ip: str, port: int, peer: _Peer) -> None:
        self._check_target(ip, peer)
        if port == self._port and self._is_own_host(ip):
            raise SchemaError("that is this daemon's own port")
        key = ("udp", ip, port)
        sub = self._subs.get(key)
        if sub is not None:
            sub.errors = 0
            self._confirm(sub, peer)
            return
        sock = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.connect((ip, port))  # UDP: no handshake; it only fixes the destination
        except OSError as e:
            sock.close()
            raise SchemaError(f"cannot send to {ip}:{port}: {e.strerror or e}") from None
        self._add_subscriber(_UdpSubscriber(key, peer.host, sock, self._subscriber_failed), peer)

    async def _resolve_then(self, address: str, host: str, port: int, peer: _Peer,
                            then: Callable[[str, int, _Peer], None]) -> None:
        """Look ``host`` up off the loop, then (un)subscribe; errors go to ``peer``."""
        assert self._loop is not None
        try:
            infos = await self._loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        except OSError as e:
            self._refuse(peer, address, f"cannot resolve {host}: {e}")
            return
        if self._closed or not infos:
            return
        try:
            then(str(infos[0][4][0]), port, peer)
        except SchemaError as e:
            self._refuse(peer, address, str(e))

    def _subscriber_failed(self, sub: _Subscriber, exc: OSError) -> None:
        """A send to ``sub`` failed (ECONNREFUSED: nobody listens there any more)."""
        if self._subs.get(sub.key) is not sub:
            return
        sub.errors += 1
        if sub.errors >= SUBSCRIBER_ERRORS_TO_DROP:
            self._drop(sub.key, f"{exc.strerror or exc}")

    def _check_target(self, ip: str, peer: _Peer) -> None:
        """A subscription may point only at the sender's own host (loopback: at
        loopback), unless remote subscriptions are allowed: else the daemon would
        stream at whatever address a (spoofed) packet names."""
        if self.allow_remote_subscribe:
            return
        target, sender = _norm_ip(ip), _norm_ip(peer.host)
        if target is not None and sender is not None and (
                target == sender or sender.is_loopback and (target.is_loopback or target.is_unspecified)):
            return
        raise SchemaError(f"a subscription may only point at the sender's own host ({peer.host}), not {ip}; "
                          "run the daemon with --allow-remote-subscribe to allow other hosts")

    def _add_subscriber(self, sub: _Subscriber, peer: _Peer) -> None:
        if sub.key not in self._subs:
            full = len(self._subs) >= self.max_subscribers
            while len(self._subs) >= self.max_subscribers:
                self._evict_subscriber()  # logged, rate limited: a flood of subscriptions costs no log
            self._subs[sub.key] = sub
            if not full:
                log.info("OSC subscriber %s (from %s)", sub.label, peer.host)
        self._confirm(self._subs[sub.key], peer)

    def _evict_subscriber(self) -> None:
        """The table is full: the least recently heard-from subscriber makes room."""
        victim = min(self._subs.values(), key=lambda s: (s.heard, s.subscribed))
        victim.send(_error("/mrtd/subscribe", f"subscription ended: more than {self.max_subscribers} "
                           "subscribers, and this one was heard from least recently; subscribe again"))
        self._drop(victim.key, f"evicted: the table is full ({self.max_subscribers}), least recently heard from")

    def _heard_from(self, peer: _Peer) -> None:
        """A packet from ``peer``: the subscribers it is, or that its host made, are alive."""
        if not self._subs:
            return
        n = next(self._heard)
        for sub in self._subs.values():
            if sub.owner == peer.host or sub.key == peer.key:
                sub.heard = n

    def _confirm(self, sub: _Subscriber, peer: _Peer) -> None:
        """``/mrtd/subscribed host port`` to the sender, then the state to the subscriber."""
        sub.heard = sub.subscribed = next(self._heard)
        self._reply(peer, encode_message("/mrtd/subscribed", sub.target, "si"))
        for p in NAMESPACE:
            if p.access in ("rw", "r") and p.address not in NO_SNAPSHOT:
                try:
                    value = self.hub.value(p.address)
                    if value is not None:
                        sub.send(encode_message(p.address, value))
                except Exception:
                    self._rlog.exception("snapshot", "reading %s failed", p.address)

    def _unsubscribe(self, values: tuple, peer: _Peer) -> None:
        target = self._target(values, peer)
        if target is None:
            self._drop(peer.key)
            return
        ip = _ip_literal(target[0])
        if ip is not None:
            self._unsubscribe_udp(ip, target[1], peer)
        else:
            self._spawn(self._resolve_then("/mrtd/unsubscribe", target[0], target[1], peer, self._unsubscribe_udp))

    def _unsubscribe_udp(self, ip: str, port: int, peer: _Peer) -> None:
        self._check_target(ip, peer)  # nobody may end another host's subscription either
        self._drop(("udp", ip, port))

    def _drop(self, key: tuple, why: str = "") -> None:
        sub = self._subs.pop(key, None)
        if sub is not None:
            sub.close()
            if why:
                self._rlog.warning("dropped", "OSC subscriber %s dropped: %s", sub.label, why)

    def _is_own_host(self, ip: str) -> bool:
        a = ipaddress.ip_address(ip)
        return a.is_loopback or a.is_unspecified or ip == self.host

    def _spawn(self, coro: Any) -> None:
        assert self._loop is not None
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- feedback -------------------------------------------------------------------------
    def _on_change(self, address: str, values: tuple) -> None:
        """Any thread (the engine's, mostly): queue a state change for the subscribers.
        Never blocks: a short lock, then one wake-up of the loop per burst. State is
        coalesced per address (the latest value wins); events keep each occurrence."""
        if self._closed or not self._subs or self._loop is None:
            return
        p = NAMESPACE.get(address)
        state = p is not None and p.access in ("rw", "r") and address != "/mrtd/error"
        key: Any = address if state else (address, next(self._fb_seq))
        with self._fb_lock:
            pending = self._fb_pending
            if key in pending:
                del pending[key]  # re-inserted last: keeps the order of the latest changes
            elif len(pending) >= MAX_PENDING_FEEDBACK:
                return
            pending[key] = (address, tuple(values))
            if self._fb_scheduled:
                return
            self._fb_scheduled = True
        try:
            self._loop.call_soon_threadsafe(self._flush_feedback)
        except RuntimeError:  # the loop is closed: the daemon is going down
            pass

    def _flush_feedback(self) -> None:
        with self._fb_lock:
            items = list(self._fb_pending.values())
            self._fb_pending.clear()
            self._fb_scheduled = False
        for address, values in items:
            try:
                packet = encode_message(address, values)
            except Exception:
                self._rlog.exception("encode", "cannot encode feedback %s %r", address, values)
                continue
            self._broadcast(packet)

    def _broadcast(self, packet: bytes) -> None:
        for sub in list(self._subs.values()):
            sub.send(packet)

    async def _meter_loop(self) -> None:
        """``/mrtd/meters`` and ``/mrtd/frame`` to subscribers, ``meter_hz`` times a second."""
        assert self._loop is not None
        period = 1.0 / self.meter_hz
        due = self._loop.time()
        while True:
            due += period
            await asyncio.sleep(max(0.0, due - self._loop.time()))
            due = max(due, self._loop.time() - period)  # after a stall: no burst of catch-up ticks
            if not self._subs:
                continue
            try:
                meters = encode_message("/mrtd/meters", tuple(self.hub.meters()), "ffffff")
                frame = encode_message("/mrtd/frame", tuple(self.hub.value("/mrtd/frame") or (0,)), "i")
            except Exception:
                self._rlog.exception("meters", "reading the meters failed")
                continue
            self._broadcast(meters)
            self._broadcast(frame)

    # ---- connection bookkeeping -------------------------------------------------------------
    def _conn_opened(self, conn: _TcpConn) -> bool:
        if self._closed:
            return False
        while len(self._conns) >= self.max_connections:
            victim = min(self._conns, key=self._activity)
            self._close_conn(victim, "evicted", f"evicted: {len(self._conns)} connections open, "
                             "it was the least recently active")
        self._conns.add(conn)
        return True

    def _conn_closed(self, conn: _TcpConn) -> None:
        self._conns.discard(conn)
        self._subs.pop(conn.key, None)

    def _activity(self, conn: _TcpConn) -> float:
        """When ``conn`` was last of use: its last complete frame (or its opening); for a
        subscriber also the last time its output was seen drained (it reads its feedback)."""
        if conn.key in self._subs:
            return max(conn.last_frame, conn.drained_at)
        return conn.last_frame

    def _close_conn(self, conn: _TcpConn, kind: str, why: str) -> None:
        """Close ``conn`` now (its subscription ends), with a last error if it can take one."""
        self._rlog.warning(kind, "OSC TCP connection from %s:%d closed: %s", conn.host, conn.port, why)
        self._conns.discard(conn)
        self._subs.pop(conn.key, None)
        t = conn.transport
        if t is not None and not t.is_closing() and t.get_write_buffer_size() == 0:
            t.write(conn.deframer.frame(_error("", f"connection closed: {why}")))
        conn.close()

    async def _sweep_loop(self) -> None:
        """Once every ``_sweep_s``: close connections past their partial-frame or idle timeout."""
        while True:
            await asyncio.sleep(self._sweep_s)
            try:
                self._sweep(time.monotonic())
            except Exception:  # a bug must not end the sweeping
                self._rlog.exception("sweep", "OSC connection sweep failed")

    def _sweep(self, now: float) -> None:
        for conn in list(self._conns):
            t = conn.transport
            if t is None or t.is_closing():
                continue
            if t.get_write_buffer_size() == 0:
                conn.drained_at = now
            if conn.partial_since is not None and now - conn.partial_since > self.partial_frame_timeout_s:
                self._close_conn(conn, "timeout", f"a frame was started but not completed within "
                                 f"{self.partial_frame_timeout_s:g} s")
            elif now - self._activity(conn) > self.idle_timeout_s:
                self._close_conn(conn, "timeout", f"no complete frame for {self.idle_timeout_s:g} s")


# --------------------------------------------------------------------------- peers and subscribers


class _Peer:
    """Whoever sent a message: where its direct replies go, and who it is to the hub."""

    host: str = ""
    port: int = 0
    key: tuple = ()
    sender: Sender | None = None  # what the hub is told (its reply reaches this peer alone)

    def send(self, packet: bytes) -> None:
        raise NotImplementedError


class _UdpPeer(_Peer):
    def __init__(self, server: OscServer, host: str, port: int):
        self.server, self.host, self.port = server, host, port
        self.key = ("udp", host, port)
        self.sender = Sender(host, server._reply_fn(self), self.key)

    def send(self, packet: bytes) -> None:
        t = self.server._udp
        if t is not None and not t.is_closing() and t.get_write_buffer_size() < UDP_BACKLOG_LIMIT:
            t.sendto(packet, (self.host, self.port))


class _Subscriber:
    key: tuple = ()
    owner: str = ""  # host the subscription came from: its replies come here too
    target: tuple[str, int] = ("", 0)
    errors = 0
    heard = 0  # when last heard from (the server's counter): the least recent is evicted first
    subscribed = 0  # when last (re)subscribed: breaks ties between those heard from at once

    @property
    def label(self) -> str:
        return f"{self.key[0]}:{self.target[0]}:{self.target[1]}"

    def send(self, packet: bytes) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class _UdpSubscriber(_Subscriber):
    """A UDP subscriber, fed through its own connected non-blocking socket: a send never
    blocks or queues (a full socket buffer drops that packet, as UDP may), and a
    subscriber that went away shows up as ECONNREFUSED on a later send."""

    def __init__(self, key: tuple, owner: str, sock: socket.socket,
                 failed: Callable[[_Subscriber, OSError], None]):
        self.key, self.owner, self.sock, self._failed = key, owner, sock, failed
        self.target = (key[1], key[2])

    def send(self, packet: bytes) -> None:
        try:
            self.sock.send(packet)
        except BlockingIOError:
            pass
        except OSError as e:
            self._failed(self, e)

    def close(self) -> None:
        self.sock.close()


class _ConnSubscriber(_Subscriber):
    def __init__(self, conn: _TcpConn):
        self.conn, self.key, self.owner = conn, conn.key, conn.host
        self.target = (conn.host, conn.port)

    def send(self, packet: bytes) -> None:
        self.conn.send(packet)


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: OscServer):
        self.server = server

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        self.server._on_datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        self.server._rlog.warning("udp", "OSC UDP send failed: %s", exc)


class _TcpConn(asyncio.Protocol, _Peer):
    """One TCP client: deframes, hands packets to the server, frames replies alike."""

    def __init__(self, server: OscServer):
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.deframer = StreamDeframer(MAX_PACKET)
        self.key = ("tcp", id(self))
        self._paused = False
        self.last_frame = self.drained_at = time.monotonic()  # last complete frame; output last seen drained
        self.partial_since: float | None = None  # when the frame now in progress started

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername") or ("?", 0)
        self.host, self.port = str(peer[0]), int(peer[1])
        self.sender = Sender(self.host, self.server._reply_fn(self), self.key)
        if not self.server._conn_opened(self):
            transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.server._conn_closed(self)

    def data_received(self, data: bytes) -> None:
        self.deframer.feed(data)
        self._drain()

    def _drain(self) -> None:
        """Handle at most FRAMES_PER_TURN frames, then let other clients have a turn."""
        t = self.transport
        if t is None or t.is_closing():
            return
        for _ in range(FRAMES_PER_TURN):
            item = self.deframer.pop()
            if item is None:
                if not self.deframer.in_frame:
                    self.partial_since = None
                elif self.partial_since is None:
                    self.partial_since = time.monotonic()
                break
            self.last_frame = time.monotonic()
            self.partial_since = None
            if isinstance(item, PacketError):
                self.server._refuse(self, item.address, str(item))
            else:
                self.server._on_packet(item, self)
            if self.deframer.fatal is not None:
                t.close()  # flushes the error reply first
                return
            if t.is_closing():
                return
        else:
            if not self._paused:
                t.pause_reading()
                self._paused = True
            asyncio.get_running_loop().call_soon(self._drain)
            return
        if self._paused:
            self._paused = False
            t.resume_reading()

    def send(self, packet: bytes) -> None:
        t = self.transport
        if t is None or t.is_closing():
            return
        if t.get_write_buffer_size() > TCP_BACKLOG_LIMIT:
            self.server._rlog.warning("slow", "OSC TCP client %s:%d dropped: it does not read its replies",
                                      self.host, self.port)
            t.abort()
            return
        t.write(self.deframer.frame(packet))

    def as_subscriber(self) -> _ConnSubscriber:
        return _ConnSubscriber(self)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()


def _error(address: str, reason: str) -> bytes:
    """``/mrtd/error address reason``, the reason cut to 1 KiB."""
    return encode_message("/mrtd/error", (address, reason.encode()[:1024].decode(errors="ignore")), "ss")


def _norm_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``host`` as an address (an IPv4-mapped IPv6 one as IPv4, no scope), None if not one."""
    try:
        a = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped is not None:
        return a.ipv4_mapped
    return a


def _ip_literal(host: str) -> str | None:
    """``host`` as a normalised IP address, or None if it is a name to look up."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None

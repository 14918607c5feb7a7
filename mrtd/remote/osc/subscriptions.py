"""Who gets the daemon's feedback: the subscriber table and the rules that guard it.

Kept apart from the server because the table has rules of its own that have nothing to
do with how a packet arrived: who may be pointed at, who makes room when it is full, and
which subscribers also get a sender's replies.

Subscribers (``/mrtd/subscribe [host] port``, or with no arguments: the sender itself,
which over TCP means the connection) receive every state change — whoever made it:
OSC, MIDI, a bank load — plus ``/mrtd/meters`` and ``/mrtd/frame`` (see
:mod:`mrtd.remote.osc.feedback`), and on subscribing a snapshot of the current state so
faders start in the right place. UDP feedback leaves from a socket connected to the
subscriber (its source port is not the server's), so a subscriber that vanishes shows
up as ECONNREFUSED and is dropped. Host names are looked up off the loop; IP addresses
are (un)subscribed at once, so the reply order follows the request order.

A subscription may only point at the sender's own host (or, from loopback, at
loopback), so the port cannot be used to stream at a third party, unless the server is
built with ``allow_remote_subscribe`` (the CLI's ``--allow-remote-subscribe``); the
refusal comes before any packet is sent. Nothing expires with time (a Max patch or
TouchOSC layout subscribes once and must keep working for hours): when the table
(``max_subscribers``, 32) is full, a new subscription evicts the least recently
heard-from subscriber — heard from: its last (re)subscription, or any packet from its
own endpoint, its TCP connection or the host that subscribed it — which gets a last
``/mrtd/error /mrtd/subscribe "subscription ended: ..."`` and nothing more.

Replies to a sender (pong, status, get, subscribed, errors) also go to every subscriber
registered from the sender's host, once each: Max's ``udpsend``/``udpreceive``, Pd's
``netsend``/``netreceive`` and liblo's ``oscsend``/``oscdump`` send from a throwaway
port and listen on another, so the reply to the source port alone would be lost.

Voices (:mod:`mrtd.remote.osc.voices`): a subscription made through the main port in
voice form (``/mrtd/voice/2/subscribe 9000``) lives in voice 2's table, keyed apart from
a plain one to the same port (its key ends with the voice prefix), and everything sent
to it is rewritten to voice form. No subscription may point at any of the daemon's
voice ports: feedback from one voice would steer another.

Everything here runs on the server's asyncio loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import logging
import socket
from collections.abc import Callable, Iterator
from typing import Any

from mrtd.osc_schema import NAMESPACE, SchemaError
from mrtd.remote.osc.connections import Peer, TcpConn, error_packet
from mrtd.remote.osc.packet import encode_message
from mrtd.remote.osc.voices import voice_packet
from mrtd.remote.ratelimit import RateLog

log = logging.getLogger("mrtd.osc")

SUBSCRIBER_ERRORS_TO_DROP = 3
NO_SNAPSHOT = {"/mrtd/meters", "/mrtd/frame", "/mrtd/spectrum"}  # streamed (spectrum: OSCQuery only)

Refuse = Callable[[Peer, str, str], None]


class Subscriber:
    """One entry of the table: where feedback goes, and when it was last heard from."""

    key: tuple = ()
    owner: str = ""  # host the subscription came from: its replies come here too
    target: tuple[str, int] = ("", 0)
    errors = 0
    heard = 0  # when last heard from (the table's counter): the least recent is evicted first
    subscribed = 0  # when last (re)subscribed: breaks ties between those heard from at once
    prefix = ""  # made in voice form: everything it gets is rewritten to /mrtd/voice/<n>/...

    @property
    def label(self) -> str:
        return f"{self.key[0]}:{self.target[0]}:{self.target[1]}{' ' + self.prefix if self.prefix else ''}"

    def send(self, packet: bytes) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class UdpSubscriber(Subscriber):
    """A UDP subscriber, fed through its own connected non-blocking socket: a send never
    blocks or queues (a full socket buffer drops that packet, as UDP may), and a
    subscriber that went away shows up as ECONNREFUSED on a later send."""

    def __init__(self, key: tuple, owner: str, sock: socket.socket,
                 failed: Callable[[Subscriber, OSError], None], prefix: str = ""):
        self.key, self.owner, self.sock, self._failed = key, owner, sock, failed
        self.target = (key[1], key[2])
        self.prefix = prefix

    def send(self, packet: bytes) -> None:
        if self.prefix:
            packet = voice_packet(packet, self.prefix)
        try:
            self.sock.send(packet)
        except BlockingIOError:
            pass
        except OSError as e:
            self._failed(self, e)

    def close(self) -> None:
        self.sock.close()


class ConnSubscriber(Subscriber):
    """A TCP connection that subscribed itself: feedback goes back on it."""

    def __init__(self, conn: TcpConn, prefix: str = ""):
        self.conn, self.owner, self.prefix = conn, conn.host, prefix
        self.key = (*conn.key, prefix) if prefix else conn.key
        self.target = (conn.host, conn.port)

    def send(self, packet: bytes) -> None:
        self.conn.send(voice_packet(packet, self.prefix) if self.prefix else packet)


class Subscriptions:
    """The subscriber table, keyed by endpoint (``("udp", ip, port)`` or a TCP
    connection's key). ``host``: the address the server listens on (a subscription to
    the server's own port there is refused); ``refuse``: the server's rate-limited
    ``/mrtd/error`` reply, for errors found after a host name lookup."""

    def __init__(self, hub: Any, rlog: RateLog, refuse: Refuse, *, host: str, max_subscribers: int = 32,
                 allow_remote_subscribe: bool = False):
        self.hub, self._rlog, self._refuse = hub, rlog, refuse
        self.host = host
        self.port = 0  # the server's bound port, once started
        self.own_ports: Callable[[], set[int]] = lambda: {self.port}  # the server sets it: all voices' ports
        self.max_subscribers = max_subscribers
        self.allow_remote_subscribe = bool(allow_remote_subscribe)
        self._subs: dict[tuple, Subscriber] = {}
        self._heard = itertools.count(1)  # the order subscribers were last heard from
        self._lookups: set[asyncio.Task] = set()
        self._closed = False

    # ---- the table ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._subs)

    def __contains__(self, key: object) -> bool:
        return key in self._subs

    def keys(self) -> set[tuple]:
        return set(self._subs)

    def __iter__(self) -> Iterator[Subscriber]:
        return iter(list(self._subs.values()))

    def targets(self) -> list[tuple[str, int]]:
        """(host, port) of each subscriber (a TCP one: its connection's peer address)."""
        return [sub.target for sub in list(self._subs.values())]

    def broadcast(self, packet: bytes) -> None:
        for sub in list(self._subs.values()):
            sub.send(packet)

    def reply(self, peer: Peer, packet: bytes) -> None:
        """To the sender, and to each subscriber registered from the sender's host."""
        peer.send(packet)
        for sub in list(self._subs.values()):
            if sub.owner == peer.host and sub.key != peer.key:
                sub.send(packet)

    def heard_from(self, peer: Peer) -> None:
        """A packet from ``peer``: the subscribers it is, or that its host made, are alive."""
        if not self._subs:
            return
        n = next(self._heard)
        for sub in self._subs.values():
            if sub.owner == peer.host or sub.key == peer.key:
                sub.heard = n

    def add(self, sub: Subscriber, peer: Peer) -> None:
        """Put ``sub`` in the table (making room if it is full) and confirm it to ``peer``;
        one already there is only confirmed again."""
        if sub.key not in self._subs:
            full = len(self._subs) >= self.max_subscribers
            while len(self._subs) >= self.max_subscribers:
                self._evict()  # logged, rate limited: a flood of subscriptions costs no log
            self._subs[sub.key] = sub
            if not full:
                log.info("OSC subscriber %s (from %s)", sub.label, peer.host)
        self._confirm(self._subs[sub.key], peer)

    def drop(self, key: tuple, why: str = "") -> None:
        sub = self._subs.pop(key, None)
        if sub is not None:
            sub.close()
            if why:
                self._rlog.warning("dropped", "OSC subscriber %s dropped: %s", sub.label, why)

    async def close(self) -> None:
        """The server stops: lookups in flight are cancelled, every subscriber dropped."""
        self._closed = True
        tasks = list(self._lookups)
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        for sub in list(self._subs.values()):
            sub.close()
        self._subs.clear()

    def _evict(self) -> None:
        """The table is full: the least recently heard-from subscriber makes room."""
        victim = min(self._subs.values(), key=lambda s: (s.heard, s.subscribed))
        victim.send(error_packet("/mrtd/subscribe", f"subscription ended: more than {self.max_subscribers} "
                                 "subscribers, and this one was heard from least recently; subscribe again"))
        self.drop(victim.key, f"evicted: the table is full ({self.max_subscribers}), least recently heard from")

    def _confirm(self, sub: Subscriber, peer: Peer) -> None:
        """``/mrtd/subscribed host port`` to the sender, then the state to the subscriber."""
        sub.heard = sub.subscribed = next(self._heard)
        self.reply(peer, encode_message("/mrtd/subscribed", sub.target, "si"))
        for p in NAMESPACE:
            if p.access in ("rw", "r") and p.address not in NO_SNAPSHOT:
                try:
                    value = self.hub.value(p.address)
                    if value is not None:
                        sub.send(encode_message(p.address, value))
                except Exception:
                    self._rlog.exception("snapshot", "reading %s failed", p.address)

    def _failed(self, sub: Subscriber, exc: OSError) -> None:
        """A send to ``sub`` failed (ECONNREFUSED: nobody listens there any more)."""
        if self._subs.get(sub.key) is not sub:
            return
        sub.errors += 1
        if sub.errors >= SUBSCRIBER_ERRORS_TO_DROP:
            self.drop(sub.key, f"{exc.strerror or exc}")

    # ---- /mrtd/subscribe and /mrtd/unsubscribe --------------------------------------------
    def subscribe(self, values: tuple, peer: Peer) -> None:
        """``/mrtd/subscribe [host] port``, checked by the schema; SchemaError refuses it."""
        target = _target(values, peer)
        if target is None and isinstance(peer.base, TcpConn):
            self.add(ConnSubscriber(peer.base, peer.prefix), peer)
            return
        host, port = target if target is not None else (peer.host, peer.port)
        ip = _ip_literal(host)
        if ip is not None:  # at once, so replies keep the order of the requests
            self._subscribe_udp(ip, port, peer)
        else:
            self._lookup("/mrtd/subscribe", host, port, peer, self._subscribe_udp)

    def unsubscribe(self, values: tuple, peer: Peer) -> None:
        target = _target(values, peer)
        if target is None:
            self.drop(peer.key)
            return
        ip = _ip_literal(target[0])
        if ip is not None:
            self._unsubscribe_udp(ip, target[1], peer)
        else:
            self._lookup("/mrtd/unsubscribe", target[0], target[1], peer, self._unsubscribe_udp)

    def check_target(self, ip: str, peer: Peer) -> None:
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

    def _subscribe_udp(self, ip: str, port: int, peer: Peer) -> None:
        self.check_target(ip, peer)
        if port in self.own_ports() and self._is_own_host(ip):
            raise SchemaError("that is this daemon's own port" if port == self.port
                              else "that is one of this daemon's voice ports")
        key = _udp_key(ip, port, peer.prefix)
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
        self.add(UdpSubscriber(key, peer.host, sock, self._failed, peer.prefix), peer)

    def _unsubscribe_udp(self, ip: str, port: int, peer: Peer) -> None:
        self.check_target(ip, peer)  # nobody may end another host's subscription either
        self.drop(_udp_key(ip, port, peer.prefix))

    def _is_own_host(self, ip: str) -> bool:
        a = ipaddress.ip_address(ip)
        return a.is_loopback or a.is_unspecified or ip == self.host

    def _lookup(self, address: str, host: str, port: int, peer: Peer,
                then: Callable[[str, int, Peer], None]) -> None:
        task = asyncio.get_running_loop().create_task(self._resolve_then(address, host, port, peer, then))
        self._lookups.add(task)
        task.add_done_callback(self._lookups.discard)

    async def _resolve_then(self, address: str, host: str, port: int, peer: Peer,
                            then: Callable[[str, int, Peer], None]) -> None:
        """Look ``host`` up off the loop, then (un)subscribe; errors go to ``peer``."""
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        except OSError as e:
            self._refuse(peer, address, f"cannot resolve {host}: {e}")
            return
        if self._closed or not infos:
            return
        try:
            then(str(infos[0][4][0]), port, peer)
        except SchemaError as e:
            self._refuse(peer, address, str(e))


def _udp_key(ip: str, port: int, prefix: str) -> tuple:
    """A UDP subscriber's key; one made in voice form ends with its prefix."""
    return ("udp", ip, port, prefix) if prefix else ("udp", ip, port)


def _target(values: tuple, peer: Peer) -> tuple[str, int] | None:
    """(host, port) a (un)subscribe names; None: the sender itself."""
    if not values:
        return None
    return (peer.host, values[0]) if len(values) == 1 else (values[0], values[1])


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

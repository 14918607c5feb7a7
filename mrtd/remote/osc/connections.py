"""Where OSC packets come from and where their answers go: UDP peers and TCP connections.

Kept apart from the server because this is the part that must hold up against clients
that misbehave on the wire, and its rules are about bytes and time, not about controls:

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
frame for ``idle_timeout_s`` is closed, unless it is a subscriber still reading its
feedback (its output keeps draining); and when ``max_connections`` (64) are open, a new
connection evicts the least recently active one instead of being refused. A connection
closed so is told why first (``/mrtd/error "" "connection closed: ..."``) when its
output is not backed up. One periodic sweep on the loop checks the timeouts (no timer
per connection).

Everything here runs on the server's asyncio loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Protocol

from mrtd.remote.hub import Sender
from mrtd.remote.osc.packet import (
    MAX_PACKET,
    PacketError,
    StreamDeframer,
    encode_message,
)
from mrtd.remote.ratelimit import RateLog

MAX_CONNECTIONS = 64  # TCP clients at once; one more evicts the least recently active
IDLE_TIMEOUT_S = 3600.0  # a TCP client without a complete frame this long is closed (not a reading subscriber)
PARTIAL_FRAME_TIMEOUT_S = 10.0  # a started TCP frame must be complete within this
SWEEP_S = 1.0  # how often the connection timeouts are checked (at most)
TCP_BACKLOG_LIMIT = 1 << 20  # bytes queued to a TCP client before it counts as not reading
UDP_BACKLOG_LIMIT = 256 << 10  # bytes queued on a UDP socket before sends are skipped
FRAMES_PER_TURN = 256  # TCP frames of one client handled before others get a turn


def error_packet(address: str, reason: str) -> bytes:
    """``/mrtd/error address reason``, the reason cut to 1 KiB."""
    return encode_message("/mrtd/error", (address, reason.encode()[:1024].decode(errors="ignore")), "ss")


class Endpoint(Protocol):
    """What peers and connections need from the server they belong to."""

    rlog: RateLog

    @property
    def udp(self) -> asyncio.DatagramTransport | None: ...

    def on_packet(self, data: bytes, peer: Peer) -> None: ...

    def refuse(self, peer: Peer, address: str, reason: str) -> None: ...

    def reply_fn(self, peer: Peer) -> Callable[[str, str], None]: ...


class Peer:
    """Whoever sent a message: where its direct replies go, and who it is to the hub."""

    host: str = ""
    port: int = 0
    key: tuple = ()
    sender: Sender | None = None  # what the hub is told (its reply reaches this peer alone)
    prefix: str = ""  # "/mrtd/voice/<n>" when it spoke to a voice through the main port (voice form)

    @property
    def base(self) -> Peer:
        """The UDP peer or TCP connection itself (a voice-form peer wraps one)."""
        return self

    def send(self, packet: bytes) -> None:
        raise NotImplementedError


class UdpPeer(Peer):
    """A UDP sender, answered from the server's own socket at its source address."""

    def __init__(self, server: Endpoint, host: str, port: int):
        self.server, self.host, self.port = server, host, port
        self.key = ("udp", host, port)
        self.sender = Sender(host, server.reply_fn(self), self.key)

    def send(self, packet: bytes) -> None:
        t = self.server.udp
        if t is not None and not t.is_closing() and t.get_write_buffer_size() < UDP_BACKLOG_LIMIT:
            t.sendto(packet, (self.host, self.port))


class UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: Endpoint):
        self.server = server

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        self.server.on_packet(data, UdpPeer(self.server, addr[0], addr[1]))

    def error_received(self, exc: Exception) -> None:
        self.server.rlog.warning("udp", "OSC UDP send failed: %s", exc)


class TcpConn(asyncio.Protocol, Peer):
    """One TCP client: deframes, hands packets to the server, frames replies alike."""

    def __init__(self, server: Endpoint, table: Connections):
        self.server, self.table = server, table
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
        self.sender = Sender(self.host, self.server.reply_fn(self), self.key)
        if not self.table.opened(self):
            transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.table.closed(self)

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
                self.server.refuse(self, item.address, str(item))
            else:
                self.server.on_packet(item, self)
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
            self.server.rlog.warning("slow", "OSC TCP client %s:%d dropped: it does not read its replies",
                                     self.host, self.port)
            t.abort()
            return
        t.write(self.deframer.frame(packet))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()


class Connections:
    """The open TCP connections: admission (evicting the least recently active when
    full), and the sweep that closes those past their partial-frame or idle timeout.

    ``is_subscribed(key)``: whether a connection is a subscriber (then reading its
    feedback keeps it alive); ``forget(key)``: its subscription ends with it."""

    def __init__(self, rlog: RateLog, *, is_subscribed: Callable[[tuple], bool], forget: Callable[[tuple], None],
                 max_connections: int = MAX_CONNECTIONS, idle_timeout_s: float = IDLE_TIMEOUT_S,
                 partial_frame_timeout_s: float = PARTIAL_FRAME_TIMEOUT_S):
        self._rlog = rlog
        self._is_subscribed, self._forget = is_subscribed, forget
        self.max_connections = int(max_connections)
        self.idle_timeout_s, self.partial_frame_timeout_s = float(idle_timeout_s), float(partial_frame_timeout_s)
        self.sweep_s = min(SWEEP_S, self.idle_timeout_s / 4, self.partial_frame_timeout_s / 4)
        self.accepting = False  # the server is started: new connections are taken
        self._conns: set[TcpConn] = set()

    def __len__(self) -> int:
        return len(self._conns)

    def __iter__(self) -> Iterator[TcpConn]:
        return iter(list(self._conns))

    def opened(self, conn: TcpConn) -> bool:
        """A new connection: False when the server is not taking any (it is aborted)."""
        if not self.accepting:
            return False
        while len(self._conns) >= self.max_connections:
            victim = min(self._conns, key=self.activity)
            self.close(victim, "evicted", f"evicted: {len(self._conns)} connections open, "
                       "it was the least recently active")
        self._conns.add(conn)
        return True

    def closed(self, conn: TcpConn) -> None:
        self._conns.discard(conn)
        self._forget(conn.key)

    def activity(self, conn: TcpConn) -> float:
        """When ``conn`` was last of use: its last complete frame (or its opening); for a
        subscriber also the last time its output was seen drained (it reads its feedback)."""
        if self._is_subscribed(conn.key):
            return max(conn.last_frame, conn.drained_at)
        return conn.last_frame

    def close(self, conn: TcpConn, kind: str, why: str) -> None:
        """Close ``conn`` now (its subscription ends), with a last error if it can take one."""
        self._rlog.warning(kind, "OSC TCP connection from %s:%d closed: %s", conn.host, conn.port, why)
        self._conns.discard(conn)
        self._forget(conn.key)
        t = conn.transport
        if t is not None and not t.is_closing() and t.get_write_buffer_size() == 0:
            t.write(conn.deframer.frame(error_packet("", f"connection closed: {why}")))
        conn.close()

    def close_all(self) -> None:
        """The server stops: every connection is aborted, none is taken any more."""
        self.accepting = False
        for conn in list(self._conns):
            conn.close()

    async def sweep_loop(self) -> None:
        """Once every ``sweep_s``: close connections past their partial-frame or idle timeout."""
        while True:
            await asyncio.sleep(self.sweep_s)
            try:
                self.sweep(time.monotonic())
            except Exception:  # a bug must not end the sweeping
                self._rlog.exception("sweep", "OSC connection sweep failed")

    def sweep(self, now: float) -> None:
        for conn in list(self._conns):
            t = conn.transport
            if t is None or t.is_closing():
                continue
            if t.get_write_buffer_size() == 0:
                conn.drained_at = now
            if conn.partial_since is not None and now - conn.partial_since > self.partial_frame_timeout_s:
                self.close(conn, "timeout", f"a frame was started but not completed within "
                           f"{self.partial_frame_timeout_s:g} s")
            elif now - self.activity(conn) > self.idle_timeout_s:
                self.close(conn, "timeout", f"no complete frame for {self.idle_timeout_s:g} s")

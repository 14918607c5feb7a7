"""OSCQuery: the OSC namespace over HTTP + WebSocket, generated from the schema.

Controllers that speak OSCQuery (ossia score and ossia-max, Chataigne, VDMX) browse
the daemon's address space instead of being configured by hand. Everything comes from
:data:`NAMESPACE`; the current values come from :meth:`Hub.value`.

HTTP (GET only, but for ``/ui/`` uploads): ``/path`` is a node's JSON, ``/path?ATTR`` one attribute, ``?HOST_INFO``
the server's description. Codes follow the OSCQuery proposal: 404 no such node, 400
unknown attribute, 204 an attribute the node does not have (VALUE of a write-only
address), 405 anything but GET.

Choices the proposal leaves open:

- TYPE uses the schema's own tags (bools are ``i`` 0/1, enums ``s``). A repeated
  argument is written out: a fixed count as that many tags (``/mrtd/notes/frame`` is 128
  ``i``); a varying count at its longest for readable addresses, so VALUE matches TYPE,
  and at its shortest for the others. Addresses without arguments have no TYPE.
- ACCESS: ``rw`` 3, ``r`` 1, ``w`` 2, ``event`` 2 (it can be sent, not read);
  a read-only address without arguments (``/mrtd/pong``) is 0. Pure containers are 0.
- No CLIPMODE: mrtd refuses out-of-range values (with ``/mrtd/error``); it neither clips
  them nor uses them as they are, which is what every CLIPMODE value would claim.
- VALUE is omitted from a node (and ``?VALUE`` is 204) when the address is not readable;
  a readable address without a value yet gives an empty object.
- No PATH_CHANGED: the namespace is fixed for the daemon's life. Prompt slot status
  changes are values, streamed with LISTEN like any other.

WebSocket (same port, any path): text frames ``{"COMMAND": "LISTEN"|"IGNORE", "DATA":
path}``; a listened address's every change (whoever caused it) arrives as a binary frame
holding an OSC message. Binary frames from the client are OSC messages or bundles to
apply; a refusal comes back as a binary ``/mrtd/error <address> <reason>``; ``/mrtd/ping``,
``/mrtd/status`` and ``/mrtd/get`` are answered to the sender, as over UDP. ``/mrtd/meters``,
``/mrtd/frame`` and ``/mrtd/spectrum`` change every frame, so their listeners get them at
10 Hz. A websocket opened by a web page from another origin is refused (403). When the
daemon listens beyond loopback (a token is set), a websocket from another host needs the
token in its URL (``?token=``, or the ``X-Mrtd-Token`` header), else 401 before the
upgrade; one that has it may use the guarded addresses without ``/mrtd/auth``.

The browser control surface (:mod:`mrtd.remote.ui`) shares the port: ``/ui/`` is the
page and its API; a browser asking ``/`` for HTML (``Accept: text/html``, no query but
a token) is redirected there, while OSCQuery clients keep getting JSON. Each client
has a bounded send queue: a slow client loses its oldest queued messages, it never
stalls the loop. Listens end with the connection. Changes are coalesced per address
(the latest value wins; events and ``/mrtd/error`` keep each occurrence): a burst of
changes costs one wake-up of the loop and one encoding per address, however many
clients listen, so feedback to many listeners stays off the audio's back. Every
sender gets its answer: an error found only when a message is applied on its frame
(generation thread) goes back to the websocket that sent it, as ``/mrtd/error`` (once:
a client that LISTENs to ``/mrtd/error`` gets it through that). A websocket's kernel
send buffer is kept small, so a client that stops reading soon blocks its writer and
then costs nothing per message; the heartbeat ends it (a ping every 30 s, closed
without a pong 15 s later).

Voices (``mrtd serve --voices N``; ``voices``: every voice's hub, voice 1's first): the
plain tree stays voice 1, and ``/mrtd/voice/<n>/...`` holds every voice's copy of the
namespace (voice 1 included), values from that voice's hub. Everything works on those
paths as on the plain ones, routed to voice n's hub with the plain address: HTTP values,
LISTEN (a change on voice n reaches the listeners of its voice path), and binary frames
(``/mrtd/voice/2/temperature 1.3``; ping, status and get answer in voice form, and a
refusal is ``/mrtd/voice/2/error /mrtd/voice/2/temperature reason``, the OSC port's
rule: :mod:`mrtd.remote.osc.voices`). Each voice's own OSC port is in the DESCRIPTION of
its ``/mrtd/voice/<n>`` node and, for programs, in HOST_INFO's ``MRTD_VOICE_OSC_PORTS``
(voice 1's first). Without ``voices`` (or with one) the tree is today's, untouched.

Bounded, so a few hundred sockets cannot starve the daemon of file descriptors or
CPU: at most ``max_connections`` (128) HTTP and WebSocket connections; when full, a
new connection evicts the oldest idle one (waiting for a request; never a websocket)
or, when none is idle, is answered 503 and closed. A new connection must complete its
first request's headers within ``header_timeout`` (10 s: slowloris); a keep-alive
connection must send its next request within ``idle_timeout`` (15 s). One periodic
sweep checks both (no timer per connection). At most ``max_websockets`` (64)
websockets: beyond that the upgrade is answered 503. Malformed requests (aiohttp logs
each with a traceback) and ``accept()`` failures for want of file descriptors (asyncio
logs each; it pauses accepting for a second by itself) become one line per kind every
few seconds with a count, while the server runs.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import math
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web
from yarl import URL

from mrtd.errors import ControlError, UserError, reason_for
from mrtd.osc_schema import NAMESPACE, Arg, Param, SchemaError
from mrtd.remote.changes import ChangeQueue
from mrtd.remote.hub import Sender
from mrtd.remote.osc.packet import (
    IMMEDIATE,
    Message,
    PacketError,
    decode_packet,
    encode_message,
    ntp_to_unix,
)
from mrtd.remote.osc.voices import (
    VOICE_ROOT,
    VoiceRefused,
    split_voice,
    voice_packet,
    voice_prefix,
)
from mrtd.remote.ratelimit import RateLog
from mrtd.remote.ui import UPLOAD_MAX_BYTES, ControlSurface
from mrtd.remote.ui import error as ui_error

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from pathlib import Path

    from mrtd.datadir import DataDir
    from mrtd.remote.hub import Hub

log = logging.getLogger("mrtd.oscquery")
http_log = logging.getLogger("mrtd.oscquery.http")  # aiohttp's per-request log lines for our server

ACCESS = {"rw": 3, "r": 1, "w": 2, "event": 2}
ATTRIBUTES = ("FULL_PATH", "CONTENTS", "TYPE", "ACCESS", "VALUE", "RANGE", "DESCRIPTION", "UNIT", "TAGS")
EXTENSIONS = {
    "ACCESS": True, "VALUE": True, "RANGE": True, "DESCRIPTION": True, "TAGS": True, "UNIT": True,
    "LISTEN": True, "CLIPMODE": False, "PATH_CHANGED": False, "PATH_RENAMED": False,
    "PATH_ADDED": False, "PATH_REMOVED": False, "EXTENDED_TYPE": False, "CRITICAL": False,
    "OVERLOADS": False, "HTML": False,
}
POLLED = ("/mrtd/meters", "/mrtd/frame", "/mrtd/spectrum")  # change every frame: streamed at POLL_S, not per change
POLL_S = 0.1
SEND_QUEUE = 256  # messages queued per websocket client before the oldest are dropped
WS_SEND_BUFFER = 32 * 1024  # kernel send buffer of a websocket (bytes): a stuck client blocks soon
MAX_WS_MESSAGE = 256 * 1024
CLOSE_TIMEOUT_S = 2.0  # a client that does not answer our close frame is dropped after this
MAX_QUERY = 64
MAX_AHEAD_S = 60.0  # a timed bundle further ahead is refused (the OSC server's limit too)
MAX_CONNECTIONS = 128  # HTTP + WebSocket connections at once (each holds a file descriptor)
MAX_WEBSOCKETS = 64  # websocket clients at once; each costs a send queue and a share of every fan-out
HEADER_TIMEOUT_S = 10.0  # a new connection's first request headers must be complete by then (slowloris)
IDLE_TIMEOUT_S = 15.0  # a keep-alive connection must send its next request by then
MAX_PENDING_FEEDBACK = 1024  # changes waiting for the loop; beyond it new ones are dropped (never blocks)
LOG_EVERY_S = 5.0  # one log line per kind of flood (bad requests, accept failures) this often
SERVED_HERE = ("/mrtd/ping", "/mrtd/status", "/mrtd/get", "/mrtd/subscribe", "/mrtd/unsubscribe")
WILDCARD_HOSTS = ("", "0.0.0.0", "::")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")


# --------------------------------------------------------------------------- the tree


@dataclass
class Node:
    """One OSC path: a container (children), a method (param), or both (``/mrtd/seed``)."""

    path: str
    param: Param | None = None
    children: dict[str, Node] = field(default_factory=dict)
    voice: int = 0  # under /mrtd/voice/<n>: n (its values come from voice n's hub); 0: the plain tree


def build_tree(ns=NAMESPACE, voices: int = 0) -> dict[str, Node]:
    """Every path of the namespace, containers included, by path ("/" is the root);
    with ``voices``, also each voice's copy under ``/mrtd/voice/<n>``."""
    nodes = {"/": Node("/")}
    copies = [(0, "/mrtd")] + [(n, voice_prefix(n)) for n in range(1, voices + 1)]
    for n, prefix in copies:
        for p in ns:
            parent = nodes["/"]
            parts = (prefix + p.address[5:]).strip("/").split("/")
            for depth, name in enumerate(parts, 1):
                path = "/" + "/".join(parts[:depth])
                node = nodes.get(path)
                if node is None:
                    node = nodes[path] = Node(path, voice=n if depth > 3 else 0)
                    parent.children[name] = node
                parent = node
            parent.param = p
        if n:
            nodes[prefix].voice = n
    return nodes


def arg_specs(p: Param, n: int) -> list[Arg]:
    """The argument specs of an ``n``-value message to ``p`` (alt forms, repeats)."""
    for alt in p.alt_args:
        if len(alt) == n:
            return list(alt)
    if p.repeats:
        fixed = len(p.args) - 1
        return list(p.args[:fixed]) + [p.args[-1]] * max(0, n - fixed)
    return list(p.args[:n])


def type_specs(p: Param) -> list[Arg]:
    """The arguments TYPE describes: repeats written out (see the module doc)."""
    if not p.repeats:
        return list(p.args)
    lo, hi = p.min_count or 0, p.max_count or 0
    count = hi if lo == hi or p.access in ("rw", "r") else max(lo, 1)
    return arg_specs(p, len(p.args) - 1 + count)


def _range(a: Arg) -> dict[str, Any] | None:
    if a.kind == "enum":
        return {"VALS": list(a.choices)}
    if a.kind == "bool":
        return {"MIN": 0, "MAX": 1}
    if a.kind in ("float", "int"):
        r = {}
        if a.min is not None:
            r["MIN"] = a.min if a.kind == "float" else int(a.min)
        if a.max is not None:
            r["MAX"] = a.max if a.kind == "float" else int(a.max)
        return r or None
    return None


def json_value(a: Arg | None, v: Any) -> Any:
    """One value as OSCQuery's JSON has it for the argument's type tag."""
    kind = a.kind if a is not None else None
    if isinstance(v, bool) or kind == "bool":
        return int(bool(v))
    if kind == "int":
        return int(v)
    if kind == "float" or isinstance(v, float):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, (bytes, bytearray)) or kind == "blob":
        return None
    if isinstance(v, int):
        return int(v)
    return str(v)


def osc_message(address: str, values: tuple | list) -> bytes:
    """Encode a message as the OSC server would reply it (the schema's type tags)."""
    return encode_message(address, values)


def status_message(s: dict[str, Any]) -> bytes:
    """The ``/mrtd/status`` reply, as the OSC server sends it (ssffiifi)."""
    out = (str(s.get("model", "")), str(s.get("device", "")), float(s.get("fps", 0.0)),
           float(s.get("queued_ms", 0.0)), int(s.get("underruns", 0)), int(s.get("xruns", 0)),
           float(s.get("latency_ms", 0.0)), int(s.get("frame", 0)))
    return encode_message("/mrtd/status", out, "ssffiifi")


def error_message(address: str, reason: str) -> bytes:
    return encode_message("/mrtd/error", (address, reason[:1000]), "ss")


# --------------------------------------------------------------------------- bounded logging


class _FloodFilter(logging.Filter):
    """One line per kind of flood every ``interval`` seconds, with a count of those held
    back, so 2000 malformed requests or an fd shortage cost a few log lines, not a
    megabyte of tracebacks. Installed on aiohttp's request log for this server and on
    asyncio's log (``accept()`` out of file descriptors) while a server runs."""

    ACCEPT = "socket.accept() out of system resource"

    def __init__(self, interval: float = LOG_EVERY_S):
        super().__init__()
        self.interval = interval
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._held: dict[str, tuple[int, str]] = {}  # kind -> (count held back, the latest text)
        self.users = 0  # servers running with it installed

    @classmethod
    def describe(cls, record: logging.LogRecord) -> tuple[str, str] | None:
        """(kind, one-line text) of a record this filter bounds; None lets it through."""
        exc = record.exc_info[1] if record.exc_info else None
        if record.name == "asyncio":
            if not str(record.msg).startswith(cls.ACCEPT):
                return None
            why = getattr(exc, "strerror", None) or str(exc or "out of resources")
            return "accept", f"cannot accept a connection: {why} (accepting pauses for 1 s)"
        if record.levelno < logging.WARNING:
            return None
        head = record.getMessage().splitlines()[0] if record.msg else "error"
        if exc is None:
            return f"http:{record.msg}"[:80], f"OSCQuery: {head}"[:300]
        detail = " ".join(str(getattr(exc, "message", None) or exc).split())[:200] or "-"
        return f"http:{type(exc).__name__}", f"OSCQuery: {head}: {type(exc).__name__}: {detail}"

    def filter(self, record: logging.LogRecord) -> bool:
        found = self.describe(record)
        if found is None:
            return True
        kind, text = found
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(kind, -1e9) < self.interval:
                self._held[kind] = (self._held.get(kind, (0, ""))[0] + 1, text)
                return False
            self._last[kind] = now
            count = self._held.pop(kind, (0, ""))[0]
        if count:
            text += f" (and {count} more like it)"
        record.msg, record.args = text, ()
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True

    def flush(self) -> None:
        """Say how many were held back once their kind's interval is over (a flood that
        stopped would otherwise never be counted)."""
        now = time.monotonic()
        due = []
        with self._lock:
            for kind, (count, text) in list(self._held.items()):
                if now - self._last.get(kind, -1e9) >= self.interval:
                    del self._held[kind]
                    self._last[kind] = now
                    due.append((count, text))
        for count, text in due:  # on our own log, which this filter does not sit on
            log.warning("%d more like this in the last %g s: %s", count, self.interval, text)

    def install(self) -> None:
        if self.users == 0:
            http_log.addFilter(self)
            logging.getLogger("asyncio").addFilter(self)
        self.users += 1

    def uninstall(self) -> None:
        self.users = max(0, self.users - 1)
        if self.users == 0:
            http_log.removeFilter(self)
            logging.getLogger("asyncio").removeFilter(self)


_FLOODS = _FloodFilter()  # one per process: servers share the loggers it sits on


# --------------------------------------------------------------------------- connections

_WAITING, _BUSY, _WEBSOCKET = "waiting", "busy", "websocket"


@dataclass(eq=False)
class _Conn:
    """What the sweep and the cap need to know of one HTTP connection."""

    handler: web.RequestHandler
    since: float  # accepted, or its last response was handed over
    state: str = _WAITING  # waiting for a request, serving one, or a websocket
    first: bool = True  # no request yet: the header timeout applies, else the idle timeout
    made: bool = False  # connection_made seen (before it, closing the handler would leak the socket)
    closing: bool = False


class _Server(web.Server):
    """aiohttp's low-level server, telling the OSCQuery server when connections come and go."""

    def __init__(self, owner: OscQueryServer, handler: Any, **kwargs: Any):
        super().__init__(handler, **kwargs)
        self._owner = owner

    def connection_made(self, handler: web.RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        self._owner._made(handler)

    def connection_lost(self, handler: web.RequestHandler, exc: BaseException | None = None) -> None:
        super().connection_lost(handler, exc)
        self._owner._lost(handler)


class _Refuse(asyncio.Protocol):
    """A connection over the cap when nothing can be evicted: 503, then closed. The
    request is read and dropped until the client closes (at most ``LINGER_S``): closing
    with it unread would reset the connection and lose the 503. At most ``MAX_LINGERING``
    linger at once; beyond that a refused connection is reset at once (a connect flood
    must not hold file descriptors)."""

    BODY = b"too many connections\n"
    RESPONSE = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: "
                + str(len(BODY)).encode() + b"\r\nConnection: close\r\n\r\n" + BODY)
    LINGER_S = 1.0
    MAX_LINGERING = 32
    lingering = 0  # across servers: it is the process's descriptors that are bounded

    def __init__(self) -> None:
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        if _Refuse.lingering >= self.MAX_LINGERING:
            transport.abort()
            return
        _Refuse.lingering += 1
        transport.write(self.RESPONSE)
        transport.write_eof()
        self._timer = asyncio.get_running_loop().call_later(self.LINGER_S, transport.close)

    def data_received(self, data: bytes) -> None:
        pass

    def eof_received(self) -> bool:
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            _Refuse.lingering -= 1


# --------------------------------------------------------------------------- websocket clients


class _Client:
    """One websocket connection: what it listens to and its bounded send queue."""

    def __init__(self, ws: web.WebSocketResponse):
        self.ws = ws
        self.listens: set[str] = set()
        self.queue: deque[bytes | str] = deque(maxlen=SEND_QUEUE)
        self.dropped = 0
        self.writer: asyncio.Task | None = None
        self.sender: Sender | None = None
        self.voice_senders: dict[int, Sender] = {}  # made on first use: voice n's view of this client
        self._wake: asyncio.Future[None] | None = None

    def offer(self, item: bytes | str) -> None:
        """Queue without waiting; when full, the oldest item goes (the newest state wins).
        O(1): a client that never reads costs a fan-out no more than one that does."""
        if len(self.queue) == SEND_QUEUE:
            self.dropped += 1
        self.queue.append(item)
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    async def write(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                if not self.queue:
                    self._wake = loop.create_future()
                    await self._wake
                    self._wake = None
                    continue
                item = self.queue.popleft()
                if isinstance(item, bytes):
                    await self.ws.send_bytes(item)
                else:
                    await self.ws.send_str(item)
        except asyncio.CancelledError:
            pass
        except Exception as e:  # the connection went away; the reader side cleans up
            log.debug("websocket send failed: %s", e)


# --------------------------------------------------------------------------- the server


class OscQueryServer:
    """HTTP + WebSocket OSCQuery server for the hub, on the daemon's asyncio loop."""

    def __init__(self, hub: Hub, host: str = "127.0.0.1", port: int = 0, *, osc_port: int,
                 name: str = "mrtd", zeroconf: bool = False, osc_ip: str | None = None,
                 max_connections: int = MAX_CONNECTIONS, max_websockets: int = MAX_WEBSOCKETS,
                 header_timeout: float = HEADER_TIMEOUT_S, idle_timeout: float = IDLE_TIMEOUT_S,
                 files: DataDir | None = None, active_files: Callable[[], Iterable[Path | None]] | None = None,
                 upload_max_bytes: int = UPLOAD_MAX_BYTES, voices: Sequence[Hub] | None = None,
                 voice_osc_ports: Sequence[int] | None = None):
        self.hub = hub
        # voices[n - 1] is voice n's hub (voice 1's is ``hub``); their OSC ports default to
        # osc_port + n - 1, as the daemon binds them. One voice is today's tree.
        if voices and voices[0] is not hub:
            raise ValueError("voices[0] must be the main hub (voice 1)")
        self.voices: list[Hub] = list(voices) if voices and len(voices) > 1 else []
        if voice_osc_ports is not None and len(voice_osc_ports) != len(voices or ()):
            raise ValueError("voice_osc_ports needs one port per voice")
        self.voice_osc_ports = list(voice_osc_ports) if voice_osc_ports is not None and self.voices else None
        self._voice_listeners: list[Callable[[str, tuple], None]] = []
        # the browser control surface under /ui/ (files: the data folder its uploads,
        # prompt list and downloads use; active_files: what is being recorded now)
        self.ui = ControlSurface(hub, files=files, origin_ok=self._origin_ok, active=active_files,
                                 upload_max_bytes=upload_max_bytes)
        self.host, self._port, self.osc_port, self.name = host, port, osc_port, name
        self.osc_ip = osc_ip if osc_ip is not None else host
        self.zeroconf = zeroconf
        self.max_connections, self.max_websockets = max_connections, max_websockets
        self.header_timeout, self.idle_timeout = header_timeout, idle_timeout
        self.nodes = build_tree(voices=len(self.voices))
        self.clients: set[_Client] = set()
        self._audience: dict[str, tuple[_Client, ...]] = {}  # address -> its listeners
        self._listened: frozenset[str] = frozenset()  # read by the engine thread
        self._conns: dict[web.RequestHandler, _Conn] = {}
        self._changes = ChangeQueue(self._flush, MAX_PENDING_FEEDBACK)
        self._rlog = RateLog(log, LOG_EVERY_S)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: _Server | None = None
        self._listener: asyncio.AbstractServer | None = None
        self._sock: socket.socket | None = None
        self._tasks: list[asyncio.Task] = []
        self._zc: Any = None

    # ---- life cycle ------------------------------------------------------------------------
    async def start(self) -> None:
        """Bind and serve; raises UserError when the port is taken or zeroconf is missing."""
        zc = _import_zeroconf() if self.zeroconf else None
        loop = self._loop = asyncio.get_running_loop()
        self._changes.bind(loop)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        try:
            self._sock = socket.create_server((self.host, self._port), family=family)
        except OSError as e:
            raise UserError(f"OSCQuery: cannot listen on {self.host}:{self._port} ({e.strerror})") from None
        # aiohttp's own keep-alive timer agrees with the idle timeout the sweep enforces
        self._server = _Server(self, self._handle, loop=loop, logger=http_log, access_log=None,
                               keepalive_timeout=self.idle_timeout)
        self._listener = await loop.create_server(self._accept, sock=self._sock, backlog=128)
        _FLOODS.install()
        self._port = self._sock.getsockname()[1]
        self.hub.add_listener(self._on_change)
        self._voice_listeners = [self._voice_listener(n) for n in range(1, len(self.voices) + 1)]
        for h, fn in zip(self.voices, self._voice_listeners):
            h.add_listener(fn)
        self._tasks = [asyncio.create_task(self._poll()), asyncio.create_task(self._sweep())]
        if zc is not None:
            try:
                await self._advertise(*zc)
            except Exception as e:  # no multicast here: serve anyway, say why it is not advertised
                log.warning("OSCQuery zeroconf advertisement failed: %s", e)
        log.info("OSCQuery on http://%s:%d/", self.host, self.port)

    async def stop(self) -> None:
        """Stop within about half a second (the daemon gives servers one second)."""
        self.hub.remove_listener(self._on_change)
        for h, fn in zip(self.voices, self._voice_listeners):
            h.remove_listener(fn)
        self._voice_listeners = []
        self._changes.bind(None)
        for task in self._tasks:
            task.cancel()
        self._tasks = []
        if self._listener is not None:
            self._listener.close()
        if self._zc is not None:
            await self._zc.async_unregister_all_services()
            await self._zc.async_close()
            self._zc = None
        clients = list(self.clients)
        if clients:  # a client that does not read cannot take our close frame: do not wait for it
            closing = [asyncio.ensure_future(c.ws.close()) for c in clients]
            _, late = await asyncio.wait(closing, timeout=0.3)
            for task in late:
                task.cancel()
        for c in clients:
            if c.writer is not None:
                c.writer.cancel()
        if self._server is not None:
            try:
                await asyncio.wait_for(self._server.shutdown(0.2), 0.4)
            except asyncio.TimeoutError:
                pass
            for conn in list(self._conns.values()):
                if conn.made:
                    conn.handler.force_close()
            self._server = None
        if self._listener is not None:
            self._listener = None
            _FLOODS.uninstall()

    @property
    def port(self) -> int:
        """The bound port (the one asked for before start())."""
        return self._port

    # ---- connections: cap, timeouts ----------------------------------------------------------
    def _accept(self) -> asyncio.BaseProtocol:
        """Protocol factory for each accepted socket: aiohttp's handler, within the cap."""
        assert self._server is not None
        if len(self._conns) >= self.max_connections and not self._make_room():
            self._rlog.warning("full", "OSCQuery: a connection was refused: %d open, none idle",
                               self.max_connections)
            return _Refuse()
        handler = self._server()
        self._conns[handler] = _Conn(handler, time.monotonic())
        return handler

    def _make_room(self) -> bool:
        """At the cap: close the oldest idle connection (never a websocket, never one
        serving a request). False when there is none to close."""
        live = [c for c in self._conns.values() if not c.closing]
        if len(live) < self.max_connections:
            return True
        idle = [c for c in live if c.state == _WAITING]
        if not idle:
            return False
        self._close(min(idle, key=lambda c: c.since))
        return True

    def _close(self, conn: _Conn) -> None:
        """Close now, or, for a socket accepted in this same burst whose handler is not
        connected yet, as soon as it is (closing it before would leak the socket)."""
        conn.closing = True
        if conn.made:
            conn.handler.force_close()

    def _made(self, handler: web.RequestHandler) -> None:
        conn = self._conns.get(handler)
        if conn is not None:
            conn.made = True
            if conn.closing:
                handler.force_close()

    def _lost(self, handler: web.RequestHandler) -> None:
        self._conns.pop(handler, None)

    def connections(self) -> dict[str, int]:
        """Open HTTP connections by state (for tests and status)."""
        out = {_WAITING: 0, _BUSY: 0, _WEBSOCKET: 0}
        for c in self._conns.values():
            if not c.closing:
                out[c.state] += 1
        return out

    async def _sweep(self) -> None:
        """One periodic check of every connection's deadline (no timer per connection)."""
        period = max(0.02, min(1.0, self.header_timeout / 4, self.idle_timeout / 4))
        while True:
            await asyncio.sleep(period)
            now = time.monotonic()
            for conn in list(self._conns.values()):
                if not conn.made:
                    if now - conn.since > 5.0:  # never connected (the transport failed): forget it
                        self._conns.pop(conn.handler, None)
                    continue
                if conn.closing or conn.state != _WAITING:
                    continue
                limit = self.header_timeout if conn.first else self.idle_timeout
                if now - conn.since > limit:
                    self._close(conn)
            _FLOODS.flush()

    # ---- HTTP ------------------------------------------------------------------------------
    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        conn = self._conns.get(request.protocol)
        if conn is not None:
            conn.state = _BUSY
        try:
            return await self._respond(request, conn)
        finally:
            if conn is not None and conn.state == _BUSY:
                conn.state, conn.since, conn.first = _WAITING, time.monotonic(), False

    async def _respond(self, request: web.BaseRequest, conn: _Conn | None) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket" and request.method == "GET":
            if not self._origin_ok(request.headers.get("Origin")):
                return web.Response(status=403, text="websocket from a foreign web page refused\n")
            if not self.ui.allowed(request):
                return ui_error(401, "the daemon's token is needed from another host (?token=...)")
            if len(self.clients) >= self.max_websockets:
                self._rlog.warning("ws-full", "OSCQuery: a websocket was refused: %d open", self.max_websockets)
                return web.Response(status=503, text=f"too many websocket clients (at most {self.max_websockets})\n")
            if conn is not None:
                conn.state = _WEBSOCKET
            return await self._websocket(request)
        redirect = self.ui.redirect(request)
        if redirect is not None:
            return redirect
        surface = await self.ui.handle(request)
        if surface is not None:
            return surface
        if request.method not in ("GET", "HEAD"):
            return web.Response(status=405, headers={"Allow": "GET"}, text="only GET\n")
        attr = request.query_string
        if len(attr) > MAX_QUERY:
            return web.Response(status=400, text="query too long\n")
        attr = attr.upper()
        if attr == "HOST_INFO":
            return _json(self.host_info())
        path = request.path if request.path == "/" else request.path.rstrip("/")
        node = self.nodes.get(path)
        if node is None:
            return web.Response(status=404, text=f"no OSC node {path[:200]}\n")
        if not attr:
            return _json(self.node_json(node))
        if attr not in ATTRIBUTES:
            return web.Response(status=400, text=f"unknown attribute {attr}\n")
        doc = self.node_json(node, attr)
        if attr not in doc:
            return web.Response(status=204)
        return _json({attr: doc[attr]})

    def _origin_ok(self, origin: str | None) -> bool:
        """Browsers send Origin; a page from elsewhere must not steer the daemon (it can
        start recordings to any path). Native clients send none."""
        if origin is None:
            return True
        try:
            host = URL(origin).host
        except ValueError:
            return False
        return host is not None and (host in LOCAL_HOSTS or host == self.host)

    def host_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"NAME": self.name, "EXTENSIONS": dict(EXTENSIONS),
                                "OSC_PORT": self.osc_port, "OSC_TRANSPORT": "UDP", "WS_PORT": self.port}
        if self.osc_ip not in WILDCARD_HOSTS:
            info["OSC_IP"] = self.osc_ip
        if self.host not in WILDCARD_HOSTS:
            info["WS_IP"] = self.host
        if self.voices:
            info["MRTD_VOICE_OSC_PORTS"] = self.voice_ports()
        return info

    # ---- voices ----------------------------------------------------------------------------
    def voice_ports(self) -> list[int]:
        """Each voice's own OSC port, voice 1's first."""
        if self.voice_osc_ports is not None:
            return list(self.voice_osc_ports)
        return [self.osc_port + k for k in range(len(self.voices))]

    def _hub_of(self, node: Node) -> Hub:
        return self.voices[node.voice - 1] if node.voice else self.hub

    def _split(self, address: str) -> tuple[int, str] | None:
        """(voice, plain address) of a voice path; None for a plain one; VoiceRefused
        for a voice path naming no voice. Without voices every address is plain."""
        if not self.voices:
            return None
        return split_voice(address, range(1, len(self.voices) + 1))

    def _voice_listener(self, n: int) -> Callable[[str, tuple], None]:
        """Hub listener of voice n (its engine thread, mostly): changes for the listeners
        of its voice paths, never blocking (as :meth:`_on_change`)."""
        prefix = voice_prefix(n)

        def on_change(address: str, values: tuple) -> None:
            full = prefix + address[5:] if address.startswith("/mrtd/") else address
            if full in self._listened:
                self._changes.put(full, values)
        return on_change

    def _encode(self, address: str, values: tuple | list) -> bytes:
        """A message for ``address`` with the schema's types; a voice path is encoded as
        its plain address and rewritten (the types come from the plain one)."""
        if self.voices and address.startswith(VOICE_ROOT + "/"):
            try:
                found = self._split(address)
            except VoiceRefused:
                found = None
            if found is not None:
                return voice_packet(osc_message(found[1], values), voice_prefix(found[0]))
        return osc_message(address, values)

    def node_json(self, node: Node, only: str | None = None) -> dict[str, Any]:
        """A node's attributes (all, recursively, or just ``only`` for ``?ATTR``)."""
        d: dict[str, Any] = {"FULL_PATH": node.path}
        p = node.param
        if node.children and only in (None, "CONTENTS"):
            d["CONTENTS"] = {k: self.node_json(c) for k, c in node.children.items()}
        if node.path == "/" and only in (None, "DESCRIPTION"):
            d["DESCRIPTION"] = f"{self.name}: Magenta RealTime 2 daemon (see docs/osc.md)"
        elif node.path == VOICE_ROOT and only in (None, "DESCRIPTION"):
            d["DESCRIPTION"] = (f"The {len(self.voices)} voices: {VOICE_ROOT}/<n>/... is voice n's namespace "
                                "(the plain /mrtd/... is voice 1)")
        elif node.param is None and node.voice and node.path == voice_prefix(node.voice) \
                and only in (None, "DESCRIPTION"):
            port = self.voice_ports()[node.voice - 1]
            d["DESCRIPTION"] = (f"Voice {node.voice}: the /mrtd namespace for this voice; also on its own "
                                f"OSC port {port} (UDP and TCP) with plain /mrtd/... addresses")
        if p is None:
            d["ACCESS"] = 0
            return d
        specs = type_specs(p)
        access = ACCESS[p.access] if p.args else (0 if p.access == "r" else 2)
        d["ACCESS"] = access
        d["DESCRIPTION"] = p.doc
        d["TAGS"] = [p.group]
        if specs:
            d["TYPE"] = "".join(a.osc_type for a in specs)
            if any(_range(a) is not None for a in specs):
                d["RANGE"] = [_range(a) for a in specs]
            if any(a.unit for a in specs):
                d["UNIT"] = [a.unit or None for a in specs]
            if access & 1 and only in (None, "VALUE"):
                d["VALUE"] = self.value_json(p, self._hub_of(node))
        return d

    def value_json(self, p: Param, hub: Hub | None = None) -> list[Any] | dict:
        """The current value (of ``hub``, default the main one) as a JSON array, ``{}``
        when there is none yet."""
        try:
            values = (hub or self.hub).value(p.address)
        except Exception:
            self._rlog.exception("value", "reading %s", p.address)
            values = None
        if values is None:
            return {}
        specs = arg_specs(p, len(values))
        return [json_value(specs[k] if k < len(specs) else None, v) for k, v in enumerate(values)]

    # ---- WebSocket -------------------------------------------------------------------------
    async def _websocket(self, request: web.BaseRequest) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=MAX_WS_MESSAGE, heartbeat=30.0, timeout=CLOSE_TIMEOUT_S)
        client = _Client(ws)
        client.sender = self._sender(request, client)
        self.clients.add(client)  # counted before the handshake's await: the cap holds under a burst
        try:
            await ws.prepare(request)
            _small_send_buffer(request)
            client.writer = asyncio.create_task(client.write())
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._command(client, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    self._apply(client, msg.data)
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            self.clients.discard(client)
            for path in list(client.listens):
                self._ignore(client, path)
            if client.writer is not None:
                client.writer.cancel()
        return ws

    def _sender(self, request: web.BaseRequest, client: _Client) -> Sender:
        """The hub's handle on this client: ``reply`` may be called from the generation
        thread, so it only hands the error to the loop (never blocks, never raises)."""
        loop = self._loop
        assert loop is not None

        def reply(address: str, reason: str) -> None:
            try:
                loop.call_soon_threadsafe(self._reply, client, address, reason)
            except RuntimeError:  # the loop is closed: shutting down
                pass

        return Sender(request.remote or "", reply, ("ws", id(client)), token_ok=self.ui.token_proved(request))

    def _voice_sender(self, client: _Client, n: int) -> Sender:
        """The client as voice n's hub sees it: apply-time errors come back in voice form."""
        sender = client.voice_senders.get(n)
        if sender is None:
            base = client.sender or Sender()
            loop = self._loop
            assert loop is not None

            def reply(address: str, reason: str) -> None:
                try:
                    loop.call_soon_threadsafe(self._reply, client, address, reason, n)
                except RuntimeError:  # the loop is closed: shutting down
                    pass

            sender = client.voice_senders[n] = Sender(base.host, reply, (*base.key, voice_prefix(n)),
                                                      token_ok=base.token_ok)
        return sender

    def _reply(self, client: _Client, address: str, reason: str, voice: int = 0) -> None:
        """An apply-time error for the client that sent the message (loop thread). A client
        that LISTENs to /mrtd/error (of that voice) gets it there already: once is enough."""
        prefix = voice_prefix(voice) if voice else "/mrtd"
        if client in self.clients and prefix + "/error" not in client.listens:
            client.offer(_in_voice(error_message(address, reason), voice))

    def _command(self, client: _Client, text: str) -> None:
        """LISTEN / IGNORE; anything else is answered with an ERROR text frame."""
        try:
            cmd = json.loads(text)
            command, path = cmd["COMMAND"], cmd["DATA"]
            if not isinstance(command, str) or not isinstance(path, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            client.offer(_error_text('expected {"COMMAND": "LISTEN"|"IGNORE", "DATA": "/path"}'))
            return
        if command == "LISTEN":
            if path not in self.nodes:
                client.offer(_error_text(f"no OSC node {path[:200]}"))
                return
            self._listen(client, path)
        elif command == "IGNORE":
            self._ignore(client, path)
        else:
            client.offer(_error_text(f"unknown COMMAND {command[:40]!r}"))

    def _apply(self, client: _Client, data: bytes) -> None:
        """Binary frame: OSC messages to apply through the hub, like any OSC sender's;
        a bundle's messages go to the hub together, so they land on one frame."""
        try:
            messages = decode_packet(data)
        except PacketError as e:
            client.offer(error_message(e.address, f"malformed OSC packet: {e}"))
            return
        for timetag, group in itertools.groupby(messages, key=lambda m: m.timetag):
            shares: dict[int, list[Message]] = {}  # 0: plain (voice 1), n: voice n in voice form
            for msg in group:
                try:
                    found = self._split(msg.address)
                except VoiceRefused as e:
                    if not msg.address.endswith("/error"):  # never answer an error with one
                        client.offer(error_message(msg.address, str(e)))
                    continue
                if found is None:
                    shares.setdefault(0, []).append(msg)
                else:
                    shares.setdefault(found[0], []).append(Message(found[1], msg.args, msg.timetag))
            for voice, share in shares.items():
                self._apply_share(client, timetag, share, voice)

    def _apply_share(self, client: _Client, timetag: int | None, group: list[Message], voice: int) -> None:
        """One bundle's messages for one voice (0: the plain addresses): answered here or
        applied together through that voice's hub; replies in that voice's form."""
        hub = self.voices[voice - 1] if voice else self.hub
        sender = self._voice_sender(client, voice) if voice else client.sender
        batch: list[Message] = []
        for msg in group:
            if msg.address in SERVED_HERE:
                self._serve(client, msg, voice)
            else:
                batch.append(msg)
        if not batch:
            return
        ahead = _seconds_ahead(timetag)
        if ahead > MAX_AHEAD_S:  # as the OSC server: nothing waits for hours in the engine
            for m in batch:
                client.offer(_in_voice(error_message(
                    m.address, f"time tag is {ahead:.1f} s ahead; at most {MAX_AHEAD_S:g} s"), voice))
            return
        try:
            results = hub.handle_many([(m.address, list(m.args)) for m in batch],
                                      self._frame_for(timetag, hub), sender=sender)
        except Exception as e:  # a bug must cost one packet, never the connection
            self._rlog.exception("internal", "applying %s from a websocket", batch[0].address)
            results = [e] * len(batch)
        for m, r in zip(batch, results):
            if isinstance(r, Exception) and m.address != "/mrtd/error":  # never answer an error with one
                reason = reason_for(r, m.address) if isinstance(r, UserError) \
                    else "internal error (see the daemon log)"
                client.offer(_in_voice(error_message(m.address, reason), voice))

    def _serve(self, client: _Client, msg: Message, voice: int = 0) -> None:
        """The messages answered here rather than by the hub (of ``voice``, in its form)."""
        address = msg.address
        hub = self.voices[voice - 1] if voice else self.hub
        try:
            if address == "/mrtd/ping":
                client.offer(_in_voice(osc_message("/mrtd/pong", ()), voice))
            elif address == "/mrtd/status":
                client.offer(_in_voice(status_message(hub.status()), voice))
            elif address == "/mrtd/get":
                client.offer(_in_voice(self._get(hub, list(msg.args)), voice))
            else:
                raise ControlError(address, "over the websocket, LISTEN to the addresses instead")
        except UserError as e:
            client.offer(_in_voice(error_message(address, reason_for(e, address)), voice))
        except Exception:  # a bug must not end the connection
            self._rlog.exception("internal", "serving %s to a websocket", address)
            client.offer(_in_voice(error_message(address, "internal error (see the daemon log)"), voice))

    def _frame_for(self, timetag: int | None, hub: Hub | None = None) -> int | None:
        """The frame a bundle's timetag asks for; None (the next frame) for "now"."""
        if timetag is None or timetag == IMMEDIATE:
            return None
        return (hub or self.hub).frame_for_time(ntp_to_unix(timetag))

    def _get(self, hub: Hub, args: list) -> bytes:
        """``/mrtd/get <address>``: the value, to go back to the client as if it had been set."""
        try:
            (target,) = NAMESPACE.check("/mrtd/get", args)
        except SchemaError as e:
            raise ControlError("/mrtd/get", f"{e}") from None
        p = NAMESPACE.get(target)
        value = hub.value(target) if p is not None and p.access in ("rw", "r") else None
        if value is None:
            raise ControlError("/mrtd/get", f"{target} has no value to read")
        return osc_message(target, value)

    # ---- change feed -----------------------------------------------------------------------
    def _listen(self, client: _Client, path: str) -> None:
        """Add a listener to one address's audience (cost: that audience, not every
        client's every listen: 500 clients joining must not be quadratic)."""
        if path in client.listens:
            return
        client.listens.add(path)
        audience = self._audience.get(path, ())
        self._audience[path] = (*audience, client)
        if not audience:
            self._listened = frozenset(self._audience)

    def _ignore(self, client: _Client, path: str) -> None:
        if path not in client.listens:
            return
        client.listens.discard(path)
        rest = tuple(c for c in self._audience.get(path, ()) if c is not client)
        if rest:
            self._audience[path] = rest
        else:
            self._audience.pop(path, None)
            self._listened = frozenset(self._audience)

    def _on_change(self, address: str, values: tuple) -> None:
        """Hub listener (engine thread, mostly): queue the change if someone listens
        (coalesced, never blocking: :class:`~mrtd.remote.changes.ChangeQueue`)."""
        if address in self._listened:
            self._changes.put(address, values)

    def _flush(self, items: list[tuple[str, tuple]], dropped: int) -> None:
        if dropped:
            self._rlog.warning("fb-dropped", "OSCQuery: %d events dropped: the loop fell behind", dropped)
        for address, values in items:
            self._fan_out(address, values)

    def _fan_out(self, address: str, values: tuple) -> None:
        """Encode once, offer to each listener (O(1) each, whether it reads or not)."""
        clients = self._audience.get(address)
        if not clients:
            return
        try:
            data = self._encode(address, values)
        except Exception:
            self._rlog.exception("encode", "cannot encode %s %r", address, values)
            return
        for c in clients:
            c.offer(data)

    async def _poll(self) -> None:
        """Stream the per-frame values (meters, frame) at a steady rate to their listeners."""
        while True:
            await asyncio.sleep(POLL_S)
            for prefix, hub in self._polled_hubs():
                for plain in POLLED:
                    address = prefix + plain[5:]
                    if address in self._listened:
                        try:
                            value = hub.value(plain)
                        except Exception:
                            self._rlog.exception("poll", "reading %s", address)
                            continue
                        if value is not None:
                            self._fan_out(address, value)

    def _polled_hubs(self) -> list[tuple[str, Hub]]:
        """(address prefix, hub) of the plain tree and of each voice path."""
        return [("/mrtd", self.hub)] + [(voice_prefix(n), h) for n, h in enumerate(self.voices, 1)]

    # ---- zeroconf --------------------------------------------------------------------------
    async def _advertise(self, service_info: Any, async_zeroconf: Any) -> None:
        ip = self.host if self.host not in WILDCARD_HOSTS else socket.gethostbyname(socket.gethostname())
        info = service_info(
            "_oscjson._tcp.local.", f"{self.name}._oscjson._tcp.local.",
            addresses=[socket.inet_pton(socket.AF_INET6 if ":" in ip else socket.AF_INET, ip)],
            port=self.port, properties={}, server=f"{socket.gethostname()}.local.")
        self._zc = async_zeroconf()
        await self._zc.async_register_service(info)


def _small_send_buffer(request: web.BaseRequest) -> None:
    """Cap the kernel's send buffer of a websocket: feedback is a few kB/s, and a client
    that stops reading then blocks its writer within seconds (after which new messages
    only replace old ones in its queue) instead of costing a send() per message while
    megabytes of autotuned buffer fill."""
    sock = request.transport.get_extra_info("socket") if request.transport is not None else None
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, WS_SEND_BUFFER)
        except OSError:
            pass


def _import_zeroconf() -> tuple[Any, Any]:
    """(ServiceInfo, AsyncZeroconf) from the optional zeroconf package, or a UserError."""
    try:
        from zeroconf import ServiceInfo
        from zeroconf.asyncio import AsyncZeroconf
    except ImportError:
        raise UserError("OSCQuery zeroconf advertisement needs the zeroconf package "
                        "(pip install zeroconf), or leave advertisement off") from None
    return ServiceInfo, AsyncZeroconf


def _json(obj: Any) -> web.Response:
    return web.Response(text=json.dumps(obj, allow_nan=False), content_type="application/json")


def _error_text(reason: str) -> str:
    return json.dumps({"COMMAND": "ERROR", "DATA": reason})


def _in_voice(packet: bytes, voice: int) -> bytes:
    """A reply in voice ``voice``'s form (0: plain, as it is)."""
    return voice_packet(packet, voice_prefix(voice)) if voice else packet


def _seconds_ahead(timetag: int | None) -> float:
    """How far in the future a bundle's time tag lies (0 for "now" and for the past)."""
    if timetag is None or timetag <= IMMEDIATE:
        return 0.0
    return max(0.0, ntp_to_unix(timetag) - time.time())



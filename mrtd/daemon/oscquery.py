"""OSCQuery: the OSC namespace over HTTP + WebSocket, generated from the schema.

Controllers that speak OSCQuery (ossia score and ossia-max, Chataigne, VDMX) browse
the daemon's address space instead of being configured by hand. Everything comes from
:data:`NAMESPACE`; the current values come from :meth:`Hub.value`.

HTTP (GET only): ``/path`` is a node's JSON, ``/path?ATTR`` one attribute, ``?HOST_INFO``
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
apply; a refusal comes back as a binary ``/mrtd/error <address> <reason>``. ``/mrtd/meters``
and ``/mrtd/frame`` change every frame, so their listeners get them at 10 Hz. A
websocket opened by a web page from another origin is refused (403). Each client
has a bounded send queue: a slow client loses its oldest queued messages, it never
stalls the loop. Listens end with the connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web
from yarl import URL

from mrtd.daemon.osc_packet import IMMEDIATE, PacketError, decode_packet, encode_message, ntp_to_unix
from mrtd.errors import UserError
from mrtd.osc_schema import NAMESPACE, Arg, Param, SchemaError

if TYPE_CHECKING:
    from mrtd.daemon.hub import Hub

log = logging.getLogger("mrtd.oscquery")

ACCESS = {"rw": 3, "r": 1, "w": 2, "event": 2}
ATTRIBUTES = ("FULL_PATH", "CONTENTS", "TYPE", "ACCESS", "VALUE", "RANGE", "DESCRIPTION", "UNIT", "TAGS")
EXTENSIONS = {
    "ACCESS": True, "VALUE": True, "RANGE": True, "DESCRIPTION": True, "TAGS": True, "UNIT": True,
    "LISTEN": True, "CLIPMODE": False, "PATH_CHANGED": False, "PATH_RENAMED": False,
    "PATH_ADDED": False, "PATH_REMOVED": False, "EXTENDED_TYPE": False, "CRITICAL": False,
    "OVERLOADS": False, "HTML": False,
}
POLLED = ("/mrtd/meters", "/mrtd/frame")  # change every frame: streamed at POLL_S, not per change
POLL_S = 0.1
SEND_QUEUE = 256  # messages queued per websocket client before the oldest are dropped
MAX_WS_MESSAGE = 256 * 1024
CLOSE_TIMEOUT_S = 2.0  # a client that does not answer our close frame is dropped after this
MAX_QUERY = 64
WILDCARD_HOSTS = ("", "0.0.0.0", "::")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")


# --------------------------------------------------------------------------- the tree


@dataclass
class Node:
    """One OSC path: a container (children), a method (param), or both (``/mrtd/seed``)."""

    path: str
    param: Param | None = None
    children: dict[str, Node] = field(default_factory=dict)


def build_tree(ns=NAMESPACE) -> dict[str, Node]:
    """Every path of the namespace, containers included, by path ("/" is the root)."""
    nodes = {"/": Node("/")}
    for p in ns:
        parent = nodes["/"]
        parts = p.address.strip("/").split("/")
        for depth, name in enumerate(parts, 1):
            path = "/" + "/".join(parts[:depth])
            node = nodes.get(path)
            if node is None:
                node = nodes[path] = Node(path)
                parent.children[name] = node
            parent = node
        parent.param = p
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


def error_message(address: str, reason: str) -> bytes:
    return encode_message("/mrtd/error", (address, reason[:1000]), "ss")


# --------------------------------------------------------------------------- websocket clients


class _Client:
    """One websocket connection: what it listens to and its bounded send queue."""

    def __init__(self, ws: web.WebSocketResponse):
        self.ws = ws
        self.listens: set[str] = set()
        self.queue: asyncio.Queue[bytes | str] = asyncio.Queue(SEND_QUEUE)
        self.dropped = 0
        self.writer: asyncio.Task | None = None

    def offer(self, item: bytes | str) -> None:
        """Queue without waiting; when full, the oldest item goes (the newest state wins)."""
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(item)

    async def write(self) -> None:
        try:
            while True:
                item = await self.queue.get()
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
                 name: str = "mrtd", zeroconf: bool = False, osc_ip: str | None = None):
        self.hub = hub
        self.host, self._port, self.osc_port, self.name = host, port, osc_port, name
        self.osc_ip = osc_ip if osc_ip is not None else host
        self.zeroconf = zeroconf
        self.nodes = build_tree()
        self.clients: set[_Client] = set()
        self._listened: frozenset[str] = frozenset()  # read by the engine thread
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._sock: socket.socket | None = None
        self._poller: asyncio.Task | None = None
        self._zc: Any = None

    # ---- life cycle ------------------------------------------------------------------------
    async def start(self) -> None:
        """Bind and serve; raises UserError when the port is taken or zeroconf is missing."""
        zc = _import_zeroconf() if self.zeroconf else None
        self._loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        try:
            self._sock = socket.create_server((self.host, self._port), family=family)
        except OSError as e:
            raise UserError(f"OSCQuery: cannot listen on {self.host}:{self._port} ({e.strerror})") from None
        app = web.Application(client_max_size=4096)  # GET only: no bodies worth reading
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.SockSite(self._runner, self._sock).start()
        self._port = self._sock.getsockname()[1]
        self.hub.add_listener(self._on_change)
        self._poller = asyncio.create_task(self._poll())
        if zc is not None:
            try:
                await self._advertise(*zc)
            except Exception as e:  # no multicast here: serve anyway, say why it is not advertised
                log.warning("OSCQuery zeroconf advertisement failed: %s", e)
        log.info("OSCQuery on http://%s:%d/", self.host, self.port)

    async def stop(self) -> None:
        self.hub.remove_listener(self._on_change)
        if self._poller is not None:
            self._poller.cancel()
        if self._zc is not None:
            await self._zc.async_unregister_all_services()
            await self._zc.async_close()
            self._zc = None
        await asyncio.gather(*(c.ws.close() for c in list(self.clients)), return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def port(self) -> int:
        """The bound port (the one asked for before start())."""
        return self._port

    # ---- HTTP ------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket" and request.method == "GET":
            if not self._origin_ok(request.headers.get("Origin")):
                return web.Response(status=403, text="websocket from a foreign web page refused\n")
            return await self._websocket(request)
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
        return info

    def node_json(self, node: Node, only: str | None = None) -> dict[str, Any]:
        """A node's attributes (all, recursively, or just ``only`` for ``?ATTR``)."""
        d: dict[str, Any] = {"FULL_PATH": node.path}
        p = node.param
        if node.children and only in (None, "CONTENTS"):
            d["CONTENTS"] = {k: self.node_json(c) for k, c in node.children.items()}
        if node.path == "/" and only in (None, "DESCRIPTION"):
            d["DESCRIPTION"] = f"{self.name}: Magenta RealTime 2 daemon (see docs/osc.md)"
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
                d["VALUE"] = self.value_json(p)
        return d

    def value_json(self, p: Param) -> list[Any] | dict:
        """The current value as a JSON array, ``{}`` when there is none yet."""
        try:
            values = self.hub.value(p.address)
        except Exception:
            log.exception("reading %s", p.address)
            values = None
        if values is None:
            return {}
        specs = arg_specs(p, len(values))
        return [json_value(specs[k] if k < len(specs) else None, v) for k, v in enumerate(values)]

    # ---- WebSocket -------------------------------------------------------------------------
    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=MAX_WS_MESSAGE, heartbeat=30.0, timeout=CLOSE_TIMEOUT_S)
        await ws.prepare(request)
        client = _Client(ws)
        client.writer = asyncio.create_task(client.write())
        self.clients.add(client)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._command(client, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    self._apply(client, msg.data)
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            self.clients.discard(client)
            self._update_listened()
            client.writer.cancel()
        return ws

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
            client.listens.add(path)
        elif command == "IGNORE":
            client.listens.discard(path)
        else:
            client.offer(_error_text(f"unknown COMMAND {command[:40]!r}"))
            return
        self._update_listened()

    def _apply(self, client: _Client, data: bytes) -> None:
        """Binary frame: OSC messages to apply through the hub, like any OSC sender's."""
        try:
            messages = decode_packet(data)
        except PacketError as e:
            client.offer(error_message(e.address, f"malformed OSC packet: {e}"))
            return
        for msg in messages:
            address, args = msg.address, list(msg.args)
            try:
                if address == "/mrtd/ping":
                    client.offer(osc_message("/mrtd/pong", ()))
                elif address == "/mrtd/get":
                    self._get(client, args)
                elif address in ("/mrtd/subscribe", "/mrtd/unsubscribe"):
                    raise UserError(f"{address}: over the websocket, LISTEN to the addresses instead")
                else:
                    self.hub.handle(address, args, frame=self._frame_for(msg.timetag))
            except UserError as e:
                if address != "/mrtd/error":  # never answer an error with an error
                    client.offer(error_message(address, _reason(address, str(e))))
            except Exception:  # a bug must not end the connection
                log.exception("applying %s from a websocket", address)
                client.offer(error_message(address, "internal error (see the daemon log)"))

    def _frame_for(self, timetag: int | None) -> int | None:
        """The frame a bundle's timetag asks for; None (the next frame) for "now"."""
        if timetag is None or timetag == IMMEDIATE:
            return None
        return self.hub.frame_for_time(ntp_to_unix(timetag))

    def _get(self, client: _Client, args: list) -> None:
        """``/mrtd/get <address>``: the value comes back to this client as if it had been set."""
        try:
            (target,) = NAMESPACE.check("/mrtd/get", args)
        except SchemaError as e:
            raise UserError(f"/mrtd/get: {e}") from None
        p = NAMESPACE.get(target)
        value = self.hub.value(target) if p is not None and p.access in ("rw", "r") else None
        if value is None:
            raise UserError(f"/mrtd/get: {target} has no value to read")
        client.offer(osc_message(target, value))

    # ---- change feed -----------------------------------------------------------------------
    def _update_listened(self) -> None:
        self._listened = frozenset(a for c in self.clients for a in c.listens)

    def _on_change(self, address: str, values: tuple) -> None:
        """Hub listener (engine thread): hop onto the loop only if someone listens."""
        if address in self._listened and self._loop is not None:
            try:
                self._loop.call_soon_threadsafe(self._fan_out, address, values)
            except RuntimeError:  # the loop is closed: shutting down
                pass

    def _fan_out(self, address: str, values: tuple) -> None:
        try:
            data = osc_message(address, values)
        except Exception:
            log.exception("cannot encode %s %r", address, values)
            return
        for c in self.clients:
            if address in c.listens:
                c.offer(data)

    async def _poll(self) -> None:
        """Stream the per-frame values (meters, frame) at a steady rate to their listeners."""
        while True:
            await asyncio.sleep(POLL_S)
            for address in POLLED:
                if address in self._listened:
                    try:
                        value = self.hub.value(address)
                    except Exception:
                        log.exception("reading %s", address)
                        continue
                    if value is not None:
                        self._fan_out(address, value)

    # ---- zeroconf --------------------------------------------------------------------------
    async def _advertise(self, service_info: Any, async_zeroconf: Any) -> None:
        ip = self.host if self.host not in WILDCARD_HOSTS else socket.gethostbyname(socket.gethostname())
        info = service_info(
            "_oscjson._tcp.local.", f"{self.name}._oscjson._tcp.local.",
            addresses=[socket.inet_pton(socket.AF_INET6 if ":" in ip else socket.AF_INET, ip)],
            port=self.port, properties={}, server=f"{socket.gethostname()}.local.")
        self._zc = async_zeroconf()
        await self._zc.async_register_service(info)


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


def _reason(address: str, text: str) -> str:
    """A UserError's text without the leading address (the reply carries it already)."""
    for prefix in (address + ": ", address + " "):
        if text.startswith(prefix):
            return text[len(prefix):]
    return text

"""OSCQuery against a live in-process daemon: the demo engine, the hub, the daemon's loop
thread, and aiohttp's client as the OSCQuery peer (python-osc decodes the OSC frames)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import re
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiohttp import ClientSession, WSMsgType, WSServerHandshakeError
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder
from support.oscquery import run, running_oscquery
from yarl import URL

from mrtd.controls.banks import bank_name
from mrtd.errors import UserError
from mrtd.osc_schema import NAMESPACE
from mrtd.remote.hub import Hub
from mrtd.remote.loop import LoopThread
from mrtd.remote.osc.packet import IMMEDIATE, encode_bundle
from mrtd.remote.oscquery import _FLOODS, SEND_QUEUE, OscQueryServer, _Client

OSC_PORT = 9123
TIMEOUT = 3.0


class Daemon:
    """The pieces a test talks to: the hub (another OSC sender) and the OSCQuery server."""

    def __init__(self, hub: Hub, server: OscQueryServer, loop: LoopThread):
        self.hub, self.server, self.loop = hub, server, loop
        self.url = f"http://127.0.0.1:{server.port}"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    with running_oscquery(tmp_path_factory.mktemp("banks"), osc_port=OSC_PORT) as r:
        yield Daemon(r.hub, r.server, r.loop)


def get(d: Daemon, path: str, method: str = "GET") -> tuple[int, Any, str]:
    async def go(s: ClientSession) -> tuple[int, Any, str]:
        async with s.request(method, URL(d.url + path, encoded=True)) as r:
            body = await r.read()
            data = json.loads(body) if r.content_type == "application/json" else body
            return r.status, data, r.content_type

    return run(go)


def wait_for(cond: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def osc(address: str, *args: Any) -> bytes:
    b = OscMessageBuilder(address)
    for a in args:
        b.add_arg(a)
    return b.build().dgram


# --------------------------------------------------------------------------- HTTP


def test_host_info(daemon):
    status, info, ctype = get(daemon, "/?HOST_INFO")
    assert status == 200 and ctype == "application/json"
    assert info["NAME"] == "mrtd" and info["OSC_PORT"] == OSC_PORT and info["OSC_TRANSPORT"] == "UDP"
    assert info["OSC_IP"] == "127.0.0.1" and info["WS_PORT"] == daemon.server.port
    ext = info["EXTENSIONS"]
    assert ext["LISTEN"] and ext["VALUE"] and ext["RANGE"] and ext["ACCESS"] and ext["DESCRIPTION"]
    assert ext["CLIPMODE"] is False and ext["PATH_CHANGED"] is False
    assert get(daemon, "/mrtd/temperature?HOST_INFO")[1] == info  # the path is ignored


def test_tree_holds_every_address_at_its_place(daemon):
    status, root, _ = get(daemon, "/")
    assert status == 200 and root["FULL_PATH"] == "/"
    for p in NAMESPACE:
        node = root
        for name in p.address.strip("/").split("/"):
            node = node["CONTENTS"][name]
        assert node["FULL_PATH"] == p.address
        assert node["DESCRIPTION"] == p.doc
        assert ("TYPE" in node) == bool(p.args), p.address
    seed = root["CONTENTS"]["mrtd"]["CONTENTS"]["seed"]  # a method that is also a container
    assert seed["TYPE"] == "i" and seed["CONTENTS"]["rotation"]["FULL_PATH"] == "/mrtd/seed/rotation"


@pytest.mark.parametrize("address, type_, access, range_, value", [
    ("/mrtd/temperature", "f", 3, [{"MIN": 0.0, "MAX": 4.0}], [1.3]),
    ("/mrtd/topk", "i", 3, [{"MIN": 1, "MAX": 1024}], [40]),
    ("/mrtd/mute", "i", 3, [{"MIN": 0, "MAX": 1}], [0]),
    ("/mrtd/drums", "s", 3, [{"VALS": ["auto", "off", "on"]}], ["auto"]),
    ("/mrtd/notes/frame", "i" * 128, 3, [{"MIN": -1, "MAX": 3}] * 128, [-1] * 128),
    ("/mrtd/prompt/3/tokens", "i" * 12, 2, [{"MIN": 0, "MAX": 1023}] * 12, None),
    ("/mrtd/notes/list", "ii", 2, [{"MIN": -1, "MAX": 3}, {"MIN": 0, "MAX": 127}], None),
    ("/mrtd/prompt/weights", "f" * 8, 3, [{"MIN": 0.0, "MAX": 1.0}] * 8, [1.0] + [0.0] * 7),
    ("/mrtd/fx/reverb/mix", "f", 3, [{"MIN": 0.0, "MAX": 1.0}], [0.25]),
])
def test_method_attributes(daemon, address, type_, access, range_, value):
    status, node, _ = get(daemon, address)
    assert status == 200
    assert node["FULL_PATH"] == address and node["TYPE"] == type_ and node["ACCESS"] == access
    assert node["RANGE"] == range_ and node["DESCRIPTION"] == NAMESPACE[address].doc
    if value is None:
        assert "VALUE" not in node
        assert get(daemon, address + "?VALUE")[0] == 204
    else:
        assert node["VALUE"] == pytest.approx(value) if type_[0] == "f" else node["VALUE"] == value
        assert get(daemon, address + "?VALUE")[1] == {"VALUE": node["VALUE"]}
    assert get(daemon, address + "?TYPE")[1] == {"TYPE": type_}


def test_unit_events_and_read_only(daemon):
    assert get(daemon, "/mrtd/volume?UNIT")[1] == {"UNIT": ["dB"]}
    assert get(daemon, "/mrtd/temperature?UNIT")[0] == 204  # no unit
    _, reset, _ = get(daemon, "/mrtd/reset")  # an event without arguments, and a container
    assert reset["ACCESS"] == 2 and "TYPE" not in reset and "fade_ms" in reset["CONTENTS"]
    _, frame, _ = get(daemon, "/mrtd/frame")
    assert frame["ACCESS"] == 1 and frame["VALUE"][0] >= 0


def test_error_codes(daemon):
    assert get(daemon, "/mrtd/nope")[0] == 404
    assert get(daemon, "/mrtd/../mrtd/topk")[0] == 404  # sent as is: no such node
    assert get(daemon, "/mrtd/temperature?NONSENSE")[0] == 400
    assert get(daemon, "/mrtd/temperature?" + "A" * 5000)[0] == 400
    assert get(daemon, "/mrtd/note/on?VALUE")[0] == 204  # an event has no value
    assert get(daemon, "/mrtd/temperature", "POST")[0] == 405
    assert get(daemon, "/mrtd/%74opk?TYPE")[1] == {"TYPE": "i"}  # percent-encoding decoded
    assert get(daemon, "/mrtd/topk/?TYPE")[1] == {"TYPE": "i"}
    assert get(daemon, "/" + "x/" * 6000)[0] >= 400  # too long for the request line
    assert get(daemon, "/?HOST_INFO")[0] == 200  # and the server is still fine


def test_value_follows_a_change_from_another_sender(daemon):
    daemon.hub.handle("/mrtd/guidance/notes", [2.4])
    wait_for(lambda: get(daemon, "/mrtd/guidance/notes?VALUE")[1]["VALUE"] == pytest.approx([2.4]))


# --------------------------------------------------------------------------- WebSocket


async def _barrier(ws) -> dict:
    """Bad JSON: the server answers with an ERROR text frame, after everything sent before."""
    await ws.send_str("{not json")
    msg = await ws.receive(timeout=TIMEOUT)
    assert msg.type == WSMsgType.TEXT
    return json.loads(msg.data)


async def _next_osc(ws) -> OscMessage:
    msg = await ws.receive(timeout=TIMEOUT)
    assert msg.type == WSMsgType.BINARY, msg
    return OscMessage(msg.data)


def test_listen_streams_changes_and_ignore_stops_them(daemon):
    hub = daemon.hub

    async def go(s: ClientSession) -> None:
        async with s.ws_connect(daemon.url + "/mrtd/guidance/drums") as ws:
            await ws.send_str(json.dumps({"COMMAND": "LISTEN", "DATA": "/mrtd/guidance/drums"}))
            err = await _barrier(ws)  # bad JSON survives, and the LISTEN is in place
            assert err["COMMAND"] == "ERROR"
            hub.handle("/mrtd/guidance/drums", [4.0])
            m = await _next_osc(ws)
            assert m.address == "/mrtd/guidance/drums" and m.params == [4.0]
            await ws.send_str(json.dumps({"COMMAND": "IGNORE", "DATA": "/mrtd/guidance/drums"}))
            await _barrier(ws)
            hub.handle("/mrtd/guidance/drums", [5.0])
            while hub.value("/mrtd/guidance/drums") != (5.0,):
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)
            await ws.send_str(json.dumps({"COMMAND": "SING", "DATA": "/"}))  # unknown command
            msg = await ws.receive(timeout=TIMEOUT)
            assert msg.type == WSMsgType.TEXT and "SING" in json.loads(msg.data)["DATA"]

    run(go)


def test_osc_frames_from_the_client_are_applied(daemon):
    hub = daemon.hub

    async def go(s: ClientSession) -> None:
        async with s.ws_connect(daemon.url + "/") as ws:
            await ws.send_str(json.dumps({"COMMAND": "LISTEN", "DATA": "/mrtd/style/levels"}))
            await _barrier(ws)
            await ws.send_bytes(osc("/mrtd/style/levels", 6))
            m = await _next_osc(ws)  # its own change, streamed back like any other
            assert m.address == "/mrtd/style/levels" and m.params == [6]
            assert hub.value("/mrtd/style/levels") == (6,)
            await ws.send_bytes(osc("/mrtd/style/levels", 99))
            m = await _next_osc(ws)
            assert m.address == "/mrtd/error" and m.params[0] == "/mrtd/style/levels"
            assert "out of range" in m.params[1]
            await ws.send_bytes(encode_bundle(IMMEDIATE, [osc("/mrtd/seed/rotation", 7), osc("/mrtd/topk", 41)]))
            await ws.send_bytes(osc("/mrtd/ping"))
            assert (await _next_osc(ws)).address == "/mrtd/pong"
            while hub.value("/mrtd/topk") != (41,):  # applied at the next frame
                await asyncio.sleep(0.01)
            await ws.send_bytes(osc("/mrtd/get", "/mrtd/topk"))
            m = await _next_osc(ws)
            assert m.address == "/mrtd/topk" and m.params == [41]
            await ws.send_bytes(b"\x00garbage")
            m = await _next_osc(ws)
            assert m.address == "/mrtd/error" and "malformed" in m.params[1]
        assert hub.value("/mrtd/seed/rotation") == (7,)

    run(go)


def test_disconnect_ends_listens_without_leaks(daemon):
    hub, server = daemon.hub, daemon.server
    listeners = len(hub._listeners)

    async def go(s: ClientSession) -> None:
        async with s.ws_connect(daemon.url + "/") as ws:
            await ws.send_str(json.dumps({"COMMAND": "LISTEN", "DATA": "/mrtd/temperature"}))
            await _barrier(ws)
            assert "/mrtd/temperature" in server._listened

    run(go)
    wait_for(lambda: not server.clients)
    assert server._listened == frozenset() and len(hub._listeners) == listeners


def test_a_slow_client_loses_its_oldest_messages():
    c = _Client(None)  # type: ignore[arg-type]
    for k in range(SEND_QUEUE + 5):
        c.offer(str(k))
    assert c.dropped == 5 and len(c.queue) == SEND_QUEUE and c.queue.popleft() == "5"


def test_zeroconf_missing_is_a_clear_error(daemon):
    if importlib.util.find_spec("zeroconf") is not None:
        pytest.skip("zeroconf is installed")
    server = OscQueryServer(daemon.hub, osc_port=OSC_PORT, zeroconf=True)
    with pytest.raises(UserError, match="pip install zeroconf"):
        daemon.loop.run(server.start())


def test_websocket_from_a_foreign_web_page_is_refused(daemon):
    async def go(s: ClientSession) -> list[int]:
        codes = []
        for origin in ("http://evil.example", "http://localhost:8080"):
            try:
                async with s.ws_connect(daemon.url + "/", headers={"Origin": origin}):
                    codes.append(101)
            except WSServerHandshakeError as e:
                codes.append(e.status)
        return codes

    assert run(go) == [403, 101]


def test_an_apply_time_error_goes_back_to_its_websocket(daemon):
    """A bank that exists but is damaged is only found out when the load is applied
    (off the frame's thread): the error still reaches the websocket that asked."""
    assert daemon.hub.engine.bank_dir is not None
    (daemon.hub.engine.bank_dir / bank_name(7)).write_bytes(b"not a bank" * 10)

    async def go(s: ClientSession) -> OscMessage:
        async with s.ws_connect(daemon.url + "/") as ws:  # listens to nothing
            await ws.send_bytes(osc("/mrtd/bank/load", 7))
            return await _next_osc(ws)

    m = run(go)
    assert m.address == "/mrtd/error" and m.params[0] == "/mrtd/bank/load" and "bank 7" in m.params[1]


def test_sender_reply_from_another_thread_reaches_the_websocket(daemon, monkeypatch):
    seen: list = []
    handle_many = daemon.hub.handle_many

    def spy(messages, frame=None, sender=None):
        seen.append(sender)
        return handle_many(messages, frame, sender=sender)

    monkeypatch.setattr(daemon.hub, "handle_many", spy)

    async def go(s: ClientSession) -> OscMessage:
        async with s.ws_connect(daemon.url + "/") as ws:
            await ws.send_bytes(osc("/mrtd/topk", 40))
            while not seen:
                await asyncio.sleep(0.01)
            sender = seen[-1]
            assert sender.host == "127.0.0.1" and sender.key[0] == "ws" and sender.local
            t = threading.Thread(target=sender.reply, args=("/mrtd/prefill/audio", "no encoder loaded"))
            t.start()
            t.join()
            return await _next_osc(ws)

    m = run(go)
    assert m.address == "/mrtd/error" and m.params == ["/mrtd/prefill/audio", "no encoder loaded"]


def test_a_burst_of_changes_is_coalesced_per_address(daemon):
    """Many changes between two turns of the loop: one message per address, the latest."""
    server = daemon.server

    async def go(s: ClientSession) -> list[OscMessage]:
        async with s.ws_connect(daemon.url + "/") as ws:
            await ws.send_str(json.dumps({"COMMAND": "LISTEN", "DATA": "/mrtd/temperature"}))
            await _barrier(ws)
            burst = threading.Thread(target=lambda: [server._on_change("/mrtd/temperature", (k / 100,))
                                                      for k in range(1, 201)])
            daemon.loop.call(burst.start)  # the whole burst while the loop is busy: one flush
            got = [await _next_osc(ws)]
            await asyncio.sleep(0.2)
            while True:
                try:
                    got.append(OscMessage((await ws.receive(timeout=0.2)).data))
                except asyncio.TimeoutError:
                    return got

    got = run(go)
    assert got[-1].params == [pytest.approx(2.0)] and len(got) < 50


# --------------------------------------------------------------------------- bounded connections


@pytest.fixture
def serve(daemon) -> Iterator[Callable[..., OscQueryServer]]:
    """Factory: an extra OSCQuery server on the daemon's loop with its own limits."""
    servers: list[OscQueryServer] = []

    def make(**kw: Any) -> OscQueryServer:
        server = OscQueryServer(daemon.hub, osc_port=OSC_PORT, **kw)
        daemon.loop.run(server.start())
        servers.append(server)
        return server

    yield make
    for server in servers:
        daemon.loop.run(server.stop())


def on_loop(d: Daemon, fn: Callable[[], Any]) -> Any:
    """Call ``fn`` on the daemon's loop (the servers' state is the loop's)."""
    async def call() -> Any:
        return fn()

    return d.loop.run(call())


def slow_client(port: int) -> socket.socket:
    """A slowloris connection: headers started, never finished."""
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    return s


UPGRADE = "Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"


def raw_get(port: int, path: str = "/?HOST_INFO", timeout: float = 2.0, headers: str = "") -> tuple[int, bytes]:
    """One request on a fresh connection; (status, whole answer)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1]), data


def closed_by_server(socks: list[socket.socket], timeout: float) -> set[socket.socket]:
    """The sockets the server closed (EOF or reset) within ``timeout``."""
    closed: set[socket.socket] = set()
    end = time.monotonic() + timeout
    while len(closed) < len(socks) and (left := end - time.monotonic()) > 0:
        ready, _, _ = select.select([s for s in socks if s not in closed], [], [], left)
        for s in ready:
            try:
                if s.recv(4096) == b"":
                    closed.add(s)
            except OSError:
                closed.add(s)
    return closed


def test_slowloris_beyond_the_cap_does_not_lock_out_a_client(daemon, serve):
    server = serve(max_connections=8)
    socks = [slow_client(server.port) for _ in range(40)]
    try:
        t0 = time.monotonic()
        status, body = raw_get(server.port)
        assert status == 200 and b"OSC_PORT" in body and time.monotonic() - t0 < 2.0
        assert sum(on_loop(daemon, server.connections).values()) <= 8
        assert len(closed_by_server(socks, 1.0)) >= 40 - 8  # the oldest idle ones made room
    finally:
        for s in socks:
            s.close()


def test_incomplete_headers_and_idle_keepalive_are_closed(serve):
    server = serve(header_timeout=0.5, idle_timeout=1.0)
    slow = slow_client(server.port)
    idle = socket.create_connection(("127.0.0.1", server.port), timeout=2)
    try:
        t0 = time.monotonic()
        idle.sendall(b"GET /?HOST_INFO HTTP/1.1\r\nHost: x\r\n\r\n")  # keep-alive
        answer = idle.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200")
        t_answer = time.monotonic()
        assert closed_by_server([slow], 5.0) == {slow}
        t_slow = time.monotonic() - t0
        assert 0.4 < t_slow < 3.0, t_slow  # the header timeout, give or take a sweep (and a busy CI)
        assert closed_by_server([idle], 5.0) == {idle}
        t_idle = time.monotonic() - t_answer
        assert 0.9 < t_idle < 3.5, t_idle
    finally:
        slow.close()
        idle.close()


def test_websocket_cap_refuses_with_503_and_admits_again(daemon, serve):
    server = serve(max_websockets=2)
    url = f"http://127.0.0.1:{server.port}/"

    async def go(s: ClientSession) -> None:
        a = await s.ws_connect(url)
        b = await s.ws_connect(url)
        with pytest.raises(WSServerHandshakeError) as refused:
            await s.ws_connect(url)
        assert refused.value.status == 503
        status, body = await asyncio.to_thread(raw_get, server.port, "/", 2.0, UPGRADE)
        assert status == 503 and b"too many websocket clients (at most 2)" in body
        await a.close()
        while len(server.clients) >= 2:
            await asyncio.sleep(0.01)
        c = await s.ws_connect(url)
        await c.send_bytes(osc("/mrtd/ping"))
        assert (await _next_osc(c)).address == "/mrtd/pong"
        await b.close()
        await c.close()

    run(go)
    status, body = raw_get(server.port)  # plain HTTP is not counted against websockets
    assert status == 200


def test_when_every_connection_is_a_websocket_a_new_one_is_refused(daemon, serve):
    server = serve(max_connections=3, max_websockets=3)
    url = f"http://127.0.0.1:{server.port}/"

    async def go(s: ClientSession) -> None:
        socks = [await s.ws_connect(url) for _ in range(3)]
        status, body = await asyncio.to_thread(raw_get, server.port)
        assert status == 503 and body.endswith(b"too many connections\n")
        await socks[0].close()
        while len(server.clients) >= 3:
            await asyncio.sleep(0.01)
        for _ in range(100):  # the closed websocket's connection goes a moment later
            status, _ = await asyncio.to_thread(raw_get, server.port)
            if status == 200:
                break
            await asyncio.sleep(0.02)
        assert status == 200
        for ws in socks[1:]:
            await ws.close()

    run(go)


def _flood_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING
            and (r.name.startswith("mrtd.oscquery") or r.name.startswith("aiohttp") or r.name == "asyncio")]


def _represented(records: list[logging.LogRecord]) -> int:
    """How many events the bounded lines stand for (each line: itself plus those it counts)."""
    total = 0
    for r in records:
        text = r.getMessage()
        if m := re.match(r"(\d+) more like this", text):
            total += int(m.group(1))
        else:
            m = re.search(r"\(and (\d+) more like it\)", text)
            total += 1 + (int(m.group(1)) if m else 0)
    return total


def test_malformed_requests_make_a_few_log_lines(daemon, serve, caplog, monkeypatch):
    server = serve()
    monkeypatch.setattr(_FLOODS, "interval", 1.0)
    monkeypatch.setattr(_FLOODS, "_last", {})
    monkeypatch.setattr(_FLOODS, "_held", {})
    caplog.set_level(logging.WARNING)
    n = 2000

    async def flood() -> list[bytes]:
        gate = asyncio.Semaphore(32)

        async def one() -> bytes:
            async with gate:
                r, w = await asyncio.open_connection("127.0.0.1", server.port)
                w.write(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
                answer = await r.read()
                w.close()
                return answer

        return await asyncio.gather(*(one() for _ in range(n)))

    answers = asyncio.run(flood())
    assert all(a.split(b" ", 2)[1] == b"400" for a in answers)
    wait_for(lambda: _represented(_flood_lines(caplog)) >= n, timeout=5.0)  # the held-back count comes last
    lines = _flood_lines(caplog)
    assert _represented(lines) == n and len(lines) <= 8, [r.getMessage() for r in lines]
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in lines)
    assert "Bad Header" in lines[0].getMessage() or "400" in lines[0].getMessage()
    assert raw_get(server.port)[0] == 200


def test_accept_failures_for_want_of_descriptors_make_one_line(daemon, caplog, monkeypatch):
    """asyncio logs each failed accept() with a traceback; while a server runs, one line."""
    monkeypatch.setattr(_FLOODS, "_last", {})
    monkeypatch.setattr(_FLOODS, "_held", {})
    caplog.set_level(logging.WARNING)
    err = OSError(24, "Too many open files")
    for _ in range(1000):
        logging.getLogger("asyncio").error("socket.accept() out of system resource\nsocket: <x>",
                                           exc_info=(OSError, err, None))
    lines = _flood_lines(caplog)
    assert len(lines) == 1 and "Too many open files" in lines[0].getMessage() and lines[0].exc_info is None

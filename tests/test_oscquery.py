"""OSCQuery against a live in-process daemon: the demo engine, the hub, the daemon's loop
thread, and aiohttp's client as the OSCQuery peer (python-osc decodes the OSC frames)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from aiohttp import ClientSession, WSMsgType, WSServerHandshakeError
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder
from yarl import URL

from mrtd.daemon.demo import build_demo
from mrtd.daemon.engine import Engine
from mrtd.daemon.hub import Hub
from mrtd.daemon.loop import LoopThread
from mrtd.daemon.osc_packet import IMMEDIATE, encode_bundle
from mrtd.daemon.oscquery import OscQueryServer, _Client
from mrtd.errors import UserError
from mrtd.osc_schema import NAMESPACE

OSC_PORT = 9123
TIMEOUT = 3.0


class Daemon:
    """The pieces a test talks to: the hub (another OSC sender) and the OSCQuery server."""

    def __init__(self, hub: Hub, server: OscQueryServer, loop: LoopThread):
        self.hub, self.server, self.loop = hub, server, loop
        self.url = f"http://127.0.0.1:{server.port}"


@pytest.fixture(scope="module")
def daemon() -> Iterator[Daemon]:
    engine = Engine(*build_demo())
    hub = Hub(engine)
    engine.start()
    stop = threading.Event()

    def drain() -> None:  # the audio side: pull 256 samples every 256/48000 s
        buf = np.empty((256, 4), np.float32)
        t = time.perf_counter()
        while not stop.is_set():
            engine.read_into(buf)
            t += 256 / 48000
            time.sleep(max(0.0, t - time.perf_counter()))

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    loop = LoopThread("test-oscquery")
    server = OscQueryServer(hub, osc_port=OSC_PORT)
    loop.run(server.start())
    try:
        yield Daemon(hub, server, loop)
    finally:
        loop.run(server.stop())
        loop.stop()
        stop.set()
        reader.join(2)
        engine.stop()


def run(coro_fn: Callable[[ClientSession], Any]) -> Any:
    """Run a client coroutine on a fresh loop in the test thread (not the daemon's)."""

    async def main() -> Any:
        async with ClientSession() as s:
            return await asyncio.wait_for(coro_fn(s), 10)

    return asyncio.run(main())


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
    async def go() -> None:
        c = _Client(None)  # type: ignore[arg-type]
        for k in range(c.queue.maxsize + 5):
            c.offer(str(k))
        assert c.dropped == 5 and c.queue.get_nowait() == "5"

    asyncio.run(go())


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

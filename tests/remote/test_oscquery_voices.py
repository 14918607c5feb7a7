"""OSCQuery with voices: the ``/mrtd/voice/<n>`` tree, values, LISTEN and sets per voice.

Two real in-process voices (each its own demo engine, hub and paced reader) behind one
OSCQuery server on the daemon's loop thread; aiohttp's client is the peer and
python-osc decodes the OSC frames.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, WSMsgType
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder
from support.inproc import playing_hubs, same
from support.oscquery import run
from yarl import URL

from mrtd.controls.banks import bank_name
from mrtd.osc_schema import NAMESPACE
from mrtd.remote.hub import Hub
from mrtd.remote.loop import LoopThread
from mrtd.remote.osc.packet import IMMEDIATE, encode_bundle
from mrtd.remote.oscquery import OscQueryServer

OSC_PORT = 9300
TIMEOUT = 3.0


class Voices:
    def __init__(self, hubs: list[Hub], server: OscQueryServer):
        self.hubs, self.server = hubs, server
        self.url = f"http://127.0.0.1:{server.port}"


def _start(tmp: Path, n: int, stack: ExitStack, **kw: Any) -> Voices:
    loop = LoopThread("oscquery-voices-test")
    stack.callback(loop.stop)
    hubs = playing_hubs(tmp, n, stack)
    server = OscQueryServer(hubs[0], osc_port=OSC_PORT, **kw, voices=hubs)  # one voice: today's tree
    loop.run(server.start())
    stack.callback(lambda: loop.run(server.stop()))
    return Voices(hubs, server)


@pytest.fixture(scope="module")
def voices(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Voices]:
    with ExitStack() as stack:
        yield _start(tmp_path_factory.mktemp("qvoices"), 2, stack)


def get(v: Voices, path: str) -> tuple[int, Any]:
    async def go(s: ClientSession) -> tuple[int, Any]:
        async with s.get(URL(v.url + path, encoded=True)) as r:
            body = await r.read()
            return r.status, json.loads(body) if r.content_type == "application/json" else body

    return run(go)


def osc(address: str, *args: Any) -> bytes:
    b = OscMessageBuilder(address)
    for a in args:
        b.add_arg(a)
    return b.build().dgram


async def _next_osc(ws) -> OscMessage:
    msg = await ws.receive(timeout=TIMEOUT)
    assert msg.type == WSMsgType.BINARY, msg
    return OscMessage(msg.data)


async def _barrier(ws) -> None:
    """Bad JSON is answered with an ERROR text frame, after everything sent before it."""
    await ws.send_str("{not json")
    msg = await ws.receive(timeout=TIMEOUT)
    assert msg.type == WSMsgType.TEXT


async def _until(ws, address: str) -> OscMessage:
    for _ in range(50):
        m = await _next_osc(ws)
        if m.address == address:
            return m
    raise AssertionError(f"no {address}")


# --------------------------------------------------------------------------- the tree


def test_tree_has_every_voice_beside_the_plain_namespace(voices: Voices) -> None:
    status, tree = get(voices, "/")
    assert status == 200
    mrtd = tree["CONTENTS"]["mrtd"]["CONTENTS"]
    assert "temperature" in mrtd  # the plain tree: voice 1, as today
    vs = mrtd["voice"]["CONTENTS"]
    assert sorted(vs) == ["1", "2"]
    for n in ("1", "2"):
        node = vs[n]
        assert node["FULL_PATH"] == f"/mrtd/voice/{n}"
        assert f"OSC port {OSC_PORT + int(n) - 1}" in node["DESCRIPTION"]
        assert sorted(node["CONTENTS"]) == sorted(k for k in mrtd if k != "voice")
    t2 = vs["2"]["CONTENTS"]["temperature"]
    t = mrtd["temperature"]
    assert t2["FULL_PATH"] == "/mrtd/voice/2/temperature"
    assert {k: v for k, v in t2.items() if k != "FULL_PATH"} == {k: v for k, v in t.items() if k != "FULL_PATH"}
    every = {p.address for p in NAMESPACE}
    for p in every:
        assert get(voices, "/mrtd/voice/2" + p[5:] + "?FULL_PATH")[0] == 200, p
    _, info = get(voices, "/?HOST_INFO")
    assert info["MRTD_VOICE_OSC_PORTS"] == [OSC_PORT, OSC_PORT + 1] and info["OSC_PORT"] == OSC_PORT
    assert get(voices, "/mrtd/voice/3/temperature")[0] == 404


def test_values_come_from_each_voice(voices: Voices) -> None:
    h1, h2 = voices.hubs
    h2.handle("/mrtd/guidance/notes", [2.6])
    h1.handle("/mrtd/guidance/notes", [1.4])
    for hub, want in ((h1, 1.4), (h2, 2.6)):
        deadline = time.monotonic() + TIMEOUT
        while not same(hub.value("/mrtd/guidance/notes") or (), (want,)):
            assert time.monotonic() < deadline
            time.sleep(0.01)
    assert get(voices, "/mrtd/voice/2/guidance/notes?VALUE")[1]["VALUE"] == pytest.approx([2.6])
    assert get(voices, "/mrtd/voice/1/guidance/notes?VALUE")[1]["VALUE"] == pytest.approx([1.4])
    assert get(voices, "/mrtd/guidance/notes?VALUE")[1]["VALUE"] == pytest.approx([1.4])


# --------------------------------------------------------------------------- websocket


def test_websocket_set_on_a_voice_path_changes_only_that_voice(voices: Voices) -> None:
    h1, h2 = voices.hubs
    before = h1.value("/mrtd/style/levels")

    async def go(s: ClientSession) -> None:
        async with s.ws_connect(voices.url + "/") as ws:
            for path in ("/mrtd/voice/2/style/levels", "/mrtd/style/levels", "/mrtd/voice/2/meters"):
                await ws.send_str(json.dumps({"COMMAND": "LISTEN", "DATA": path}))
            await _barrier(ws)
            await ws.send_bytes(osc("/mrtd/voice/2/style/levels", 5))
            m = await _until(ws, "/mrtd/voice/2/style/levels")  # its own change, streamed back
            assert m.params == [5]
            assert h2.value("/mrtd/style/levels") == (5,) and h1.value("/mrtd/style/levels") == before
            m = await _until(ws, "/mrtd/voice/2/meters")  # polled per voice
            assert len(m.params) == 6
            await ws.send_bytes(osc("/mrtd/voice/2/style/levels", 99))
            m = await _until(ws, "/mrtd/voice/2/error")
            assert m.params[0] == "/mrtd/voice/2/style/levels" and "out of range" in m.params[1]
            await ws.send_bytes(osc("/mrtd/voice/5/style/levels", 3))
            m = await _until(ws, "/mrtd/error")
            assert m.params[0] == "/mrtd/voice/5/style/levels" and "1..2" in m.params[1]
            await ws.send_bytes(encode_bundle(IMMEDIATE, [osc("/mrtd/voice/2/topk", 44), osc("/mrtd/topk", 45)]))
            await ws.send_bytes(osc("/mrtd/voice/2/ping"))
            assert (await _until(ws, "/mrtd/voice/2/pong")).params == []
            while h2.value("/mrtd/topk") != (44,) or h1.value("/mrtd/topk") != (45,):
                await ws.send_bytes(osc("/mrtd/voice/2/ping"))
                await _until(ws, "/mrtd/voice/2/pong")
            await ws.send_bytes(osc("/mrtd/voice/2/get", "/mrtd/topk"))
            assert (await _until(ws, "/mrtd/voice/2/topk")).params == [44]
            await ws.send_bytes(osc("/mrtd/voice/2/status"))
            assert len((await _until(ws, "/mrtd/voice/2/status")).params) == 8
        h2.handle("/mrtd/style/levels", list(before or ()))
        h1.handle("/mrtd/topk", list(NAMESPACE.get("/mrtd/topk").default))  # type: ignore[union-attr]
        h2.handle("/mrtd/topk", list(NAMESPACE.get("/mrtd/topk").default))  # type: ignore[union-attr]

    run(go, timeout=20)


def test_an_apply_time_error_comes_back_in_voice_form(voices: Voices) -> None:
    h2 = voices.hubs[1]
    assert h2.engine.bank_dir is not None
    h2.engine.bank_dir.mkdir(parents=True, exist_ok=True)
    (h2.engine.bank_dir / bank_name(9)).write_bytes(b"not a bank" * 10)

    async def go(s: ClientSession) -> OscMessage:
        async with s.ws_connect(voices.url + "/") as ws:
            await ws.send_bytes(osc("/mrtd/voice/2/bank/load", 9))
            return await _next_osc(ws)

    m = run(go)
    assert m.address == "/mrtd/voice/2/error" and m.params[0] == "/mrtd/voice/2/bank/load", (m.address, m.params)


def test_listen_on_a_voice_path_hears_only_that_voice(voices: Voices) -> None:
    h1, h2 = voices.hubs

    async def go(s: ClientSession) -> list[OscMessage]:
        async with s.ws_connect(voices.url + "/") as ws:
            await ws.send_str(json.dumps({"COMMAND": "LISTEN", "DATA": "/mrtd/voice/2/guidance/drums"}))
            await _barrier(ws)
            h1.handle("/mrtd/guidance/drums", [3.0])
            h2.handle("/mrtd/guidance/drums", [4.5])
            m = await _next_osc(ws)
            await ws.send_str(json.dumps({"COMMAND": "IGNORE", "DATA": "/mrtd/voice/2/guidance/drums"}))
            await _barrier(ws)
            return [m]

    [m] = run(go)
    assert m.address == "/mrtd/voice/2/guidance/drums" and m.params == pytest.approx([4.5])
    assert voices.server._audience == {}


def test_without_voices_the_tree_is_unchanged(tmp_path: Path) -> None:
    with ExitStack() as stack:
        solo = _start(tmp_path, 1, stack)
        _, tree = get(solo, "/")
        assert "voice" not in tree["CONTENTS"]["mrtd"]["CONTENTS"]
        assert "MRTD_VOICE_OSC_PORTS" not in get(solo, "/?HOST_INFO")[1]
        assert get(solo, "/mrtd/voice/1/temperature")[0] == 404


def test_voices_must_start_with_the_main_hub(voices: Voices) -> None:
    h1, h2 = voices.hubs
    with pytest.raises(ValueError):
        OscQueryServer(h1, osc_port=OSC_PORT, voices=[h2, h1])
    with pytest.raises(ValueError):
        OscQueryServer(h1, osc_port=OSC_PORT, voices=[h1, h2], voice_osc_ports=[1])

"""The browser control surface's daemon side, against a live in-process OSCQuery server
(demo engine, hub, the daemon's loop thread) with aiohttp's client as the browser:
static files, the redirect, prompt listing and uploads, recordings and downloads, the
token, the websocket's /mrtd/status and the /mrtd/spectrum stream."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from aiohttp import ClientSession, WSMsgType, WSServerHandshakeError
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder
from support.oscquery import run, running_oscquery
from yarl import URL

from mrtd.audio.rings import AudioRing
from mrtd.audio.tap import SPECTRUM_BANDS, Tap, spectrum_bytes
from mrtd.constants import SAMPLE_RATE
from mrtd.datadir import DataDir
from mrtd.engine.demo import build_random_demo
from mrtd.engine.engine import Engine
from mrtd.osc_schema import NAMESPACE
from mrtd.remote.hub import Hub, Sender
from mrtd.remote.oscquery import POLLED, OscQueryServer
from mrtd.remote.ui import STATIC_DIR

LIMIT = 64 * 1024  # the upload limit these tests run with (the daemon's is 64 MiB)
TIMEOUT = 3.0


class Daemon:
    def __init__(self, hub: Hub, server: OscQueryServer, root: Path, active: list[Path]):
        self.hub, self.server, self.root, self.active = hub, server, root, active
        self.url = f"http://127.0.0.1:{server.port}"
        self.prompts, self.recordings = root / "data" / "prompts", root / "data" / "recordings"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    root = tmp_path_factory.mktemp("ui")
    active: list[Path] = []
    files = DataDir(root / "data")
    with running_oscquery(root / "banks", osc_port=9124, files=files, active_files=lambda: list(active),
                          upload_max_bytes=LIMIT) as r:
        yield Daemon(r.hub, r.server, root, active)


def http(d: Daemon, path: str, method: str = "GET", **kw: Any) -> tuple[int, Any, Any]:
    """(status, body as JSON or bytes, headers); redirects are not followed."""
    async def go(s: ClientSession) -> tuple[int, Any, Any]:
        async with s.request(method, URL(d.url + path, encoded=True), allow_redirects=False, **kw) as r:
            body = await r.read()
            data = json.loads(body) if r.content_type == "application/json" else body
            return r.status, data, r.headers

    return run(go)


def upload(d: Daemon, name: str, body: bytes | Any, extra: str = "", **kw: Any) -> tuple[int, Any, Any]:
    from urllib.parse import quote
    headers = {"Content-Type": "application/octet-stream", **kw.pop("headers", {})}
    return http(d, f"/ui/api/upload?name={quote(name, safe='')}{extra}", "POST", data=body, headers=headers, **kw)


def wav_bytes(seconds: float = 0.1, fmt: str = "WAV") -> bytes:
    buf = io.BytesIO()
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    sf.write(buf, 0.3 * np.sin(2 * np.pi * 440 * t), SAMPLE_RATE, format=fmt, subtype="PCM_16")
    return buf.getvalue()


def osc(address: str, *args: Any) -> bytes:
    b = OscMessageBuilder(address)
    for a in args:
        b.add_arg(a)
    return b.build().dgram


def tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


# --------------------------------------------------------------------------- static files, redirect


def test_static_files_with_their_types(daemon, tmp_path, monkeypatch):
    for name, body in {"index.html": b"<!doctype html><title>mrtd</title>", "app.js": b"1;",
                       "style.css": b"a{}", "icon.svg": b"<svg/>", "icon.png": b"\x89PNG", "favicon.ico": b"\0"}.items():
        (tmp_path / name).write_bytes(body)
    (tmp_path / "notes.txt").write_text("secret")
    (tmp_path.parent / "outside.js").write_text("secret")
    monkeypatch.setattr(daemon.server.ui, "static_dir", tmp_path)
    status, body, headers = http(daemon, "/ui/")
    assert status == 200 and body.startswith(b"<!doctype html>")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    for name, ctype in [("index.html", "text/html"), ("app.js", "text/javascript"), ("style.css", "text/css"),
                        ("icon.svg", "image/svg+xml"), ("icon.png", "image/png"), ("favicon.ico", "image/x-icon")]:
        status, _, headers = http(daemon, "/ui/" + name)
        assert status == 200 and headers["Content-Type"].split(";")[0] == ctype, name
    assert http(daemon, "/ui")[0] == 301
    for bad in ["/ui/notes.txt", "/ui/../outside.js", "/ui/%2e%2e/outside.js", "/ui/..%2foutside.js",
                "/ui/.hidden.js", "/ui/sub/app.js", "/ui/missing.js", "/ui/%2fetc%2fpasswd"]:
        status, body, _ = http(daemon, bad)
        assert status == 404 and b"secret" not in (body if isinstance(body, bytes) else b""), bad


@pytest.mark.skipif(not (STATIC_DIR / "index.html").exists(), reason="the page is not in the package yet")
def test_the_packaged_page_is_served(daemon):
    status, body, headers = http(daemon, "/ui/")
    assert status == 200 and headers["Content-Type"].startswith("text/html") and body


def test_a_browser_asking_root_for_html_is_redirected(daemon):
    html = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    status, _, headers = http(daemon, "/", headers=html)
    assert status == 302 and headers["Location"] == "/ui/"
    status, _, headers = http(daemon, "/?token=abc%20d", headers=html)
    assert status == 302 and headers["Location"] == "/ui/?token=abc+d"
    status, info, _ = http(daemon, "/?HOST_INFO", headers=html)  # a query: OSCQuery's
    assert status == 200 and info["OSC_PORT"] == 9124
    status, root, _ = http(daemon, "/")  # OSCQuery clients send no text/html
    assert status == 200 and root["FULL_PATH"] == "/"
    status, root, _ = http(daemon, "/", headers={"Accept": "application/json"})
    assert status == 200 and root["FULL_PATH"] == "/"


# --------------------------------------------------------------------------- prompts


def test_prompt_list(daemon, tmp_path):
    p = daemon.prompts
    (p / "loops").mkdir(parents=True, exist_ok=True)
    for name in ["b.wav", "a.FLAC", "loops/intro.wav", "loops/x.mp3", "notes.txt", ".hidden.wav"]:
        (p / name).write_bytes(b"x")
    (tmp_path / "outside.wav").write_bytes(b"x")
    (p / "link.wav").symlink_to(tmp_path / "outside.wav")
    (p / "linked").symlink_to(tmp_path, target_is_directory=True)
    status, body, _ = http(daemon, "/ui/api/prompts")
    assert status == 200
    assert {"a.FLAC", "b.wav", "loops/intro.wav", "loops/x.mp3"} <= set(body["files"])
    assert body["files"] == sorted(body["files"])
    assert not {"notes.txt", ".hidden.wav", "link.wav", "linked/outside.wav"} & set(body["files"])


# --------------------------------------------------------------------------- uploads


def test_upload_stores_a_readable_audio_file(daemon):
    data = wav_bytes()
    status, body, _ = upload(daemon, "my take 1.wav", data)
    assert (status, body) == (200, {"name": "my take 1.wav"})
    assert (daemon.prompts / "my take 1.wav").read_bytes() == data
    assert "my take 1.wav" in http(daemon, "/ui/api/prompts")[1]["files"]
    status, body, _ = upload(daemon, "my take 1.wav", wav_bytes(0.2))  # exclusive
    assert status == 409 and "exists" in body["error"]
    assert (daemon.prompts / "my take 1.wav").read_bytes() == data
    data2 = wav_bytes(0.2, "FLAC")
    status, body, _ = upload(daemon, "my take 1.wav", data2, "&overwrite=1")
    assert status == 200 and (daemon.prompts / "my take 1.wav").read_bytes() == data2
    assert not [n for n in os.listdir(daemon.prompts) if n.startswith(".upload")]


@pytest.mark.parametrize("name", ["../../x", "x", "a/b/../", "x.txt", ".x.wav", "a;b.wav", "né.wav",
                                  "a\nb.wav", "", "a" * 197 + ".wav", "x.wav\0.txt"])
def test_upload_names_that_are_refused(daemon, name):
    before = tree(daemon.root)
    status, body, _ = upload(daemon, name, wav_bytes())
    assert status == 400 and body["error"], name
    assert tree(daemon.root) == before


def test_a_crafted_name_lands_in_the_prompt_folder_only(daemon):
    outside = tree(daemon.root.parent)
    status, body, _ = upload(daemon, "../../x.wav", wav_bytes())
    assert (status, body) == (200, {"name": "x.wav"})
    assert (daemon.prompts / "x.wav").is_file()
    assert tree(daemon.root.parent) - outside == {f"{daemon.root.name}/data/prompts/x.wav"}
    status, body, _ = upload(daemon, "..\\..\\y.wav", wav_bytes())
    assert (status, body) == (200, {"name": "y.wav"}) and (daemon.prompts / "y.wav").is_file()


def test_upload_too_large_is_refused_unread(daemon):
    before = tree(daemon.root)
    status, body, _ = upload(daemon, "big.wav", b"\0" * (LIMIT + 1))
    assert status == 413 and "too large" in body["error"]

    async def chunks() -> Any:  # no Content-Length: refused while streaming
        for _ in range(LIMIT // 4096 + 2):
            yield b"\0" * 4096

    status, body, _ = upload(daemon, "big.wav", chunks())
    assert status == 413 and "too large" in body["error"]
    assert tree(daemon.root) == before
    assert upload(daemon, "fits.wav", wav_bytes(0.3))[0] == 200  # 28 kB: under the limit


def test_upload_that_is_not_audio_is_refused(daemon):
    before = tree(daemon.root)
    for body in [b"<html>not audio</html>" * 10, b"RIFF\0\0\0\0WAVEjunk"]:
        status, reply, _ = upload(daemon, "fake.wav", body)
        assert (status, reply) == (415, {"error": "not an audio file libsndfile can read"})
    assert upload(daemon, "empty.wav", b"")[0] == 400
    assert tree(daemon.root) == before


def test_upload_from_a_foreign_page_is_refused(daemon):
    before = tree(daemon.root)
    for origin in ["http://evil.example", "null"]:
        status, body, _ = upload(daemon, "o.wav", wav_bytes(), headers={"Origin": origin})
        assert status == 403 and body["error"]
    assert tree(daemon.root) == before
    status, _, _ = upload(daemon, "o.wav", wav_bytes(), headers={"Origin": daemon.url})
    assert status == 200
    assert http(daemon, "/ui/api/upload?name=a.wav")[0] == 405  # GET


# --------------------------------------------------------------------------- recordings


def test_recordings_list_and_download(daemon, tmp_path):
    r = daemon.recordings
    r.mkdir(parents=True, exist_ok=True)
    take = wav_bytes(0.1)
    (r / "take.wav").write_bytes(take)
    (r / "take.events.jsonl").write_text('{"frame": 1}\n')
    (r / "now.wav").write_bytes(b"RIFF")
    (r / "notes.txt").write_text("x")
    (tmp_path / "secret.wav").write_bytes(b"secret")
    (r / "out.wav").symlink_to(tmp_path / "secret.wav")
    daemon.active[:] = [r / "now.wav"]
    try:
        status, body, _ = http(daemon, "/ui/api/recordings")
        assert status == 200
        names = {f["name"]: f["bytes"] for f in body["files"]}
        assert names == {"take.wav": len(take), "take.events.jsonl": 13}
        status, data, headers = http(daemon, "/ui/recordings/take.wav")
        assert status == 200 and data == take
        assert headers["Content-Disposition"].startswith('attachment; filename="take.wav"')
        for bad in ["now.wav", "out.wav", "notes.txt", "missing.wav", "../prompts/x.wav",
                    "%2e%2e/prompts/x.wav", "..%2f..%2fsecret.wav", "%2fetc%2fpasswd"]:
            status, body, _ = http(daemon, "/ui/recordings/" + bad)
            assert status == 404 and body["error"], bad
    finally:
        daemon.active[:] = []
    assert http(daemon, "/ui/recordings/now.wav")[0] == 200  # finished now


# --------------------------------------------------------------------------- token


def test_token_needed_from_another_host(daemon, monkeypatch):
    monkeypatch.setattr(daemon.hub, "token", "s3cret")
    monkeypatch.setattr(daemon.server.ui, "is_local", lambda request: False)
    for path in ["/ui/api/prompts", "/ui/api/recordings", "/ui/recordings/take.wav"]:
        status, body, _ = http(daemon, path)
        assert status == 401 and "token" in body["error"], path
        assert http(daemon, path + "?token=wrong")[0] == 401
    assert http(daemon, "/ui/api/prompts?token=s3cret")[0] == 200
    assert http(daemon, "/ui/api/prompts", headers={"X-Mrtd-Token": "s3cret"})[0] == 200
    assert upload(daemon, "t.wav", wav_bytes())[0] == 401
    assert upload(daemon, "t.wav", wav_bytes(), "&token=s3cret")[0] == 200
    assert http(daemon, "/ui/")[0] in (200, 404)  # the page itself holds nothing: no token

    async def ws(s: ClientSession, query: str) -> int:
        try:
            async with s.ws_connect(daemon.url + "/" + query) as w:
                await w.send_bytes(osc("/mrtd/ping"))
                msg = await w.receive(timeout=TIMEOUT)
                return 101 if msg.type == WSMsgType.BINARY else -1
        except WSServerHandshakeError as e:
            return e.status

    assert run(lambda s: ws(s, "")) == 401
    assert run(lambda s: ws(s, "?token=nope")) == 401
    assert run(lambda s: ws(s, "?token=s3cret")) == 101


def test_local_hosts_need_no_token(daemon, monkeypatch):
    monkeypatch.setattr(daemon.hub, "token", "s3cret")
    assert http(daemon, "/ui/api/prompts")[0] == 200


def test_a_websocket_with_the_token_may_use_guarded_addresses():
    hub = Hub(Engine(*build_random_demo()))
    hub.token = "t"
    assert not hub.authorised(Sender("10.1.2.3"))
    assert hub.authorised(Sender("10.1.2.3", token_ok=True))
    assert hub.token_matches("t") and not hub.token_matches("u") and not hub.token_matches(None)


# --------------------------------------------------------------------------- websocket: status, spectrum


def test_status_over_the_websocket(daemon):
    async def go(s: ClientSession) -> OscMessage:
        async with s.ws_connect(daemon.url + "/") as ws:
            await ws.send_bytes(osc("/mrtd/status"))
            msg = await ws.receive(timeout=TIMEOUT)
            assert msg.type == WSMsgType.BINARY
            return OscMessage(msg.data)

    m = run(go)
    assert m.address == "/mrtd/status"
    assert [type(a) for a in m.params] == [str, str, float, float, int, int, float, int]
    assert m.params[7] >= 0


def test_spectrum_is_streamed_to_listeners(daemon):
    assert "/mrtd/spectrum" in POLLED and NAMESPACE["/mrtd/spectrum"].access == "r"
    frame = bytes(range(0, 256, 4))
    daemon.hub.register("/mrtd/spectrum", getter=lambda: (frame,))

    async def go(s: ClientSession) -> OscMessage:
        async with s.ws_connect(daemon.url + "/") as ws:
            await ws.send_str(json.dumps({"COMMAND": "LISTEN", "DATA": "/mrtd/spectrum"}))
            msg = await ws.receive(timeout=TIMEOUT)
            return OscMessage(msg.data)

    m = run(go)
    assert m.address == "/mrtd/spectrum" and m.params == [frame]
    assert http(daemon, "/mrtd/spectrum")[1]["TYPE"] == "b"


def test_spectrum_of_a_sine_peaks_in_its_band():
    t = np.arange(4096) / SAMPLE_RATE
    bands = np.frombuffer(spectrum_bytes(0.5 * np.sin(2 * np.pi * 1000 * t)), np.uint8)
    edges = np.geomspace(40, 20000, SPECTRUM_BANDS + 1)
    k = int(np.argmax(bands))
    assert len(bands) == SPECTRUM_BANDS and edges[k] <= 1000 < edges[k + 1]
    assert 200 < bands[k] < 255  # -6 dB: (−6 + 100) / 100 · 255 ≈ 240
    assert bands[0] == 0 and bands[-1] == 0
    assert spectrum_bytes(np.zeros(100)) == bytes(SPECTRUM_BANDS)
    low = np.frombuffer(spectrum_bytes(0.5 * np.sin(2 * np.pi * 100 * t)), np.uint8)
    assert int(np.argmax(low)) < k


def test_the_tap_computes_the_spectrum_of_what_played():
    tap = Tap(AudioRing(1.0))
    assert tap.spectrum == bytes(SPECTRUM_BANDS)
    t = np.arange(int(0.1 * SAMPLE_RATE)) / SAMPLE_RATE
    sine = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    tap.ring.write(np.stack([sine, sine], 1))
    tap.drain()
    loud = tap.spectrum
    assert len(loud) == SPECTRUM_BANDS and max(loud) > 200
    tap.ring.write(np.zeros((int(0.1 * SAMPLE_RATE), 2), np.float32))
    tap.drain()
    assert tap.spectrum == bytes(SPECTRUM_BANDS) != loud

"""The browser control surface (``/ui/``) in a real headless Chromium against a real
``mrtd serve --demo`` on the session's ``jackd -d dummy``.

One daemon and one browser for the whole module (start-up is the expensive part); the
tests run in file order and leave the surface as a musician would. The daemon writes
every applied control to an event log, which proves where a key press landed; an
independent liblo peer (``oscsend``/``oscdump``) reads the daemon's state back.

``MRTD_UI_SCREENSHOTS=DIR`` also writes ``DIR/ui-desktop.png`` (1280x900) and
``DIR/ui-phone.png`` (390x844): how ``docs/ui-*.png`` are made.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import os
import re
import socket
import time
import wave
from pathlib import Path

import pytest
from support.browser import (
    SET_VALUE,
    clear_viewport,
    need_browser,
    set_viewport,
    severe_console,
    start_chromium,
    wait_until,
)
from support.liblo import OscDump, oscsend
from support.ports import free_port
from support.serve import Serve

from mrtd.osc_schema import NAMESPACE

pytestmark = [pytest.mark.jack, pytest.mark.slow]

URL_LINE = re.compile(r"mrtd: control surface on (http://[\d.]+:(\d+)/ui/)")
LEAD = 4  # frames between a message's arrival and its frame, at the default 80 ms budget (+ slack)


class Surface:
    """The running daemon, the browser on its page, and an oscdump subscribed to it."""

    def __init__(self, serve: Serve, driver, url: str, tmp: Path, events: Path, dump: OscDump):
        self.serve, self.driver, self.url, self.tmp, self.events, self.dump = serve, driver, url, tmp, events, dump
        self.console: list[dict] = []

    @property
    def osc_port(self) -> int:
        return self.serve.osc_port

    @property
    def http_port(self) -> int:
        return int(self.url.split(":")[2].split("/")[0])

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def logs(self) -> list[dict]:
        """Every console entry so far (get_log drains the browser's buffer, so keep them)."""
        self.console += self.driver.get_log("browser")
        return self.console

    def ask(self, address: str, types: str, *args, want: str, timeout: float = 3.0):
        """Send with ``oscsend``; the first reply at ``want`` the subscribed dump receives."""
        while not self.dump.messages.empty():
            self.dump.received.append(self.dump.messages.get_nowait())
        oscsend(self.osc_port, address, types, *args)
        return self.dump.wait_for(lambda m: m.address == want, timeout)

    def frame(self) -> int:
        return int(self.ask("/mrtd/status", "", want="/mrtd/status").args[-1])

    def fetch(self, path: str, body: bytes, content_type: str) -> dict:
        """POST ``body`` from the page itself (same origin, as the surface's own upload does)."""
        return self.driver.execute_async_script("""
            const [path, b64, type, done] = arguments;
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            fetch(path, {method: 'POST', body: bytes, headers: {'Content-Type': type}})
              .then(async r => done({status: r.status, type: r.headers.get('content-type') || '',
                                      body: await r.text()}))
              .catch(e => done({status: 0, body: String(e)}));
        """, path, base64.b64encode(body).decode(), content_type)


@pytest.fixture(scope="module")
def ui(jack_server, tmp_path_factory):
    need_browser()  # skip before paying for a daemon
    tmp = tmp_path_factory.mktemp("ui")
    events = tmp / "ev.jsonl"
    port = free_port(socket.SOCK_STREAM)
    s = Serve(jack_server, "--oscquery-port", str(port), "--record-events", str(events), tmp=tmp)
    driver = dump = None
    try:
        line = next((m for m in map(URL_LINE.search, s.lines) if m), None)
        assert line, "mrtd serve printed no 'mrtd: control surface on http://...:PORT/ui/' line:\n" + "\n".join(s.lines)
        url = line.group(1)
        assert int(line.group(2)) == port and url == f"http://127.0.0.1:{port}/ui/"
        dump = OscDump(free_port())
        oscsend(s.osc_port, "/mrtd/subscribe", "i", dump.port)
        dump.wait_for(lambda m: m.address == "/mrtd/subscribed")
        driver = start_chromium(1280, 900)
        driver.get(url)
        surface = Surface(s, driver, url, tmp, events, dump)
        # built from the OSCQuery tree at run time: wait for it
        wait_until(lambda: surface.js("return document.querySelectorAll('[data-osc]').length > 20"), 15,
                   what="the page to build its controls")
        yield surface
    finally:
        if driver is not None:
            driver.quit()
        if dump is not None:
            dump.close()
        s.stop()


# ---- the page --------------------------------------------------------------------------------

def test_page_loads_without_console_errors(ui):
    time.sleep(1.0)  # WebSocket opened, first meter ticks drawn
    severe = severe_console(ui.logs())
    assert severe == [], "console errors:\n" + "\n".join(severe)
    assert ui.js("return document.readyState") == "complete"


def test_root_redirects_a_browser_and_still_answers_oscquery(ui):
    req = http.client.HTTPConnection("127.0.0.1", ui.http_port, timeout=5)
    req.request("GET", "/")  # an OSCQuery client: JSON, as before
    r = req.getresponse()
    tree = json.loads(r.read())
    assert r.status == 200 and tree.get("FULL_PATH") == "/" and "CONTENTS" in tree
    req.request("GET", "/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    r = req.getresponse()
    r.read()
    req.close()
    assert r.status in (301, 302, 303, 307, 308) and r.getheader("Location", "").endswith("/ui/")


def test_every_writable_address_has_an_element(ui):
    shown = set(ui.js("return [...document.querySelectorAll('[data-osc]')].map(e => e.dataset.osc)"))
    writable = {p.address for p in NAMESPACE if p.access != "r"}
    missing = sorted(writable - shown)
    assert not missing, f"{len(missing)} writable addresses have no [data-osc] element: {missing}"
    unknown = sorted(a for a in shown if a not in NAMESPACE)
    assert not unknown, f"elements name addresses the schema does not have: {unknown}"


# ---- both directions -------------------------------------------------------------------------



def test_moving_a_fader_changes_the_daemon(ui):
    def read_back() -> float:
        return float(ui.ask("/mrtd/get", "s", "/mrtd/temperature", want="/mrtd/temperature").args[0])

    assert read_back() != pytest.approx(2.0)
    deadline = time.monotonic() + 8  # the WebSocket may still be opening right after load
    got = None
    while time.monotonic() < deadline:
        sent = ui.js(SET_VALUE, "/mrtd/temperature", 2.0)
        assert not str(sent).startswith("no "), sent
        t = time.monotonic() + 1.0
        while time.monotonic() < t:
            got = read_back()
            if got == pytest.approx(2.0):
                return
            time.sleep(0.1)
    raise AssertionError(f"/mrtd/temperature read back {got} after the page's fader went to 2.0")


def test_a_value_sent_with_oscsend_shows_in_the_page(ui):
    oscsend(ui.osc_port, "/mrtd/topk", "i", 7)
    values = lambda: ui.js("""return [...document.querySelectorAll('[data-osc="/mrtd/topk"]')]
                              .filter(e => 'value' in e && e.tagName !== 'BUTTON').map(e => String(e.value))""")
    t0 = time.monotonic()
    wait_until(lambda: values() and all(float(v) == 7 for v in values()), 2.0,
               what="the page's /mrtd/topk controls to show 7")
    assert time.monotonic() - t0 < 2.0


# ---- the keyboard ----------------------------------------------------------------------------

def _notes(path: Path) -> list:
    from mrtd.controls.events import read_events

    if not path.exists():
        return []
    return [e for e in read_events(path) if e.address in ("/mrtd/note/on", "/mrtd/note/off") and e.args[0] == 60]


def test_clicking_a_key_plays_a_note_on_its_frames(ui):
    from selenium.webdriver.common.action_chains import ActionChains

    key = ui.driver.find_element("css selector", '[data-osc="/mrtd/note/on"][data-pitch="60"]')
    ui.js("arguments[0].scrollIntoView({block: 'center'})", key)
    before = _notes(ui.events)
    f0 = ui.frame()
    ActionChains(ui.driver).click_and_hold(key).pause(0.4).release().perform()
    new = wait_until(lambda: (n := _notes(ui.events)[len(before):]) and len(n) >= 2 and n, 5,
                     what="note on and off for 60 in the event log")
    f1 = ui.frame()
    assert [e.address for e in new] == ["/mrtd/note/on", "/mrtd/note/off"], [(e.address, e.args) for e in new]
    on, off = new
    assert f0 <= on.frame <= f1 + LEAD, (f0, on.frame, f1)
    assert on.frame < off.frame <= f1 + LEAD, (on.frame, off.frame, f1)  # held 400 ms: a later frame


# ---- meters and spectrogram ------------------------------------------------------------------

def test_spectrogram_scrolls_and_meters_move(ui):
    assert ui.js("return document.getElementById('spectrogram')?.tagName") == "CANVAS"
    fps = wait_until(lambda: re.search(r"\d+(?:\.\d+)?", ui.js(
        "return document.getElementById('status-fps')?.textContent || ''")), 5, what="a number in #status-fps")
    assert float(fps.group()) > 0
    for sid in ("status-rtf", "status-queue", "status-underruns"):
        assert ui.js(f"return document.getElementById('{sid}') !== null"), f"#{sid} missing"
    image = "return document.getElementById('spectrogram').toDataURL()"
    meters = """const m = document.getElementById('meters');
                return m ? m.innerHTML + [...m.querySelectorAll('canvas')].map(c => c.toDataURL()).join()
                         + [...m.querySelectorAll('meter,progress,input')].map(e => e.value).join() : null"""
    a, ma = ui.js(image), ui.js(meters)
    assert ma is not None, "#meters missing"
    time.sleep(1.0)
    b = ui.js(image)
    assert a != b, "the spectrogram did not change in a second"
    wait_until(lambda: ui.js(meters) != ma, 3, what="the meters to move")


# ---- uploads ---------------------------------------------------------------------------------

def _wav(seconds: float = 0.1) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(48000)
        w.writeframes(bytes(4 * int(48000 * seconds)))
    return buf.getvalue()


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if not p.is_dir()}


def test_upload_of_a_text_file_is_refused_with_a_message(ui, tmp_path):
    r = ui.fetch("/ui/api/upload?name=notes.wav", b"just some text, not audio\n" * 10, "text/plain")
    assert r["status"] == 415, r
    reason = json.loads(r["body"]).get("error")
    assert isinstance(reason, str) and reason, r
    # the same through the page's own file picker: refused, and the page says why
    picker = ui.driver.find_elements("css selector", "input[type=file][accept*=audio]")
    assert len(picker) >= 8, f"{len(picker)} audio file inputs; want one per prompt slot"
    text = tmp_path / "notes.wav"  # named like audio, so the server's type check is what refuses it
    text.write_bytes(b"just some text, not audio\n" * 10)
    assert reason not in ui.js("return document.body.innerText")
    style = ui.js("const s = arguments[0].style.cssText; arguments[0].style.display = 'block';"
                  "arguments[0].style.visibility = 'visible'; return s", picker[0])  # a styled label may hide it
    picker[0].send_keys(str(text))
    ui.js("arguments[0].style.cssText = arguments[1]", picker[0], style)
    wait_until(lambda: reason in ui.js("return document.body.innerText"), 3,
               what=f"the page to show the server's refusal {reason!r}")


def test_oversize_upload_is_refused_up_front(ui):
    """A body declared larger than any upload limit is refused from its Content-Length (413)
    without the server waiting for it."""
    c = http.client.HTTPConnection("127.0.0.1", ui.http_port, timeout=5)
    try:
        c.putrequest("POST", "/ui/api/upload?name=big.wav")
        c.putheader("Content-Type", "audio/wav")
        c.putheader("Content-Length", str(1 << 40))
        c.putheader("Origin", f"http://127.0.0.1:{ui.http_port}")
        c.endheaders()
        c.send(_wav(0.01))
        r = c.getresponse()
        body = r.read()
    finally:
        c.close()
    assert r.status == 413, (r.status, body[:200])
    assert json.loads(body).get("error")


def test_crafted_upload_name_stays_in_the_prompt_folder(ui):
    prompts = ui.tmp / "mrtd" / "prompts"
    data = _wav()
    before = _files(ui.tmp.parent)
    r = ui.fetch("/ui/api/upload?name=" + "../../x.wav".replace("/", "%2F"), data, "audio/wav")
    assert r["status"] in (200, 201, 400), r
    time.sleep(0.2)
    new = _files(ui.tmp.parent) - before
    outside = sorted(str(p) for p in new if prompts not in p.parents)
    assert not outside, f"upload of '../../x.wav' wrote outside {prompts}: {outside}"
    if r["status"] == 400:
        assert json.loads(r["body"]).get("error")
    else:  # stored under a cleaned name, inside prompts/
        assert any(p.read_bytes() == data for p in new), (r, sorted(map(str, new)))


# ---- screenshots (docs/ui-desktop.png, docs/ui-phone.png) ------------------------------------

def test_screenshots(ui):
    out = os.environ.get("MRTD_UI_SCREENSHOTS")
    if not out:
        pytest.skip("set MRTD_UI_SCREENSHOTS=DIR to write ui-desktop.png and ui-phone.png")
    Path(out).mkdir(parents=True, exist_ok=True)
    ui.driver.refresh()  # a clean page (no messages from the tests above), the daemon's state as left
    wait_until(lambda: ui.js("return document.querySelectorAll('[data-osc]').length > 20"), 15,
               what="the page to build its controls")
    try:
        for name, (w, h), settle in (("ui-desktop.png", (1280, 900), 20.0), ("ui-phone.png", (390, 844), 2.0)):
            set_viewport(ui.driver, w, h)
            ui.js("window.scrollTo(0, 0)")
            time.sleep(settle)  # re-layout; the spectrogram fills a good part of its width
            assert ui.driver.save_screenshot(str(Path(out) / name))
    finally:
        clear_viewport(ui.driver)

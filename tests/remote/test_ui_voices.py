"""The control surface's voice selector in a real headless Chromium.

Two real in-process voices (each its own demo engine, hub and paced reader) behind one
OSCQuery server, as the daemon wires ``--voices 2``: the page must show a selector, and
switching it must move what the page shows and steers to that voice alone. With one
voice there is no selector.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from support.browser import SET_VALUE, need_browser, start_chromium, wait_until
from support.inproc import playing_hubs, same

from mrtd.datadir import DataDir
from mrtd.remote.hub import Hub
from mrtd.remote.loop import LoopThread
from mrtd.remote.oscquery import OscQueryServer

SHOWN = """
    return [...document.querySelectorAll(`input[data-osc="${arguments[0]}"]`)]
        .filter(e => e.type === 'range' || e.type === 'number').map(e => Number(e.value));
"""


def _serve(tmp: Path, n: int, stack: ExitStack) -> tuple[list[Hub], str]:
    loop = LoopThread("ui-voices-test")
    stack.callback(loop.stop)
    hubs = playing_hubs(tmp, n, stack)
    server = OscQueryServer(hubs[0], osc_port=9400, files=DataDir(tmp / "data"), voices=hubs if n > 1 else None)
    loop.run(server.start())
    stack.callback(lambda: loop.run(server.stop()))
    return hubs, f"http://127.0.0.1:{server.port}/ui/"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    need_browser()
    driver = start_chromium(1280, 900)
    try:
        yield driver
    finally:
        driver.quit()


def _open(driver: Any, url: str) -> None:
    driver.get(url)
    wait_until(lambda: driver.execute_script("return document.body.dataset.ready === '1' && "
                                             "!!(window.mrtd && window.mrtd.connected)"), 15,
               what="the page to build and connect")


def _wait_hub(hub: Hub, address: str, want: tuple, timeout: float = 3.0) -> tuple | None:
    deadline = time.monotonic() + timeout
    while True:
        v = hub.value(address)
        if v is not None and same(v, want) or time.monotonic() > deadline:
            return v
        time.sleep(0.01)


@pytest.mark.timeout(90)
def test_the_selector_switches_the_whole_surface_to_a_voice(browser: Any, tmp_path: Path) -> None:
    with ExitStack() as stack:
        (h1, h2), url = _serve(tmp_path, 2, stack)
        h1.handle("/mrtd/temperature", [0.7])
        h2.handle("/mrtd/temperature", [2.5])
        assert same(_wait_hub(h2, "/mrtd/temperature", (2.5,)) or (), (2.5,))
        assert same(_wait_hub(h1, "/mrtd/temperature", (0.7,)) or (), (0.7,))
        _open(browser, url)
        js = browser.execute_script
        assert js("return [...document.querySelectorAll('#voices button')].map(b => b.textContent)") == ["1", "2"]
        assert js("return document.getElementById('voice-1').getAttribute('aria-pressed')") == "true"
        assert js(SHOWN, "/mrtd/temperature") == pytest.approx([0.7])

        browser.find_element("css selector", "#voice-2").click()
        wait_until(lambda: js(SHOWN, "/mrtd/temperature") == pytest.approx([2.5]), 5,
                   what="voice 2's temperature on the page")
        assert js("return document.body.dataset.voice") == "2" and "voice=2" in browser.current_url
        assert js("return document.getElementById('voice-2').getAttribute('aria-pressed')") == "true"

        # the page steers voice 2 only
        assert js(SET_VALUE, "/mrtd/temperature", 1.9) == "1.9"
        assert same(_wait_hub(h2, "/mrtd/temperature", (1.9,)) or (), (1.9,))
        assert same(h1.value("/mrtd/temperature") or (), (0.7,))
        # and follows voice 2 only
        h1.handle("/mrtd/topk", [11])
        h2.handle("/mrtd/topk", [9])
        wait_until(lambda: js(SHOWN, "/mrtd/topk") == [9], 5, what="voice 2's topk on the page")
        time.sleep(0.3)
        assert js(SHOWN, "/mrtd/topk") == [9]
        # a note played on the page lands on voice 2
        def played(hub: Hub) -> bool:
            return any(e.address == "/mrtd/note/on" and e.args[0] == 64 for e in list(hub.engine.applied))

        js("window.mrtd.send('/mrtd/note/on', [['i', 64], ['i', 100]])")
        wait_until(lambda: played(h2), 5, what="the note on voice 2")
        assert not played(h1)
        js("window.mrtd.send('/mrtd/note/off', [['i', 64]])")
        # a refusal from voice 2 shows its voice address
        js("window.mrtd.send('/mrtd/temperature', [['f', 99]])")
        wait_until(lambda: "/mrtd/voice/2/temperature" in js("return document.getElementById('messages').textContent"),
                   5, what="voice 2's error on the page")
        # meters and status come from voice 2's paths
        wait_until(lambda: js("return document.getElementById('status-frame').textContent") not in ("", "–"), 5,
                   what="voice 2's status")

        browser.find_element("css selector", "#voice-1").click()
        wait_until(lambda: js(SHOWN, "/mrtd/temperature") == pytest.approx([0.7]), 5,
                   what="voice 1's temperature back on the page")
        assert "voice=" not in browser.current_url
        wait_until(lambda: js(SHOWN, "/mrtd/topk") == [11], 5, what="voice 1's topk")

        _open(browser, url + "?voice=2")  # a bookmark opens on its voice
        assert js("return window.mrtd.voice") == 2
        wait_until(lambda: js(SHOWN, "/mrtd/temperature") == pytest.approx([1.9]), 5,
                   what="voice 2's temperature when opened on voice 2")


@pytest.mark.timeout(60)
def test_one_voice_has_no_selector(browser: Any, tmp_path: Path) -> None:
    with ExitStack() as stack:
        (hub,), url = _serve(tmp_path, 1, stack)
        _open(browser, url + "?voice=2")  # a voice that is not there: ignored
        js = browser.execute_script
        assert js("return document.getElementById('voices')") is None
        assert js("return window.mrtd.voice") == 1 and js("return window.mrtd.voices") == 1
        assert js(SET_VALUE, "/mrtd/temperature", 1.6) == "1.6"
        assert same(_wait_hub(hub, "/mrtd/temperature", (1.6,)) or (), (1.6,))

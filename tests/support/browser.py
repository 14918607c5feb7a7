"""A real headless Chromium driven by Selenium, for the browser control surface's tests.

Only the system browser is used: Debian's ``chromium`` and ``chromium-driver``
(installed by ``./setup.sh --test``). The driver's path is passed explicitly and
``SE_OFFLINE=true`` is set, so Selenium Manager never downloads a browser or a driver.
Without either binary (or without selenium) the tests are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def _which(path: str, name: str) -> str | None:
    """``path`` when it is an executable, else ``name`` found on PATH (None: missing)."""
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    return shutil.which(name)


def need_browser() -> tuple[str, str]:
    """(chromium, chromedriver) paths, or skip the calling test/fixture with the reason."""
    browser = _which(CHROMIUM, "chromium")
    driver = _which(CHROMEDRIVER, "chromedriver")
    missing = [n for n, p in (("chromium", browser), ("chromium-driver", driver)) if p is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (./setup.sh --test, or apt-get install "
                    "chromium chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[test]')")
    assert browser is not None and driver is not None
    return browser, driver


def start_chromium(width: int = 1280, height: int = 900) -> Any:
    """A headless Chromium (selenium WebDriver) on the system browser and driver; browser
    console messages of every level are kept for ``driver.get_log("browser")``."""
    browser, driver_path = need_browser()
    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager fetch anything
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-background-networking", "--disable-sync",
                "--mute-audio", "--autoplay-policy=no-user-gesture-required"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(driver_path, env={**os.environ, "SE_OFFLINE": "true"})
    drv = webdriver.Chrome(service=service, options=opts)
    drv.set_page_load_timeout(30)
    drv.set_script_timeout(15)
    return drv


def set_viewport(driver: Any, width: int, height: int) -> None:
    """The page's viewport (CSS pixels) exactly ``width`` x ``height``, as a device of that size."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def clear_viewport(driver: Any) -> None:
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def wait_until(check: Callable[[], Any], timeout: float = 5.0, every: float = 0.05, what: str = "") -> Any:
    """The first truthy result of ``check()`` within ``timeout`` seconds, else AssertionError
    naming ``what`` and the last value seen."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or check}; last: {last!r}")
        time.sleep(every)


def severe_console(entries: list[dict]) -> list[str]:
    """The SEVERE entries of ``driver.get_log("browser")`` as text."""
    return [f"{e.get('source', '')}: {e.get('message', '')}" for e in entries if e.get("level") == "SEVERE"]


# a value typed into the surface's fader or number box for ADDRESS, as a user would
SET_VALUE = """
    const [address, value] = arguments;
    const el = [...document.querySelectorAll(`input[data-osc="${address}"]`)]
        .find(e => e.type === 'range' || e.type === 'number');
    if (!el) return 'no input[type=range|number] for ' + address;
    el.value = String(value);
    el.dispatchEvent(new Event('input', {bubbles: true}));
    el.dispatchEvent(new Event('change', {bubbles: true}));
    return el.value;
"""

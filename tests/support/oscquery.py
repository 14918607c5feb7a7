"""An in-process OSCQuery server for tests: the demo engine on its generation thread, a
thread draining it like a 48 kHz sound card, the hub, and the server on the daemon's
loop thread; plus a way to run an aiohttp client coroutine from the test thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from aiohttp import ClientSession

from mrtd.engine.demo import build_random_demo
from mrtd.engine.engine import Engine
from mrtd.remote.hub import Hub
from mrtd.remote.loop import LoopThread
from mrtd.remote.oscquery import OscQueryServer


@dataclass
class Running:
    engine: Engine
    hub: Hub
    server: OscQueryServer
    loop: LoopThread

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"


@contextmanager
def running_oscquery(banks: Path, **server_kw: Any) -> Iterator[Running]:
    """A live OSCQuery server on 127.0.0.1 (port 0) over a playing demo engine."""
    engine = Engine(*build_random_demo(), bank_dir=banks)
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
    server = OscQueryServer(hub, **server_kw)
    loop.run(server.start())
    try:
        yield Running(engine, hub, server, loop)
    finally:
        loop.run(server.stop())
        loop.stop()
        stop.set()
        reader.join(2)
        engine.stop()


def run(coro_fn: Callable[[ClientSession], Any], timeout: float = 10.0) -> Any:
    """Run a client coroutine on a fresh loop in the test thread (not the daemon's)."""

    async def main() -> Any:
        async with ClientSession() as s:
            return await asyncio.wait_for(coro_fn(s), timeout)

    return asyncio.run(main())

"""An in-process daemon for OSC tests: demo engine, hub, OSC server on its loop, and a
paced reader thread standing in for JACK (it drains the engine like a 48 kHz sound card
and is the hub's clock), plus small OSC client helpers."""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pythonosc.osc_message_builder import OscMessageBuilder

from mrtd.engine.demo import build_random_demo
from mrtd.engine.engine import Engine
from mrtd.osc_schema import NAMESPACE
from mrtd.remote.hub import Hub
from mrtd.remote.loop import LoopThread
from mrtd.remote.osc.packet import decode_packet
from mrtd.remote.osc.server import OscServer
from support.liblo import OscDump, OscMessage, oscsend

SR = 48000
PERIOD = 256
LOCAL = {"/mrtd/ping", "/mrtd/status", "/mrtd/get", "/mrtd/subscribe", "/mrtd/unsubscribe"}
NOISE = {"/mrtd/meters", "/mrtd/frame"}


# --------------------------------------------------------------------------- the daemon under test


class PacedReader:
    """Stands in for the JACK client: reads periods at 48 kHz and maps wall time to samples."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._clock = (0.0, 0)  # (wall time, stream sample) of the last period, one tuple store
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="paced-reader", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        buf = np.empty((PERIOD, 4), np.float32)
        t0, n = time.monotonic(), 0
        while not self._stop.is_set():
            self.engine.read_into(buf)
            self._clock = (time.time(), n)
            n += PERIOD
            ahead = t0 + n / SR - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
            elif ahead < -0.5:  # starved of CPU: do not race to catch up
                t0, n = time.monotonic() - n / SR, n

    # the hub's Clock protocol
    def stream_sample_at(self, t_wall: float) -> int | None:
        wall, sample = self._clock
        return None if wall == 0.0 else sample + int(round((t_wall - wall) * SR))

    def status(self) -> dict:
        return {"xruns": 0}


@dataclass
class Daemon:
    engine: Engine
    hub: Hub
    server: OscServer
    loop: LoopThread
    reader: PacedReader
    bank_dir: Path
    changes: list[tuple[float, str, tuple]] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.server.port

    def send(self, address: str, types: str = "", *args: object, tcp: bool = False) -> None:
        oscsend(self.port, address, types, *args, tcp=tcp)

    def wait_value(self, address: str, expected: tuple, timeout: float = 3.0) -> tuple | None:
        """hub.value(address) once it equals ``expected`` (floats: to float32 precision)."""
        deadline = time.monotonic() + timeout
        while True:
            v = self.hub.value(address)
            if v is not None and same(v, expected):
                return v
            if time.monotonic() > deadline:
                return v
            time.sleep(0.005)

    def restore_defaults(self) -> None:
        """Every readable setting back to its default (through the hub, as MIDI would)."""
        changed = []
        for p in NAMESPACE:
            v = self.hub.value(p.address) if p.access == "rw" else None
            if v is not None and not same(v, p.default or ()):
                self.hub.handle(p.address, p.default or ())
                changed.append(p)
        for p in changed:
            assert same(self.wait_value(p.address, p.default or ()) or (), p.default or ()), p.address


@contextmanager
def running_daemon(tmp: Path, style: object = None, **server_kw: object) -> Iterator[Daemon]:
    """Engine + hub + paced reader + OSC server on 127.0.0.1, port 0 (``style``: the
    engine's StyleEncoder, default none = no MusicCoCa)."""
    engine = Engine(*build_random_demo(), bank_dir=tmp / "banks", style=style)  # type: ignore[arg-type]
    hub = Hub(engine)
    reader = PacedReader(engine)
    hub.clock = reader
    loop = LoopThread("osc-test")
    server = OscServer(hub, **server_kw)  # type: ignore[arg-type]
    d = Daemon(engine, hub, server, loop, reader, tmp / "banks")
    hub.add_listener(lambda a, v: d.changes.append((time.time(), a, v)))
    engine.start()
    reader.start()
    loop.run(server.start())
    try:
        yield d
    finally:
        loop.run(server.stop())
        loop.stop()
        reader.stop()
        engine.stop()


# --------------------------------------------------------------------------- helpers


def same(got: tuple | list, want: tuple | list) -> bool:
    if len(got) != len(want):
        return False
    for g, w in zip(got, want):
        if isinstance(w, float) or isinstance(g, float):
            if not math.isclose(float(g), float(w), rel_tol=1e-6, abs_tol=1e-5):
                return False
        elif g != w:
            return False
    return True


def values_of(m: OscMessage) -> tuple:
    """An oscdump line's arguments as Python values (strings must not contain spaces)."""
    out: list[object] = []
    for t, a in zip(m.types, m.args):
        out.append(int(a) if t in "ih" else float(a) if t in "fd" else a.strip('"'))
    return tuple(out)


def error_text(m: OscMessage) -> str:
    return " ".join(m.args)


def drain(dump: OscDump) -> None:
    while not dump.messages.empty():
        dump.received.append(dump.messages.get_nowait())


def exchange(daemon: Daemon, dump: OscDump, send: Callable[[], None], timeout: float = 5.0,
             pongs: int = 1) -> list[OscMessage]:
    """Run ``send``, then ``/mrtd/ping``; everything the dump got up to the pong (the
    server handles packets in order, so any reply to ``send`` comes before it).
    ``pongs``: how many pongs end it (2 when ``send`` pings too)."""
    drain(dump)
    send()
    daemon.send("/mrtd/ping")
    got: list[OscMessage] = []
    dump.wait_for(lambda m: got.append(m) or sum(x.address == "/mrtd/pong" for x in got) == pongs, timeout)
    return [m for m in got if m.address not in NOISE and m.address != "/mrtd/pong"]


def errors_in(msgs: list[OscMessage], address: str | None = None) -> list[str]:
    return [error_text(m) for m in msgs if m.address == "/mrtd/error"
            and (address is None or m.args and m.args[0].strip('"') == address)]


def udp_send(port: int, packet: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(packet, ("127.0.0.1", port))


def pyosc(address: str, *typed: tuple[str, object]) -> bytes:
    """A message built by python-osc (an encoder independent of ours)."""
    b = OscMessageBuilder(address)
    for t, v in typed:
        b.add_arg(v, t)
    return b.build().dgram


class UdpClient:
    """A socket that sends from a fixed port and reads the replies sent back to it."""

    def __init__(self, port: int):
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))

    def send(self, packet: bytes) -> None:
        self.sock.sendto(packet, ("127.0.0.1", self.port))

    def recv_until(self, address: str, timeout: float = 2.0) -> list[tuple[str, tuple]]:
        """Messages received up to and including the first one at ``address``."""
        out: list[tuple[str, tuple]] = []
        deadline = time.monotonic() + timeout
        while True:
            self.sock.settimeout(max(0.001, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except (TimeoutError, socket.timeout):
                raise TimeoutError(f"no {address} within {timeout} s; got {[a for a, _ in out][-10:]}") from None
            for m in decode_packet(data):
                out.append((m.address, m.args))
                if m.address == address:
                    return out

    def close(self) -> None:
        self.sock.close()


# --------------------------------------------------------------------------- every address


def playing_hubs(tmp: Path, n: int, stack: Any) -> list[Hub]:
    """``n`` independent demo engines, each playing (its generation thread and a paced
    reader) behind its own hub: voices for the remote side's tests, without the batch.
    Everything stops when ``stack`` (an ExitStack) closes."""
    hubs = []
    for k in range(1, n + 1):
        engine = Engine(*build_random_demo(), bank_dir=tmp / f"banks{k}")  # type: ignore[arg-type]
        hub = Hub(engine)
        reader = PacedReader(engine)
        hub.clock = reader
        engine.start()
        stack.callback(engine.stop)
        reader.start()
        stack.callback(reader.stop)
        hubs.append(hub)
    return hubs


"""Shared fixtures: a private JACK server, free ports, and liblo's OSC tools as a peer.

The JACK server is real (``jackd -d dummy``, no sound card needed) and private to
this test run: a unique name, ``JACK_DEFAULT_SERVER`` pointing at it, and
``JACK_NO_START_SERVER`` so no client ever spawns a server of its own. Tests that
need it are skipped, with the reason, only when ``jackd`` is not installed.

OSC peers are liblo's ``oscsend``/``oscsendfile``/``oscdump``: an independent
implementation, so a test never checks python-osc against itself.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE_RATE = 48000
PERIOD = 256


# --------------------------------------------------------------------------- torch


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """One torch thread: the tiny models run fastest so on 2 cores, and jackd keeps a core."""
    try:
        import torch
    except ImportError:
        yield
        return
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# --------------------------------------------------------------------------- ports


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A port that is free on 127.0.0.1 right now (UDP by default)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_udp_tcp_port() -> int:
    """A port number free for both UDP and TCP (the OSC server uses one number for both)."""
    for _ in range(50):
        port = free_port(socket.SOCK_STREAM)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            try:
                u.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no port free for both UDP and TCP")


@pytest.fixture
def udp_port() -> int:
    return free_port(socket.SOCK_DGRAM)


@pytest.fixture
def osc_port() -> int:
    return free_udp_tcp_port()


# --------------------------------------------------------------------------- JACK


@dataclass
class JackServer:
    name: str
    proc: subprocess.Popen
    sample_rate: int = SAMPLE_RATE
    period: int = PERIOD

    def env(self) -> dict[str, str]:
        """Environment for a subprocess that must talk to this server."""
        return {**os.environ, "JACK_DEFAULT_SERVER": self.name, "JACK_NO_START_SERVER": "1"}

    def ports(self) -> list[str]:
        out = subprocess.run(
            ["jack_lsp", "-s", self.name], capture_output=True, text=True, timeout=10
        )
        return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def start_jackd(name: str, sample_rate: int = SAMPLE_RATE, period: int = PERIOD) -> JackServer:
    """Start ``jackd -n NAME --no-realtime -d dummy`` and wait until ``jack_lsp`` answers."""
    proc = subprocess.Popen(
        ["jackd", "-n", name, "--no-realtime", "-t", "2000",
         "-d", "dummy", "-r", str(sample_rate), "-p", str(period)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jackd exited with {proc.returncode}: {proc.stderr.read()[-2000:]}")
        r = subprocess.run(["jack_lsp", "-s", name], capture_output=True, timeout=10)
        if r.returncode == 0 and b"system:" in r.stdout:
            return JackServer(name, proc, sample_rate, period)
        time.sleep(0.02)
    stop_jackd(JackServer(name, proc))
    raise RuntimeError("jackd did not answer within 15 s")


def stop_jackd(server: JackServer) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(5)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait(5)


@pytest.fixture(scope="session")
def jack_server() -> Iterator[JackServer]:
    """A private ``jackd -d dummy -r 48000 -p 256`` for this test run (per xdist worker)."""
    if shutil.which("jackd") is None or shutil.which("jack_lsp") is None:
        pytest.skip("jackd is not installed (apt-get install jackd2)")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"mrtd-test-{os.getpid()}-{worker}-{uuid.uuid4().hex[:6]}"
    server = start_jackd(name)
    saved = {k: os.environ.get(k) for k in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER")}
    os.environ["JACK_DEFAULT_SERVER"] = name
    os.environ["JACK_NO_START_SERVER"] = "1"
    try:
        yield server
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        stop_jackd(server)


# --------------------------------------------------------------------------- OSC peers (liblo)


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (apt-get install liblo-tools)")


def oscsend(port: int, address: str, types: str = "", *args: object,
            host: str = "127.0.0.1", tcp: bool = False) -> None:
    """Send one message with liblo's ``oscsend`` (UDP, or TCP with the size-prefix framing)."""
    _need("oscsend")
    url = f"osc.{'tcp' if tcp else 'udp'}://{host}:{port}"
    cmd = ["oscsend", url, address]
    if types:
        cmd += [types, *(str(a) for a in args)]
    subprocess.run(cmd, check=True, timeout=10, capture_output=True)


def oscsendfile(port: int, lines: list[str], host: str = "127.0.0.1", tmp: Path | None = None) -> None:
    """Send lines ``/addr types args`` as one bundle with liblo's ``oscsendfile``.

    A line may start with a hex ``sec.frac`` timetag (relative to the first line's).
    """
    _need("oscsendfile")
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".txt", dir=tmp, delete=False) as f:
        f.write("\n".join(lines) + "\n")
        path = f.name
    try:
        subprocess.run(["oscsendfile", host, str(port), path], check=True, timeout=10, capture_output=True)
    finally:
        os.unlink(path)


@dataclass
class OscMessage:
    address: str
    types: str
    args: list[str]


_DUMP_LINE = re.compile(r"^(?:[0-9a-f]{8}\.[0-9a-f]{8}\s+)?(\S+)\s*(\S*)\s*(.*)$")


class OscDump:
    """liblo's ``oscdump`` listening on a port; collects what it prints."""

    def __init__(self, port: int, tcp: bool = False):
        _need("oscdump")
        self.port = port
        url = f"osc.{'tcp' if tcp else 'udp'}://:{port}"
        self.proc = subprocess.Popen(
            ["oscdump", "-L", url], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        self.messages: "queue.Queue[OscMessage]" = queue.Queue()
        self.received: list[OscMessage] = []
        threading.Thread(target=self._read, daemon=True).start()
        time.sleep(0.1)  # let oscdump bind before anyone sends

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.strip()
            if not line or line.startswith("#bundle") or line == "]":
                continue
            m = _DUMP_LINE.match(line)
            if m and m.group(1).startswith("/"):
                self.messages.put(OscMessage(m.group(1), m.group(2), m.group(3).split()))

    def wait_for(self, predicate: Callable[[OscMessage], bool], timeout: float = 5.0) -> OscMessage:
        """The first message (received from now on, or already queued) that satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(
                    f"no matching OSC message within {timeout} s; got: "
                    + ", ".join(f"{m.address} {m.types} {m.args}" for m in self.received[-10:])
                )
            try:
                msg = self.messages.get(timeout=min(left, 0.1))
            except queue.Empty:
                continue
            self.received.append(msg)
            if predicate(msg):
                return msg

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture
def osc_dump() -> Iterator[Callable[..., OscDump]]:
    """Factory: ``osc_dump(port)`` starts an ``oscdump`` peer; all are stopped after the test."""
    dumps: list[OscDump] = []

    def make(port: int, tcp: bool = False) -> OscDump:
        d = OscDump(port, tcp=tcp)
        dumps.append(d)
        return d

    yield make
    for d in dumps:
        d.close()


@pytest.fixture
def dump(daemon) -> Iterator[OscDump]:
    """An ``oscdump`` subscribed to the module's in-process ``daemon`` (unsubscribed afterwards)."""
    d = OscDump(free_port())
    try:
        daemon.send("/mrtd/subscribe", "i", d.port)
        d.wait_for(lambda m: m.address == "/mrtd/subscribed" and m.args[-1] == str(d.port))
        yield d
        daemon.send("/mrtd/unsubscribe", "i", d.port)
    finally:
        d.close()

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
import shutil
import socket
import uuid
from collections.abc import Callable, Iterator

import pytest
from support.jack import JackServer, start_jackd, stop_jackd
from support.liblo import OscDump
from support.ports import free_port, free_udp_tcp_port
from support.serve import Serve

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


@pytest.fixture
def udp_port() -> int:
    return free_port(socket.SOCK_DGRAM)


@pytest.fixture
def osc_port() -> int:
    return free_udp_tcp_port()


# --------------------------------------------------------------------------- JACK


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


@pytest.fixture
def serve(jack_server, tmp_path):
    started: list[Serve] = []

    def make(*args: str, server: JackServer | None = None, wait: bool = True) -> Serve:
        s = Serve(server or jack_server, *args, wait=wait, tmp=tmp_path)
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop()

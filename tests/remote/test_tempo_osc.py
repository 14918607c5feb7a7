"""Tempo and quantise over OSC (in-process daemon, liblo peer): a bundle with its own
unit, the bar/beat fed to subscribers, bad input answered with /mrtd/error."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage as PyOscMessage
from support.inproc import Daemon, errors_in, exchange, pyosc, running_daemon, udp_send

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    with running_daemon(tmp_path_factory.mktemp("tempo")) as d:
        yield d


def bundle(*messages: bytes) -> bytes:
    b = OscBundleBuilder(IMMEDIATELY)
    for m in messages:
        b.add_content(PyOscMessage(m))
    return b.build().dgram


def frames_of(d: Daemon, address: str) -> list[int]:
    return [ev.frame for ev in list(d.engine.applied) if ev.address == address]


def test_a_bundle_with_its_own_unit_lands_on_a_bar(daemon):
    e = daemon.engine
    try:
        udp_send(daemon.port, bundle(pyosc("/mrtd/quantize/next", ("s", "bar")), pyosc("/mrtd/temperature", ("f", 0.5))))
        deadline = time.monotonic() + 10
        while not frames_of(daemon, "/mrtd/temperature") and time.monotonic() < deadline:
            time.sleep(0.02)
        (f,) = frames_of(daemon, "/mrtd/temperature")
        assert f % 50 == 0 and e.controls.temperature == pytest.approx(0.5)
        notes = [(ev.frame, ev.args) for ev in list(e.applied) if ev.address == "/mrtd/quantize/next"]
        assert notes == [(f, ("bar",))]  # logged before it, so the log replays it the same way
    finally:
        daemon.restore_defaults()


def test_position_goes_to_subscribers_once_a_beat(daemon, dump):
    start = len(daemon.changes)
    time.sleep(1.2)  # two to three beats at 120 BPM
    told = [v for _, a, v in daemon.changes[start:] if a == "/mrtd/tempo/position"]
    assert 2 <= len(told) <= 4, told
    got = dump.wait_for(lambda m: m.address == "/mrtd/tempo/position", 3.0)
    assert got is not None


@pytest.mark.parametrize("address,types,args", [
    ("/mrtd/tempo/bpm", "f", (0.0,)), ("/mrtd/tempo/source", "s", ("midi",)), ("/mrtd/tempo/meter", "ii", (0, 4)),
    ("/mrtd/quantize", "s", ("sometimes",)),
])
def test_bad_tempo_input_answers_an_error_and_changes_nothing(daemon, dump, address, types, args):
    before = {a: daemon.hub.value(a) for a in ("/mrtd/tempo/bpm", "/mrtd/tempo/source", "/mrtd/tempo/meter",
                                               "/mrtd/quantize")}
    got = exchange(daemon, dump, lambda: daemon.send(address, types, *args))
    assert errors_in(got, address), got
    time.sleep(0.1)
    assert {a: daemon.hub.value(a) for a in before} == before

"""Following the JACK transport: a timebase master at 120 BPM 4/4 (a client of this test)
and mrtd playing on the private `jackd -d dummy`; quantised changes land on its bars."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

jack = pytest.importorskip("jack")

from mrtd.audio.jack_host import JackHost
from mrtd.audio.transport import JackTransport
from mrtd.engine.demo import build_random_demo
from mrtd.engine.engine import Engine

pytestmark = pytest.mark.jack

BPM, BPB, TPB = 120.0, 4, 1920.0


class Master:
    """A timebase master: bar/beat/tick from the transport frame at a steady tempo."""

    def __init__(self, server: str):
        self.client = jack.Client("tempo-master", servername=server, no_start_server=True)
        rate = self.client.samplerate

        def bbt(state: int, blocksize: int, pos, new_pos: bool) -> None:
            beats = pos.frame * BPM / (60.0 * rate)
            bar, in_bar = divmod(beats, BPB)
            pos.valid = pos.valid | jack._lib.JackPositionBBT
            pos.bar, pos.beat = int(bar) + 1, int(in_bar) + 1
            pos.tick = int((in_bar - int(in_bar)) * TPB)
            pos.bar_start_tick = 0.0
            pos.beats_per_bar, pos.beat_type, pos.ticks_per_beat = float(BPB), 4.0, TPB
            pos.beats_per_minute = BPM

        self.client.set_timebase_callback(bbt)
        self.client.activate()

    def close(self) -> None:
        # deactivate while the timebase callback is still set: jack2 stops a client's
        # process thread on deactivation only if the client still has a real-time
        # callback, and this one has no other. Releasing the timebase first left the
        # thread running after close freed the client: it crashed the test process
        # minutes later, when another client reused its FIFO (the server releases the
        # timebase of a client that leaves)
        self.client.transport_stop()
        self.client.deactivate()
        self.client.close()


def wait_for(cond, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return False


def applied(e: Engine, address: str) -> list[tuple[int, tuple]]:
    return [(ev.frame, ev.args) for ev in list(e.applied) if ev.address == address]


def test_quantize_bar_follows_the_timebase_master(jack_server):
    master = Master(jack_server.name)
    e = Engine(*build_random_demo(), latency_ms=200.0)  # room for a loaded CI machine
    host = JackHost(e, "mrtd-tempo", servername=jack_server.name)
    try:
        host.open()
        e.tempo.jack = JackTransport(host)
        e.start()
        master.client.transport_frame = 0
        master.client.transport_start()
        assert wait_for(lambda: master.client.transport_state == jack.ROLLING)
        e.post("/mrtd/tempo/bpm", 90.0)  # the internal tempo, until the source is jack
        e.post("/mrtd/tempo/source", "jack")
        e.post("/mrtd/quantize", "bar")
        e.post("/mrtd/tempo/transport", True)
        assert wait_for(lambda: applied(e, "/mrtd/tempo/sync"))
        assert e.clock.bpm == BPM and (e.clock.beats_per_bar, e.clock.beat_unit) == (BPB, 4)
        # while the output queue first fills, stream time stands still: the grid is moved
        # frame by frame until the audio flows, then it holds
        settled, deadline = -1, time.monotonic() + 10
        while settled != len(applied(e, "/mrtd/tempo/sync")) and time.monotonic() < deadline:
            settled = len(applied(e, "/mrtd/tempo/sync"))
            time.sleep(0.5)
        hiccups = (e.output.starved_samples, host.xruns)
        for k in range(3):
            time.sleep(0.3 + 0.45 * k)  # anywhere in the bar
            e.post("/mrtd/temperature", 1.0 + k / 10)
            assert wait_for(lambda k=k: len(applied(e, "/mrtd/temperature")) == k + 1, 5.0)
        frames = [f for f, _ in applied(e, "/mrtd/temperature")]
        syncs = applied(e, "/mrtd/tempo/sync")
        if (e.output.starved_samples, host.xruns) == hiccups:  # audio flowed: a steady master's grid holds
            assert len(syncs) == settled, syncs[settled - 1:]
            assert all((b - a) % 50 == 0 for a, b in itertools.pairwise(frames)), frames
        for f in frames:  # each on the frame nearest a bar start of the master's grid then
            sf, (bar, beat) = max((sf, v[:2]) for sf, v in syncs if sf <= f)
            bars = (f - sf) / 50.0 + (beat - 1) / BPB  # bars since the bar line at or before frame sf
            assert abs(bars - round(bars)) <= 0.5 / 50 + 1e-9, (f, sf, bar, beat)
        assert e.value("/mrtd/tempo/position")[0] >= 2
        assert e.tempo.value("/mrtd/tempo/bpm") == (BPM,)
        # the transport pauses and resumes mrtd (/mrtd/tempo/transport 1)
        master.client.transport_stop()
        assert wait_for(lambda: e.controls.pause, 5.0)
        master.client.transport_start()
        assert wait_for(lambda: not e.controls.pause, 5.0)
        assert [v for _, v in applied(e, "/mrtd/pause")] == [(True,), (False,)]
        # the tempo is the master's: setting it here is refused with a reason
        e.post("/mrtd/tempo/bpm", 100.0)
        assert wait_for(lambda: any("timebase master" in err for err in e.errors), 5.0)
        assert e.clock.bpm == BPM
    finally:
        e.stop()
        host.close()
        master.close()
    assert np.isfinite(e.clock.beat_at(e.frame))

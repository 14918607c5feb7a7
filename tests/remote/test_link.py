"""Ableton Link as the tempo source: a second Link session in this process is the peer."""

from __future__ import annotations

import time

import numpy as np
import pytest

link = pytest.importorskip("link")  # LinkPython-extern: pip install 'mrtd[link]'

from mrtd.engine.demo import build_random_demo
from mrtd.engine.engine import Engine
from mrtd.remote.link import link_source


def step(e: Engine, n: int = 1) -> None:
    for _ in range(n):
        e.step_frame()
        e.read_into(np.zeros((e.output.frame, 4), np.float32))


def until(e: Engine, cond, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        step(e)
        time.sleep(0.01)
    return False


def test_link_source_follows_a_peer_and_leads_it():
    peer = link.Link(120.0)
    peer.enabled = True
    e = Engine(*build_random_demo())
    e.tempo.link_factory = link_source
    try:
        e.post("/mrtd/tempo/source", "link")
        step(e)
        assert e.value("/mrtd/tempo/source") == ("link",)
        assert until(e, lambda: e.tempo.link.peers() > 0 and peer.numPeers() > 0), "no Link peer found"
        state = peer.captureSessionState()
        state.setTempo(97.0, peer.clock().micros())
        peer.commitSessionState(state)
        assert until(e, lambda: abs(e.clock.bpm - 97.0) < 1e-3), e.clock.bpm
        assert any(ev.address == "/mrtd/tempo/sync" for ev in e.applied)  # logged, so a take replays
        # the other way: mrtd's tempo goes to the session
        e.post("/mrtd/tempo/bpm", 133.0)
        deadline = time.monotonic() + 10
        while abs(peer.captureSessionState().tempo() - 133.0) > 1e-3 and time.monotonic() < deadline:
            step(e)
            time.sleep(0.01)
        assert abs(peer.captureSessionState().tempo() - 133.0) < 1e-3
        assert abs(e.clock.bpm - 133.0) < 1e-3
        # leaving Link closes the session
        e.post("/mrtd/tempo/source", "internal")
        step(e)
        assert e.tempo.link is None
    finally:
        peer.enabled = False
        if e.tempo.link is not None:
            e.tempo.link.close()

"""`mrtd serve --two-stage` on a real `jackd -d dummy`: the codec on its own thread, and
the stream heard is exactly the offline one-stage render (demo weights, float32, one
thread per stage); start-up says how it runs and measures the pipeline's speed."""

from __future__ import annotations

import re

import numpy as np
import pytest
from support.liblo import oscsend

pytestmark = pytest.mark.jack
jack = pytest.importorskip("jack")
from support.peer import Peer, align  # noqa: E402  (needs jack)


def test_live_two_stage_stream_is_the_offline_render(serve, jack_server):
    from mrtd.engine.demo import build_random_demo
    from mrtd.engine.engine import Engine
    from mrtd.engine.render import render

    s = serve("--two-stage", "--threads", "2")
    out = "\n".join(s.lines)
    assert "two stages (language model 1 thread(s), codec 1 on its own thread)" in out
    assert re.search(r"speed: \d+\.\d\dx real time", out)
    peer = Peer(jack_server.name, [s.port("out_L"), s.port("out_R")])
    try:
        audio = peer.record(2.0)
        oscsend(s.osc_port, "/mrtd/ping")
    finally:
        peer.close()
    ref = render(Engine(*build_random_demo(), seed=0), 30.0)
    s0 = align(audio, ref)
    n = len(audio) - 4096
    assert np.array_equal(audio[4096:], ref[s0 + 4096:s0 + 4096 + n])
    assert s.stop() == 0


def test_two_stage_refusals_at_the_command_line(serve):
    for flags, says in ((("--two-stage", "--voices", "2"), "one voice"),
                        (("--two-stage", "--adapt-threads"), "exclude each other")):
        s = serve(*flags, wait=False)
        assert s.proc.wait(60) == 1  # a UserError: said, exit status 1
        assert says in "\n".join(s.lines)

"""The start-up speed measurement (:mod:`mrtd.engine.speed`) leaves the stream untouched."""

from __future__ import annotations

import numpy as np

from mrtd.engine.demo import build_random_demo
from mrtd.engine.engine import Engine
from mrtd.engine.render import render
from mrtd.engine.speed import expected_rtf
from mrtd.engine.voices import render_voices, voice_engines


def test_measuring_the_speed_changes_nothing_heard():
    demo = build_random_demo()
    e = Engine(*demo, seed=4)
    rtf = expected_rtf(e)
    assert rtf is not None and rtf > 0
    assert np.array_equal(render(e, 0.8), render(Engine(*demo, seed=4), 0.8))
    voices = voice_engines(*demo, [4, 5], max_wait_s=None)
    assert expected_rtf(voices[1]) > 0
    again = voice_engines(*demo, [4, 5], max_wait_s=None)
    for a, b in zip(render_voices(voices, 0.8), render_voices(again, 0.8)):
        assert np.array_equal(a, b)

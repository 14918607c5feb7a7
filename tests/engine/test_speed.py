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


def test_tips_below_real_time_name_only_what_is_not_in_use(monkeypatch):
    """The warning's advice for a CPU engine: int8 first, and --compile, while they are not
    on; once the model is int8 with its native frame, neither (compiling would only slow it):
    the ways round it; int8 without the native frame: what it lacks, and --compile."""
    import shutil

    import torch

    from mrtd.engine.speed import speed_tips
    from mrtd.model.mrt2 import int8_kernel
    from mrtd.model.mrt2.quant import quantize_lm

    model, dec = build_random_demo()
    tips = speed_tips(Engine(model, dec, seed=0))
    assert tips[0].startswith("--dtype int8") and tips[1].startswith("--compile")
    assert "'mrtd render' to make the audio offline" in tips
    q, qdec = build_random_demo(dtype=torch.bfloat16)
    quantize_lm(q, "int8")
    tips = speed_tips(Engine(q, qdec, seed=0))
    assert not any(t.startswith(("--dtype", "--compile")) for t in tips)
    if shutil.which("cc") is not None:
        assert tips[0] == "a GPU (--device cuda)"
    monkeypatch.setenv(int8_kernel.ENV, "torch")
    int8_kernel.reset()
    try:
        quantize_lm(q, "int8")  # re-quantised without the native library
        tips = speed_tips(Engine(q, qdec, seed=0))
        assert tips[0].startswith("a C compiler for the native int8 frame (now: MRTD_INT8_KERNEL=torch")
        assert tips[1].startswith("--compile")
    finally:
        monkeypatch.delenv(int8_kernel.ENV)
        int8_kernel.reset()

"""How fast this machine makes frames, measured at start-up on the model as loaded.

``mrtd serve`` prints the expected real-time factor before it starts playing, and warns
when it is below 1 (the queue will run dry however large the budget; a larger budget
only delays it). The frames are made on the stream's own step and then put back
exactly (state, codec, sampler noise): the stream the listener hears starts where it
would have without the measurement.
"""

from __future__ import annotations

import time
from typing import Any

import torch

from mrtd.constants import FRAME_RATE

WARMUP_FRAMES = 3
TIMED_FRAMES = 10


def _frame_step(engine: Any) -> Any | None:
    """The :class:`FrameStep` behind an engine's generator (one voice or a batch), or
    None for a model that is not made frame by frame (Magenta RT v1's chunks)."""
    gen = engine.generator
    batch = getattr(gen, "batch", None)
    return batch.fs if batch is not None else getattr(gen, "fs", None)


def expected_rtf(engine: Any, frames: int = TIMED_FRAMES) -> float | None:
    """Real-time factor of one stream (1.0 = exactly real time): ``frames`` steps timed
    after a short warm-up, then everything put back. With several voices the step makes
    a frame of each, so the factor is each voice's. None for a chunk model."""
    timed = getattr(engine.generator, "time_frames", None)
    if timed is not None:  # its own pipeline (two stages), put back afterwards
        return (1.0 / FRAME_RATE) / timed(WARMUP_FRAMES, frames)
    fs = _frame_step(engine)
    if fs is None:
        return None
    snap = fs.snapshot()
    try:
        with torch.inference_mode():
            for _ in range(WARMUP_FRAMES):
                fs.run()
            _sync(fs)
            t0 = time.perf_counter()
            for _ in range(frames):
                fs.run()
            _sync(fs)
            per_frame = (time.perf_counter() - t0) / frames
    finally:
        fs.restore(snap)
    return (1.0 / FRAME_RATE) / per_frame


def _sync(fs: Any) -> None:
    if fs.on_cuda:
        torch.cuda.synchronize(fs.device)


def speed_tips(engine: Any) -> list[str]:
    """What could make this engine faster, for the warning below 1x: only what it does not
    use already (on the CPU: int8 with its native frame, else --compile), then the ways
    round it."""
    from mrtd.model.mrt2 import int8_kernel, native_step
    from mrtd.model.mrt2.quant import quant_of

    fs = _frame_step(engine)
    tips = []
    if fs is not None and fs.device.type == "cpu":
        quant, frame, why = quant_of(engine.model), native_step.plan_of(engine.model), int8_kernel.why_not()
        if quant is None:
            tips.append("--dtype int8 (with a C compiler: mrt2_small 1.1x real time on a 2-core Xeon)")
        elif quant == "int8" and frame is None and why:
            tips.append(f"a C compiler for the native int8 frame (now: {why}; "
                        "mrt2_small went from 0.49x to 1.1x with it on a 2-core Xeon)")
        if not fs.compiled and frame is None:
            tips.append("--compile (the language model compiled for this CPU; 1-2 minutes of compiling the "
                        "first time, seconds later)")
    return tips + ["a GPU (--device cuda)", "a smaller model", "fewer voices",
                   "'mrtd render' to make the audio offline"]

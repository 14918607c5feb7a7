"""The output queue: latency bound, click-free underruns, cuts and gain; live pacing."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from mrtd.audio.output import OutputQueue
from mrtd.constants import FRAME, SAMPLE_RATE
from mrtd.engine.demo import build_random_demo
from mrtd.engine.engine import Engine

DC = 0.8
STEP = 0.01  # largest sample-to-sample step allowed on a DC signal (a click would be ~0.8)


def frame(v: float = DC) -> np.ndarray:
    return np.full((FRAME, 2), v, np.float32)


def drain(q: OutputQueue, periods: int, n: int = 256) -> np.ndarray:
    out = np.empty((periods * n, 2), np.float32)
    for i in range(periods):
        q.read_into(out[i * n:(i + 1) * n])
    return out


def steps(x: np.ndarray) -> float:
    return float(np.abs(np.diff(x, axis=0)).max())


def test_underrun_fades_and_is_counted():
    q = OutputQueue(80)
    q.write(frame())
    q.write(frame())
    a = drain(q, 40)  # 10240 samples, only 3840 queued: the producer "stopped"
    assert q.underruns == 1 and q.starved_samples == 10240 - 2 * FRAME
    assert steps(a) < STEP and a[0, 0] == pytest.approx(0, abs=0.01)  # fades in, out, no click
    assert abs(a[-1, 0]) == 0.0
    q.write(frame())
    b = drain(q, 4)
    assert steps(np.concatenate([a, b])) < STEP  # resumes with a fade in
    assert q.underruns == 1


def test_cut_fades_out_skips_and_fades_in():
    q = OutputQueue(200)
    for _ in range(2):
        q.write(frame())
    drain(q, 4)
    q.cut()
    q.write(frame(-DC))
    out = drain(q, 10)
    assert steps(out) < STEP and out[:, 0].min() == pytest.approx(-DC)
    assert q.queued == 0 or q.queued < FRAME  # the old audio was skipped, not played out


def test_volume_mute_pause_are_smoothed():
    q = OutputQueue(2000)
    for _ in range(20):
        q.write(frame())
    drain(q, 4)
    parts = []
    q.gain_target = 0.5
    parts.append(drain(q, 10))
    q.gain_target = 0.0
    parts.append(drain(q, 10))
    q.gain_target = 1.0
    q.paused = True
    parts.append(drain(q, 10))
    left = q.queued
    parts.append(drain(q, 5))
    assert q.queued == left  # paused and faded out: nothing consumed
    q.paused = False
    parts.append(drain(q, 10))
    x = np.concatenate(parts)
    assert steps(x) < STEP and x[-1, 0] == pytest.approx(DC, rel=1e-2)


def test_live_queue_never_exceeds_budget_plus_a_frame():
    torch.set_num_threads(1)
    e = Engine(*build_random_demo(), seed=0, latency_ms=80)
    e.start()
    period = 256
    out = np.empty((period, 4), np.float32)  # wet L/R, dry L/R
    worst = 0
    t0 = time.perf_counter()
    try:
        deadline = 1.6
        i = 0
        while time.perf_counter() - t0 < deadline:
            worst = max(worst, e.output.queued)
            e.read_into(out)
            i += 1
            if i == 150:
                e.post("/mrtd/latency_ms", 120.0)
            target = t0 + i * period / SAMPLE_RATE
            time.sleep(max(0.0, target - time.perf_counter()))
    finally:
        e.stop()
    assert worst <= int(0.120 * SAMPLE_RATE) + FRAME
    assert e.output.max_queued <= int(0.120 * SAMPLE_RATE) + FRAME
    assert e.frame > 20

"""Two stages (issue 17): the codec of frame F on its own thread while the language model
makes frame F+1. The stream must be the one-stage stream exactly, one step later, through
everything that touches the stream state (loops, rewinds, resets, banks, prefill), and
the command-line defaults must take this fast path only where they should. Real demo
weights (float32, one thread per stage: bit for bit comparable), real threads."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from mrtd.engine.build import load_engine
from mrtd.engine.demo import build_random_demo
from mrtd.engine.generator import FrameControls
from mrtd.engine.mrt2 import MRT2Generator
from mrtd.engine.render import render
from mrtd.engine.two_stage import TwoStageMRT2Generator, split_threads


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _controls(gen, temperature: float = 1.1) -> FrameControls:
    return FrameControls(gen.fs.cond[0].numpy().copy(), temperature, 40)


def _steps(gen, n: int, temperature: float = 1.1) -> list[tuple[np.ndarray, np.ndarray | None]]:
    out = []
    for k in range(n):
        b = gen.step(_controls(gen, temperature if k < n // 2 else 0.6))
        out.append((b.tokens.numpy().copy(), b.audio[0].copy() if b.valid[0] else None))
    return out


def test_step_k_is_the_one_stage_step_k_minus_1():
    model, dec = build_random_demo()
    one, two = MRT2Generator(model, dec, seed=5), TwoStageMRT2Generator(model, dec, seed=5)
    try:
        a, b = _steps(one, 24), _steps(two, 24)
    finally:
        two.close()
    assert two.lag == one.lag + 1
    assert all(np.array_equal(x[0], y[0]) for x, y in zip(a, b))  # the same tokens on the same step
    assert b[0][1] is None  # nothing decoded yet
    for k in range(1, 24):
        assert (a[k - 1][1] is None) == (b[k][1] is None)
        if b[k][1] is not None:
            assert np.array_equal(a[k - 1][1], b[k][1]), k
    assert sum(x[1] is not None for x in b) == 22  # the lookahead frame and the pipeline's first


def test_int8_two_stages_match_one_stage_on_one_thread():
    """The fast path's int8 language model: two stages (one thread each) make the one-stage
    stream of one thread bit for bit, whichever int8 kernel runs (the native one on one
    thread; several threads would run PyTorch's, which rounds differently)."""
    from mrtd.model.mrt2.quant import quantize_lm

    model, dec = build_random_demo(dtype=torch.bfloat16)
    quantize_lm(model, "int8")
    one, two = MRT2Generator(model, dec, seed=3), TwoStageMRT2Generator(model, dec, seed=3)
    try:
        a, b = _steps(one, 12), _steps(two, 12)
    finally:
        two.close()
    assert all(np.array_equal(x[0], y[0]) for x, y in zip(a, b))
    assert all(np.array_equal(a[k - 1][1], b[k][1]) for k in range(2, 12))


def test_history_snapshot_carries_the_frame_in_flight():
    """A loop or rewind restores a snapshot and makes the frames again: the frame decoded
    but not yet returned is part of the state, so the remade frames are the same."""
    model, dec = build_random_demo()
    two = TwoStageMRT2Generator(model, dec, seed=2)
    try:
        _steps(two, 10)
        snap = two.history_snapshot()
        first = _steps(two, 8)
        _steps(two, 3)  # somewhere else
        two.history_restore(snap)
        again = _steps(two, 8)
        state = two.snapshot()
        after = _steps(two, 4)
        two.restore(state, seed=2)  # the reset-target form: the same pending frame too
        two.reseed(0)
        two.history_restore(two.history_snapshot())  # a no-op round trip keeps the frame in flight
    finally:
        two.close()
    for x, y in zip(first, again):
        assert np.array_equal(x[0], y[0])
        assert (x[1] is None and y[1] is None) or np.array_equal(x[1], y[1])
    assert after[0][1] is not None


@pytest.mark.parametrize("wait", [False, True])
def test_history_snapshot_does_not_wait_for_the_codec(wait):
    """The looper's periodic snapshot, asked for while the codec decodes: the codec thread
    takes its half after that frame (the language model is not held up), and restoring it
    remakes the same frames as a snapshot of the same moment taken by waiting. A failing
    codec frame surfaces when the snapshot is used."""
    import threading

    from mrtd.engine.two_stage import Later

    model, dec = build_random_demo()
    two = TwoStageMRT2Generator(model, dec, seed=4)
    gate, codec = threading.Event(), two.fs.run_codec
    gate.set()

    def held(tokens):
        gate.wait(10)
        return codec(tokens)

    two.fs.run_codec = held
    try:
        _steps(two, 9)
        two.drain()  # the codec idle: nothing to wait for, so the next step's frame is in flight
        gate.clear()
        _steps(two, 1)
        if wait:
            gate.set()
            two.drain()
            snap = two.history_snapshot()
            assert "lm" not in snap
        else:
            snap = two.history_snapshot()  # the codec is held mid-frame: deferred
            assert isinstance(snap["codec"], Later)
            gate.set()
        first = _steps(two, 8)
        _steps(two, 3)
        two.history_restore(snap)
        again = _steps(two, 8)
    finally:
        gate.set()
        two.close()
    for x, y in zip(first, again):
        assert np.array_equal(x[0], y[0])
        assert (x[1] is None and y[1] is None) or np.array_equal(x[1], y[1])
    assert sum(x[1] is not None for x in again) == 8


def test_a_deferred_snapshot_of_a_failed_frame_raises_when_used():
    from mrtd.engine.two_stage import Later

    later = Later(lambda result: {"ok": result}, 16)
    later.fill(RuntimeError("codec failed"))
    with pytest.raises(RuntimeError, match="codec failed"):
        later.get()
    from mrtd.engine.looper import nbytes

    assert nbytes({"codec": later}) == 16  # counted by the history's budget before it exists


def _render(two_stage: bool, *, loop: bool = False, reset: bool = False, bank: str | None = None) -> np.ndarray:
    e = load_engine(None, None, True, 0, two_stage=two_stage, threads=2, bank_dir=bank)
    e.post("/mrtd/temperature", 0.9, frame=20)
    e.post("/mrtd/note/on", 60, 100, frame=80)
    if loop:  # an exact loop, released, then a rewind: the history replayed and resumed
        e.post("/mrtd/loop", 1.0, frame=100)
        e.post("/mrtd/loop/off", frame=220)
        e.post("/mrtd/rewind", 1.0, frame=260)
    if reset:
        e.post("/mrtd/reset", frame=60)
    if bank:
        e.post("/mrtd/bank/save", 3, frame=90)
        e.post("/mrtd/bank/load", 3, frame=150)
    try:
        return render(e, 12.0)
    finally:
        e.stop()


def test_render_is_the_one_stage_render_bit_for_bit_through_loops_and_rewinds():
    assert np.array_equal(_render(False, loop=True), _render(True, loop=True))


def test_resets_and_banks_replay_exactly(tmp_path):
    """A reset or bank load cuts the queue, which in two stages holds one frame less of
    the old stream: the new stream is the same, the cut lands a frame earlier. What must
    hold is that a take renders the same every time, and the same as one stage until then."""
    a = _render(True, reset=True, bank=str(tmp_path))
    b = _render(True, reset=True, bank=str(tmp_path))
    one = _render(False, reset=True, bank=str(tmp_path))
    assert np.array_equal(a, b)
    cut = 56 * 1920  # the reset's frame (60) less the queue's frames: everything before it is equal
    assert np.array_equal(a[:cut], one[:cut])
    assert np.sqrt(np.mean(a[-48000:] ** 2)) > 1e-3


def test_split_threads():
    assert split_threads(1) == (1, 1)
    assert split_threads(2) == (1, 1)
    assert split_threads(4) == (2, 2)
    assert split_threads(7) == (4, 3)


def _args(**kw) -> argparse.Namespace:
    base = dict(device="cpu", demo=False, checkpoint=None, size="mrt2_small", dtype="auto", codec_dtype="auto",
                threads=None, two_stage=None)
    return argparse.Namespace(**{**base, **kw})


def test_the_fast_path_is_the_default_for_official_sizes_on_the_cpu(monkeypatch):
    from mrtd.cli import options

    monkeypatch.setattr(options, "usable_cores", lambda: 2)
    a = _args()
    options.resolve_fast_path(a)
    assert (a.dtype, a.codec_dtype, a.threads, a.two_stage) == ("int8", "bfloat16", 2, True)
    d = _args(demo=True, size=None)  # the demo keeps its float32 output and replay
    options.resolve_fast_path(d)
    assert (d.dtype, d.codec_dtype, d.threads, d.two_stage) == ("auto", "float32", 1, False)
    v = _args()  # several voices share one batched step
    options.resolve_fast_path(v, voices=2)
    assert v.two_stage is False
    c = _args(device="cuda")
    options.resolve_fast_path(c)
    assert (c.dtype, c.codec_dtype, c.threads, c.two_stage) == ("auto", "float32", 1, False)
    x = _args(dtype="float32", codec_dtype="float32", threads=1)  # an explicit choice is kept
    options.resolve_fast_path(x)
    assert (x.dtype, x.codec_dtype, x.threads, x.two_stage) == ("float32", "float32", 1, False)
    monkeypatch.setattr(options, "usable_cores", lambda: 1)
    one = _args()
    options.resolve_fast_path(one)
    assert one.two_stage is False  # one core: nothing to overlap on


def test_render_cli_two_stage_equals_one_stage(tmp_path):
    import soundfile as sf

    outs = []
    for flags in (["--threads", "1"], ["--two-stage", "--threads", "2"]):
        out = tmp_path / f"{len(outs)}.wav"
        r = subprocess.run([sys.executable, "-m", "mrtd", "render", "--demo", "--seconds", "3", "--out", str(out),
                            "--format", "float", "--quiet", *flags], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        outs.append(sf.read(out, dtype="float32")[0])
    assert np.array_equal(outs[0], outs[1])


def test_bench_two_stage_json(tmp_path):
    out = tmp_path / "b.json"
    r = subprocess.run([sys.executable, "-m", "mrtd", "bench", "--size", "mrt2_tiny", "--two-stage", "--threads", "2",
                        "--frames", "8", "--warmup", "4", "--json", str(out)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    d = json.loads(out.read_text())
    assert d["setup"]["two_stage"] == {"lm_threads": 1, "codec_threads": 1}
    assert d["parity"]["pass"] is True
    assert set(d["stages"]) == {"noise", "temporal", "depth", "codec"} and d["frame"]["frames"] == 8


def test_two_stage_refusals():
    from mrtd.errors import UserError

    with pytest.raises(UserError, match="one voice"):
        from mrtd.engine.build import load_voices

        load_voices(2, None, None, True, 0, two_stage=True)
    with pytest.raises(UserError, match="CUDA|CPU"):
        load_engine(None, None, True, 0, two_stage=True, device="cuda")


def test_compile_is_refused_where_it_does_not_run():
    from mrtd.engine.build import load_voices
    from mrtd.errors import UserError

    with pytest.raises(UserError, match="one voice"):
        load_voices(2, None, None, True, 0, compile=True)


def test_timed_controls_keep_their_distance_one_frame_further():
    """MIDI and timed bundles land a constant distance after the frame heard: the steps
    run one frame further ahead in two stages, so that distance is one frame longer."""
    one = load_engine(None, None, True, 0)
    two = load_engine(None, None, True, 0, two_stage=True, threads=2)
    try:
        assert two.lead_frames() == one.lead_frames() + 1
        render(two, 2.0)  # the queue full: every frame made is at most lead_frames ahead of the heard one
        heard = two.output.frame_at(two.output.read)
        assert heard is not None and two.frame <= heard + two.lead_frames()
    finally:
        two.stop()

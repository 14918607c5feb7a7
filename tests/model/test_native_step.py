"""The int8 language model's native frame (mrtd.model.mrt2.native_step, lm_step.c), built by
the real C compiler: against the float32 reference of the tiny official checkpoint it
streams at least as close as bfloat16 and PyTorch's int8 operators do; it is
deterministic, keeps streams independent, writes the same cache slots, and steps aside
(the eager path runs) wherever it does not apply."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from mrtd.devtools.verify import depthformer_report
from mrtd.engine.demo import random_models
from mrtd.model.mrt2 import int8_kernel, native_step
from mrtd.model.mrt2.config import MRT2Config
from mrtd.model.mrt2.depthformer import load_depthformer
from mrtd.model.mrt2.quant import quant_counts, quantize_lm

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures"
CFG = MRT2Config.from_manifest(FIX / "mrt2_tiny.manifest.json")

pytestmark = pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler (setup.sh installs gcc)")


def _model(mode: str | None = "int8"):
    m = load_depthformer(FIX / "mrt2_tiny.safetensors", CFG, dtype=torch.bfloat16)
    if mode:
        quantize_lm(m, mode)
    return m


def _ref() -> dict:
    with np.load(FIX / "ref_mrt2_tiny_float32.npz") as z:
        return {k: z[k] for k in z.files}


def _stream(m, frames: int = 8, batch: int = 1, seed: int = 0):
    """Sampled frames (temperature 1, per-stream noise): tokens, logits and temporal outputs."""
    g = torch.Generator().manual_seed(seed)
    state = m.new_state(batch)
    cond = torch.from_numpy(_ref()["gen_cond"][:frames]).long()
    out = []
    with torch.inference_mode():
        for f in range(frames):
            noise = -torch.log(-torch.log(torch.rand(batch, 12, 1024, generator=g).clamp(1e-10, 1 - 1e-7)))
            o = m.step(state, cond[f:f + 1].expand(batch, -1), torch.ones(batch), None, noise)
            out.append((o.tokens.clone(), o.logits.float().clone(), o.temporal_out.float().clone()))
    return out, state


def test_plan_exists_for_int8_and_not_for_int4_or_bfloat16():
    assert native_step.ready(_model("int8"), 1) is not None
    assert native_step.ready(_model(None), 1) is None
    # int4 where its groups fit (widths of 128): those matrices are not int8, the eager path runs
    cfg = replace(CFG, temporal_dim=128, temporal_ffn=256, depth_dim=128, depth_ffn=256)
    m, _ = random_models(cfg, 0, torch.bfloat16)
    quantize_lm(m, "int4")
    assert quant_counts(m)["int4"] > 0 and native_step.ready(m, 1) is None
    # int4 on the tiny model's widths falls back to int8 everywhere: all int8, so the native frame
    assert quant_counts(_model("int4"))["int4"] == 0 and native_step.ready(_model("int4"), 1) is not None


def test_stream_is_at_least_as_close_to_float32_as_bfloat16_and_pytorch_int8():
    """Forced-token streaming logits on the reference's generated frames (what `mrtd verify`
    reports as stream_*): the native frame keeps float32 activations, so it is closer to the
    float32 model than PyTorch's int8 operators (which round each result to bfloat16)."""
    ref, dev = _ref(), torch.device("cpu")
    native = depthformer_report(ref, _model("int8"), dev, False, "int8")
    eager_m = _model("int8")
    native_step.drop(eager_m)
    eager = depthformer_report(ref, eager_m, dev, False, "int8")
    bf16 = depthformer_report(ref, _model(None), dev, False, None)
    assert native["stream_top1_agreement"] >= bf16["stream_top1_agreement"] >= eager["stream_top1_agreement"]
    assert native["stream_logits_max_abs"] <= eager["stream_logits_max_abs"]
    assert native["stream_temporal_outputs_max_abs"] < 0.2  # int8 weights' own error: bfloat16's is ~0.11
    assert native["greedy_tokens_match_frames"] >= eager["greedy_tokens_match_frames"]


def test_native_frame_tracks_the_eager_int8_frame():
    """Same int8 weights, same cache slots: the logits differ only by bfloat16 rounding of the
    eager path's activations, and both write keys/values into the same places."""
    a_m, b_m = _model("int8"), _model("int8")
    native_step.drop(b_m)
    a, sa = _stream(a_m, 4, seed=1)
    b, sb = _stream(b_m, 4, seed=1)
    # the first frame sees identical inputs (SOS): its logits agree to bfloat16 rounding
    assert float((a[0][1] - b[0][1]).abs().max()) < 0.15
    assert torch.equal(a[0][0], b[0][0])
    for name in ("self_valid", "cross_valid"):
        assert torch.equal(getattr(sa, name), getattr(sb, name))
    for name in ("self_k", "cross_v", "depth_k"):
        x, y = getattr(sa, name).float(), getattr(sb, name).float()
        assert torch.equal(x != 0, y != 0)  # the same slots written
        assert float((x - y).abs().max()) <= 0.05 * float(y.abs().max())


def test_deterministic():
    """Replay: the same inputs give the same bits, frame after frame."""
    m = _model("int8")
    one, _ = _stream(m, 5, 1, seed=4)
    again, _ = _stream(m, 5, 1, seed=4)
    assert all(torch.equal(x[1], y[1]) and torch.equal(x[0], y[0]) for x, y in zip(one, again))


def test_batch_rows_are_bit_identical_to_separate_streams():
    """Three streams with the same inputs: every row is the one-stream frame bit for bit."""
    m = _model("int8")
    state1, state3 = m.new_state(1), m.new_state(3)
    cond = torch.from_numpy(_ref()["gen_cond"][:6]).long()
    with torch.inference_mode():
        for f in range(6):
            a = m.step(state1, cond[f:f + 1], torch.zeros(1), None, None)
            b = m.step(state3, cond[f:f + 1].expand(3, -1), torch.zeros(3), None, None)
            for r in range(3):
                assert torch.equal(b.logits[r], a.logits[0])
                assert torch.equal(b.temporal_out[r], a.temporal_out[0])


def test_steps_aside_where_it_does_not_apply():
    m = _model("int8")
    assert native_step.ready(m, int8_kernel.MAX_ROWS) is not None
    assert native_step.ready(m, int8_kernel.MAX_ROWS + 1) is None  # more streams than rows
    # a matrix moved or replaced after the plan was made: never read through stale pointers
    w = m.temporal.layers[0].ffn.w1
    w.int8 = w.int8.clone()
    assert native_step.ready(m, 1) is None
    assert native_step.ready(m, 1) is None  # and the plan is gone for good
    out, _ = _stream(m, 2)  # the eager path still makes frames
    assert out[1][0].shape == (1, 12)


def test_a_matrix_of_another_shape_gets_no_plan():
    """The C code trusts the shapes, so the plan checks each against the config first."""
    from mrtd.model.mrt2.attention import Int8Weight

    m = _model(None)
    f = m.depth.layers[0].ffn
    f.w1 = torch.nn.Parameter(f.w1.detach()[:-16].clone())  # 16 hidden rows short
    quantize_lm(m, "int8")
    assert isinstance(f.w1, Int8Weight) and native_step.plan_of(m) is None


def test_same_bits_whatever_the_thread_count():
    """The frame is one thread's work, so torch's intra-op thread count (one stage on every
    core, or the two-stage engine's one thread) does not change a bit of the stream."""
    m = _model("int8")
    one, _ = _stream(m, 4, seed=2)
    torch.set_num_threads(2)
    try:
        two, _ = _stream(m, 4, seed=2)
    finally:
        torch.set_num_threads(1)
    assert all(torch.equal(x[0], y[0]) and torch.equal(x[1], y[1]) for x, y in zip(one, two))


def test_compile_is_skipped_for_the_native_frame():
    """--compile would trace PyTorch's operators instead of the faster native frame: it is
    skipped (no Inductor run), the frame stays eager and native."""
    from mrtd.engine.demo import random_models as models
    from mrtd.model.mrt2.framestep import FrameStep

    m, dec = models(CFG, 0, torch.bfloat16)
    quantize_lm(m, "int8")
    fs = FrameStep(m, dec)
    fs.compile()
    assert not fs.compiled and fs.mode == "eager"
    with torch.inference_mode():
        fs.run()
    assert native_step.plan_of(m).frames == 1


def test_switch_off_leaves_the_eager_path(monkeypatch):
    monkeypatch.setenv(int8_kernel.ENV, "torch")
    int8_kernel.reset()
    try:
        assert native_step.ready(_model("int8"), 1) is None
    finally:
        monkeypatch.delenv(int8_kernel.ENV)
        int8_kernel.reset()


def test_wrong_tensors_are_refused_before_the_c_code_sees_them():
    m = _model("int8")
    plan = native_step.ready(m, 1)
    state = m.new_state(1)
    x = torch.zeros(1, 1, CFG.temporal_dim, dtype=torch.bfloat16)
    src = torch.zeros(1, 1, CFG.enc_dim, dtype=torch.bfloat16)
    with pytest.raises(ValueError, match="expected"):
        plan.temporal(x.float(), src, state)  # float32 where bfloat16 is read
    with pytest.raises(ValueError, match="expected"):
        plan.temporal(x, src[..., :-1], state)  # too narrow
    bad = m.new_state(2)  # a two-stream state for a one-stream input
    with pytest.raises(ValueError, match="expected"):
        plan.temporal(x, src, bad)
    state.depth_k = state.depth_k[:, :, :4]  # fewer levels than the model has
    with pytest.raises(ValueError, match="expected"):
        plan.depth_frame(x, state, None, None, None, None)


def test_forced_tokens_outside_the_vocabulary_are_refused():
    m = _model("int8")
    state = m.new_state(1)
    cond = torch.from_numpy(_ref()["gen_cond"][:1]).long()
    bad = torch.full((1, 12), CFG.vocab_size, dtype=torch.long)  # one past the last id
    with pytest.raises(ValueError, match="outside the vocabulary"):
        m.step(state, cond, forced=bad)


@pytest.mark.parametrize("top_k", [None, 1, 40, 1024])
@pytest.mark.parametrize("temperature", [0.0, 1.3])
def test_native_sampler_is_the_official_sampler(top_k, temperature):
    """Each level's token is what sampler.sample_prepared picks from the level's logits (soft-
    capped), the temperature, top-k and that level's noise: top-k keeps ties, temperature 0 is
    greedy, the lowest index wins a tie."""
    from mrtd.model.mrt2.depth import soft_cap
    from mrtd.model.mrt2.sampler import sample_prepared, sampling_params

    m = _model("int8")
    state = m.new_state(2)
    g = torch.Generator().manual_seed(7)
    cond = torch.from_numpy(_ref()["gen_cond"][:3]).long()
    temp = torch.full((2,), temperature)
    k = None if top_k is None else torch.tensor([top_k, max(1, top_k // 2)])
    with torch.inference_mode():
        for f in range(3):
            noise = -torch.log(-torch.log(torch.rand(2, 12, 1024, generator=g).clamp(1e-10, 1 - 1e-7)))
            o = m.step(state, cond[f:f + 1].expand(2, -1), temp, k, noise)
            t, k_idx = sampling_params(temp, k, 1024, torch.device("cpu"))
            for q in range(12):
                code = sample_prepared(soft_cap(o.logits[:, q], CFG.soft_cap), t, k_idx, noise[:, q])
                assert torch.equal(o.tokens[:, q], code + CFG.num_reserved + q * 1024)

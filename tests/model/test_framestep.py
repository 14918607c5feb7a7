"""FrameStep: the whole-frame step over static buffers equals the engine's path bit for
bit on CPU float32; batched streams equal their own single-stream runs; CUDA graphs
replay the eager step (GPU only); the int8 weight-only option."""

from __future__ import annotations

import copy
import os
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
import torch

from mrtd.engine.demo import build_random_demo
from mrtd.engine.engine import Engine
from mrtd.model.mrt2.attention import Int8Weight, quantize_int8
from mrtd.model.mrt2.codec_decoder import load_decoder
from mrtd.model.mrt2.conditioning import build_cond
from mrtd.model.mrt2.config import MRT2Config
from mrtd.model.mrt2.depthformer import load_depthformer
from mrtd.model.mrt2.framestep import FrameStep
from mrtd.model.mrt2.sampler import gumbel_noise, gumbel_noise_into, make_generators

FIX = Path(__file__).parents[1] / "fixtures"
STYLE = list(range(100, 112))


@pytest.fixture(scope="module")
def demo():
    return build_random_demo()


@pytest.fixture(scope="module")
def tiny():
    cfg = MRT2Config.from_manifest(FIX / "mrt2_tiny.manifest.json")
    return load_depthformer(FIX / "mrt2_tiny.safetensors", cfg), load_decoder(FIX / "mrt2_tiny.safetensors")


def engine_run(model, dec, seed: int, n: int, events):
    """Tokens, dry audio and the per-frame model inputs of ``n`` engine frames."""
    e = Engine(model, dec, seed=seed)
    for frame, address, args in events:
        e.post(address, *args, frame=frame)
    inputs = []
    orig = model.step

    def record(state, cond, temperature=None, top_k=None, noise=None, forced=None):
        inputs.append((cond.clone(), float(temperature[0]), int(top_k[0])))
        return orig(state, cond, temperature, top_k, noise, forced)

    model.step = record
    try:
        tokens = np.stack([e.step_frame().numpy().copy() for _ in range(n)])
    finally:
        del model.step
    audio = e.output._buf[: e.output.written, 2:] / 0.5  # dry channels = codec output * 0.5 (exact)
    return tokens, audio, inputs


def framestep_run(model, dec, seed: int, inputs):
    fs = FrameStep(model, dec, 1, seeds=[seed])
    tokens, audio = [], []
    for cond, temp, top_k in inputs:
        fs.set_controls(cond=cond[0].numpy(), temperature=temp, top_k=top_k)
        out = fs.run()
        tokens.append(out.tokens[0].numpy().copy())
        if out.valid[0]:
            audio.append(out.audio[0].numpy().copy())
    return np.stack(tokens), np.concatenate(audio)


EVENTS = [(4, "/mrtd/temperature", [0.6]), (7, "/mrtd/prompt/1/tokens", STYLE), (9, "/mrtd/topk", [3])]


@pytest.mark.parametrize("which", ["demo", "tiny"])
def test_framestep_equals_engine_bit_exact(which, demo, tiny):
    model, dec = demo if which == "demo" else tiny
    tok_e, audio_e, inputs = engine_run(model, dec, 5, 12, EVENTS)
    assert len({c.numpy().tobytes() for c, _, _ in inputs}) > 1  # the prompt change reached the model
    tok_f, audio_f = framestep_run(model, dec, 5, inputs)
    assert np.array_equal(tok_e, tok_f)
    assert audio_e.shape == audio_f.shape == (11 * 1920, 2)
    assert np.array_equal(audio_e, audio_f)


def test_batched_streams_equal_their_own_runs(demo):
    conds = [build_cond([-1] * 12), build_cond(STYLE), build_cond([5] * 12, drums=1)]
    temps, topks, seeds = [1.3, 0.5, 2.0], [40, 3, 1024], [1, 2, 3]
    n, reset_at = 10, 6
    fs = FrameStep(*demo, 3, seeds=seeds)
    fs.set_controls(cond=np.stack(conds), temperature=temps, top_k=topks)
    batch = []
    for f in range(n):
        if f == reset_at:  # stream 1 alone restarts with a new seed
            fs.reset(1)
            fs.seed([9], streams=[1])
        out = fs.run()
        batch.append((out.tokens.clone(), out.audio.clone(), out.valid.copy()))
    for s in range(3):
        one = FrameStep(*demo, 1, seeds=[seeds[s]])
        one.set_controls(cond=conds[s], temperature=temps[s], top_k=topks[s])
        for f in range(n):
            if f == reset_at and s == 1:
                one.reset()
                one.seed([9])
            out = one.run()
            tok, audio, valid = batch[f]
            assert torch.equal(out.tokens[0], tok[s]), (s, f)
            assert out.valid[0] == valid[s], (s, f)
            assert (out.audio[0] - audio[s]).abs().max() <= 1e-5, (s, f)  # batched conv: rounding only
    # stream 1's first frame after its reset is the codec lookahead: silent, not valid
    assert not batch[reset_at][2][1] and batch[reset_at][2][[0, 2]].all()
    assert torch.count_nonzero(batch[reset_at][1][1]) == 0


def test_static_buffers_snapshot_and_controls(demo):
    fs = FrameStep(*demo, 2, seeds=[4, 5])
    tensors = [getattr(fs.state, f.name) for f in fields(fs.state)] + fs.dec_state.tensors() + [
        fs.cond, fs.temperature, fs.top_k, fs.noise, fs.tokens, fs.audio, fs.valid]
    ptrs = [t.data_ptr() for t in tensors]
    for _ in range(3):
        fs.run()
    snap = fs.snapshot()
    a = [fs.run().tokens.clone() for _ in range(4)]
    fs.restore(snap)
    b = [fs.run().tokens.clone() for _ in range(4)]
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    fs.set_controls(temperature=0.0, top_k=1, streams=[1])
    fs.set_controls(cond=build_cond(STYLE), streams=0)
    assert fs.temperature.tolist() == pytest.approx([1.3, 0.0]) and fs.top_k.tolist() == [40, 1]
    assert fs.cond[0, :12].tolist() == [t + 7 for t in STYLE] and fs.cond[1, 0] == 6
    fs.reset()
    assert fs.capture() is False and fs.graphs is None  # CPU: stays eager
    assert [t.data_ptr() for t in tensors] == ptrs
    assert fs.mode == "eager" and fs.modes() == ["eager"]
    with pytest.raises(ValueError, match="not available"):
        fs.use("graph")
    # the frame as named steps (what a profiler walks) makes the frame run() makes
    assert fs.stage_names() == ["noise", "temporal", "depth", "codec"]
    snap = fs.snapshot()
    with torch.inference_mode():
        for _, fn in fs.stages():
            fn()
    out = fs.end_frame()
    staged = (out.tokens.clone(), out.audio.clone())
    assert not out.valid.any()
    for _ in range(2):
        with torch.inference_mode():
            for _, fn in fs.stages():
                fn()
        fs.end_frame()
    staged_later = fs.fetch()
    fs.restore(snap)
    out = fs.run()
    assert torch.equal(out.tokens, staged[0]) and torch.equal(out.audio, staged[1])
    fs.run(), fs.run()
    assert all(np.array_equal(a, b) for a, b in zip(fs.fetch(), staged_later))


def test_gumbel_noise_into_is_gumbel_noise():
    a = gumbel_noise(make_generators([3, 4]))
    b = gumbel_noise_into(make_generators([3, 4]), torch.empty(2, 12, 1024))
    assert torch.equal(a, b) and torch.isfinite(b).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a CUDA device (none here)")
def test_cuda_graph_replays_the_eager_step():
    dev = torch.device("cuda")
    model, dec = build_random_demo()
    model, dec = model.to(dev), dec.to(dev)
    fs = FrameStep(model, dec, 2, seeds=[1, 2])
    fs.set_controls(cond=np.stack([build_cond(STYLE), build_cond([-1] * 12)]), temperature=[1.1, 0.7])
    snap = fs.snapshot()
    eager = [tuple(x.copy() for x in (fs.run(), fs.fetch())[1]) for _ in range(6)]
    fs.restore(snap)
    assert fs.capture() is True
    graph = [tuple(x.copy() for x in (fs.run(), fs.fetch())[1]) for _ in range(6)]
    for (te, ae), (tg, ag) in zip(eager, graph):
        assert np.array_equal(te, tg)
        assert np.abs(ae - ag).max() <= 1e-5
    # a control written after capture reaches the replay
    fs.set_controls(temperature=0.0, top_k=1)
    fs.restore(snap)
    greedy_graph = [fs.run().tokens.cpu().clone() for _ in range(3)]
    fs.release()
    fs.restore(snap)
    greedy_eager = [fs.run().tokens.cpu().clone() for _ in range(3)]
    assert all(torch.equal(a, b) for a, b in zip(greedy_graph, greedy_eager))
    fs.capture(split=True)
    assert fs.mode == "graph" and fs.stage_names() == ["noise", "temporal", "depth", "codec"]
    fs.capture()
    assert fs.stage_names() == ["noise", "frame"]
    fs.release()
    assert fs.mode == "eager" and fs.graphs is None


def test_int8_weight_only():
    g = torch.Generator().manual_seed(0)
    w = torch.randn(64, 96, generator=g).bfloat16()
    x = torch.randn(3, 96, generator=g).bfloat16()
    q = Int8Weight(w)
    ref = x.float() @ w.float().T
    for k in (96, 24):  # 24: not a multiple of 16, the dequantising fallback
        y = Int8Weight.matmul(x[:, :k], q.int8[:, :k], q.scale) if k == 24 else q(x)
        r = x[:, :k].float() @ w[:, :k].float().T
        assert y.dtype == torch.bfloat16 and ((y.float() - r).abs().max() / r.abs().max()) < 0.03
    assert ((q(x).float() - ref).abs().max() / ref.abs().max()) < 0.03
    cfg = MRT2Config.from_manifest(FIX / "mrt2_tiny.manifest.json")
    m16 = load_depthformer(FIX / "mrt2_tiny.safetensors", cfg, dtype=torch.bfloat16)
    m8 = quantize_int8(load_depthformer(FIX / "mrt2_tiny.safetensors", cfg, dtype=torch.bfloat16))
    assert isinstance(m8.depth.to_logits, Int8Weight) and isinstance(m8.temporal.layers[0].ffn.w1, Int8Weight)
    ref = np.load(FIX / "ref_mrt2_tiny_bfloat16.npz")
    s16, s8 = m16.new_state(1), m8.new_state(1)
    err = 0.0
    with torch.no_grad():
        for f in range(6):
            cond, tok = torch.from_numpy(ref["gen_cond"][f: f + 1]), torch.from_numpy(ref["gen_tokens"][f: f + 1])
            a = m16.step(s16, cond, forced=tok).logits.float()
            b = m8.step(s8, cond, forced=tok).logits.float()
            err = max(err, float((a - b).abs().max()))
    assert 0 < err < 0.3  # int8 is an approximation (the bf16 gate is 0.1 vs the official)


def test_weight_layouts_change_memory_not_results(tiny):
    from mrtd.model.mrt2.framestep import set_codec_layout

    model, dec = tiny  # load_depthformer picks the CPU float32 layout: transposed in memory
    assert not model.temporal.layers[0].ffn.w1.is_contiguous()
    ref = np.load(FIX / "ref_mrt2_tiny_float32.npz")
    cond, tok = torch.from_numpy(ref["gen_cond"][:4]), torch.from_numpy(ref["gen_tokens"][:4])
    codes = torch.from_numpy(ref["ss_codes"])

    def run():
        st = model.new_state(1)
        with torch.no_grad():
            logits = torch.stack([model.step(st, cond[f: f + 1], forced=tok[f: f + 1]).logits for f in range(4)])
        return logits, dec.stream(codes)[0]

    col, audio_default = run()
    model.set_weight_layout("row")
    set_codec_layout(dec, "channels_last")
    try:
        assert model.temporal.layers[0].ffn.w1.is_contiguous()
        row, audio_last = run()
        set_codec_layout(dec, "packed")
        _, audio_packed = run()
    finally:
        model.set_weight_layout("col")
        set_codec_layout(dec, "default")
    assert (col - row).abs().max() <= 1e-5 and (audio_default - audio_last).abs().max() <= 1e-6
    assert (audio_default - audio_packed).abs().max() <= 1e-6
    with pytest.raises(ValueError):
        model.set_weight_layout("diagonal")
    with pytest.raises(ValueError):
        set_codec_layout(dec, "diagonal")


def test_packed_codec_is_the_same_primitive_and_follows_its_weights(tiny):
    """bfloat16 convs run through oneDNN either way: packing once gives the same bits as
    F.conv2d's per-call reorder; a weight changed in place (a reload) is packed again, and
    a decode with autograd (training the demo codec) never uses the packs."""
    from mrtd.model.mrt2.codec_decoder import place
    from mrtd.model.mrt2.framestep import set_codec_layout

    _, dec32 = tiny
    dec = place(copy.deepcopy(dec32), "cpu", torch.bfloat16)
    codes = torch.from_numpy(np.load(FIX / "ref_mrt2_tiny_float32.npz")["ss_codes"])
    plain = dec.stream(codes)[0]
    set_codec_layout(dec, "packed")
    assert torch.equal(dec.stream(codes)[0], plain)
    assert all(len(m.packs.by_shape) for m in dec.modules() if getattr(m, "packs", None) is not None)
    with torch.no_grad():
        dec.out_conv.weight.mul_(0.5)  # as load_official's in-place copy would
    halved = dec.stream(codes)[0]
    set_codec_layout(dec, "default")
    assert torch.equal(dec.stream(codes)[0], halved) and not torch.equal(halved, plain)
    set_codec_layout(dec, "packed")
    emb = dec.rvq.codes_to_embeddings(codes).float().requires_grad_(True)
    dec.decode(emb.to(torch.bfloat16)).float().sum().backward()  # autograd: unpacked convs
    assert emb.grad is not None and emb.grad.abs().sum() > 0


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("MRTD_TEST_COMPILE") != "1",
                    reason="torch.compile takes about a minute on 2 cores: set MRTD_TEST_COMPILE=1")
def test_compiled_stages_match_eager(demo):
    fs = FrameStep(*demo, 2, seeds=[1, 2])
    ref = FrameStep(*demo, 2, seeds=[1, 2])
    fs.compile()
    assert fs.compiled and fs.compile_s > 0
    for _ in range(5):
        a, b = fs.run(), ref.run()
        assert torch.equal(a.tokens, b.tokens)
        assert (a.audio - b.audio).abs().max() <= 1e-5

"""Depthformer parity with the official JAX model (tiny random-weight references) and
the streaming contract the engine relies on (static buffers, batching, seeding)."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
import torch

from mrtd.model.mrt2.conditioning import build_cond, build_cond_batch, cfg_bins
from mrtd.model.mrt2.config import (
    ConfigError,
    MRT2Config,
    check_config,
    infer_config,
    mrt2_base,
    mrt2_small,
)
from mrtd.model.mrt2.depthformer import Depthformer, load_depthformer
from mrtd.model.mrt2.sampler import gumbel_noise, make_generators, sample_level

FIX = Path(__file__).parents[1] / "fixtures"
CKPT = FIX / "mrt2_tiny.safetensors"
MANIFEST = FIX / "mrt2_tiny.manifest.json"


@pytest.fixture(scope="module")
def cfg() -> MRT2Config:
    return MRT2Config.from_manifest(MANIFEST)


@pytest.fixture(scope="module")
def ref32():
    with np.load(FIX / "ref_mrt2_tiny_float32.npz") as z:
        return {k: z[k] for k in z.files}


@pytest.fixture(scope="module")
def ref16():
    with np.load(FIX / "ref_mrt2_tiny_bfloat16.npz") as z:
        return {k: z[k] for k in z.files}


@pytest.fixture(scope="module")
def model(cfg) -> Depthformer:
    return load_depthformer(CKPT, cfg)


def own(logits: np.ndarray) -> np.ndarray:
    return np.stack([logits[..., q, 6 + 1024 * q: 6 + 1024 * (q + 1)] for q in range(12)], -2)


def t(x) -> torch.Tensor:
    return torch.from_numpy(np.asarray(x))


# ---- parity ----
@torch.no_grad()
def test_teacher_forced_f32(model, ref32):
    logits, aux = model(t(ref32["tf_cond"]), t(ref32["tf_target"]), return_aux=True)
    assert np.abs(aux["source"].numpy() - ref32["tf_source"]).max() <= 1e-5
    assert np.abs(own(logits.numpy()) - ref32["tf_logits"]).max() <= 1e-4
    assert np.abs(logits[:, [0, -1]].numpy() - ref32["tf_logits_full_first_last"]).max() <= 1e-4


@torch.no_grad()
def test_streaming_forced_f32_every_frame(model, ref32):
    st = model.new_state(1)
    for f in range(len(ref32["gen_tokens"])):
        o = model.step(st, t(ref32["gen_cond"][f: f + 1]), forced=t(ref32["gen_tokens"][f: f + 1]))
        assert np.abs(o.logits[0].numpy() - ref32["gen_depth_logits"][f]).max() <= 1e-4, f
        assert np.abs(o.temporal_out[0].numpy() - ref32["gen_temporal_outputs"][f]).max() <= 1e-4, f
        assert np.abs(o.temporal_in[0].numpy() - ref32["gen_temporal_inputs"][f]).max() <= 1e-5, f


@torch.no_grad()
def test_greedy_tokens_f32(model, ref32):
    low = np.argwhere(ref32["gen_margin"] < 1e-3)
    n = int(low[0, 0]) if len(low) else len(ref32["gen_tokens"])
    assert n >= 3
    st = model.new_state(1)
    for f in range(n):
        o = model.step(st, t(ref32["gen_cond"][f: f + 1]), torch.zeros(1), torch.ones(1, dtype=torch.long))
        assert o.tokens[0].tolist() == ref32["gen_tokens"][f].tolist(), f


@torch.no_grad()
def test_bf16_within_tolerance(cfg, ref16):
    m = load_depthformer(CKPT, cfg, dtype=torch.bfloat16)
    logits = m(t(ref16["tf_cond"]), t(ref16["tf_target"]))
    assert np.abs(own(logits.numpy()) - ref16["tf_logits"]).max() <= 0.1
    st = m.new_state(1)
    err = 0.0
    for f in range(len(ref16["gen_tokens"])):
        o = m.step(st, t(ref16["gen_cond"][f: f + 1]), forced=t(ref16["gen_tokens"][f: f + 1]))
        err = max(err, float(np.abs(o.logits[0].float().numpy() - ref16["gen_depth_logits"][f]).max()))
    assert err <= 0.1


# ---- streaming contract ----
@torch.no_grad()
def test_teacher_forced_equals_streaming(model, ref32):
    cond, toks = t(ref32["gen_cond"][None]), t(ref32["gen_tokens"][None])
    tf = own(model(cond, toks).numpy())[0]
    st = model.new_state(1)
    for f in range(toks.shape[1]):
        o = model.step(st, cond[:, f], forced=toks[:, f])
        capped = 30 * np.tanh(o.logits[0].numpy() / 30)
        assert np.abs(capped - tf[f]).max() <= 2e-5


@torch.no_grad()
def test_batch_equals_single_streams(model, ref32):
    n = 12
    cond = t(ref32["gen_cond"][:n])
    cond2 = torch.roll(cond, 3, 0)  # a different conditioning schedule for stream 1
    temp = torch.tensor([1.3, 0.9])
    topk = torch.tensor([40, 7])
    gens = make_generators([11, 22])
    both = model.new_state(2)
    out_b = []
    for f in range(n):
        noise = gumbel_noise(gens)
        out_b.append(model.step(both, torch.stack([cond[f], cond2[f]]), temp, topk, noise).tokens)
    for i, (cs, seed) in enumerate(((cond, 11), (cond2, 22))):
        (g,) = make_generators([seed])
        st = model.new_state(1)
        for f in range(n):
            tok = model.step(st, cs[f: f + 1], temp[i: i + 1], topk[i: i + 1], gumbel_noise([g])).tokens
            assert torch.equal(tok[0], out_b[f][i]), (i, f)


@torch.no_grad()
def test_static_buffers_keep_storage(model, ref32):
    st = model.new_state(2)
    ptrs = {f.name: getattr(st, f.name).data_ptr() for f in fields(st)}
    shapes = {f.name: tuple(getattr(st, f.name).shape) for f in fields(st)}
    cond = t(ref32["gen_cond"][:2])
    for f in range(model.cfg.self_window + 3):  # wraps the rings
        model.step(st, cond, torch.ones(2), torch.full((2,), 5), gumbel_noise(make_generators([1, 2])))
    snap = st.clone()
    st.reset(torch.tensor([True, False]))
    assert st.pos.tolist() == [0, model.cfg.self_window + 3] and not st.self_valid[0].any()
    st.copy_(snap)
    assert torch.equal(st.pos, snap.pos)
    st.reset()
    assert {f.name: getattr(st, f.name).data_ptr() for f in fields(st)} == ptrs
    assert {f.name: tuple(getattr(st, f.name).shape) for f in fields(st)} == shapes


@torch.no_grad()
def test_snapshot_restore_and_seeds_are_deterministic(model, ref32):
    cond = t(ref32["gen_cond"][:1])

    def run(st, seed, n=4):
        (g,) = make_generators([seed])
        return [model.step(st, cond, torch.ones(1), torch.full((1,), 50), gumbel_noise([g])).tokens for _ in range(n)]

    st = model.new_state(1)
    run(st, 0, 3)
    snap = st.clone()
    a = run(st, 5)
    st.copy_(snap)
    b = run(st, 5)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    st.copy_(snap)
    c = run(st, 6)
    assert not all(torch.equal(x, y) for x, y in zip(a, c))


@torch.no_grad()
def test_reset_equals_fresh_state(model, ref32):
    cond, toks = t(ref32["gen_cond"]), t(ref32["gen_tokens"])
    st = model.new_state(1)
    for f in range(7):
        model.step(st, cond[f: f + 1], forced=toks[f: f + 1])
    st.reset()
    fresh = model.new_state(1)
    for f in range(6):
        a = model.step(st, cond[f: f + 1], forced=toks[f: f + 1]).logits
        b = model.step(fresh, cond[f: f + 1], forced=toks[f: f + 1]).logits
        assert torch.allclose(a, b, atol=1e-6)


# ---- sampler ----
def test_sampler_greedy_topk_range():
    logits = torch.tensor([[0.0, 3.0, 3.0, 1.0], [5.0, -1.0, 2.0, 2.0]])
    # temperature 0: exact greedy, lowest index on ties, with or without noise
    noise = torch.randn(2, 4) * 100
    for nz in (None, noise):
        assert sample_level(logits, torch.zeros(2), torch.tensor([4, 4]), nz).tolist() == [1, 0]
    # top-k 1 keeps ties: only ids 1, 2 (row 0) can ever be drawn
    g = torch.Generator().manual_seed(0)
    seen = set()
    for _ in range(200):
        nz = -torch.log(-torch.log(torch.rand(2, 4, generator=g).clamp(1e-10, 1 - 1e-7)))
        seen.add(int(sample_level(logits, torch.full((2,), 5.0), torch.tensor([1, 2]), nz)[0]))
    assert seen == {1, 2}
    # top-k 2 on row 1 keeps 5.0 and the tied 2.0s (ties kept): index 1 never drawn
    picks = {int(sample_level(logits, torch.full((2,), 50.0), torch.tensor([1, 2]),
                              -torch.log(-torch.log(torch.rand(2, 4, generator=g))))[1]) for _ in range(300)}
    assert 1 not in picks and picks <= {0, 2, 3}


@torch.no_grad()
def test_sampled_tokens_stay_in_level_range(model, ref32):
    st = model.new_state(3)
    cond = t(ref32["gen_cond"][:3])
    for _ in range(3):
        noise = gumbel_noise(make_generators([1, 2, 3]))
        tok = model.step(st, cond, torch.tensor([0.0, 1.0, 3.0]), torch.tensor([1, 40, 2000]), noise).tokens
        lo = 6 + 1024 * torch.arange(12)
        assert ((tok >= lo) & (tok < lo + 1024)).all()


# ---- conditioning builder ----
def test_cond_builder_matches_reference(ref32):
    raw, scales, ids = ref32["gen_cond_raw"], ref32["gen_cfg_scales"], ref32["gen_cond"]
    for f in range(len(ids)):
        got = build_cond(raw[f, :12], raw[f, 12:140], int(raw[f, 140]), scales[f])
        assert got.tolist() == ids[f].tolist(), f
    batch = build_cond_batch(raw[:, :12], raw[:, 12:140], raw[:, 140], scales)
    assert np.array_equal(batch, ids)


def test_cfg_bins_and_top_bin_overflow(model):
    assert cfg_bins([3.0, 1.0, 1.0]).tolist() == [20, 10, 2]
    assert cfg_bins([7.0, -1.0, 7.0]).tolist() == [40, 0, 8]
    assert cfg_bins([99.0, -5.0, 0.5]).tolist() == [40, 0, 2]  # clipped; drums 1.5 -> 2 (half-even)
    assert cfg_bins([0.5, 0.5, 1.5]).tolist() == [8, 8, 2]  # 7.5 -> 8 and 2.5 -> 2 (half-even, not half-up)
    # top CFG bins read the NEXT channel's first row of the single concatenated table
    enc = model.encoder
    cond = torch.from_numpy(build_cond(np.zeros(12, int), cfg_scales=(7.0, 7.0, 7.0)))
    idx = cond.long() + enc.offsets
    assert idx[141].item() == 1464 and idx[142].item() == 1511 and idx[143].item() == 1526


# ---- config ----
def test_config_from_manifest_and_named():
    c = MRT2Config.from_manifest(MANIFEST)
    assert (c.temporal_dim, c.temporal_layers, c.self_window, c.style_dim, c.enc_dim) == (48, 2, 4, 16, 32)
    assert c.num_cond == 144 and c.vocab_size == 12294 and c.regular_rows == 1536
    assert c.codec.num_features == 8
    small = MRT2Config.from_manifest(FIX / "mrt2_small.manifest.json")
    for f in ("enc_dim", "temporal_dim", "temporal_layers", "temporal_ffn", "depth_dim", "depth_layers",
              "self_window", "cross_window", "style_dim", "depth_heads"):
        assert getattr(small, f) == getattr(mrt2_small, f), f
    assert mrt2_base.temporal_dim == 3072 and mrt2_base.self_window == 25


def test_checkpoint_shapes_match_manifests():
    for name, cfg in (("mrt2_tiny", MRT2Config.from_manifest(MANIFEST)), ("mrt2_small", mrt2_small)):
        tensors = json.loads((FIX / f"{name}.manifest.json").read_text())["tensors"]
        shapes = {k: tuple(v[0]) for k, v in tensors.items() if k.startswith("params/depthformer/")}
        assert Depthformer.checkpoint_shapes(cfg) == shapes
        check_config(cfg, shapes)
    inferred = infer_config(shapes)
    assert inferred.self_window == 41 and inferred.temporal_dim == 1024


def test_config_mismatch_and_uninferable():
    tensors = json.loads(MANIFEST.read_text())["tensors"]
    shapes = {k: tuple(v[0]) for k, v in tensors.items()}
    with pytest.raises(ConfigError, match="temporal_dim"):
        check_config(mrt2_small, shapes, "tiny.safetensors")
    with pytest.raises(ConfigError, match="--manifest"):
        infer_config(shapes)
    with pytest.raises(ConfigError, match="temporal_dim"):
        load_depthformer(CKPT, mrt2_small)
    with pytest.raises(ConfigError, match="not found"):
        MRT2Config.from_manifest(FIX / "nope.json")

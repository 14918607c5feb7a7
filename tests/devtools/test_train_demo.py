"""The demo's training script end to end on a small recipe, and its export: the shipped
format is the official layout, read back by the official loaders value for value."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from mrtd.devtools import train_demo as td
from mrtd.model.mrt2.codec_decoder import SpectroStreamDecoder, load_decoder
from mrtd.model.mrt2.codec_encoder import load_encoder
from mrtd.model.mrt2.config import MRT2Config
from mrtd.model.mrt2.depthformer import Depthformer, load_depthformer


def test_export_is_the_loaders_inverse():
    g = torch.Generator().manual_seed(0)
    model = Depthformer(td.CONFIG)
    td.init_depthformer(model, g)
    model.encoder.init_buffers("cpu")
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01 * torch.randn(p.shape, generator=g))

    def load_lm(t):
        with torch.device("meta"):
            m = Depthformer(td.CONFIG)
        return m.load_official(dict(t))

    official = td.official_tensors(model, Depthformer.checkpoint_shapes(td.CONFIG), load_lm)
    back = load_lm({k: torch.from_numpy(v) for k, v in official.items()})
    for (name, a), b in zip(model.state_dict().items(), back.state_dict().values()):
        assert torch.equal(a, b), name
    dec = SpectroStreamDecoder(td.CODEC)
    td.init_codec(dec, g)
    dec.rvq.table.normal_(generator=g)

    def load_dec(t):
        d = SpectroStreamDecoder(td.CODEC)
        d.load_official(t)
        return d

    official = td.official_tensors(dec, dec.official_shapes(), load_dec)
    back = load_dec({k: torch.from_numpy(v) for k, v in official.items()})
    for (name, a), b in zip(dec.state_dict().items(), back.state_dict().values()):
        assert torch.equal(a, b), name


def test_residual_kmeans_lowers_the_error_level_by_level():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(3000, 4, generator=g)
    table = td.residual_kmeans(x, levels=3, codes=64, iters=4, g=g)
    dec = SpectroStreamDecoder(replace(td.CODEC, num_quantizers=3, num_embeddings=64, num_features=4))
    dec.rvq.table.copy_(table)
    codes = dec.rvq.embeddings_to_codes(x, 3)
    err = [float(torch.linalg.norm(x - dec.rvq.codes_to_embeddings(codes[:, :k]))) for k in (1, 2, 3)]
    assert err[0] > err[1] > err[2]
    assert err[0] < 0.6 * float(torch.linalg.norm(x))


@pytest.mark.slow
def test_every_stage_on_a_small_recipe(tmp_path):
    r = replace(td.RECIPE, pieces=6, seconds=8.0, crop=8, codec_batch=2, codec_minutes=0.03, rvq_frames=1200,
                rvq_iters=1, tune_minutes=0.02, lm_crop=8, lm_batch=2, lm_minutes=0.03,
                lm_more_minutes=0.02, robust_minutes=0.02)
    log = td.Log(tmp_path)
    for stage in td.STAGES.values():
        stage(tmp_path, log, r)
    out = tmp_path / "export"
    td.export(tmp_path, out, log)
    data = json.loads((tmp_path / "log.json").read_text())
    assert {"data", "codec", "rvq", "tune", "lm", "lm_more", "lm_robust", "export"} <= set(data)
    assert all(data[s]["steps"] >= 1 for s in ("codec", "tune", "lm", "lm_more", "lm_robust"))

    # the official loaders read the export back as what was trained
    cfg = MRT2Config.from_manifest(out / "demo.manifest.json")
    assert cfg == td.CONFIG
    model = load_depthformer(out / "demo.safetensors", cfg)
    trained = torch.load(tmp_path / "lm.pt")
    for name, p in model.state_dict().items():
        assert torch.equal(p, trained[name]), name
    dec = load_decoder(out / "demo.safetensors", cfg.codec)
    enc = load_encoder(out / "encoder.safetensors", out / "demo.safetensors", cfg.codec)
    codec = torch.load(tmp_path / "codec_tuned.pt")
    for name, p in dec.state_dict().items():
        want = torch.load(tmp_path / "rvq.pt")["table"] if name == "rvq.table" else codec["dec"][name]
        assert torch.equal(p, want), name
    for name, p in enc.state_dict().items():
        if name != "rvq.table":
            assert torch.equal(p, codec["enc"][name]), name
    # the LM's data are the codes of the encoder's embeddings
    codes = torch.load(tmp_path / "rvq.pt")["codes"]
    audio = np.load(tmp_path / "data.npz")["audio"][:1].astype(np.float32)
    same = (enc(torch.from_numpy(audio)).short() == codes[:1]).float().mean()
    assert same > 0.99  # batch size may round a near tie the other way


def test_onset_frames_weigh_more_as_the_tracker_marks_them():
    from mrtd.controls.notes import NoteTracker
    from mrtd.model.mrt2.conditioning import build_cond

    def cond(mode: str) -> torch.Tensor:
        tracker, rows = NoteTracker(), []
        for f in range(12):
            if f == 2:
                tracker.note_on(60)
            if f == 7:
                tracker.note_on(64)  # a second note joins the first
            if f == 10:
                tracker.note_off(60)
            rows.append(build_cond([-1] * 12, tracker.frame(None, mode, 0), 0))
        return torch.from_numpy(np.stack(rows)).long()[None]

    for mode in ("auto_strum", "unmask"):  # states 3 only, or 2 then 1
        w = td.onset_weights(cond(mode), 5.0, 3)
        assert w.tolist() == [[1, 1, 5, 5, 5, 1, 1, 5, 5, 5, 1, 1]], mode
    assert torch.equal(td.onset_weights(cond("unmask"), 1.0, 3), torch.ones(1, 12))


def test_scheduled_sampling_draws_as_the_engine_and_feeds_the_temporal_stack():
    g = torch.Generator().manual_seed(3)
    own = torch.randn(2, 5, 12, 1024, generator=g) * 3
    drawn = td.sample_own(own, 1.3, 40, g)
    top = own.topk(40, -1).indices
    assert (top == drawn[..., None]).any(-1).all()  # never outside the top-k
    assert torch.equal(td.sample_own(own, 1e-4, 40, g), own.argmax(-1))  # a cold draw is the argmax
    model = Depthformer(td.CONFIG)
    td.init_depthformer(model, g)
    model.encoder.init_buffers("cpu")
    off = td.CONFIG.num_reserved + torch.arange(12) * td.CONFIG.codebook_size
    tgt = torch.randint(0, 1024, (2, 6, 12), generator=g) + off
    cond = torch.zeros(2, 6, 144, dtype=torch.long)
    with torch.no_grad():
        plain = model.own_logits(cond, tgt)
        assert torch.equal(model.own_logits(cond, tgt, tgt), plain)
        past = tgt.clone()
        past[:, 2] = (past[:, 2] - off + 1) % 1024 + off  # frame 2 drawn otherwise: frames 0-2 unchanged
        moved = model.own_logits(cond, tgt, past)
    assert torch.equal(moved[:, :3], plain[:, :3]) and not torch.allclose(moved[:, 3:], plain[:, 3:])

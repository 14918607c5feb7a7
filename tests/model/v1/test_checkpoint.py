"""The v1 checkpoint reader/writer against the official T5X layout (tests/fixtures/v1/)."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from mrtd.errors import UserError
from mrtd.model.v1.checkpoint import (
    V1CheckpointError,
    chunk_shape,
    expected_shapes,
    infer_config,
    is_v1_checkpoint,
    load_v1,
    random_params,
    read_checkpoint,
    write_checkpoint,
)
from mrtd.model.v1.config import SIZES, V1Config

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "v1"
CKPT = FIX / "checkpoint"
TINY = V1Config.from_json(FIX / "config.json")


def sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a, "<f4").tobytes()).hexdigest()


@pytest.fixture(scope="module")
def params() -> dict[str, np.ndarray]:
    return read_checkpoint(CKPT)


def small_cfg() -> V1Config:
    return V1Config(name="t", d_model=16, num_heads=2, head_dim=8, mlp_dim=24, encoder_layers=1,
                    temporal_layers=1, depth_layers=1, vocab=300)


def test_official_checkpoint_reads_bit_exact_and_skips_optimizer_state(params):
    sums = json.loads((FIX / "params_sha256.json").read_text())
    assert sorted(params) == sorted(sums)  # target.* only: no state.*, no msgpack
    assert not any(k.startswith("state") or "param_states" in k for k in params)
    assert any(p.name.startswith("state.param_states.") for p in CKPT.iterdir())  # they are there
    assert {k: sha(v) for k, v in params.items()} == sums
    assert {k: v.shape for k, v in params.items()} == expected_shapes(TINY)


def test_optimizer_state_is_never_read(tmp_path):
    ck = shutil.copytree(CKPT, tmp_path / "ck")
    for d in ck.glob("state.param_states.*"):
        for f in d.iterdir():
            f.write_bytes(b"garbage")
    (ck / "checkpoint").write_bytes(b"not msgpack")
    m = load_v1(ck, TINY)
    assert m.token_embedder.shape == (29824, 64)


def test_config_inferred_from_shapes_and_progress_reported():
    calls = []
    m = load_v1(CKPT, progress=lambda name, i, n: calls.append((name, i, n)))
    assert (m.cfg.d_model, m.cfg.num_heads, m.cfg.head_dim, m.cfg.mlp_dim) == (64, 4, 16, 128)
    assert (m.cfg.encoder_layers, m.cfg.temporal_layers, m.cfg.depth_layers) == (2, 2, 2)
    assert m.cfg == V1Config(**{**TINY.__dict__, "name": m.cfg.name})
    assert [c[1] for c in calls] == list(range(1, 71)) and {c[2] for c in calls} == {70}
    assert m.dtype == torch.float32 and not m.training


def test_written_layout_is_the_official_one(tmp_path, params):
    """Writing the oracle's weights reproduces its .zarray files byte for byte and its chunks."""
    out = write_checkpoint(tmp_path / "w", params)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in CKPT.glob("target.*"))
    for d in sorted(CKPT.glob("target.*")):
        mine = out / d.name
        assert (mine / ".zarray").read_text() == (d / ".zarray").read_text()
        assert sorted(p.name for p in mine.iterdir()) == sorted(p.name for p in d.iterdir())
        for f in d.iterdir():
            if f.name != ".zarray":
                assert gzip.decompress((mine / f.name).read_bytes()) == gzip.decompress(f.read_bytes())


def test_multi_chunk_round_trip_with_edge_chunks(tmp_path):
    cfg = small_cfg()
    p = random_params(cfg, seed=3)
    emb, logits = "token_embedder.embedding", "decoder.logits_dense.kernel"
    # t5x rule: even chunks of at most chunk_bytes; plus explicit uneven chunks (full-size edges)
    out = write_checkpoint(tmp_path / "ck", p, chunk_bytes=4096, chunks={logits: [7, 64]})
    meta = json.loads((out / f"target.{emb}" / ".zarray").read_text())
    assert meta["chunks"] == chunk_shape((300, 16), 1024) and meta["compressor"] == {"id": "gzip", "level": 1}
    assert len(list((out / f"target.{emb}").glob("*.*"))) > 2
    files = sorted(f.name for f in (out / f"target.{logits}").iterdir() if f.name != ".zarray")
    assert len(files) == 3 * 5 and "2.4" in files  # ceil(16/7) x ceil(300/64)
    back = read_checkpoint(out)
    assert back.keys() == p.keys()
    for k in p:
        np.testing.assert_array_equal(back[k], p[k])
    raw = write_checkpoint(tmp_path / "raw", p, compress=False, chunk_bytes=2048)
    assert json.loads((raw / f"target.{emb}" / ".zarray").read_text())["compressor"] is None
    np.testing.assert_array_equal(read_checkpoint(raw)[emb], p[emb])


def test_t5x_chunk_rule_on_base_shapes():
    assert chunk_shape((29824, 768), (64 << 20) // 4) == [14912, 768]
    assert chunk_shape((768, 29824), (64 << 20) // 4) == [768, 14912]
    assert chunk_shape((768, 2048), (64 << 20) // 4) == [768, 2048]


def test_tar_round_trip(tmp_path):
    cfg = small_cfg()
    p = random_params(cfg, seed=5)
    src = write_checkpoint(tmp_path / "src" / "llm_x" / "checkpoint_1", p, chunk_bytes=4096)
    (src / "state.param_states.token_embedder.embedding.v").mkdir()
    tar = tmp_path / "llm_x.tar"
    with tarfile.open(tar, "w") as t:
        t.add(tmp_path / "src" / "llm_x", arcname="llm_x")
    assert is_v1_checkpoint(tar) and is_v1_checkpoint(src) and is_v1_checkpoint(tmp_path / "src")
    back = read_checkpoint(tar)
    assert all(np.array_equal(back[k], p[k]) for k in p) and back.keys() == p.keys()
    m = load_v1(tar)
    assert m.cfg == V1Config(**{**cfg.__dict__, "name": "v1_custom"})
    torch.testing.assert_close(m.logits_dense.detach(), torch.from_numpy(p["decoder.logits_dense.kernel"]).t(),
                               rtol=0, atol=0)


def test_not_a_checkpoint(tmp_path):
    assert not is_v1_checkpoint(tmp_path)
    (tmp_path / "x.tar").write_bytes(b"nope")
    assert not is_v1_checkpoint(tmp_path / "x.tar")
    with pytest.raises(V1CheckpointError, match="not found"):
        load_v1(tmp_path / "missing")
    with pytest.raises(V1CheckpointError, match="no target"):
        read_checkpoint(tmp_path)


def test_bad_checkpoint_names_every_bad_key(tmp_path):
    ck = shutil.copytree(CKPT, tmp_path / "ck", ignore=shutil.ignore_patterns("state.*"))
    gone = "encoder.layers_1.mlp.wo.kernel"
    shutil.rmtree(ck / f"target.{gone}")
    extra = ck / "target.encoder.layers_0.mlp.bias"
    shutil.copytree(ck / "target.encoder.encoder_norm.scale", extra)
    bad = ck / "target.decoder.decoder_norm.scale" / ".zarray"
    meta = json.loads(bad.read_text())
    meta["shape"] = meta["chunks"] = [65]
    bad.write_text(json.dumps(meta))
    with pytest.raises(V1CheckpointError) as e:
        load_v1(ck, TINY)
    msg = str(e.value)
    assert isinstance(e.value, UserError)
    assert f"missing keys (1): {gone}" in msg
    assert "unexpected keys (1): encoder.layers_0.mlp.bias" in msg
    assert "decoder.decoder_norm.scale is [65], expected [64]" in msg


def test_corrupt_chunk_is_a_user_error(tmp_path):
    ck = shutil.copytree(CKPT, tmp_path / "ck", ignore=shutil.ignore_patterns("state.*"))
    (ck / "target.decoder.decoder_norm.scale" / "0").write_bytes(b"\x1f\x8b broken")
    with pytest.raises(V1CheckpointError, match="decoder_norm.scale"):
        read_checkpoint(ck)
    (ck / "target.decoder.decoder_norm.scale" / "0").unlink()
    with pytest.raises(V1CheckpointError, match="chunk 0 is missing"):
        read_checkpoint(ck)


@pytest.mark.parametrize("size", ["base", "large"])
def test_real_manifests_match_the_layout(size):
    man = json.loads((FIX / f"manifest_v1_{size}.json").read_text())
    shapes = {k.removeprefix("target."): tuple(v["shape"]) for k, v in man["tensors"].items()}
    cfg = SIZES[f"v1_{size}"]
    assert len(shapes) == man["num_tensors"] and sum(int(np.prod(s)) for s in shapes.values()) == man["num_params"]
    assert shapes == expected_shapes(cfg)
    assert infer_config(shapes) == cfg


def test_random_params_have_the_official_names_and_shapes():
    p = random_params(TINY, seed=0)
    assert {k: v.shape for k, v in p.items()} == expected_shapes(TINY)
    assert all(v.dtype == np.float32 for v in p.values())
    q = random_params(TINY, seed=0)
    assert all(np.array_equal(p[k], q[k]) for k in p)

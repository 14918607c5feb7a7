"""Bad checkpoints fail with one clear UserError that names the problem key."""

from __future__ import annotations

from pathlib import Path

import pytest
from safetensors.torch import load_file, save_file

from mrtd.errors import UserError
from mrtd.model.mrt2.checkpoint import CheckpointError
from mrtd.model.mrt2.config import MRT2Config
from mrtd.model.mrt2.depthformer import load_depthformer

FIX = Path(__file__).parents[1] / "fixtures"
CKPT = FIX / "mrt2_tiny.safetensors"
CFG = MRT2Config.from_manifest(FIX / "mrt2_tiny.manifest.json")
L1 = "params/depthformer/decoder/temporal_body/transformer/x_layers_1/"


@pytest.fixture(scope="module")
def tensors():
    return load_file(str(CKPT))


def _write(tmp_path: Path, tensors: dict) -> Path:
    p = tmp_path / "bad.safetensors"
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(p))
    return p


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_depthformer(tmp_path / "nope.safetensors", CFG)


def test_truncated_file(tmp_path):
    p = tmp_path / "trunc.safetensors"
    p.write_bytes(CKPT.read_bytes()[: CKPT.stat().st_size // 2])
    with pytest.raises(UserError, match="truncated"):
        load_depthformer(p, CFG)


def test_renamed_key(tmp_path, tensors):
    key = L1 + "self_attention/attention/per_dim_scale"
    t = dict(tensors)
    t[key + "_renamed"] = t.pop(key)
    with pytest.raises(CheckpointError) as e:
        load_depthformer(_write(tmp_path, t), CFG)
    msg = str(e.value)
    assert "missing keys (1)" in msg and key in msg and key + "_renamed" in msg


def test_renamed_key_used_for_dims(tmp_path, tensors):
    key = "params/depthformer/decoder/decoder_embedding/embedding/embedding"
    t = dict(tensors)
    t["params/depthformer/decoder/decoder_embedding/embedding/embeddings"] = t.pop(key)
    with pytest.raises(UserError, match=key):
        load_depthformer(_write(tmp_path, t), None)


def test_wrong_shape(tmp_path, tensors):
    key = L1 + "ffn/post_norm/scale"
    t = dict(tensors)
    t[key] = t[key][:-1]
    with pytest.raises(CheckpointError) as e:
        load_depthformer(_write(tmp_path, t), CFG)
    assert key in str(e.value) and "[47]" in str(e.value)


def test_dims_mismatch_names_key(tmp_path, tensors):
    key = "params/depthformer/decoder/temporal_body/transformer/x_layers_0/ffn/ffn_layer1/kernel"
    t = dict(tensors)
    t[key] = t[key][:, :-1]
    with pytest.raises(UserError) as e:
        load_depthformer(_write(tmp_path, t), CFG)
    assert "temporal_ffn" in str(e.value) and key in str(e.value)


def test_good_checkpoint_inferred_needs_config():
    # tiny widths match no official size, so the windows cannot be inferred
    with pytest.raises(UserError, match="--manifest"):
        load_depthformer(CKPT, None)

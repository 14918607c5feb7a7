"""SpectroStream port vs the official JAX references (tiny random-weight fixtures)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from mrtd.devtools.codec_check import codec_report, encoder_report
from mrtd.model.mrt2.checkpoint import CheckpointError, read_shapes
from mrtd.model.mrt2.codec_config import CodecConfig
from mrtd.model.mrt2.codec_decoder import (
    checkpoint_shapes,
    float_to_int16,
    infer_config,
    load_decoder,
)
from mrtd.model.mrt2.codec_encoder import EncoderStream, find_encoder_file, load_encoder
from mrtd.model.mrt2.rvq import codes_to_ids, ids_to_codes
from mrtd.model.mrt2.stft import stft

FIX = Path(__file__).parents[1] / "fixtures"
CKPT = FIX / "mrt2_tiny.safetensors"
ENC = FIX / "mrt2_tiny_encoder.safetensors"
SIGNALS = ("chord", "drums", "silence")


@pytest.fixture(scope="module")
def ref():
    return dict(np.load(FIX / "ref_mrt2_tiny_float32.npz"))


@pytest.fixture(scope="module")
def eref():
    return dict(np.load(FIX / "ref_mrt2_tiny_encoder.npz"))


@pytest.fixture(scope="module")
def dec():
    return load_decoder(CKPT)


@pytest.fixture(scope="module")
def enc():
    return load_encoder(ENC, CKPT)


def maxabs(a, b) -> float:
    a = a.numpy() if isinstance(a, torch.Tensor) else a
    assert a.shape == b.shape
    return float(np.abs(a.astype(np.float64) - b).max())


# ---- RVQ ------------------------------------------------------------------------------
def test_rvq_codes_exact(dec, eref, ref):
    for s in SIGNALS:
        codes = dec.rvq.embeddings_to_codes(torch.from_numpy(eref[f"{s}_embeddings"]), 64)
        np.testing.assert_array_equal(codes.numpy(), eref[f"{s}_codes64"])
        q12 = dec.rvq.codes_to_embeddings(torch.from_numpy(eref[f"{s}_codes12"]))
        assert maxabs(q12, eref[f"{s}_quantized12"]) <= 1e-6
    assert maxabs(dec.rvq.codes_to_embeddings(torch.from_numpy(ref["ss_codes"])), ref["ss_embeddings"]) <= 1e-6


def test_token_ids(ref):
    tokens = torch.from_numpy(ref["gen_tokens"]).long()
    codes = torch.from_numpy(ref["gen_codes"]).long()
    assert torch.equal(ids_to_codes(tokens), codes)
    assert torch.equal(codes_to_ids(codes), tokens)


# ---- decoder --------------------------------------------------------------------------
def test_decode_layer(dec, ref):
    codes = torch.from_numpy(ref["ss_codes"])
    out = dec(codes)
    assert out.shape == (1, 15 * 1920, 2)
    assert maxabs(out, ref["ss_waveform_layer"]) <= 1e-5
    assert maxabs(out, ref["ss_waveform_codes_to_waveform"]) <= 1e-5
    assert maxabs(dec(torch.from_numpy(ref["ss_embeddings"])), ref["ss_waveform_layer"]) <= 1e-5


def test_decode_gen_codes(dec, ref):
    out = dec(torch.from_numpy(ref["gen_codes"])[None])[0]
    assert np.all(ref["gen_waveform_float"][:1920] == 0)
    assert maxabs(out, ref["gen_waveform_float"][1920:]) <= 1e-5


def test_streaming_parity_and_first_step(dec, ref):
    codes = torch.from_numpy(ref["ss_codes"])
    out, valid, _ = dec.stream(codes)
    assert valid == [False] + [True] * (codes.shape[1] - 1)
    assert torch.count_nonzero(out[:, :1920]) == 0
    assert maxabs(out, ref["ss_waveform_step"]) <= 1e-5
    assert maxabs(out[:, 1920:], dec(codes).numpy()) <= 1e-6


def test_batch_and_reset(dec, ref):
    a = torch.from_numpy(ref["ss_codes"])[0]
    b = torch.from_numpy(ref["gen_codes"])[: a.shape[0]]
    codes = torch.stack([a, b])
    off = dec(codes)
    assert maxabs(off[1:], dec(b[None]).numpy()) <= 1e-6
    out, _, state = dec.stream(codes)
    assert maxabs(out[:, 1920:], off.numpy()) <= 1e-6
    state.reset()
    again = torch.cat([dec.step(codes[:, t], state)[0] for t in range(codes.shape[1])], 1)
    assert maxabs(again, out.numpy()) == 0.0


def test_static_state_10s(dec):
    """250 frames (10 s): the state tensors never move or grow."""
    g = torch.Generator().manual_seed(0)
    state = dec.init_state(1)
    ptrs = [(t.data_ptr(), tuple(t.shape)) for t in state.tensors()]
    for _ in range(250):
        audio, _ = dec.step(torch.randint(0, 1024, (1, 12), generator=g), state)
        assert audio.shape == (1, 1920, 2)
    assert [(t.data_ptr(), tuple(t.shape)) for t in state.tensors()] == ptrs
    assert torch.isfinite(audio).all()


def test_int16_transform(dec, ref):
    x = torch.from_numpy(ref["gen_waveform_float"])
    pcm = float_to_int16(x)
    assert pcm.dtype == torch.int16
    np.testing.assert_array_equal(pcm.float().numpy() / 32768.0, ref["gen_waveform"])
    # saturation and rounding ends: 2.0 -> 32767, -2.0 -> -32768
    assert float_to_int16(torch.tensor([2.0, -2.0, 0.0])).tolist() == [32767, -32768, 0]
    out = dec(torch.from_numpy(ref["gen_codes"])[None], output="int16")[0]
    diff = np.abs(out.numpy() - ref["gen_waveform"][1920:]) * 32768
    assert diff.max() <= 1  # rounding-boundary samples only
    assert dec(torch.from_numpy(ref["ss_codes"]), output="pcm16").dtype == torch.int16


def test_checkpoint_shapes():
    tiny = checkpoint_shapes(infer_config(read_shapes(CKPT, ("params/soundstream/",))))
    assert tiny == read_shapes(CKPT, ("params/soundstream/",))
    manifest = json.loads((FIX / "mrt2_small.manifest.json").read_text())
    small = {k: tuple(v[0]) for k, v in manifest["tensors"].items() if k.startswith("params/soundstream/")}
    assert checkpoint_shapes(CodecConfig()) == small
    assert len(small) == 49


# ---- encoder --------------------------------------------------------------------------
def test_encoder_stft_embeddings_codes(enc, eref):
    for s in SIGNALS:
        wave = torch.from_numpy(eref[f"{s}_waveform"])
        if f"{s}_stft" in eref:
            assert maxabs(stft(wave).permute(0, 2, 3, 1), eref[f"{s}_stft"]) <= 1e-4
        emb = enc.embeddings(wave)
        assert maxabs(emb, eref[f"{s}_embeddings"]) <= 5e-5
        np.testing.assert_array_equal(enc(wave).numpy(), eref[f"{s}_codes12"])


def test_encoder_stream(enc, eref):
    """Live encoder: output i = layer frame i-1, first output invalid, exact past the warm-up."""
    wave = torch.from_numpy(eref["drums_waveform"])
    frames = 26  # > STREAM_HISTORY: covers warm-up and steady state
    st = EncoderStream(enc)
    embs, codes, valid = [], [], []
    for i in range(frames + 1):
        e, c, v = st.step(wave[:, i * 1920:(i + 1) * 1920])
        embs.append(e)
        codes.append(c)
        valid.append(v)
    assert valid == list(eref["drums_step_mask"][0, : frames + 1])
    assert maxabs(torch.stack(embs, 1)[:, 1:], eref["drums_embeddings_step"][:, 1 : frames + 1]) <= 5e-5
    np.testing.assert_array_equal(torch.stack(codes, 1)[:, 1:].numpy(), eref["drums_codes_step"][:, 1 : frames + 1, :12])


def test_reports_pass(ref, eref):
    r = codec_report(ref, CKPT)
    assert r["pass"], r
    assert r["codec_max_abs"] <= 1e-5 and r["codec_int16_exact"]
    e = encoder_report(eref, ENC, CKPT)
    assert e["pass"], e
    assert e["encoder_codes_match"] == 1.0 and e["encoder_roundtrip_max_abs"] <= 1e-5


def test_find_encoder_file(tmp_path):
    root = tmp_path / "magenta-rt-v2"
    ckpt = root / "checkpoints" / "mrt2_small.safetensors"
    ckpt.parent.mkdir(parents=True)
    ckpt.write_bytes(b"")
    with pytest.raises(CheckpointError, match="encoder weights not found"):
        find_encoder_file(ckpt)
    res = root / "resources" / "spectrostream" / "encoder.safetensors"
    res.parent.mkdir(parents=True)
    res.write_bytes(b"x")
    assert find_encoder_file(ckpt) == res.resolve()
    beside = ckpt.parent / "encoder.safetensors"
    beside.write_bytes(b"x")
    assert find_encoder_file(ckpt) == beside.resolve()  # the official MLX loader's place wins
    assert find_encoder_file(ckpt, explicit=res) == res
    with pytest.raises(CheckpointError):
        find_encoder_file(ckpt, explicit=tmp_path / "nope.safetensors")


def test_bad_encoder_files(tmp_path):
    from safetensors.torch import load_file, save_file

    t = load_file(str(ENC))
    broken = dict(t)
    del broken["params/encoder/encoder_3/conv2d_3x3/conv/bias"]
    broken["params/encoder/bottleneck/conv2d_3x3/conv/kernel"] = torch.zeros(3, 3, 32, 16)
    save_file(broken, str(tmp_path / "encoder.safetensors"))
    with pytest.raises(CheckpointError) as e:
        load_encoder(tmp_path / "encoder.safetensors", CKPT)
    assert "encoder_3/conv2d_3x3/conv/bias" in str(e.value) and "bottleneck/conv2d_3x3/conv/kernel" in str(e.value)
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError):
        load_encoder(tmp_path / "junk.safetensors", CKPT)
    with pytest.raises(CheckpointError, match="not a SpectroStream encoder"):
        load_encoder(CKPT, CKPT)  # the generation checkpoint is not an encoder file
    with pytest.raises(CheckpointError, match="quantizer"):
        load_encoder(ENC, ENC)  # no RVQ table in the encoder file

"""Magenta RT v1 on the command line: the options (`--size v1_*`, `--codec`, `--family`),
`mrtd bench` of a v1 config (JSON shape), `mrtd render` of the tiny v1 checkpoint, and,
when the real files are present, `mrtd render --size v1_base` and the official codec test
vectors (skipped otherwise)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mrtd.cli import build_parser
from mrtd.cli.bench import add_bench
from mrtd.cli.serve import load_config
from mrtd.errors import UserError

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures"
V1 = FIX / "v1"
TINY_CODEC = FIX / "mrt2_tiny.safetensors"
needs_v1_fixtures = pytest.mark.skipif(not (V1 / "checkpoint").is_dir(), reason="v1 fixtures not present")


def cli(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "mrtd", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


def test_options_name_v1_everywhere():
    p = build_parser()
    for cmd in ("render", "serve"):
        extra = ["--seconds", "1", "--out", "x.wav"] if cmd == "render" else []
        a = p.parse_args([cmd, "--size", "v1_base", "--codec", "c.safetensors", *extra])
        assert a.size == "v1_base" and a.codec == "c.safetensors"
        assert p.parse_args([cmd, "--size", "v1_large", *extra]).codec is None
    a = p.parse_args(["verify", "--family", "v1", "--checkpoint", "d", "--reference", "r.npz", "--cases", "full"])
    assert a.family == "v1" and a.cases == "full"
    assert p.parse_args(["verify", "--reference", "r.npz"]).family == "auto"
    assert p.parse_args(["verify", "--family", "mrt2", "--reference", "r.npz"]).family == "mrt2"
    a = p.parse_args(["weights", "download", "--size", "v1_large", "--testdata", "--no-codec"])
    assert a.size == "v1_large" and a.testdata and a.no_codec
    a = p.parse_args(["bench", "--size", "v1_base", "--chunks", "2"])
    assert a.size == "v1_base" and a.chunks == 2
    with pytest.raises(SystemExit):
        p.parse_args(["render", "--size", "v1_huge", "--seconds", "1", "--out", "x.wav"])


def test_serve_config_file_takes_v1_options(tmp_path):
    from mrtd.cli.serve import _serve_parser

    f = tmp_path / "mrtd.toml"
    f.write_text('size = "v1_base"\ncodec = "/data/mrt2_small.safetensors"\n')
    defaults = {a.dest: a.default for a in _serve_parser()._actions}
    assert load_config(str(f), defaults) == {"size": "v1_base", "codec": "/data/mrt2_small.safetensors"}


def bench_args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_bench(p.add_subparsers())
    a = p.parse_args(["bench", *argv])
    a.argv = ["bench", *argv]
    return a


@needs_v1_fixtures
def test_bench_v1_config_json(tmp_path):
    out = tmp_path / "v1.json"
    a = bench_args("--config", str(V1 / "config.json"), "--warmup", "0", "--threads", "1", "--json", str(out))
    assert a.run(a) == 0
    r = json.loads(out.read_text())
    for k in ("command", "family", "model", "config", "params", "setup", "parity", "encoder", "chunk", "decode",
              "codec", "rtf", "latency", "time_to_first_audio", "memory", "env"):
        assert k in r, k
    assert r["family"] == "v1" and r["command"].startswith("mrtd bench --config")
    assert r["config"]["d_model"] == 64 and r["params"]["language_model"] == 4_097_600
    assert r["setup"]["batch"] == 2 and r["setup"]["chunks"] == 1 and r["setup"]["warmup"] == 0
    c = r["chunk"]
    assert c["n"] == 1 and c["steps"][0] <= 800 and c["ms_mean"] > r["encoder"]["ms_mean"] > 0
    assert r["decode"]["per_step_ms"] > 0 and r["codec"]["frames"] == 51 and r["codec"]["ms_mean"] > 0
    assert r["rtf"]["tokens"] == pytest.approx(2000 / c["ms_at_800_steps"], rel=1e-3)
    assert r["rtf"]["tokens_and_audio"] < r["rtf"]["tokens"]
    assert r["latency"]["min_s"] > 2.0
    assert r["parity"]["checked"] and r["parity"]["pass"] is True
    for k in ("git_sha", "torch", "device", "dtype", "threads"):
        assert k in r["env"], k


@needs_v1_fixtures
def test_bench_v1_checkpoint_folder(tmp_path):
    out = tmp_path / "ck.json"
    a = bench_args("--checkpoint", str(V1 / "checkpoint"), "--codec", str(TINY_CODEC), "--warmup", "0",
                   "--no-parity", "--json", str(out))
    assert a.run(a) == 0
    r = json.loads(out.read_text())
    assert r["model"].startswith("checkpoint ") and r["codec_model"] == f"codec {TINY_CODEC}"
    assert r["setup"]["size"] is None and r["parity"] == {"checked": False, "reason": "--no-parity"}
    assert r["chunk"]["n"] == 1 and r["rtf"]["tokens"] > 0


def test_bench_v1_refusals():
    for argv, msg in ((["--size", "v1_base", "--int8"], "--int8 is for MRT2"),
                      (["--size", "v1_base", "--streams", "2"], "--streams is for MRT2"),
                      (["--size", "demo", "--chunks", "2"], "for Magenta RT v1")):
        a = bench_args(*argv)
        with pytest.raises(UserError, match=msg):
            a.run(a)


@needs_v1_fixtures
def test_render_a_v1_checkpoint_with_an_mrt2_codec(tmp_path):
    import soundfile as sf

    out = tmp_path / "v1.wav"
    r = cli("render", "--checkpoint", str(V1 / "checkpoint"), "--config", str(V1 / "config.json"),
            "--codec", str(TINY_CODEC), "--seconds", "1", "--seed", "3", "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    audio, sr = sf.read(out)
    assert sr == 48000 and audio.shape == (48000, 2) and np.isfinite(audio).all()
    bad = cli("render", "--checkpoint", str(TINY_CODEC), "--codec", str(TINY_CODEC), "--seconds", "1",
              "--out", str(tmp_path / "x.wav"))
    assert bad.returncode == 1 and "--codec is for Magenta RT v1" in bad.stderr


# --------------------------------------------------------------------------- real files


def _real(what: str):
    from mrtd.weights.find import find_encoder
    from mrtd.weights.v1 import find_v1_codec, find_v1_testdata

    try:
        return {"codec": find_v1_codec, "testdata": find_v1_testdata, "encoder": find_encoder}[what]()
    except UserError:
        return None


def _real_v1_base():
    from mrtd.weights.find import find_checkpoint

    try:
        return find_checkpoint("v1_base")
    except UserError:
        return None


@pytest.mark.skipif(_real_v1_base() is None or _real("codec") is None,
                    reason="the real v1_base checkpoint and an MRT2 codec are not on this machine "
                    "('mrtd weights download --size v1_base')")
def test_render_v1_base_with_the_real_files(tmp_path):
    import soundfile as sf

    out = tmp_path / "v1_base.wav"
    r = cli("render", "--size", "v1_base", "--seconds", "2", "--seed", "1", "--out", str(out), "--quiet",
            timeout=3600)
    assert r.returncode == 0, r.stderr
    audio, sr = sf.read(out)
    assert sr == 48000 and audio.shape == (96000, 2) and np.isfinite(audio).all()
    assert np.abs(audio).max() > 1e-3  # a trained model makes sound


@pytest.mark.skipif(_real("testdata") is None or _real("codec") is None or _real("encoder") is None,
                    reason="the official codec test vectors (testdata/ssv2_48k_stereo, 'mrtd weights download "
                    "--size none --testdata') and the MRT2 codec files are not on this machine")
def test_official_v1_codec_test_vectors():
    """v1's SpectroStream end-to-end test on MRT2's codec: encoding the test audio gives the
    official tokens exactly, decoding them gives the official round trip within 1e-4 (the
    decisive check that the two releases share the codec weights)."""
    import torch

    from mrtd.model.mrt2.codec_decoder import load_decoder
    from mrtd.model.mrt2.codec_encoder import load_encoder
    from mrtd.model.v1.system import V1System

    d, codec, enc_path = _real("testdata"), _real("codec"), _real("encoder")
    audio = np.load(d / "audio.npy")  # [2 clips, 2 channels, 96000]
    tokens = np.load(d / "tokens.npy")  # [2 clips, 50 frames, 64 levels]
    rt_ref = np.load(d / "audio_rt.npy")  # [2 clips, 2 channels, 96000]
    enc = load_encoder(enc_path, codec)
    codes = enc(torch.from_numpy(np.ascontiguousarray(audio.swapaxes(1, 2))), levels=tokens.shape[-1])
    np.testing.assert_array_equal(codes.cpu().numpy(), tokens)
    system = V1System(None, load_decoder(codec))
    rt = np.stack([system.decode(t).swapaxes(0, 1) for t in tokens])
    assert rt.shape == rt_ref.shape
    assert float(np.abs(rt - rt_ref).max()) < 1e-4

"""``mrtd verify`` end to end on the tiny float32 reference (subprocess, JSON on stdout)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures"


def _verify(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "mrtd", "verify", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_verify_tiny_f32_passes():
    r = _verify("--checkpoint", "tests/fixtures/mrt2_tiny.safetensors",
                "--reference", "tests/fixtures/ref_mrt2_tiny_float32.npz",
                "--config", "tests/fixtures/mrt2_tiny.manifest.json")
    assert r.returncode == 0, r.stderr + r.stdout
    out = json.loads(r.stdout)
    assert out["pass"] is True
    assert out["tf_logits_max_abs"] <= 1e-4 and out["stream_logits_max_abs"] <= 1e-4
    assert out["greedy_tokens_match_frames"] == out["greedy_frames_compared"] > 0


def test_verify_fails_on_wrong_reference(tmp_path):
    with np.load(FIX / "ref_mrt2_tiny_float32.npz") as z:
        ref = {k: z[k] for k in z.files}
    ref["tf_logits"] = ref["tf_logits"] + 0.01  # a reference the model cannot match
    bad = tmp_path / "ref_bad_float32.npz"
    np.savez(bad, **ref)
    r = _verify("--checkpoint", str(FIX / "mrt2_tiny.safetensors"), "--reference", str(bad),
                "--config", str(FIX / "mrt2_tiny.manifest.json"))
    assert r.returncode != 0
    out = json.loads(r.stdout)
    assert out["pass"] is False and out["tf_logits_max_abs"] > 1e-3


def test_verify_missing_reference_is_one_line_error(tmp_path):
    r = _verify("--checkpoint", str(FIX / "mrt2_tiny.safetensors"), "--reference", str(tmp_path / "none.npz"))
    assert r.returncode != 0
    assert "not found" in r.stderr and "Traceback" not in r.stderr


def test_verify_encoder_reference_passes():
    r = _verify("--checkpoint", "tests/fixtures/mrt2_tiny.safetensors",
                "--reference", "tests/fixtures/ref_mrt2_tiny_encoder.npz",
                "--encoder", "tests/fixtures/mrt2_tiny_encoder.safetensors",
                "--config", "tests/fixtures/mrt2_tiny.manifest.json")
    assert r.returncode == 0, r.stderr + r.stdout
    out = json.loads(r.stdout)
    assert out["pass"] is True and out["encoder_pass"] is True
    assert out["encoder_embeddings_max_abs"] <= 1e-4 and out["encoder_codes_match"] == 1.0

"""``mrtd verify --family v1`` on the tiny official v1 reference (tests/fixtures/v1): the
JSON it prints, its verdicts, a reference with arrays removed ("not checked", not
failures), a reference the model cannot match, bfloat16 margins, family detection."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from mrtd.cli import main
from mrtd.devtools.verify import detect_family
from mrtd.devtools.verify_v1 import cases_of, margin_threshold, settings
from mrtd.errors import UserError

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures" / "v1"
CKPT, CONFIG = FIX / "checkpoint", FIX / "config.json"

pytestmark = pytest.mark.skipif(not (FIX / "ref_fp32.npz").is_file(), reason="v1 fixtures not present")


def load(name: str) -> dict[str, np.ndarray]:
    with np.load(FIX / name) as z:
        return {k: z[k] for k in z.files}


def verify(capsys, *args: str) -> tuple[int, dict]:
    rc = main(["verify", *args])
    return rc, json.loads(capsys.readouterr().out)


def test_tiny_float32_case_passes_every_check():
    """The real command line (subprocess, exit status, one JSON object on stdout)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "mrtd", "verify", "--family", "v1", "--checkpoint", str(CKPT),
                        "--reference", str(FIX / "ref_fp32.npz"), "--config", str(CONFIG), "--cases", "partial"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert r.returncode == 0, r.stderr + r.stdout
    out = json.loads(r.stdout)
    assert out["family"] == "v1" and out["pass"] is True and out["strict"] is True
    assert out["config"]["d_model"] == 64 and out["settings"] == {"guidance": 5.0, "temperature": 1.1, "top_k": 40}
    c = out["cases"]["partial"]
    assert c["encoder"]["pass"] and c["encoder"]["max_abs"] <= 1e-5
    lg = c["logits"]
    assert lg["pass"] and lg["first32_max_abs"] <= 1e-4 and lg["positions"] == 800
    for k in ("top5_vals_max_abs", "logsumexp_max_abs", "target_logit_max_abs", "cfg_top5_vals_max_abs"):
        assert lg[k] <= 1e-4 * 11, k
    assert c["greedy_logits"]["pass"] and c["greedy_logits"]["min_reference_margin"] > 0
    for kind in ("greedy", "sampled"):
        g = c[kind]
        assert g["pass"] and g["identical"] and g["match"] == 800 and g["first_mismatch"] is None, kind
        assert g["rvq_equal"] is True
    assert c["sampled"]["key"] == [0, 0, 0, 0]
    assert out["checks_passed"] == out["checks_with_verdict"] == 5
    # the committed fixture keeps one full-vocab logits array (make_refs.py): the decode-path
    # first-32 block is reported as not checked, the statistics cover those positions
    assert out["not_checked"] == ["partial/greedy_tf_cfg_logits_first32"] and out["rollout"]["checked"] is False


def test_missing_arrays_are_not_checked_not_failures(tmp_path, capsys):
    ref = load("ref_fp32.npz")
    keep = {"decoder_input_tokens", "decoder_target_tokens", "full/encoder_input_tokens", "full/encoder_outputs",
            "full/tf_top5_ids", "full/tf_top5_vals"}
    small = tmp_path / "ref_small.npz"
    np.savez(small, **{k: ref[k] for k in keep})
    rc, out = verify(capsys, "--checkpoint", str(CKPT), "--reference", str(small))  # family recognised
    assert rc == 0 and out["family"] == "v1" and out["pass"] is True
    c = out["cases"]["full"]
    assert c["encoder"]["pass"] is True and c["logits"]["pass"] is True
    assert set(c["logits"]) >= {"top5_vals_max_abs", "top5_ids_equal_fraction"}
    assert "logsumexp_max_abs" not in c["logits"]
    for kind in ("greedy", "sampled", "greedy_logits"):
        assert c[kind]["checked"] is False and "pass" not in c[kind]
    assert out["rollout"] == {"checked": False, "reason": "no rollout/* in the reference"}
    assert {"full/greedy_tokens", "full/sampled_tokens", "full/tf_logsumexp", "rollout/tokens"} <= set(out["not_checked"])
    assert out["checks_with_verdict"] == 2
    # a reference holding inputs only has nothing to check: a one-line error
    bare = tmp_path / "ref_bare.npz"
    np.savez(bare, **{"full/encoder_input_tokens": ref["full/encoder_input_tokens"]})
    assert main(["verify", "--family", "v1", "--checkpoint", str(CKPT), "--reference", str(bare)]) == 1
    cap = capsys.readouterr()
    assert cap.out == "" and "nothing to check" in cap.err


def test_a_reference_the_model_cannot_match_fails(tmp_path, capsys):
    ref = load("ref_fp32.npz")
    bad = {k: ref[k] for k in ("empty_nostyle/encoder_input_tokens", "empty_nostyle/encoder_outputs",
                               "empty_nostyle/tf_top5_ids", "empty_nostyle/tf_top5_vals",
                               "decoder_input_tokens", "decoder_target_tokens")}
    bad["empty_nostyle/encoder_outputs"] = bad["empty_nostyle/encoder_outputs"] + 1e-3
    p = tmp_path / "ref_bad.npz"
    np.savez(p, **bad)
    rc = main(["verify", "--family", "v1", "--checkpoint", str(CKPT), "--reference", str(p), "--config", str(CONFIG)])
    out = json.loads(capsys.readouterr().out)
    assert rc == 1 and out["pass"] is False
    assert out["cases"]["empty_nostyle"]["encoder"]["pass"] is False
    assert out["cases"]["empty_nostyle"]["logits"]["pass"] is True


def test_bfloat16_reports_figures_and_margins(tmp_path, capsys):
    ref = load("ref_bf16.npz")
    keep = {k: v for k, v in ref.items() if k.startswith(("partial/", "decoder_"))}
    p = tmp_path / "ref_partial_bf16.npz"
    np.savez(p, **keep)
    rc, out = verify(capsys, "--checkpoint", str(CKPT), "--reference", str(p), "--dtype", "bfloat16")
    assert out["reference_compute_dtype"] == "bfloat16" and out["dtype"] == "bfloat16" and not out["strict"]
    c = out["cases"]["partial"]
    assert c["encoder"]["pass"] is None and c["logits"]["pass"] is None  # figures, no verdict
    # the bf16 fixture keeps no full-vocab logits (make_refs.py): the statistics give the figures
    assert c["encoder"]["max_abs"] < 0.5 and "first32_max_abs" not in c["logits"]
    for kind in ("greedy", "sampled"):
        g = c[kind]
        assert g["margin_threshold"] == pytest.approx(max(2 * c["greedy_logits"]["top5_vals_p99_abs"], 1e-3))
        # identical up to the first low-margin position: any mismatch comes at or after it
        assert g["pass"] is (g["first_mismatch"] is None or g["first_mismatch"] >= g["compared_up_to"])
    assert rc == (0 if out["pass"] else 1)


def test_family_detection_and_helpers(tmp_path):
    ref = load("ref_fp32.npz")
    assert detect_family(str(CKPT), {}) == "v1"
    tar = tmp_path / "ck.tar"
    with tarfile.open(tar, "w") as t:
        t.add(CKPT / "target.decoder.decoder_norm.scale", arcname="ck/target.decoder.decoder_norm.scale")
    assert detect_family(str(tar), {}) == "v1"
    assert detect_family(str(ROOT / "tests" / "fixtures" / "mrt2_tiny.safetensors"), ref) == "mrt2"
    assert detect_family(None, ref) == "v1" and detect_family(None, {"tf_logits": np.zeros(1)}) == "mrt2"
    assert sorted(cases_of(ref)) == ["empty_nostyle", "full", "partial"]  # not eos/ (no inputs), not rollout/
    assert settings(str(CONFIG)) == {"guidance": 5.0, "temperature": 1.1, "top_k": 40}
    assert margin_threshold(0.1, strict=True) == 0.0 and margin_threshold(0.1, strict=False) == 0.2
    assert margin_threshold(None, strict=False) == 1e-3
    from mrtd.devtools.verify_v1 import run_verify_v1

    assert main(["verify", "--checkpoint", str(CKPT), "--reference", str(FIX / "ref_fp32.npz"), "--cases", "nope"]) == 1
    with pytest.raises(UserError, match="not a v1 reference"):
        run_verify_v1(type("A", (), {"checkpoint": str(CKPT), "manifest": None})(), {"tf_logits": np.zeros(1)},
                      tmp_path / "r.npz", None, None, "float32")


def test_the_eos_case_ends_rows_early(tmp_path, capsys):
    ref = load("ref_fp32.npz")
    p = tmp_path / "ref_eos.npz"
    np.savez(p, **{k: v for k, v in ref.items() if k.startswith(("eos/", "partial/encoder_input_tokens",
                                                                   "partial/sampled_rng_key"))})
    rc, out = verify(capsys, "--checkpoint", str(CKPT), "--reference", str(p))
    assert rc == 0 and out["pass"] is True
    e = out["eos"]
    assert e["greedy"]["identical"] and e["greedy"]["first_eos"] == 6 and e["greedy"]["rvq_equal"]
    assert e["sampled"]["identical"] and e["sampled"]["first_eos"] == 150 and e["sampled"]["rvq_equal"]
    assert out["checks_with_verdict"] == 2 and "partial/greedy_tokens" in out["not_checked"]
    # the model's weights are restored afterwards (the logit row of id 1 was tripled)
    from mrtd.model.v1.checkpoint import load_v1

    m = load_v1(CKPT)
    from mrtd.devtools.verify_v1 import CaseRunner, settings

    run = CaseRunner(m, {k: ref[k] for k in ("partial/encoder_input_tokens", "eos/greedy_tokens")},
                     m.device, True, settings(None))
    before = m.logits_dense.detach().clone()
    assert run.eos()["greedy"]["pass"] is True
    assert bool((m.logits_dense == before).all())

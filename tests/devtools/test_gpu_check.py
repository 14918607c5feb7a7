"""benchmarks/gpu_check.sh (the GPU proof, issue 22): valid bash, its options, its CPU
mode's plumbing on two quick steps, and its summary (mrtd.devtools.gpu_summary) on
canned step outputs; the device-independent latency runner (mrtd.devtools.latency)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mrtd.devtools import gpu_summary as gs

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "gpu_check.sh"
WHEELS = ROOT / "benchmarks" / "gpu_wheels.sh"


@pytest.mark.parametrize("script", [SCRIPT, WHEELS], ids=["gpu_check", "gpu_wheels"])
def test_the_scripts_are_valid_bash(script):
    subprocess.run(["bash", "-n", str(script)], check=True, timeout=30)


def test_help_and_a_bad_device():
    h = subprocess.run(["bash", str(SCRIPT), "--help"], check=False, capture_output=True, text=True, timeout=30)
    assert h.returncode == 0 and "--device cpu" in h.stdout and "summary.json" in h.stdout
    bad = subprocess.run(["bash", str(SCRIPT), "--device", "tpu"], check=False, capture_output=True, text=True,
                         timeout=30)
    assert bad.returncode == 2 and "cuda or cpu" in bad.stderr


def test_cpu_mode_runs_the_chosen_steps_and_writes_the_summary(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHON": sys.executable, "OUT": str(out), "MRTD_GPU_CHECK_ONLY": "env,verify_f32",
           "MRTD_GIT_SHA": "abc123"}
    r = subprocess.run(["bash", str(SCRIPT), "--device", "cpu", "--wheels", str(tmp_path / "none")],
                       check=False, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["gpu_check.log", "results.json", "steps.tgz", "summary.json"]
    s = json.loads((out / "summary.json").read_text())
    assert s["mode"] == "cpu" and s["dry_run"] is True and s["env"]["git_sha"] == "abc123"
    assert set(s["steps"]) == {"env", "verify_f32"} and s["steps_failed"] == []
    row = {g["id"]: g for g in s["goals"]}["parity_f32"]
    assert row["pass"] is True and row["value"] <= 1e-4  # one thread: the strict float32 tolerance holds
    res = json.loads((out / "results.json").read_text())
    assert res["steps"]["verify_f32"]["output"]["pass"] is True
    assert "GPU check (cpu, dry run)" in r.stdout


# ---- the summary on canned outputs -------------------------------------------------------------
def bench(fps: float, streams: int = 1, parity: bool = True, tokens_equal: bool | None = True) -> dict:
    return {"setup": {"size": "mrt2_small", "streams": streams, "dtype": "bfloat16", "cuda_graph": True},
            "parity": {"checked": True, "pass": parity},
            "eager_check": None if tokens_equal is None else {"tokens_equal": tokens_equal},
            "frame": {"fps": fps, "rtf": fps / 25.0, "aggregate_fps": fps * streams, "ms_p50": 1000 / fps,
                      "ms_p99": 1000 / fps},
            "stages": {"frame": {"ms_mean": 1000 / fps}}, "memory": {"mib": 100.0}}


def verify(value: float, ok: bool = True) -> dict:
    return {"tf_logits_max_abs": value / 2, "tf_logits_full_first_last_max_abs": value,
            "stream_logits_max_abs": value / 3, "depthformer_pass": ok, "pass": ok,
            "codec_max_abs": 9e-8, "codec_pass": True}


JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="{f}"
skipped="1" tests="4"><testcase classname="tests.model.test_framestep" name="test_cuda_graph_replays_the_eager_step"/>
<testcase classname="tests.engine.test_engine_device" name="test_cuda_graph_gives_the_eager_tokens">{fail}</testcase>
<testcase classname="tests.engine.test_engine_device" name="test_cuda_bfloat16_graph"/>
<testcase classname="tests.engine.test_engine_device" name="test_cuda_without_cuda_is_a_clear_error">
<skipped message="checks the error on a machine without CUDA"/></testcase></testsuite></testsuites>"""


def write_work(work: Path, outputs: dict, states: dict | None = None, failed_tests: int = 0) -> None:
    (work / "json").mkdir(parents=True)
    (work / "status").mkdir()
    for name, data in outputs.items():
        (work / "json" / f"{name}.json").write_text(json.dumps(data))
    fail = '<failure message="assert False"/>' if failed_tests else ""
    (work / "json" / "tests.xml").write_text(JUNIT.format(f=failed_tests, fail=fail))
    for name in [*outputs, "tests"]:
        st = (states or {}).get(name, {"state": "ok", "rc": 0})
        (work / "status" / f"{name}.json").write_text(json.dumps(st))


def canned(**over) -> dict:
    out = {
        "env": {"gpu": "NVIDIA H100 80GB HBM3", "torch": "2.11.0+cu130", "cuda": "13.0", "git_sha": "abc"},
        "verify_f32": verify(3e-6), "verify_bf16": verify(0.06), "verify_encoder": {"encoder_embeddings_max_abs":
                                                                                     3e-6, "encoder_pass": True},
        "bench_small_graph": bench(310.0), "bench_small_nograph": bench(90.0, tokens_equal=None),
        "bench_base": bench(61.0), "bench_small_16streams": bench(30.0, streams=16),
        "latency": {"repeatable": {"identical": True}, "pulled": {"latency_ms_p50": 58.7},
                    "paced": {"latency_ms_p50": 61.0},
                    "verdict": {"mode": "paced", "latency_ms_p50": 61.0, "repeatable": True}},
    }
    out.update(over)
    return out


def goals(s: dict) -> dict:
    return {g["id"]: g for g in s["goals"]}


def test_every_goal_met(tmp_path):
    write_work(tmp_path / "w", canned())
    s = gs.write(tmp_path / "w", tmp_path / "o", "cuda")
    g = goals(s)
    assert s["all_goals_met"] is True and s["goals_failed"] == [] and s["dry_run"] is False
    assert g["small_fps"]["value"] == 310.0 and g["base_fps"]["pass"] is True
    assert g["streams16_rtf"]["value"] == pytest.approx(1.2) and g["latency_p50"]["value"] == 61.0
    assert g["small_fps_eager"]["pass"] is None and g["small_fps_eager"]["goal"] == "info"
    assert g["tests"]["value"] == 0 and g["tests"]["detail"]["passed"] == 3 and g["tests"]["detail"]["skipped"] == 1
    assert "v1_base_chunk" not in s["goals_without_figure"]  # the v1 hook did not run: optional
    assert json.loads((tmp_path / "o" / "summary.json").read_text()) == s
    assert "PASS small_fps" in gs.table(s)


def test_misses_and_runs_that_do_not_count(tmp_path):
    out = canned(bench_base=bench(41.0), bench_small_graph=bench(400.0, parity=False),
                 bench_small_16streams=bench(30.0, streams=8), verify_bf16=verify(0.2, ok=False),
                 verify_f32=verify(2e-4, ok=False))
    del out["latency"]
    write_work(tmp_path / "w", out, states={"bench_base": {"state": "failed", "rc": 1}}, failed_tests=1)
    s = gs.summarize(*gs.read_work(tmp_path / "w"), mode="cuda")
    g = goals(s)
    assert s["all_goals_met"] is False
    assert g["base_fps"]["pass"] is False and g["base_fps"]["state"] == "failed"
    assert g["small_fps"]["pass"] is False and "parity gate FAILED" in g["small_fps"]["why_not_counted"]
    assert g["streams16_rtf"]["pass"] is False and "ran 8 streams, not 16" in g["streams16_rtf"]["why_not_counted"]
    assert g["parity_f32"]["pass"] is False and g["parity_f32"]["value"] == 2e-4
    assert g["parity_bf16"]["pass"] is False
    assert g["tests"]["pass"] is False and g["tests"]["detail"]["failing"][0]["test"].endswith("eager_tokens")
    assert g["latency_p50"]["state"] == "not run" and "latency_p50" in s["goals_without_figure"]
    codec_off = bench(300.0)
    codec_off["parity"] = {"checked": True, "pass": False, "lm_pass": True,
                           "codec": {"dtype": "float32", "max_abs": 3e-5, "tolerance": 1e-5, "pass": False}}
    f = gs.figure("small_fps", codec_off)
    assert f["counts"] is False and "codec float32 max abs 3e-05" in f["why"][0] and "LM" not in f["why"][0]
    assert s["steps_failed"] == ["bench_base"]


def test_v1_figures_when_the_hooks_ran(tmp_path):
    v1_base = {"family": "v1", "rtf": {"tokens": 6.0, "tokens_and_audio": 4.0}, "chunk": {"ms_mean": 300.0},
               "parity": {"checked": True, "pass": None}}  # bfloat16: figures without a verdict
    out = canned(bench_v1_base=v1_base, bench_v1_large={"frame": {"rtf": 0.8}},
                 verify_v1_f32={"logit_error_max": 3e-6, "pass": True, "checks_passed": 5},
                 verify_v1_bf16={"logit_error_max": 0.05, "pass": False})
    write_work(tmp_path / "w", out, states={"bench_v1_large": {"state": "ok", "rc": 0}})
    s = gs.summarize(*gs.read_work(tmp_path / "w"), mode="cuda")
    g = goals(s)
    assert g["v1_base_chunk"]["value"] == 0.5 and g["v1_base_chunk"]["pass"] is True
    assert gs.figure("v1_base_chunk", {"chunk": {"s_mean": 0.41}})["value"] == 0.41
    failed = {**v1_base, "parity": {"checked": True, "pass": False}}
    assert gs.figure("v1_base_chunk", failed)["counts"] is False
    assert g["v1_large_chunk"]["value"] == pytest.approx(2.5) and g["v1_large_chunk"]["pass"] is False
    assert g["v1_parity_f32"]["pass"] is True and g["v1_parity_f32"]["value"] == 3e-6
    assert g["v1_parity_bf16"]["pass"] is False and g["v1_parity_bf16"]["goal"] == "pass"
    assert set(s["goals_failed"]) == {"v1_large_chunk", "v1_parity_bf16"}


def test_skipped_v1_hook_is_optional_and_a_budget_skip_is_not(tmp_path):
    out = canned()
    del out["bench_base"]
    write_work(tmp_path / "w", out)
    for name, reason in (("bench_v1_base", "mrtd bench --help lists no v1_base"),
                         ("bench_base", "budget: 20s left, needs 90s")):
        (tmp_path / "w" / "status" / f"{name}.json").write_text(json.dumps({"state": "skipped", "reason": reason}))
    s = gs.summarize(*gs.read_work(tmp_path / "w"), mode="cuda")
    g = goals(s)
    assert g["v1_base_chunk"]["optional"] is True and g["v1_base_chunk"]["reason"].startswith("mrtd bench")
    assert s["goals_without_figure"] == ["base_fps"] and s["all_goals_met"] is False


def test_load_json_takes_the_last_json_line(tmp_path):
    p = tmp_path / "v.json"
    p.write_text('warning: something\n{"pass": true, "x": 1}\n')
    assert gs.load_json(p) == {"pass": True, "x": 1}
    assert gs.load_json(tmp_path / "missing.json") is None


# ---- the latency runner --------------------------------------------------------------------------
def test_latency_runner_on_the_cpu(tmp_path):
    from mrtd.devtools import latency

    path = tmp_path / "lat.json"
    assert latency.main(["--size", "demo", "--trials", "2", "--modes", "pulled", "--json", str(path)]) == 0
    r = json.loads(path.read_text())
    assert r["repeatable"]["identical"] is True and "paced" not in r
    assert r["pulled"]["no_difference"] == 0 and len(r["pulled"]["trials"]) == 2
    assert 0 < r["pulled"]["latency_ms_p50"] <= r["pulled"]["latency_budget_ms"] + 40.0
    assert r["verdict"]["mode"] == "pulled" and r["verdict"]["pass"] is True


def test_latency_verdict_prefers_a_clean_paced_run():
    from mrtd.devtools.latency import verdict

    pulled, paced = {"latency_ms_p50": 50.0}, {"latency_ms_p50": 90.0}
    assert verdict({"repeatable": {"identical": True}, "pulled": pulled, "paced": paced}) == {
        "mode": "paced", "latency_ms_p50": 90.0, "repeatable": True, "goal_ms": 80.0, "pass": False}
    warned = {**paced, "warning": "underruns"}
    v = verdict({"repeatable": {"identical": True}, "pulled": pulled, "paced": warned})
    assert v["mode"] == "pulled" and v["pass"] is True
    assert verdict({"repeatable": {"identical": False}, "pulled": pulled})["pass"] is False
    assert verdict({"repeatable": {"identical": True}, "pulled": {"error": "boom"}})["pass"] is None

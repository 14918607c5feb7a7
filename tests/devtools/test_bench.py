"""``mrtd bench`` on the demo model: the JSON it writes, the parity gate, and the
paired-seed control-latency method through the real Engine."""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mrtd.cli.bench import add_bench
from mrtd.devtools.bench import (
    first_difference,
    paired_seed_latency,
    parse_control,
    summary,
)
from mrtd.engine.demo import build_random_demo
from mrtd.engine.engine import Engine
from mrtd.errors import UserError

STYLE = [str(t) for t in range(100, 112)]


def bench_args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_bench(p.add_subparsers())
    a = p.parse_args(["bench", *argv])
    a.argv = ["bench", *argv]
    return a


@pytest.fixture(scope="module")
def demo():
    return build_random_demo()


def test_bench_demo_json(tmp_path):
    out = tmp_path / "bench.json"
    a = bench_args("--size", "demo", "--frames", "6", "--warmup", "2", "--streams", "2", "--threads", "1",
                   "--json", str(out))
    assert a.run(a) == 0
    r = json.loads(out.read_text())
    for k in ("command", "model", "params", "setup", "parity", "frame", "stages", "time_to_first_audio",
              "memory", "latency", "env"):
        assert k in r, k
    assert r["command"].startswith("mrtd bench --size demo")
    for k in ("git_sha", "torch", "device", "dtype", "threads"):
        assert k in r["env"], k
    assert r["env"]["device"] == "cpu" and r["env"]["threads"] == 1 and r["setup"]["streams"] == 2
    f = r["frame"]
    assert f["frames"] == 6 and 0 < f["ms_min"] <= f["ms_p50"] <= f["ms_p99"] <= f["ms_max"]
    assert f["rtf"] == pytest.approx(f["fps"] / 25, rel=1e-3)
    assert f["aggregate_fps"] == pytest.approx(2 * f["fps"], rel=1e-3)
    assert set(r["stages"]) == {"noise", "temporal", "depth", "codec"}
    assert sum(v["ms_mean"] for v in r["stages"].values()) <= f["ms_mean"]
    assert r["parity"]["checked"] and r["parity"]["pass"] and r["parity"]["codec"]["pass"]
    t = r["time_to_first_audio"]
    assert t["cold_s"] > 0 and t["warm_ms"] > 0 and t["build_s"] >= 0
    assert r["memory"]["kind"] == "process_rss_peak" and r["memory"]["bytes"] > 10 * 2**20
    assert r["setup"]["cuda_graph"].startswith("n/a") and r["eager_check"] is None and r["latency"] is None
    assert r["params"]["language_model"] > 0 and r["params"]["codec"] > 0


def test_paired_seed_latency_through_the_engine(demo):
    make = lambda: Engine(*demo, seed=3)  # noqa: E731
    r = paired_seed_latency(make, "/mrtd/prompt/1/tokens", tuple(range(100, 112)), trials=2, start_s=0.1)
    assert r["no_difference"] == 0 and len(r["trials"]) == 2
    for t in r["trials"]:
        assert math.isfinite(t["latency_ms"]) and 0 < t["latency_ms"] <= 200
        assert t["first_diff_sample"] > t["post_at_sample"] and t["applied_at_frame"] is not None
    assert r["latency_ms_min"] <= r["latency_ms_p50"] <= r["latency_ms_max"]
    # a control that changes nothing: no difference, reported cleanly
    same = paired_seed_latency(make, "/mrtd/temperature", (1.3,), trials=1, start_s=0.1)
    assert same["no_difference"] == 1 and same["latency_ms_p50"] is None and "changed nothing" in same["note"]
    assert same["trials"][0]["latency_ms"] is None
    with pytest.raises(UserError):
        paired_seed_latency(make, "/mrtd/no/such/control", (1,), trials=1)


def test_latency_option_and_helpers(tmp_path):
    out = tmp_path / "lat.json"
    a = bench_args("--frames", "3", "--warmup", "1", "--no-parity", "--latency", "--latency-trials", "1",
                   "--latency-control", "/mrtd/temperature 0.2", "--json", str(out))
    assert a.run(a) == 0
    lat = json.loads(out.read_text())["latency"]
    assert lat["control"] == ["/mrtd/temperature", 0.2] and lat["trials"][0]["latency_ms"] > 0
    assert parse_control("/mrtd/prompt/1/tokens " + " ".join(STYLE))[1] == tuple(range(100, 112))
    with pytest.raises(UserError):
        parse_control("temperature 1")
    a, b = torch.zeros(10, 2).numpy(), torch.zeros(10, 2).numpy()
    assert first_difference(a, b) is None
    b[7, 1] = 1e-9
    assert first_difference(a, b) == 7
    s = summary([10.0, 20.0, 30.0], streams=4)
    assert s["ms_mean"] == 20.0 and s["fps"] == 50.0 and s["rtf"] == 2.0 and s["aggregate_rtf"] == 8.0


@pytest.mark.parametrize("dtype", ["int8", "int4"])
def test_bench_quantised_parity(tmp_path, dtype):
    """``--dtype int8|int4``: the parity block gates on top-1 agreement with float32 and
    shows bfloat16/int8/int4 side by side (int4 runs int8 at the tiny widths: says so)."""
    out = tmp_path / "bench.json"
    a = bench_args("--size", "mrt2_tiny", "--dtype", dtype, "--frames", "3", "--warmup", "2", "--json", str(out))
    assert a.run(a) == 0
    r = json.loads(out.read_text())
    g = r["parity"]
    assert r["setup"]["quant"] == dtype and g["checked"] and g["pass"] and g["top1_gate"] == 0.99
    assert set(g["lm_side_by_side"]) == {"bfloat16", "int8", "int4"}
    assert g["tf_top1_agreement"] >= g["lm_side_by_side"]["bfloat16"]["tf_top1_agreement"] >= 0.97
    assert g["quantised_matrices"]["int8"] > 0 and g["quantised_matrices"]["int4"] == 0
    assert r["params"]["language_model"] > 0


def test_bench_refusals():
    with pytest.raises(UserError, match="bfloat16"):
        a = bench_args("--int8")
        a.run(a)
    with pytest.raises(UserError, match="streams"):
        a = bench_args("--streams", "0")
        a.run(a)
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match="CUDA"):
            a = bench_args("--device", "cuda")
            a.run(a)


def test_importing_the_bench_parser_does_not_import_torch():
    code = "import sys, mrtd.devtools.bench; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, cwd=Path(__file__).parents[2])


@pytest.mark.jack
def test_bench_live_voices_json(tmp_path):
    """``mrtd bench --live``: real daemons on a private jackd, batched and separate, with
    the summary lines they print parsed into the JSON (two short runs each)."""
    import shutil

    if shutil.which("jackd") is None:
        pytest.skip("jackd is not installed (apt-get install jackd2)")
    out = tmp_path / "live.json"
    a = bench_args("--live", "--live-seconds", "2", "--streams", "2", "--threads", "1", "--json", str(out))
    assert a.run(a) == 0
    r = json.loads(out.read_text())
    assert r["bench"] == "live voices" and r["seconds_per_run"] == 2.0 and "git_sha" in r["environment"]
    modes = {(x["mode"], x["voices"]) for x in r["runs"]}
    assert ("one daemon, batched", 1) in modes and ("separate processes", 1) in modes
    for x in r["runs"]:
        assert len(x["underruns"]) == len(x["xruns"]) == len(x["frames"]) == x["voices"]
        assert all(f >= 25 for f in x["frames"])  # each voice played (2 s = 50 frames, less the start)
        assert x["ok"] == (max(x["underruns"]) == 0)
    assert 0 <= r["largest_batched"] <= 2 and 0 <= r["largest_separate"] <= 2

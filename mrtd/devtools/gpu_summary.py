"""The summary of ``benchmarks/gpu_check.sh``: every figure of the GPU proof against its goal.

The script runs each step into a work folder (``json/STEP.json`` or ``json/tests.xml``,
``status/STEP.json`` with its exit code, seconds and state) and calls this after every
step, so ``$OUT`` always holds an up-to-date pair even if the run is cut off:

* ``summary.json``: one row per goal (value, goal, pass, where it came from, why it does
  not count), the steps' states, the test counts, ``all_goals_met``;
* ``results.json``: every step's status and its whole JSON, keyed by step.

No torch here: it runs in a fraction of a second between steps.

    python -m mrtd.devtools.gpu_summary --work WORK --out OUT [--mode cuda|cpu]

Goals (issue 22): mrt2_small >= 250 frames/s single stream with codec; mrt2_base >= 50
frames/s; 16 mrt2_small streams in real time (each >= 25 frames/s); control-to-audio
latency p50 <= 80 ms; CUDA parity: float32 <= 1e-4, bfloat16 within 0.1 on the tiny
official references (codec float32 within its 1e-5); Magenta RT v1 (when its bench
exists): a 2 s chunk in under 2 s. A speed figure counts only when its run's parity gate
passed (and the graph step gave the eager tokens): a wrong step never earns one.
"""

from __future__ import annotations

import argparse
import json
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

REAL_TIME_FPS = 25.0
V1_CHUNK_S = 2.0
OPTIONAL = ("v1_parity_f32", "v1_parity_bf16", "v1_base_chunk", "v1_large_chunk")  # goals whose step may not exist yet
# step -> (goal id, what, comparison, goal value, unit)
GOALS: list[tuple[str, str, str, str, float | None, str]] = [
    ("parity_f32", "verify_f32", "CUDA float32 parity on the tiny official reference (LM logits)", "<=", 1e-4,
     "max abs"),
    ("parity_codec_f32", "verify_f32", "CUDA float32 codec decode vs the official waveform", "<=", 1e-5, "max abs"),
    ("parity_encoder_f32", "verify_encoder", "CUDA float32 SpectroStream encoder vs the official embeddings",
     "<=", 1e-4, "max abs"),
    ("parity_bf16", "verify_bf16", "CUDA bfloat16 parity on the tiny official reference (LM logits)", "<=", 0.1,
     "max abs"),
    ("small_fps", "bench_small_graph", "mrt2_small, 1 stream, with codec, CUDA graph, bfloat16 LM", ">=", 250.0,
     "frames/s"),
    ("small_fps_eager", "bench_small_nograph", "mrt2_small, 1 stream, with codec, no CUDA graph (eager)", "info",
     None, "frames/s"),
    ("base_fps", "bench_base", "mrt2_base, 1 stream, with codec, CUDA graph, bfloat16 LM", ">=", 50.0, "frames/s"),
    ("streams16_rtf", "bench_small_16streams", "16 mrt2_small streams in one batched step, real time per stream",
     ">=", 1.0, "x real time"),
    ("latency_p50", "latency", "control-to-audio latency p50 (real Engine, paired seeds)", "<=", 80.0, "ms"),
    ("tests", "tests", "the CUDA tests (pytest): none failed", "==", 0.0, "failed + errors"),
    ("v1_parity_f32", "verify_v1_f32", "Magenta RT v1 float32 on the device vs the tiny official reference",
     "pass", None, "logit max abs"),
    ("v1_parity_bf16", "verify_v1_bf16", "Magenta RT v1 bfloat16 on the device vs the tiny official reference",
     "pass", None, "logit max abs"),
    ("v1_base_chunk", "bench_v1_base", "Magenta RT v1 base: one 2 s chunk", "<", V1_CHUNK_S, "s"),
    ("v1_large_chunk", "bench_v1_large", "Magenta RT v1 large: one 2 s chunk", "<", V1_CHUNK_S, "s"),
]


# ---- reading the work folder -------------------------------------------------------------------
def load_json(path: Path) -> Any:
    """The JSON in ``path``; for a file with log lines around it, the last line that parses."""
    try:
        text = path.read_text()
    except OSError:
        return None
    try:
        return json.loads(text)
    except ValueError:
        pass
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


def junit(path: Path) -> dict[str, Any] | None:
    """Counts, failing tests and skip reasons from pytest's ``--junitxml``."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    n = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
    failed, skipped = [], []
    for case in root.iter("testcase"):
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        for tag in ("failure", "error"):
            el = case.find(tag)
            if el is not None:
                failed.append({"test": name, "kind": tag, "message": (el.get("message") or "")[:300]})
        el = case.find("skipped")
        if el is not None:
            skipped.append({"test": name, "reason": (el.get("message") or "")[:200]})
    passed = n["tests"] - n["failures"] - n["errors"] - n["skipped"]
    return {"passed": passed, "failed": n["failures"], "errors": n["errors"], "skipped": n["skipped"],
            "failing": failed, "skipped_tests": skipped,
            "skipped_for_cuda": [s for s in skipped if "cuda" in s["reason"].lower() or "gpu" in s["reason"].lower()]}


def read_work(work: Path) -> tuple[dict[str, dict], dict[str, Any]]:
    """(statuses by step, outputs by step) from the work folder."""
    status = {p.stem: load_json(p) or {} for p in sorted((work / "status").glob("*.json"))}
    out: dict[str, Any] = {}
    for p in sorted((work / "json").glob("*")):
        if p.suffix == ".json":
            out[p.stem] = load_json(p)
        elif p.suffix == ".xml":
            out[p.stem] = junit(p)
    return status, out


# ---- figures ---------------------------------------------------------------------------------
def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def _max(*xs: Any) -> float | None:
    vals = [v for v in (_num(x) for x in xs) if v is not None]
    return max(vals) if vals else None


def _bench_validity(b: dict) -> tuple[bool, list[str]]:
    """A bench run's speed counts when its parity gate passed and, with a graph or
    compiled step, the step gave the eager tokens."""
    why = []
    gate = b.get("parity") or {}
    if not gate.get("checked"):
        why.append("parity gate not checked: " + str(gate.get("reason", "")))
    elif gate.get("pass") is False:  # None: figures without a verdict (v1 bfloat16)
        parts = []
        if gate.get("lm_pass") is False:
            parts.append(f"LM logits {gate.get('tf_logits_max_abs')} / {gate.get('stream_logits_max_abs')} "
                         f"vs {gate.get('tolerance')}")
        codec = gate.get("codec") or {}
        if codec.get("pass") is False:
            parts.append(f"codec {codec.get('dtype')} max abs {codec.get('max_abs')} vs {codec.get('tolerance')} "
                         "(TF32 convolutions? NVIDIA_TF32_OVERRIDE)")
        why.append("parity gate FAILED" + (": " + "; ".join(parts) if parts else ""))
    ec = b.get("eager_check")
    if ec is not None and not ec.get("tokens_equal", False):
        why.append("graph/compiled step's tokens differ from the eager step's")
    return not why, why


def _find_chunk_s(d: Any, path: str = "") -> tuple[float | None, str | None]:
    """A v1 chunk time in seconds: a number under a key naming a chunk (``*_s`` / ``*seconds*``,
    or ``*_ms`` / a dict with ``ms_mean`` or ``s_mean``)."""
    if isinstance(d, dict):
        for k, v in d.items():
            p = f"{path}.{k}" if path else k
            if "chunk" in k.lower():
                if isinstance(v, dict):
                    for sub, scale in (("s_mean", 1.0), ("seconds_mean", 1.0), ("ms_mean", 1e-3), ("mean_s", 1.0),
                                       ("mean_ms", 1e-3), ("s_p50", 1.0), ("ms_p50", 1e-3)):
                        if _num(v.get(sub)) is not None:
                            return _num(v[sub]) * scale, f"{p}.{sub}"
                elif _num(v) is not None and (k.endswith("_s") or "seconds" in k):
                    return _num(v), p
                elif _num(v) is not None and k.endswith("_ms"):
                    return _num(v) * 1e-3, p
            found = _find_chunk_s(v, p)
            if found[0] is not None:
                return found
    return None, None


def figure(goal_id: str, data: Any) -> dict[str, Any]:
    """{value, counts, why, extra} for one goal from its step's output."""
    if data is None:
        return {"value": None, "counts": False, "why": ["no output"]}
    if goal_id in ("parity_f32", "parity_bf16"):
        v = _max(data.get("tf_logits_max_abs"), data.get("tf_logits_full_first_last_max_abs"),
                 data.get("stream_logits_max_abs"))
        extra = {k: data.get(k) for k in ("tf_logits_max_abs", "tf_logits_full_first_last_max_abs",
                                          "stream_logits_max_abs", "stream_temporal_outputs_max_abs",
                                          "greedy_tokens_match_frames", "greedy_frames_compared",
                                          "depthformer_pass", "pass", "device", "dtype")}
        why = [] if data.get("depthformer_pass") else ["mrtd verify: depthformer checks did not all pass"]
        return {"value": v, "counts": not why, "why": why, "extra": extra}
    if goal_id == "parity_encoder_f32":
        v = _num(data.get("encoder_embeddings_max_abs"))
        why = [] if data.get("encoder_pass") else ["mrtd verify: encoder checks did not all pass"]
        return {"value": v, "counts": not why, "why": why,
                "extra": {k: data.get(k) for k in ("encoder_pass", "encoder_stft_max_abs", "encoder_codes_match",
                                                    "encoder_roundtrip_max_abs")}}
    if goal_id == "parity_codec_f32":
        v = _num(data.get("codec_max_abs"))
        why = [] if data.get("codec_pass") else ["mrtd verify: codec checks did not all pass"]
        return {"value": v, "counts": not why, "why": why,
                "extra": {k: data.get(k) for k in ("codec_pass", "codec_int16_exact", "streaming_vs_offline_max_abs")}}
    if goal_id in ("small_fps", "small_fps_eager", "base_fps", "streams16_rtf"):
        fr = data.get("frame") or {}
        _, why = _bench_validity(data)
        setup = data.get("setup") or {}
        v = _num(fr.get("rtf" if goal_id == "streams16_rtf" else "fps"))
        extra = {"fps": fr.get("fps"), "rtf": fr.get("rtf"), "aggregate_fps": fr.get("aggregate_fps"),
                 "ms_p50": fr.get("ms_p50"), "ms_p99": fr.get("ms_p99"), "streams": setup.get("streams"),
                 "size": setup.get("size"), "dtype": setup.get("dtype"), "cuda_graph": setup.get("cuda_graph"),
                 "stages_ms_mean": {k: s.get("ms_mean") for k, s in (data.get("stages") or {}).items()},
                 "time_to_first_audio_cold_s": (data.get("time_to_first_audio") or {}).get("cold_s"),
                 "memory_mib": (data.get("memory") or {}).get("mib")}
        if goal_id == "streams16_rtf" and setup.get("streams") != 16:
            why.append(f"ran {setup.get('streams')} streams, not 16")
        return {"value": v, "counts": not why, "why": why, "extra": extra}
    if goal_id == "latency_p50":
        v = data.get("verdict") or {}
        why = []
        if not v.get("repeatable", False):
            why.append("two runs with the same seed and no control differed: not a latency figure")
        if v.get("mode") is None:
            why.append("no usable latency figure (see pulled / paced)")
        extra = {m: {k: (data.get(m) or {}).get(k) for k in ("latency_ms_p50", "latency_ms_min", "latency_ms_max",
                                                              "latency_budget_ms", "no_difference", "warning",
                                                              "error")}
                 for m in ("pulled", "paced") if m in data}
        extra["mode_used"] = v.get("mode")
        extra["setup"] = data.get("setup")
        return {"value": _num(v.get("latency_ms_p50")), "counts": not why, "why": why, "extra": extra}
    if goal_id == "tests":
        v = (data.get("failed", 0) or 0) + (data.get("errors", 0) or 0)
        why = []
        if not data.get("passed"):
            why.append("no test passed")
        return {"value": float(v), "counts": not why, "why": why,
                "extra": {k: data.get(k) for k in ("passed", "failed", "errors", "skipped", "failing",
                                                    "skipped_for_cuda")}}
    if goal_id in ("v1_parity_f32", "v1_parity_bf16"):
        ok = data.get("pass")
        why = [] if ok else ["mrtd verify --family v1 did not pass"]
        keep = ("pass", "dtype", "device", "config", "logit_error_max", "checks_passed", "checks_with_verdict",
                "not_checked")
        return {"value": _num(data.get("logit_error_max")), "verdict": bool(ok), "counts": not why, "why": why,
                "extra": {k: data[k] for k in keep if k in data}}
    if goal_id in ("v1_base_chunk", "v1_large_chunk"):
        rtf = _num((data.get("rtf") or {}).get("tokens_and_audio")) if isinstance(data.get("rtf"), dict) else None
        if rtf:  # mrtd bench (Magenta RT v1): 2 s / (chunk at 800 decode steps + its codec)
            s, where = V1_CHUNK_S / rtf, "2 s / rtf.tokens_and_audio"
        else:
            s, where = _find_chunk_s(data)
        if s is None:
            rtf = _num((data.get("frame") or {}).get("rtf"))
            if rtf:
                s, where = V1_CHUNK_S / rtf, "2 s / frame.rtf"
        why = [] if s is not None else ["no chunk time found in the bench JSON"]
        ok, pwhy = _bench_validity(data) if "parity" in data else (True, [])
        extra = {"from": where, "rtf": data.get("rtf"), "chunk": data.get("chunk"), "codec": data.get("codec"),
                 "parity": data.get("parity"), "setup": data.get("setup")}
        return {"value": s, "counts": ok and s is not None, "why": why + pwhy, "extra": extra}
    return {"value": None, "counts": False, "why": [f"unknown goal {goal_id}"]}


def compare(op: str, value: float | None, goal: float | None) -> bool | None:
    if value is None or goal is None or op == "info":
        return None
    return {"<=": value <= goal, ">=": value >= goal, "<": value < goal, "==": value == goal}[op]


def summarize(status: dict[str, dict], outputs: dict[str, Any], mode: str = "cuda") -> dict[str, Any]:
    rows = []
    for gid, step, what, op, goal, unit in GOALS:
        st = status.get(step)
        goal_text = f"{op} {goal:g} {unit}" if goal is not None else ("pass" if op == "pass" else "info")
        if (st is None or st.get("state") == "skipped") and outputs.get(step) is None:
            row = {"id": gid, "what": what, "goal": goal_text, "value": None, "unit": unit, "pass": None,
                   "state": "not run" if st is None else "skipped", "source": step}
            if st and st.get("reason"):
                row["reason"] = st["reason"]
            if gid in OPTIONAL:
                row["optional"] = True  # the v1 hook: counted only once mrtd bench has v1 sizes
            rows.append(row)
            continue
        f = figure(gid, outputs.get(step))
        met = f.get("verdict") if op == "pass" else compare(op, f["value"], goal)
        if met and not f["counts"]:
            met = False
        row = {"id": gid, "what": what, "goal": goal_text, "value": f["value"], "unit": unit, "pass": met,
               "counts": f["counts"],
               "state": (st or {}).get("state", "ok" if outputs.get(step) is not None else "no output"),
               "source": step}
        if f.get("why"):
            row["why_not_counted"] = f["why"]
        if f.get("extra"):
            row["detail"] = f["extra"]
        rows.append(row)
    goals = [r for r in rows if r["goal"] != "info" and not r.get("optional")]
    env = outputs.get("env") or {}
    res = {
        "check": "benchmarks/gpu_check.sh",
        "mode": mode,
        "dry_run": mode != "cuda",
        "note": ("CPU dry run: tiny sizes and few frames; the figures prove the script and its imports, "
                 "not the goals") if mode != "cuda" else "CUDA run: the figures below are the GPU proof",
        "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "env": {k: env.get(k) for k in ("gpu", "driver", "torch", "cuda", "python", "numpy", "git_sha", "hostname",
                                        "cpu_count") if k in env},
        "goals": rows,
        "goals_met": sum(r["pass"] is True for r in goals),
        "goals_failed": [r["id"] for r in goals if r["pass"] is False],
        "goals_without_figure": [r["id"] for r in goals if r["pass"] is None],
        "all_goals_met": bool(goals) and all(r["pass"] is True for r in goals),
        "steps": {k: {x: v.get(x) for x in ("state", "rc", "seconds", "timeout_s", "reason") if x in v}
                  for k, v in status.items()},
        "steps_failed": [k for k, v in status.items() if v.get("state") not in ("ok", "skipped")],
    }
    return res


def write(work: Path, out: Path, mode: str) -> dict[str, Any]:
    status, outputs = read_work(work)
    s = summarize(status, outputs, mode)
    out.mkdir(parents=True, exist_ok=True)
    results = {"mode": mode, "steps": {k: {"status": status.get(k), "output": outputs.get(k)}
                                        for k in sorted(set(status) | set(outputs))}}
    _atomic(out / "results.json", results)
    _atomic(out / "summary.json", s)
    return s


def _atomic(path: Path, obj: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=1) + "\n")
    tmp.replace(path)


def table(s: dict[str, Any]) -> str:
    """The summary as text lines (the end of the script's log)."""
    head = (f"GPU check ({s['mode']}{', dry run' if s['dry_run'] else ''}): {s['goals_met']} goals met, "
            f"failed {s['goals_failed'] or 'none'}, no figure {s['goals_without_figure'] or 'none'}")
    lines = [head]
    for r in s["goals"]:
        v = r["value"]
        val = "-" if v is None else (f"{v:.3g}" if abs(v) < 1e-2 and v else f"{v:.4g}")
        mark = {True: "PASS", False: "FAIL", None: "----"}[r["pass"]]
        note = f"  [{'; '.join(r['why_not_counted'])}]" if r.get("why_not_counted") else ""
        note += f"  [{r['reason']}]" if r.get("reason") else ""
        lines.append(f"  {mark} {r['id']:<18} {val:>10} {r['unit']:<16} goal {r['goal']:<22} ({r['state']}){note}")
    if s["steps_failed"]:
        lines.append(f"  steps not ok: {', '.join(s['steps_failed'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m mrtd.devtools.gpu_summary", description=__doc__.split("\n\n")[0])
    p.add_argument("--work", required=True, type=Path, help="the script's work folder (json/, status/)")
    p.add_argument("--out", required=True, type=Path, help="where summary.json and results.json go")
    p.add_argument("--mode", default="cuda", help="cuda or cpu (a dry run)")
    p.add_argument("--print", action="store_true", help="print the summary table")
    a = p.parse_args(argv)
    s = write(a.work, a.out, a.mode)
    if a.print:
        print(table(s))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

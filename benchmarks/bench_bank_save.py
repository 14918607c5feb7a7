"""Frame times of the live engine while a state bank is saved every second.

    git worktree add /tmp/base650 650502e     # bank save + fsync on the generation thread
    python benchmarks/bench_bank_save.py --base /tmp/base650 [--seconds 20] [--repeat 2]

Each run is a fresh process: the demo engine (1 torch thread, ``gc.freeze()`` as
``mrtd serve`` does) on its own generation thread, drained by a paced reader thread
standing in for JACK (256 samples at 48 kHz, as ``tests/support/inproc.py``), a 2 s
warm-up, then ``--seconds`` of play with ``/mrtd/bank/save N`` posted once a second
(banks in a temporary folder on the disk, each save fsynced). Three cases,
interleaved ``--repeat`` times: ``before`` (the code at ``--base``: the save written and
fsynced inside the frame that applies it), ``after`` (this checkout: the frame takes a
copy, the file thread writes it) and ``after_idle`` (this checkout, no saves: the
machine's own noise). Reported per case (pooled over repeats): frame-time p50/p99/max
over all frames, the same over the frames that applied a save, underruns and starved
time; and, timed in place, what one save costs the generation thread in each tree.
JSON (with the environment) to ``benchmarks/results/bench_bank_save_cpu.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SR, PERIOD = 48000, 256


def _engine_classes():
    """(Engine, build_demo) of whichever tree is on the path: now, or before the layout."""
    try:
        from mrtd.engine.demo import build_demo
        from mrtd.engine.engine import Engine
    except ImportError:  # the code at 650502e
        from mrtd.daemon.demo import build_demo
        from mrtd.daemon.engine import Engine
    return Engine, build_demo


def _pct(xs: list[float], q: float) -> float | None:
    import numpy as np

    return round(float(np.percentile(xs, q)), 3) if xs else None


def child(seconds: float, save_every: float, threads: int) -> dict[str, Any]:
    """One run in this process; returns its figures."""
    import numpy as np
    import torch

    Engine, build_demo = _engine_classes()
    torch.set_num_threads(threads)
    banks = tempfile.mkdtemp(prefix="mrtd-bank-bench-")
    engine = Engine(*build_demo(), bank_dir=banks)
    times: list[tuple[int, float]] = []  # (frame index, ms) of each step
    step = engine.step_frame

    def timed_step() -> Any:
        f, t = engine.frame, time.perf_counter()
        out = step()
        times.append((f, 1000 * (time.perf_counter() - t)))
        return out

    engine.step_frame = timed_step  # type: ignore[method-assign]
    stop = threading.Event()

    def reader() -> None:  # the JACK stand-in: 256 samples every 5.33 ms
        buf = np.empty((PERIOD, 4), np.float32)
        t0, n = time.monotonic(), 0
        while not stop.is_set():
            engine.read_into(buf)
            n += PERIOD
            ahead = t0 + n / SR - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)

    gc.collect()
    gc.freeze()
    engine.start()
    rt = threading.Thread(target=reader, name="paced-reader", daemon=True)
    rt.start()
    time.sleep(2.0)  # the queue fills, the first frames' one-off costs pass
    st0, i0, t0 = engine.output.status(), len(times), time.perf_counter()
    saves = 0
    while time.perf_counter() - t0 < seconds:
        if save_every > 0 and time.perf_counter() - t0 >= saves * save_every:
            engine.post("/mrtd/bank/save", saves % 8 + 1)
            saves += 1
        time.sleep(0.01)
    st1, i1 = engine.output.status(), len(times)
    time.sleep(0.2)  # the last save lands
    stop.set()
    rt.join(5)
    engine.stop()
    gc.unfreeze()
    save_frames = {ev.frame for ev in engine.applied if ev.address == "/mrtd/bank/save"}
    run = times[i0:i1]
    ms = [m for _, m in run]
    at_save = [m for f, m in run if f in save_frames]
    written = sorted(p.name for p in Path(banks).iterdir())
    for p in Path(banks).iterdir():
        p.unlink()
    os.rmdir(banks)
    return {"seconds": round(time.perf_counter() - t0, 2), "saves_posted": saves, "saves_applied": len(save_frames),
            "banks_written": len(written), "frames": len(ms), "frame_ms_all": ms, "frame_ms_at_save": at_save,
            "underruns": st1["underruns"] - st0["underruns"],
            "starved_ms": round(1000 * (st1["starved_samples"] - st0["starved_samples"]) / SR, 1)}


def direct(n: int = 20) -> dict[str, Any]:
    """What one save costs the generation thread, timed in place (no play): before, the
    whole save (snapshot, write, two fsyncs); after, the snapshot copy it now takes."""
    import numpy as np

    Engine, build_demo = _engine_classes()
    banks = tempfile.mkdtemp(prefix="mrtd-bank-bench-")
    engine = Engine(*build_demo(), bank_dir=banks)
    snapshot = getattr(getattr(engine, "banks", None), "snapshot", None)
    on_frame = snapshot if snapshot is not None else engine.save_bank
    engine.save_bank(1)  # first-call imports out of the way
    ms = []
    for _ in range(n):
        t = time.perf_counter()
        on_frame(1)
        ms.append(1000 * (time.perf_counter() - t))
    size = next(Path(banks).iterdir()).stat().st_size
    for p in Path(banks).iterdir():
        p.unlink()
    os.rmdir(banks)
    return {"on_generation_thread": "snapshot copy" if snapshot is not None else "snapshot + write + fsync",
            "ms_p50": round(float(np.median(ms)), 3), "ms_max": round(max(ms), 3), "bank_bytes": size}


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ms = [m for r in runs for m in r["frame_ms_all"]]
    at = [m for r in runs for m in r["frame_ms_at_save"]]
    return {
        "runs": len(runs), "frames": len(ms), "saves_applied": sum(r["saves_applied"] for r in runs),
        "banks_written": [r["banks_written"] for r in runs],
        "frame_ms": {"p50": _pct(ms, 50), "p99": _pct(ms, 99), "max": round(max(ms), 3) if ms else None},
        "frame_ms_at_save": {"p50": _pct(at, 50), "p99": _pct(at, 99), "max": round(max(at), 3) if at else None},
        "late_frames_over_40ms": sum(1 for m in ms if m > 40.0),
        "underruns": [r["underruns"] for r in runs], "starved_ms": [r["starved_ms"] for r in runs],
    }


def _commit(tree: str | Path) -> str:
    """The commit a measured tree is at (not its path: results name code, not machines)."""
    out = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return out.stdout.strip() or "unknown commit"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="/tmp/base650", help="a checkout of 650502e (git worktree add ...)")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "bench_bank_save_cpu.json"))
    ap.add_argument("--child", nargs=3, metavar=("SECONDS", "SAVE_EVERY", "THREADS"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        r = direct() if a.child[0] == "direct" else child(float(a.child[0]), float(a.child[1]), int(a.child[2]))
        print(json.dumps(r))
        return
    if not (Path(a.base) / "mrtd" / "daemon" / "engine.py").is_file():
        raise SystemExit(f"--base {a.base}: not a checkout of 650502e (git worktree add {a.base} 650502e)")
    cases = {"before": (a.base, 1.0), "after": (str(ROOT), 1.0), "after_idle": (str(ROOT), 0.0)}
    runs: dict[str, list] = {k: [] for k in cases}
    load0 = [round(x, 2) for x in os.getloadavg()]
    for i in range(a.repeat):
        for name, (tree, every) in cases.items():
            env = {**os.environ, "PYTHONPATH": tree}
            out = subprocess.run([sys.executable, __file__, "--child", str(a.seconds), str(every), str(a.threads)],
                                 capture_output=True, text=True, env=env, cwd=tree, check=True)
            runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
            s = summarise(runs[name][-1:])
            print(f"{name:10s} run {i + 1}: frame p50 {s['frame_ms']['p50']} p99 {s['frame_ms']['p99']} "
                  f"max {s['frame_ms']['max']} ms; at save p50 {s['frame_ms_at_save']['p50']} max "
                  f"{s['frame_ms_at_save']['max']} ms; underruns {s['underruns'][0]}", flush=True)
    per_save = {}
    for name in ("before", "after"):
        tree = cases[name][0]
        out = subprocess.run([sys.executable, __file__, "--child", "direct", "0", "1"], capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": tree}, cwd=tree, check=True)
        per_save[name] = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{name:10s} one save on the generation thread: {per_save[name]}", flush=True)
    from mrtd.devtools.bench_env import environment

    res = {
        "benchmark": "bench_bank_save", "command": " ".join(["python", *sys.argv]),
        "model": "demo (untrained, mrt2_tiny dims)", "seconds_per_run": a.seconds, "save_every_s": 1.0,
        "trees": {"before": f"{_commit(a.base)} (save + fsync on the generation thread)",
                  "after": f"{_commit(ROOT)} (bank written on the engine's file thread)"},
        "reader": f"paced, {PERIOD} samples at {SR} Hz", "threads": a.threads,
        "cases": {k: summarise(v) for k, v in runs.items()},
        "per_save_on_generation_thread": per_save,
        "load_avg": {"start": load0, "end": [round(x, 2) for x in os.getloadavg()]},
        "env": environment(),
    }
    Path(a.out).write_text(json.dumps(res, indent=1) + "\n")
    for k, v in res["cases"].items():
        print(f"{k:10s}: frame p50 {v['frame_ms']['p50']} / p99 {v['frame_ms']['p99']} / max {v['frame_ms']['max']} ms;"
              f" frames with a save p50 {v['frame_ms_at_save']['p50']} / max {v['frame_ms_at_save']['max']} ms;"
              f" underruns {v['underruns']}")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()

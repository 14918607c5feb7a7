"""Offline render speed of the embedded demo model (the whole engine pipeline, unpaced).

    python benchmarks/bench_render.py [--seconds 10] [--threads 1]

Prints the real-time factor and writes JSON (figures + environment) to
``benchmarks/results/bench_render_cpu.json`` unless ``--out`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from mrtd.devtools.bench_env import environment
from mrtd.engine.demo import build_demo
from mrtd.engine.engine import Engine
from mrtd.engine.render import render


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "bench_render_cpu.json"))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    engine = Engine(*build_demo(), seed=a.seed)
    render(engine, 0.5)  # warm-up
    engine = Engine(*build_demo(), seed=a.seed)
    t0 = time.perf_counter()
    audio = render(engine, a.seconds)
    elapsed = time.perf_counter() - t0
    ms = np.array(engine.frame_ms)
    res = {
        "benchmark": "bench_render", "model": "demo (untrained, mrt2_tiny dims)", "seconds_rendered": a.seconds,
        "elapsed_s": round(elapsed, 3), "realtime_factor": round(a.seconds / elapsed, 2),
        "frames": engine.frame, "frame_ms_mean_last50": round(float(ms.mean()), 3),
        "frame_ms_max_last50": round(float(ms.max()), 3), "peak": float(np.abs(audio).max()),
        "env": environment(),
    }
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1) + "\n")
    print(f"demo render: {a.seconds:g} s in {elapsed:.2f} s = {res['realtime_factor']}x real time "
          f"({res['frame_ms_mean_last50']} ms/frame, budget 40)")


if __name__ == "__main__":
    main()

"""Post-effects chain time per 1920-sample block (one 40 ms frame), on one core.

    python benchmarks/bench_effects.py [--blocks 2000]

Cases: everything off, each effect alone, the whole chain on, and the whole chain while
every parameter ramps (a new target for every parameter every few blocks, so sub-block
plugin calls, twin crossfades and the delay glide run all the time). Prints a table and
writes JSON (figures + environment) to ``benchmarks/results/effects_cpu.json`` unless
``--out`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from mrtd.constants import FRAME, SAMPLE_RATE
from mrtd.devtools.bench_env import environment
from mrtd.effects.chain import EffectsChain
from mrtd.osc_schema.namespace import FX_CHAIN

SR, BLOCK = SAMPLE_RATE, FRAME
FX = "/mrtd/fx/"


def signal(blocks: int) -> np.ndarray:
    """Music-like test input: a chord plus noise at about −14 dBFS RMS."""
    t = np.arange(blocks * BLOCK) / SR
    x = sum(0.12 * np.sin(2 * np.pi * f * t) for f in (110.0, 220.0 * 1.26, 330.0, 440.0 * 1.5))
    x = x + np.random.default_rng(0).standard_normal(len(t)) * 0.05
    return np.stack([x, np.roll(x, 100)], 1).astype(np.float32)


def wobble(k: int) -> list[tuple[str, tuple]]:
    """New targets for every parameter (alternating between two settings every 6 blocks,
    so a ramp or crossfade is always running)."""
    if k % 6:
        return []
    a = (k // 6) % 2
    out = []
    for name, args in FX_CHAIN.items():
        for arg in args:
            if arg.kind == "enum":
                v = arg.choices[a * 3]
            else:
                v = arg.min + (0.3 + 0.4 * a) * (arg.max - arg.min)
            out.append((f"{FX}{name}/{arg.name}", (v,)))
    return out


def bench(on: list[str], blocks: int, warmup: int, ramping: bool = False) -> dict:
    chain = EffectsChain(SR, BLOCK)
    for name in on:
        chain.set(f"{FX}{name}/on", (True,))
    x = signal(blocks + warmup)
    times, busy = [], 0
    for k in range(blocks + warmup):
        for address, values in wobble(k) if ramping else []:
            chain.set(address, values)
        blk = x[k * BLOCK:(k + 1) * BLOCK]
        t0 = time.perf_counter()
        chain.process(blk)
        dt = time.perf_counter() - t0
        if k >= warmup:
            times.append(dt)
            busy += chain.busy()
    ms = np.array(times) * 1e3
    return {"effects_on": on, "ramping": ramping, "blocks": blocks, "blocks_ramping": busy,
            "ms_mean": round(float(ms.mean()), 4), "ms_p50": round(float(np.percentile(ms, 50)), 4),
            "ms_p99": round(float(np.percentile(ms, 99)), 4), "ms_max": round(float(ms.max()), 4),
            "budget_share_mean": round(float(ms.mean()) / 40.0, 5)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "effects_cpu.json"))
    a = ap.parse_args()
    torch.set_num_threads(1)  # the chain itself is single-threaded (numpy + pedalboard)
    names = list(FX_CHAIN)
    cases = {"all_off": bench([], a.blocks, a.warmup)}
    for name in names:
        cases[name] = bench([name], a.blocks, a.warmup)
    cases["full_chain"] = bench(names, a.blocks, a.warmup)
    cases["full_chain_ramping"] = bench(names, a.blocks, a.warmup, ramping=True)
    print(f"{'case':20s} {'mean ms':>8s} {'p99 ms':>8s} {'max ms':>8s}  (per {BLOCK}-sample block; budget 40 ms)")
    for k, r in cases.items():
        print(f"{k:20s} {r['ms_mean']:8.3f} {r['ms_p99']:8.3f} {r['ms_max']:8.3f}")
    res = {"benchmark": "bench_effects", "block": BLOCK, "sample_rate": SR, "results": cases, "env": environment()}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1) + "\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()

"""Control-to-audio latency of the real :class:`mrtd.engine.engine.Engine` on any device.

``mrtd bench --latency`` measures it on the CPU only (its engine runs there); this runs
the same paired-seed method (:func:`mrtd.devtools.bench.paired_seed_latency`) with the
engine's model and codec on ``--device`` (CUDA: bfloat16 language model, float32 codec,
the frame captured as a CUDA graph, as ``mrtd serve --device cuda`` runs it), in both
modes:

* ``pulled``: generation pulled by the queue level before each read (deterministic; the
  pipeline's latency: queue budget + codec lookahead + frame grid, whatever the speed);
* ``paced``: the engine's own generation thread against a wall-clock reader, as live
  (valid only without underruns, which it reports).

Before the trials, two runs with the same seed and no control must give the same audio
(``repeatable``): a device whose replays differ would turn noise into "latency".

    python -m mrtd.devtools.latency --size mrt2_small --device cuda --json lat.json

Models are built with random weights of the size's shapes (speed and latency do not
depend on the values), as ``mrtd bench`` builds them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from mrtd.errors import UserError

SIZES = ("demo", "mrt2_tiny", "mrt2_small", "mrt2_base")
GOAL_P50_MS = 80.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from mrtd.devtools.bench import DEFAULT_CONTROL

    p = argparse.ArgumentParser(prog="python -m mrtd.devtools.latency", description=__doc__.split("\n\n")[0])
    p.add_argument("--size", choices=SIZES, default="mrt2_small", help="model shapes, random weights")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument("--dtype", choices=("auto", "float32", "bfloat16"), default="auto",
                   help="language-model dtype (auto: bfloat16 on CUDA, float32 on the CPU); codec float32")
    p.add_argument("--graph", action=argparse.BooleanOptionalAction, default=True,
                   help="CUDA: capture each engine's frame as a CUDA graph (default on)")
    p.add_argument("--modes", default="pulled,paced", help="comma list of pulled, paced (default both)")
    p.add_argument("--trials", type=int, default=5, help="control changes measured per mode (default 5)")
    p.add_argument("--period", type=int, default=256, help="reader period in samples (default 256)")
    p.add_argument("--control", default=DEFAULT_CONTROL, metavar="'ADDRESS ARGS'", help="the control posted")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    p.add_argument("--json", metavar="FILE", help="write the result here")
    return p.parse_args(argv)


def build(size: str, seed: int, device, dtype):
    """(model, decoder) of ``size``'s shapes, random weights, on ``device``; LM in ``dtype``,
    codec float32 (as the official), weight layouts the faster for the device."""
    from dataclasses import replace

    import torch

    from mrtd.devtools.bench import random_models
    from mrtd.engine.demo import DEMO_SEED, RANDOM_DEMO_CONFIG
    from mrtd.model.mrt2.config import CONFIGS
    from mrtd.model.mrt2.depthformer import Depthformer
    from mrtd.model.mrt2.framestep import best_codec_layout, set_codec_layout

    if size == "demo":
        cfg, seed = RANDOM_DEMO_CONFIG, DEMO_SEED
    elif size == "mrt2_tiny":
        cfg = replace(RANDOM_DEMO_CONFIG, name="mrt2_tiny")
    else:
        cfg = CONFIGS[size]
    codec_dtype = torch.float32
    model, dec = random_models(cfg, seed, dtype, codec_dtype, device, Depthformer.best_layout(device, dtype, 1))
    return model, set_codec_layout(dec, best_codec_layout(device, codec_dtype))


def engine_factory(model, dec, seed: int, graph: bool):
    """A fresh Engine per call on the shared model and codec (CUDA: captured)."""
    from mrtd.engine.engine import Engine

    def make():
        e = Engine(model, dec, seed=seed)
        if graph and e.device.type == "cuda":
            e.capture()
        return e

    return make


def repeatable(make, period: int, seconds: float = 1.0) -> dict[str, Any]:
    """Two pulled runs, same seed, no control: identical output or not."""
    from mrtd.constants import SAMPLE_RATE
    from mrtd.devtools.bench import first_difference, run_engine_output

    total = int(seconds * SAMPLE_RATE) // period * period
    a, _ = run_engine_output(make(), total, period)
    b, _ = run_engine_output(make(), total, period)
    d = first_difference(a, b)
    return {"samples": total, "identical": d is None, "first_diff_sample": d}


def run(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from mrtd.devtools.bench import paired_seed_latency, parse_control
    from mrtd.devtools.bench_env import environment
    from mrtd.engine.build import resolve_device

    if args.trials < 1:
        raise UserError("--trials must be >= 1")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or any(m not in ("pulled", "paced") for m in modes):
        raise UserError(f"--modes takes pulled and/or paced, got {args.modes!r}")
    if args.threads:
        torch.set_num_threads(args.threads)
    device, dtype = resolve_device(args.device, args.dtype)
    address, cargs = parse_control(args.control)
    t0 = time.perf_counter()
    model, dec = build(args.size, args.seed, device, dtype)
    build_s = time.perf_counter() - t0
    graph = bool(args.graph and device.type == "cuda")
    make = engine_factory(model, dec, args.seed, graph)
    probe = make()
    result: dict[str, Any] = {
        "benchmark": "mrtd.devtools.latency",
        "command": "python -m mrtd.devtools.latency " + " ".join(sys.argv[1:]),
        "setup": {"size": args.size, "device": str(device), "dtype": str(dtype).replace("torch.", ""),
                  "codec_dtype": "float32", "cuda_graph": probe.graphed if device.type == "cuda" else "n/a (cpu)",
                  "graph_error": probe.graph_error, "engine": probe.describe(), "trials": args.trials,
                  "period": args.period, "seed": args.seed, "threads": torch.get_num_threads(),
                  "build_s": round(build_s, 3)},
        "goal": {"latency_ms_p50_max": GOAL_P50_MS},
    }
    del probe
    result["repeatable"] = repeatable(make, args.period)
    for mode in modes:
        try:
            result[mode] = paired_seed_latency(make, address, cargs, trials=args.trials, period=args.period,
                                               paced=mode == "paced")
        except UserError:
            raise
        except Exception as e:  # noqa: BLE001 - one mode failing still reports the other
            result[mode] = {"error": f"{type(e).__name__}: {e}"}
    result["verdict"] = verdict(result)
    env = environment(str(device), result["setup"]["dtype"])
    env["cuda"] = torch.version.cuda
    if device.type == "cuda":
        env["gpu"] = torch.cuda.get_device_name(device)
    result["env"] = env
    return result


def verdict(r: dict[str, Any]) -> dict[str, Any]:
    """The figure that counts: paced p50 when the paced run is valid (no underruns, every
    trial changed the output, repeatable device), else pulled p50; against the goal."""
    def usable(m: dict | None) -> bool:
        return bool(m) and "error" not in m and m.get("latency_ms_p50") is not None and not m.get("no_difference")

    paced, pulled = r.get("paced"), r.get("pulled")
    rep = r.get("repeatable", {}).get("identical", False)
    if usable(paced) and "warning" not in paced:
        used, p50 = "paced", paced["latency_ms_p50"]
    elif usable(pulled):
        used, p50 = "pulled", pulled["latency_ms_p50"]
    else:
        used, p50 = None, None
    return {"mode": used, "latency_ms_p50": p50, "repeatable": rep, "goal_ms": GOAL_P50_MS,
            "pass": None if p50 is None else bool(rep and p50 <= GOAL_P50_MS)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        res = run(args)
    except UserError as e:
        print(f"latency: error: {e}", file=sys.stderr)
        return 1
    text = json.dumps(res, indent=1)
    if args.json:
        Path(args.json).write_text(text + "\n")
    v = res["verdict"]
    lines = [f"latency {res['setup']['engine']}: repeatable {res['repeatable']['identical']}"]
    for mode in ("pulled", "paced"):
        m = res.get(mode)
        if m is None:
            continue
        if "error" in m:
            lines.append(f"  {mode}: ERROR {m['error']}")
        else:
            lines.append(f"  {mode}: p50 {m['latency_ms_p50']} ms (min {m['latency_ms_min']}, max "
                         f"{m['latency_ms_max']}; budget {m['latency_budget_ms']} ms; no difference "
                         f"{m['no_difference']}){' ' + m['warning'] if 'warning' in m else ''}")
    lines.append(f"  counts: {v['mode']} p50 {v['latency_ms_p50']} ms vs goal <= {v['goal_ms']:g} ms: "
                 f"{'PASS' if v['pass'] else 'FAIL' if v['pass'] is False else 'no figure'}")
    print("\n".join(lines), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

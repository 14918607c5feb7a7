"""``mrtd bench``: its options (argparse only: no torch at import time)."""

from __future__ import annotations

import argparse

from mrtd.cli.options import add_manifest
from mrtd.devtools.bench import _DTYPES, DEFAULT_CONTROL, SIZES


def run(args: argparse.Namespace) -> int:
    if args.live:
        from mrtd.devtools.bench_voices import run_bench_live

        return run_bench_live(args)
    from mrtd.devtools.bench import run_bench

    return run_bench(args)


def add_bench(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "bench", help="measure frames/s, real-time factor and latency; write JSON",
        description="Benchmark the whole-frame step (temporal + 12 depth levels + sampler + codec) "
        "on random weights of a model size or a checkpoint: frames/s and real-time factor per "
        "stage and per frame, frame-time percentiles, time to first audio, peak memory and "
        "(--latency) control-to-audio latency. Real time = 25 frames/s per stream. "
        "Magenta RT v1 (--size v1_base|v1_large, a v1 --checkpoint, or --config CONFIG.json of v1 dims): "
        "the time of one 2 s chunk (encoder, 800 decode steps, codec), real-time factor = 2 s / chunk time.")
    p.add_argument("--size", choices=SIZES, default="demo",
                   help="model shapes with random weights, or demo: the embedded trained demo (default: demo; "
                   "demo_random is the untrained one; mrt2_base is 2.4 B parameters; "
                   "v1_base 348 M, v1_large 762 M)")
    p.add_argument("--checkpoint", metavar="CKPT", help="real weights instead of --size (official layout: MRT2 "
                   ".safetensors, or a v1 folder / .tar)")
    add_manifest(p, config_alias=True, help="config for --checkpoint (default: inferred); v1: an oracle "
                 "config.json alone means random weights of its dims")
    p.add_argument("--chunks", type=int, help="v1: timed 2 s chunks (default 1)")
    p.add_argument("--codec", metavar="CODEC.safetensors",
                   help="v1: the MRT2 .safetensors whose SpectroStream decoder is timed (default: random weights "
                   "of its shapes)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (cuda:N) (default: cpu)")
    p.add_argument("--dtype", choices=("auto", *_DTYPES, "int8", "int4"), default="auto",
                   help="language-model compute dtype (default auto: int8 for an official size on the CPU, "
                   "the fast path; else float32, bfloat16 on CUDA); int8/int4: weight-only quantised language "
                   "model (CPU, bfloat16 activations; parity gated on top-1 agreement with float32)")
    p.add_argument("--codec-dtype", choices=("auto", *_DTYPES), default="auto",
                   help="codec conv dtype (default auto: bfloat16 for an official size on the CPU, else float32 "
                   "as the official; bfloat16 has no reference)")
    p.add_argument("--int8", action="store_true",
                   help="int8 weight-only language model (per-channel scales; needs --dtype bfloat16; "
                   "same as --dtype int8)")
    p.add_argument("--layout", choices=("auto", "row", "col"), default="auto",
                   help="memory layout of the projection matrices (default auto: col for CPU float32 "
                   "with <= 3 streams, else row)")
    p.add_argument("--codec-layout", choices=("auto", "packed", "default", "channels_last"), default="auto",
                   help="layout of the codec conv weights (default auto: packed for oneDNN once on a CPU, "
                   "else default)")
    p.add_argument("--streams", type=int, default=1, help="independent streams in one batched step")
    p.add_argument("--frames", type=int, help="timed frames (default by size and device)")
    p.add_argument("--warmup", type=int, help="untimed frames first (default: attention window + 8); v1: "
                   "untimed chunks (default: 0 for v1_base/v1_large on the CPU, else 1)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads in all (default: every usable core for an official size on the CPU, "
                   "else 1; 0 = torch's choice)")
    p.add_argument("--two-stage", action=argparse.BooleanOptionalAction, default=None,
                   help="CPU: the codec on its own thread while the language model makes the next frame, as "
                   "'mrtd serve' runs it (default: on for an official size with 2+ threads and one stream)")
    p.add_argument("--graph", action=argparse.BooleanOptionalAction, default=True,
                   help="CUDA: replay the frame as a CUDA graph (default on; ignored on the CPU)")
    p.add_argument("--compile", action="store_true",
                   help="torch.compile the temporal and depth stages (minutes of compiling first; "
                   "checked against the eager step)")
    p.add_argument("--seed", type=int, default=0, help="weights and sampling seed (default 0)")
    p.add_argument("--no-parity", dest="parity", action="store_false",
                   help="skip the parity gate on the tiny official reference")
    p.add_argument("--latency", action="store_true",
                   help="also measure control-to-audio latency through the real Engine (CPU)")
    p.add_argument("--latency-control", default=DEFAULT_CONTROL, metavar="'ADDRESS ARGS'",
                   help=f"the control posted (default: '{DEFAULT_CONTROL}')")
    p.add_argument("--latency-trials", type=int, default=5, help="changes measured (default 5)")
    p.add_argument("--latency-paced", action="store_true",
                   help="run the engine's live thread against a wall-clock reader (default: pulled, "
                   "unpaced, deterministic)")
    p.add_argument("--period", type=int, default=256, help="reader period in samples for --latency (default 256)")
    p.add_argument("--adapt-threads", action="store_true",
                   help="the thread count adapts to the frame times as in 'mrtd serve --adapt-threads' "
                   "(up to --threads); the JSON says where it ended and how often it changed")
    p.add_argument("--contend", choices=("busy", "memory"), default=None,
                   help="time the frames with one competing process beside them: a busy loop (one core "
                   "taken) or a memory-bound loop (the memory bus taken), as on a machine that also runs a DAW")
    p.add_argument("--live", action="store_true",
                   help="the live voices figure (demo model): the largest N for which 'mrtd serve --voices N' "
                   "on a private jackd -d dummy plays --live-seconds with no underrun, and the same as N "
                   "separate processes (--streams: the largest N tried, default 16)")
    p.add_argument("--live-seconds", type=float, default=60.0, help="length of each --live run (default 60)")
    p.add_argument("--live-latency-ms", type=float, default=None,
                   help="the daemons' --latency-ms in --live runs (default: serve's, 80)")
    p.add_argument("--json", metavar="FILE", help="write the figures and the environment as JSON")
    p.set_defaults(run=run)
    return p

"""``mrtd bench --live``: how many voices play live on this machine, on a real jackd.

The frame-step bench measures a batched step in isolation; this one measures what a
musician gets: ``mrtd serve --voices N`` on a private ``jackd -d dummy`` (real time, no
freewheel) for ``--seconds`` each, counting underruns (the output queue ran dry) and
JACK xruns per voice, from the daemon's own summary line. It searches the largest N
with no underrun in any voice (N = 1, 2, 4, ... until one fails, then between), and
runs the same N as N separate ``mrtd serve`` processes (one voice each, sharing the
CPU) for the comparison the batched step is for. Each run starts a fresh daemon on a
fresh jackd and counts from "ready" to the end (the queue filling at the start
included: a daemon that cannot fill it underruns there first).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

from mrtd.errors import UserError


class _Daemon:
    """One ``mrtd serve --demo`` subprocess; its stdout read to the end."""

    def __init__(self, server: str, name: str, voices: int, seed: int, threads: int | None, data: str,
                 latency_ms: float | None = None, model: list[str] | None = None):
        cmd = [sys.executable, "-m", "mrtd", "serve", *(model or ["--demo"]), "--voices", str(voices),
               "--seed", str(seed), "--jack-server", server, "--jack-name", name, "--osc-port", "0",
               "--oscquery-port", "-1", "--data-dir", data]
        if threads is not None:  # None: serve's own default (the fast path for a checkpoint)
            cmd += ["--threads", str(threads)]
        if latency_ms is not None:
            cmd += ["--latency-ms", f"{latency_ms:g}"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.out = ""

    def wait_ready(self, timeout: float = 120) -> None:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise UserError(f"mrtd serve exited before ready:\n{self.out[-2000:]}")
            self.out += line
            if "mrtd: ready" in line:
                return
        raise UserError("mrtd serve was not ready in time")

    def stop(self) -> dict[str, Any]:
        self.proc.send_signal(signal.SIGTERM)
        rest, _ = self.proc.communicate(timeout=30)
        self.out += rest
        m = re.search(r"mrtd: summary (\{.*\})", self.out)
        if m is None:
            raise UserError(f"no summary from mrtd serve:\n{self.out[-2000:]}")
        return json.loads(m.group(1))


def _per_voice(summary: dict) -> list[dict]:
    return summary.get("voices") or [summary]


def run_live(voices: int, separate: bool, seconds: float, threads: int | None, period: int = 256,
             latency_ms: float | None = None, model: list[str] | None = None) -> dict[str, Any]:
    """``voices`` voices for ``seconds``, batched in one daemon or as separate daemons:
    underruns, starved time, xruns and frames made, per voice."""
    from mrtd.audio.jackd import start_jackd

    jackd, server = start_jackd("dummy", period)  # a fresh private server for each run
    daemons: list[_Daemon] = []
    data = tempfile.mkdtemp(prefix="mrtd-bench-")
    try:
        # separate processes: one torch thread each (N of them share the cores); the batched
        # daemon: ``threads`` (0: torch's choice, every core)
        specs = [(f"v{n}", 1, n, 1) for n in range(voices)] if separate else [("v", voices, 0, threads)]
        daemons = [_Daemon(server, name, nv, seed, t, data, latency_ms, model) for name, nv, seed, t in specs]
        for d in daemons:
            d.wait_ready(600)  # a real size loads (and measures its speed) first
        time.sleep(seconds)
        per = [v for d in daemons for v in _per_voice(d.stop())]
        speed = [float(x) for d in daemons for x in re.findall(r"speed: (\d+\.\d+)x real time", d.out)]
    finally:
        for d in daemons:
            if d.proc.poll() is None:
                d.proc.kill()
        jackd.terminate()
        try:
            jackd.wait(5)
        except subprocess.TimeoutExpired:
            jackd.kill()
        shutil.rmtree(data, ignore_errors=True)
    return {"voices": voices, "mode": "separate processes" if separate else "one daemon, batched",
            "seconds": seconds, "underruns": [v["underruns"] for v in per],
            "starved_ms": [round(v["starved_samples"] / 48.0, 1) for v in per],
            "xruns": [v["xruns"] for v in per], "frames": [v["frame"] for v in per],
            "expected_rtf": speed, "ok": all(v["underruns"] == 0 for v in per),
            "model_line": [ln for d in daemons for ln in d.out.splitlines() if ln.startswith("mrtd: model ")]}


def _largest(separate: bool, seconds: float, threads: int, top: int, log,
             latency_ms: float | None = None) -> tuple[int, list[dict]]:
    """Largest N (<= top) with no underrun: doubling, then bisection."""
    runs: list[dict] = []

    def ok(n: int) -> bool:
        r = run_live(n, separate, seconds, threads, latency_ms=latency_ms)
        runs.append(r)
        log(f"{r['mode']}: {n} voice(s): underruns {r['underruns']}, xruns {r['xruns']} -> {'ok' if r['ok'] else 'no'}")
        return r["ok"]

    good, bad, n = 0, top + 1, 1
    while n <= top and ok(n):
        good, n = n, n * 2
    bad = min(bad, n)
    while bad - good > 1:
        mid = (good + bad) // 2
        if ok(mid):
            good = mid
        else:
            bad = mid
    return good, runs


def run_bench_live(args: argparse.Namespace) -> int:
    from mrtd.devtools.bench_env import environment, write_result

    if args.size != "demo" or args.checkpoint:
        return _live_checkpoint(args)
    seconds = float(args.live_seconds)
    threads = args.threads if args.threads is not None else 1
    top = max(1, args.streams if args.streams > 1 else 16)
    log = lambda msg: print(f"bench: {msg}", file=sys.stderr, flush=True)
    t0 = time.monotonic()
    lat = args.live_latency_ms
    batched, runs_b = _largest(False, seconds, threads, top, log, lat)
    separate, runs_s = _largest(True, seconds, threads, top, log, lat)
    result = {
        "bench": "live voices", "model": "demo", "seconds_per_run": seconds,
        "latency_ms": lat if lat is not None else 80.0, "threads_batched": threads, "threads_separate": 1,
        "largest_batched": batched, "largest_separate": separate, "runs": runs_b + runs_s,
        "wall_s": round(time.monotonic() - t0, 1), "environment": environment(),
        "command": "mrtd " + " ".join(sys.argv[1:]),
    }
    print(f"live on a jackd -d dummy ({seconds:g} s a run, latency budget {lat or 80:g} ms, no underrun): "
          f"{batched} voice(s) in one daemon (one batched step), {separate} as separate processes")
    if args.json:
        write_result(args.json, result, type("L", (), {"info": staticmethod(log)}))
    return 0


def _live_checkpoint(args: argparse.Namespace) -> int:
    """A real-size model live: one ``mrtd serve --checkpoint FILE`` (serve's defaults: the
    fast path) on a private jackd for ``--live-seconds``; underruns and xruns against the
    real-time factor the daemon measured at start-up."""
    from mrtd.devtools.bench_env import environment, write_result

    if not args.checkpoint:
        raise UserError("--live with a real size needs --checkpoint FILE (serve loads files; random weights of "
                        "the official layout: python benchmarks/random_checkpoint.py)")
    model = ["--checkpoint", args.checkpoint]
    for flag, value in (("--dtype", args.dtype), ("--codec-dtype", args.codec_dtype)):
        if value not in (None, "auto"):
            model += [flag, value]
    if args.two_stage is not None:
        model.append("--two-stage" if args.two_stage else "--no-two-stage")
    seconds = float(args.live_seconds)
    t0 = time.monotonic()
    r = run_live(1, False, seconds, args.threads, latency_ms=args.live_latency_ms, model=model)
    result = {"bench": "live checkpoint", "checkpoint": args.checkpoint, "seconds": seconds,
              "latency_ms": args.live_latency_ms if args.live_latency_ms is not None else 80.0, **r,
              "wall_s": round(time.monotonic() - t0, 1), "environment": environment(),
              "command": "mrtd " + " ".join(sys.argv[1:])}
    print(f"live on a jackd -d dummy, {seconds:g} s: underruns {r['underruns'][0]} (starved {r['starved_ms'][0]} ms), "
          f"xruns {r['xruns'][0]}, {r['frames'][0]} frames made; measured at start-up: "
          f"{r['expected_rtf'][0] if r['expected_rtf'] else '?'}x real time")
    if args.json:
        write_result(args.json, result, type("L", (), {"info": staticmethod(print)}))
    return 0

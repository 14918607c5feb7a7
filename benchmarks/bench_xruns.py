"""Xruns and underruns of `mrtd serve --demo` over a real-time run on a private jackd.

    python benchmarks/bench_xruns.py [--seconds 60] [--period 256] [--no-realtime]

Starts ``jackd -d dummy`` (realtime scheduling unless ``--no-realtime``; the dummy
backend keeps real time like a sound card), runs the daemon with its outputs connected
to the system playback ports for ``--seconds``, stops it with SIGTERM and reads the
summary line it prints. Writes JSON (figures + environment) to
``benchmarks/results/bench_xruns_cpu.json`` unless ``--out`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mrtd.devtools.bench_env import environment


def wait_jackd(name: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"jackd exited with {proc.returncode}")
        if subprocess.run(["jack_lsp", "-s", name], capture_output=True).returncode == 0:
            return
        time.sleep(0.05)
    raise SystemExit("jackd did not start")


def osc_status(port: int) -> dict:
    """Ask the daemon for /mrtd/status over UDP (model, device, fps, queue_ms, underruns,
    xruns, latency_ms, frame)."""
    import socket

    from pythonosc.osc_message import OscMessage
    from pythonosc.osc_message_builder import OscMessageBuilder

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2.0)
        sock.sendto(OscMessageBuilder("/mrtd/status").build().dgram, ("127.0.0.1", port))
        while True:
            msg = OscMessage(sock.recv(65536))
            if msg.address == "/mrtd/status":
                keys = ("model", "device", "fps", "queue_ms", "underruns", "xruns", "latency_ms", "frame")
                return dict(zip(keys, msg.params))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--period", type=int, default=256)
    ap.add_argument("--latency-ms", type=float, default=80.0)
    ap.add_argument("--no-realtime", action="store_true")
    ap.add_argument("--warmup", type=float, default=5.0, help="seconds after start-up not counted")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "bench_xruns_cpu.json"))
    a = ap.parse_args()
    name = f"bench-{os.getpid()}"
    rt = [] if not a.no_realtime else ["--no-realtime"]
    jackd = subprocess.Popen(["jackd", "-n", name, *rt, "-d", "dummy", "-r", "48000", "-p", str(a.period)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_jackd(name, jackd)
        env = {**os.environ, "JACK_NO_START_SERVER": "1", "PYTHONUNBUFFERED": "1"}
        cmd = [sys.executable, "-m", "mrtd", "serve", "--demo", "--jack-server", name, "--connect",
               "--osc-port", "0", "--oscquery-port", "-1", "--latency-ms", str(a.latency_ms)]
        serve = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        lines = []
        assert serve.stdout is not None
        for line in serve.stdout:
            lines.append(line)
            if "mrtd: ready" in line:
                break
        port = int(next(x for x in lines if "OSC on udp://" in x).split(":")[-1].split()[0])
        time.sleep(a.warmup)
        before = osc_status(port)
        time.sleep(a.seconds)
        after = osc_status(port)
        serve.send_signal(signal.SIGTERM)
        out, _ = serve.communicate(timeout=10)
        lines += out.splitlines()
    finally:
        jackd.terminate()
        jackd.wait(5)
    summary = next((json.loads(x.split("summary ", 1)[1]) for x in lines if "mrtd: summary " in x), None)
    if summary is None:
        raise SystemExit("no summary line from mrtd serve:\n" + "".join(lines[-20:]))
    res = {"benchmark": "bench_xruns", "model": "demo (untrained, mrt2_tiny dims)", "seconds": a.seconds,
           "jack": {"backend": "dummy", "period": a.period, "realtime": not a.no_realtime, "rate": 48000},
           "latency_ms": a.latency_ms, "warmup_s": a.warmup,
           "steady": {"xruns": after["xruns"] - before["xruns"], "underruns": after["underruns"] - before["underruns"],
                      "frames": after["frame"] - before["frame"]},
           "daemon_total": summary, "env": environment()}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1) + "\n")
    st = res["steady"]
    print(f"{a.seconds:g} s real time after {a.warmup:g} s warm-up, period {a.period}: {st['xruns']} xruns, "
          f"{st['underruns']} underruns; whole run incl. start-up: {summary['xruns']} xruns, "
          f"{summary['underruns']} underruns; {summary['fps']:.0f} frames/s capacity")


if __name__ == "__main__":
    main()

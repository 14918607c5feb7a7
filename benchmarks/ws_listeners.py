"""OSCQuery websocket listeners vs the audio: underruns and frame times of an in-process
daemon while N websocket clients LISTEN to the busiest addresses and never read.

    python benchmarks/ws_listeners.py [--listeners 500 0] [--repeat 3] [--seconds 20] [--rate 50]
        [--busy N] [--max-websockets N] [--max-connections N] [--threads 1] [--label TEXT]
        [--out benchmarks/results/ws_listeners.json]

The daemon is the demo engine, the hub and the OSCQuery server on their own loop
thread, with a reader thread pulling 256-sample periods at 48 kHz as the JACK client
would (no jackd needed). A second process plays the clients, over raw sockets on
127.0.0.1: first one websocket that sends ``/mrtd/notes/frame`` (128 note states,
changing every message) at ``--rate`` Hz as binary OSC, then N websockets that LISTEN
to ``/mrtd/notes/frame``, ``/mrtd/meters``, ``/mrtd/frame``, ``/mrtd/style/tokens`` and
``/mrtd/temperature`` and never read a byte; it also times a plain HTTP GET of
``/mrtd/frame?VALUE`` every half second. Over the ``--seconds`` window after every
listener is in, it reports the output queue's underruns and starved samples, the
generation time of each frame (p50/p99/max, and "late" frames: longer than the 40 ms a
frame lasts), how late the daemon's loop runs a 20 ms timer, the HTTP answer time, and
the daemon process's CPU use. ``--busy N`` runs N processes that only burn CPU during
the window, as other work on the machine would (the hostile test that found the
problem ran beside other jobs). Each count runs ``--repeat`` times, interleaved (other
work on a shared machine comes and goes), and the summary gives the median per count.
Runs against whatever ``mrtd`` is imported (set PYTHONPATH to a checkout to measure that
one); ``--max-websockets``/``--max-connections`` are passed only to a server that has
those options.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import inspect
import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

SR = 48000
PERIOD = 256
FRAME_MS = 40.0
LISTENED = ("/mrtd/notes/frame", "/mrtd/meters", "/mrtd/frame", "/mrtd/style/tokens", "/mrtd/temperature")


# --------------------------------------------------------------------------- the clients (second process)


def ws_open(port: int) -> socket.socket | None:
    """A websocket handshake on a raw socket; None when the server refuses the upgrade."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16))
    s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            break
        head += chunk
    if head.split(b" ", 2)[1:2] != [b"101"]:
        s.close()
        return None
    return s


def ws_frame(opcode: int, payload: bytes) -> bytes:
    """One masked client frame (RFC 6455: clients must mask)."""
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    mask = os.urandom(4)
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes((mask * (n // 4 + 1))[:n], "big")).to_bytes(n, "big")
    return head + mask + masked


def http_ms(port: int) -> float | None:
    """Time to answer GET /mrtd/frame?VALUE on a fresh connection (None: refused/failed)."""
    t = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET /mrtd/frame?VALUE HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    except OSError:
        return None
    return 1000 * (time.perf_counter() - t) if data.startswith(b"HTTP/1.1 200") else None


def clients(port: int, n: int, seconds: float, rate: float) -> None:
    """The client process: prints "ready ..." once every listener is in, then a JSON line."""
    from mrtd.remote.osc.packet import encode_message

    sender = ws_open(port)
    assert sender is not None, "the sending websocket was refused"
    sender.setblocking(False)
    listeners, refused = [], 0
    for _ in range(n):
        s = ws_open(port)
        if s is None:
            refused += 1
            continue
        for address in LISTENED:
            s.sendall(ws_frame(0x1, json.dumps({"COMMAND": "LISTEN", "DATA": address}).encode()))
        listeners.append(s)
    print(f"ready {len(listeners)} {refused}", flush=True)
    period, sent, replies, probes = 1.0 / rate, 0, 0, []
    t0 = time.monotonic()
    next_probe = t0
    k = 0
    while (now := time.monotonic()) < t0 + seconds:
        states = [((i + k) % 5) - 1 for i in range(128)]  # -1..3, a new pattern each message
        sender.sendall(ws_frame(0x2, encode_message("/mrtd/notes/frame", states)))
        sent, k = sent + 1, k + 1
        try:
            while sender.recv(65536):
                replies += 1
        except BlockingIOError:
            pass
        if now >= next_probe:
            probes.append(http_ms(port))
            next_probe += 0.5
        time.sleep(max(0.0, t0 + k * period - time.monotonic()))
    ok = sorted(p for p in probes if p is not None)
    print(json.dumps({"listeners": len(listeners), "refused": refused, "sent": sent,
                      "rate_hz": sent / (time.monotonic() - t0), "replies_to_sender": replies,
                      "http_ms": {"n": len(probes), "failed": len(probes) - len(ok),
                                  "p50": _pct(ok, 50), "max": ok[-1] if ok else None}}), flush=True)
    for s in listeners:
        s.close()
    sender.close()


# --------------------------------------------------------------------------- the daemon (this process)


def _pct(xs: list[float], p: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


class Reader:
    """Stands in for the JACK client: one 256-sample period every 256/48000 s."""

    def __init__(self, engine: Any):
        import numpy as np

        self.engine = engine
        self.buf = np.empty((PERIOD, 4), np.float32)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="bench-reader", daemon=True)

    def _run(self) -> None:
        t0, n = time.monotonic(), 0
        while not self.stop.is_set():
            self.engine.read_into(self.buf)
            n += PERIOD
            ahead = t0 + n / SR - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
            elif ahead < -0.5:  # starved of CPU: do not race to catch up
                t0 = time.monotonic() - n / SR


async def _loop_lag(out: list[float], stop: asyncio.Event) -> None:
    """How late the daemon's loop wakes for a 20 ms timer (ms), while it runs."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        t = loop.time()
        await asyncio.sleep(0.02)
        out.append(1000 * (loop.time() - t - 0.02))


def run_once(n: int, seconds: float, rate: float, threads: int, limits: dict[str, int], busy: int = 0) -> dict[str, Any]:
    import torch

    from mrtd.engine.demo import build_demo
    from mrtd.engine.engine import Engine
    from mrtd.remote.hub import Hub
    from mrtd.remote.loop import LoopThread
    from mrtd.remote.oscquery import OscQueryServer

    torch.set_num_threads(threads)
    engine = Engine(*build_demo())
    hub = Hub(engine)
    steps: list[tuple[float, float]] = []  # (end time, ms) of each frame
    step = engine.step_frame

    def timed_step() -> Any:
        t = time.perf_counter()
        out = step()
        steps.append((time.perf_counter(), 1000 * (time.perf_counter() - t)))
        return out

    engine.step_frame = timed_step  # type: ignore[method-assign]
    known = inspect.signature(OscQueryServer).parameters
    kw = {k: v for k, v in limits.items() if k in known}
    net = LoopThread("bench-net")
    server = OscQueryServer(hub, osc_port=9, **kw)
    net.run(server.start())
    gc.collect()
    gc.freeze()  # as mrtd serve does: the model is never garbage, full collections stay off the frame path
    reader = Reader(engine)
    engine.start()
    reader.thread.start()
    time.sleep(2.0)  # the queue fills, the first frames' one-off costs pass
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.Popen([sys.executable, __file__, "--client", str(server.port), str(n), str(seconds), str(rate)],
                            stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    ready = proc.stdout.readline().split()
    if not ready or ready[0] != "ready":
        raise SystemExit(f"client process failed: {ready}")
    burners = [subprocess.Popen([sys.executable, "-c", f"import time\nend = time.monotonic() + {seconds + 5}\n"
                                 "while time.monotonic() < end: pass"]) for _ in range(busy)]
    lag: list[float] = []
    stop_lag = asyncio.Event()
    lag_task = asyncio.run_coroutine_threadsafe(_loop_lag(lag, stop_lag), net.loop)
    st0, cpu0, t0, i0 = engine.output.status(), time.process_time(), time.perf_counter(), len(steps)
    client = json.loads(proc.stdout.readline())
    st1, cpu1, t1, i1 = engine.output.status(), time.process_time(), time.perf_counter(), len(steps)
    for b in burners:
        b.kill()
        b.wait()
    admitted = len(server.clients)
    net.loop.call_soon_threadsafe(stop_lag.set)
    lag_task.result(5)
    proc.wait(10)
    net.run(server.stop())
    net.stop()
    reader.stop.set()
    reader.thread.join(5)
    engine.stop()
    gc.unfreeze()
    ms = [m for _, m in steps[i0:i1]]
    wall = t1 - t0
    return {
        "busy_processes": busy, "listeners_asked": n, "listeners_admitted": client["listeners"], "listeners_refused": client["refused"],
        "websockets_open_at_end": admitted, "seconds": round(wall, 3),
        "traffic": {"address": "/mrtd/notes/frame", "rate_hz": round(client["rate_hz"], 2), "sent": client["sent"],
                    "replies_to_sender": client["replies_to_sender"]},
        "underruns": st1["underruns"] - st0["underruns"],
        "starved_ms": round(1000 * (st1["starved_samples"] - st0["starved_samples"]) / SR, 1),
        "frames": len(ms), "frames_per_s": round(len(ms) / wall, 2),
        "frame_ms": {"p50": _r(_pct(ms, 50)), "p99": _r(_pct(ms, 99)), "max": _r(max(ms, default=None))},
        "late_frames": sum(1 for m in ms if m > FRAME_MS),
        "late_frames_at_s": [round(t - t0, 2) for t, m in steps[i0:i1] if m > FRAME_MS][:20],
        "loop_lag_ms": {"p50": _r(_pct(lag, 50)), "p99": _r(_pct(lag, 99)), "max": _r(max(lag, default=None))},
        "http_ms": {k: _r(v) for k, v in client["http_ms"].items()},
        "daemon_cpu_percent": round(100 * (cpu1 - cpu0) / wall, 1),
        "daemon_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "loadavg_1min_at_end": round(os.getloadavg()[0], 2),  # other work on the machine shows here
    }


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over repeated runs of one count."""
    def med(get: Any) -> float | None:
        xs = [v for v in (get(r) for r in runs) if v is not None]
        return _pct(xs, 50)

    return {
        "runs": len(runs), "listeners_admitted": med(lambda r: r["listeners_admitted"]),
        "underruns": med(lambda r: r["underruns"]), "underruns_each_run": [r["underruns"] for r in runs],
        "starved_ms": med(lambda r: r["starved_ms"]), "late_frames": med(lambda r: r["late_frames"]),
        "frame_ms_p99": med(lambda r: r["frame_ms"]["p99"]), "loop_lag_ms_p99": med(lambda r: r["loop_lag_ms"]["p99"]),
        "http_ms_p50": med(lambda r: r["http_ms"]["p50"]), "daemon_cpu_percent": med(lambda r: r["daemon_cpu_percent"]),
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        port, n, seconds, rate = sys.argv[2:6]
        clients(int(port), int(n), float(seconds), float(rate))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listeners", type=int, nargs="+", default=[500, 0], help="one run per count")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--rate", type=float, default=50.0, help="/mrtd/notes/frame messages per second")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 leaves a core for the rest)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per count, interleaved")
    ap.add_argument("--busy", type=int, default=0, help="CPU-burning processes beside the daemon during the window")
    ap.add_argument("--max-websockets", type=int, default=None, help="the server's websocket cap, where it has one")
    ap.add_argument("--max-connections", type=int, default=None, help="the server's connection cap, where it has one")
    ap.add_argument("--label", default="", help="what code this is (before/after), recorded")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "ws_listeners.json"))
    a = ap.parse_args()
    from mrtd.devtools.bench_env import environment

    limits = {k: v for k, v in (("max_websockets", a.max_websockets), ("max_connections", a.max_connections))
              if v is not None}
    runs = []
    for n in [n for _ in range(a.repeat) for n in a.listeners]:
        r = run_once(n, a.seconds, a.rate, a.threads, limits, a.busy)
        runs.append(r)
        print(f"{n:4d} asked, {r['listeners_admitted']:3d} listening: {r['underruns']:3d} underruns "
              f"({r['starved_ms']} ms starved), frame p50/p99/max {r['frame_ms']['p50']}/{r['frame_ms']['p99']}/"
              f"{r['frame_ms']['max']} ms, {r['late_frames']} late, loop lag p99 {r['loop_lag_ms']['p99']} ms, "
              f"HTTP p50 {r['http_ms']['p50']} ms, CPU {r['daemon_cpu_percent']}%", flush=True)
    res = {"benchmark": "ws_listeners", "label": a.label, "model": "demo (untrained, mrt2_tiny dims)",
           "command": " ".join(sys.argv),  # the measured tree's commit is env's git_sha
           "setup": {"period": PERIOD, "rate": SR, "listened": list(LISTENED), "traffic_hz": a.rate,
                     "limits": limits, "torch_threads": a.threads, "busy_processes": a.busy,
                     "reader": "in-process thread, 256 samples per 5.33 ms"},
           "median": {str(n): _median_run([r for r in runs if r["listeners_asked"] == n]) for n in a.listeners},
           "runs": runs, "env": environment()}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()

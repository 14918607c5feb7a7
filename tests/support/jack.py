"""A private `jackd -d dummy` (no sound card), named for the test run."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass

SAMPLE_RATE = 48000
PERIOD = 256


@dataclass
class JackServer:
    name: str
    proc: subprocess.Popen
    sample_rate: int = SAMPLE_RATE
    period: int = PERIOD

    def env(self) -> dict[str, str]:
        """Environment for a subprocess that must talk to this server."""
        return {**os.environ, "JACK_DEFAULT_SERVER": self.name, "JACK_NO_START_SERVER": "1"}

    def ports(self) -> list[str]:
        out = subprocess.run(
            ["jack_lsp", "-s", self.name], capture_output=True, text=True, timeout=10
        )
        return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def start_jackd(name: str, sample_rate: int = SAMPLE_RATE, period: int = PERIOD) -> JackServer:
    """Start ``jackd -n NAME --no-realtime -d dummy`` and wait until ``jack_lsp`` answers.

    Its messages go to a file, never to a pipe nobody reads: a server that logs a lot
    (xruns on a loaded machine, clients coming and going) would block on a full pipe."""
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        ["jackd", "-n", name, "--no-realtime", "-t", "2000",
         "-d", "dummy", "-r", str(sample_rate), "-p", str(period)],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    log.close()  # the child has its own descriptor
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jackd exited with {proc.returncode}")
        r = subprocess.run(["jack_lsp", "-s", name], capture_output=True, timeout=10)
        if r.returncode == 0 and b"system:" in r.stdout:
            return JackServer(name, proc, sample_rate, period)
        time.sleep(0.02)
    stop_jackd(JackServer(name, proc))
    raise RuntimeError("jackd did not answer within 15 s")


def stop_jackd(server: JackServer) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(5)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait(5)

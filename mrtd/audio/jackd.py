"""A private ``jackd`` for ``mrtd serve --jack-start``: a server of mrtd's own, named
for its process, so mrtd runs where no JACK server (or PipeWire) is running."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

from mrtd.constants import SAMPLE_RATE
from mrtd.errors import UserError


def start_jackd(backend: str, period: int = 256) -> tuple[subprocess.Popen, str]:
    """Start a private jackd (dummy or alsa) named for this process; wait until it answers."""
    if shutil.which("jackd") is None:
        raise UserError("--jack-start needs jackd: apt install jackd2 (or run ./setup.sh)")
    name = f"mrtd-{os.getpid()}"
    cmd = ["jackd", "-n", name, "--no-realtime", "-d", backend, "-r", str(SAMPLE_RATE), "-p", str(period)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = (proc.stderr.read() if proc.stderr else "").strip().splitlines()[-3:]
            raise UserError(f"jackd -d {backend} failed: {' / '.join(err) or 'exit ' + str(proc.returncode)}")
        ok = subprocess.run(["jack_lsp", "-s", name], capture_output=True, check=False,
                            env={**os.environ, "JACK_NO_START_SERVER": "1"})
        if ok.returncode == 0:
            return proc, name
        time.sleep(0.05)
    proc.kill()
    raise UserError(f"jackd -d {backend} did not start within 10 s")

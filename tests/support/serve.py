"""`mrtd serve --demo-random` (the untrained tiny demo: bit-exact, sound without notes) as
users run it: a subprocess on a private jackd, its stdout collected line by line."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from support.jack import JackServer


class Serve:
    """One `mrtd serve --demo-random` subprocess; stdout lines collected as they come."""

    def __init__(self, server: JackServer, *args: str, wait: bool = True, tmp: Path | None = None):
        self.name = f"mrtd-{uuid.uuid4().hex[:6]}"
        env = {**server.env(), "XDG_DATA_HOME": str(tmp or Path("/tmp")), "PYTHONUNBUFFERED": "1"}
        cmd = [sys.executable, "-m", "mrtd", "serve", "--demo-random", "--jack-server", server.name,
               "--jack-name", self.name, "--osc-port", "0", "--oscquery-port", "-1", *args]
        if "--checkpoint" in args:
            cmd.remove("--demo-random")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines: list[str] = []
        self._new = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        if wait:
            self.wait_for("mrtd: ready", 90)
        m = re.search(r"OSC on udp://[\d.]+:(\d+)", "\n".join(self.lines))
        self.osc_port = int(m.group(1)) if m else 0

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._new:
                self.lines.append(line.rstrip())
                self._new.notify_all()

    def wait_for(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        seen = 0
        with self._new:
            while True:
                for line in self.lines[seen:]:
                    if text in line:
                        return line
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None and seen == len(self.lines):
                    raise AssertionError(f"no {text!r} from mrtd serve; output:\n" + "\n".join(self.lines[-30:]))
                self._new.wait(min(left, 0.2))

    def port(self, p: str) -> str:
        return f"{self.name}:{p}"

    def stop(self, timeout: float = 10) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

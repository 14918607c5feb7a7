"""liblo's `oscsend`/`oscsendfile`/`oscdump` as the independent OSC peer: a test never
checks python-osc against itself."""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (apt-get install liblo-tools)")


def oscsend(port: int, address: str, types: str = "", *args: object,
            host: str = "127.0.0.1", tcp: bool = False) -> None:
    """Send one message with liblo's ``oscsend`` (UDP, or TCP with the size-prefix framing)."""
    _need("oscsend")
    url = f"osc.{'tcp' if tcp else 'udp'}://{host}:{port}"
    cmd = ["oscsend", url, address]
    if types:
        cmd += [types, *(str(a) for a in args)]
    subprocess.run(cmd, check=True, timeout=10, capture_output=True)


def oscsendfile(port: int, lines: list[str], host: str = "127.0.0.1", tmp: Path | None = None) -> None:
    """Send lines ``/addr types args`` as one bundle with liblo's ``oscsendfile``.

    A line may start with a hex ``sec.frac`` timetag (relative to the first line's).
    """
    _need("oscsendfile")
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".txt", dir=tmp, delete=False) as f:
        f.write("\n".join(lines) + "\n")
        path = f.name
    try:
        subprocess.run(["oscsendfile", host, str(port), path], check=True, timeout=10, capture_output=True)
    finally:
        os.unlink(path)


@dataclass
class OscMessage:
    address: str
    types: str
    args: list[str]


_DUMP_LINE = re.compile(r"^(?:[0-9a-f]{8}\.[0-9a-f]{8}\s+)?(\S+)\s*(\S*)\s*(.*)$")


class OscDump:
    """liblo's ``oscdump`` listening on a port; collects what it prints."""

    def __init__(self, port: int, tcp: bool = False):
        _need("oscdump")
        self.port = port
        url = f"osc.{'tcp' if tcp else 'udp'}://:{port}"
        self.proc = subprocess.Popen(
            ["oscdump", "-L", url], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        self.messages: "queue.Queue[OscMessage]" = queue.Queue()
        self.received: list[OscMessage] = []
        threading.Thread(target=self._read, daemon=True).start()
        time.sleep(0.1)  # let oscdump bind before anyone sends

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.strip()
            if not line or line.startswith("#bundle") or line == "]":
                continue
            m = _DUMP_LINE.match(line)
            if m and m.group(1).startswith("/"):
                self.messages.put(OscMessage(m.group(1), m.group(2), m.group(3).split()))

    def wait_for(self, predicate: Callable[[OscMessage], bool], timeout: float = 5.0) -> OscMessage:
        """The first message (received from now on, or already queued) that satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(
                    f"no matching OSC message within {timeout} s; got: "
                    + ", ".join(f"{m.address} {m.types} {m.args}" for m in self.received[-10:])
                )
            try:
                msg = self.messages.get(timeout=min(left, 0.1))
            except queue.Empty:
                continue
            self.received.append(msg)
            if predicate(msg):
                return msg

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()

"""``mrtd render --demo`` as a user runs it (a subprocess), and event files written the way
``--log-events`` writes them: for tests that a take re-renders from its own log."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def write_events(path: Path, lines: list[tuple[int, str, list]]) -> Path:
    """An event file of ``(frame, address, args)`` lines."""
    path.write_text("".join(json.dumps({"frame": f, "address": a, "args": v}) + "\n" for f, a, v in lines))
    return path


def render_demo(*args: object) -> None:
    """``mrtd render --demo-random ARGS --format float --quiet``; fails the test with its stderr."""
    r = subprocess.run([sys.executable, "-m", "mrtd", "render", "--demo-random", *(str(a) for a in args),
                        "--format", "float", "--quiet"], capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr

"""A progress bar on the terminal while a big checkpoint loads (the model reports, the
command line draws: the model code imports nothing of rich)."""

from __future__ import annotations

import sys
from typing import Any


def show_loading_progress() -> None:
    """Draw checkpoint loading as a bar on stderr, when stderr is a terminal."""
    if not sys.stderr.isatty():
        return
    from rich.progress import Progress

    from mrtd.model.mrt2 import checkpoint

    bars: dict[str, tuple[Any, Any]] = {}

    def report(name: str, done: int, total: int) -> None:
        if name not in bars:
            bar = Progress(transient=True)
            bar.start()
            bars[name] = (bar, bar.add_task(f"loading {name}", total=total))
        bar, task = bars[name]
        bar.update(task, completed=done)
        if done >= total:
            bar.stop()
            del bars[name]

    checkpoint.progress_hook = report

"""The environment a benchmark ran in, recorded beside its figures."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any


def git_sha() -> str | None:
    """HEAD of the checkout this package runs from, or None outside a git tree."""
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).parent, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def environment(device: str = "cpu", dtype: str = "float32") -> dict[str, Any]:
    """git SHA, Python, torch, device name, dtype, threads, CPU count, platform."""
    import torch

    on_cuda = device.startswith("cuda")
    return {
        "git_sha": git_sha(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "device": device,
        "device_name": torch.cuda.get_device_name() if on_cuda else platform.processor() or platform.machine(),
        "dtype": dtype,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
    }


def write_result(path: str, result: dict[str, Any], log: Any) -> None:
    """A bench's JSON, into a folder that must exist (a typo is an error, not a new tree)."""
    import json

    from mrtd.errors import UserError

    out = Path(path)
    if not out.parent.exists():
        raise UserError(f"directory does not exist: {out.parent}")
    out.write_text(json.dumps(result, indent=1) + "\n")
    log.info(f"wrote {out}")

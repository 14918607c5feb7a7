"""Read official MRT2 ``.safetensors`` files, key for key, with one clear error.

The official files are flat Flax paths joined by ``/`` (``params/depthformer/...``,
``params/soundstream/...``, ``params/encoder/...``), float32. Components declare the
keys and shapes they need (``expected``); this module checks a file against that
declaration *before* reading any data, so a wrong file fails fast and names every
missing, unexpected and mis-shaped key in a single message. Tensors are read one at
a time from the memory-mapped file, so peak memory stays near the model's own size.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import torch
from safetensors import safe_open

from mrtd.errors import UserError

Shape = tuple[int, ...]

# Files this large report their loading progress to ``progress_hook``: (file name, tensors
# read, tensors in all). The command line sets it to draw a bar; the model draws nothing.
LoadProgress = Callable[[str, int, int], None]
progress_hook: LoadProgress | None = None
_PROGRESS_MIN_BYTES = 64 << 20
_LIST_LIMIT = 12


class CheckpointError(UserError):
    """A checkpoint that is missing, unreadable or does not match the model's layout."""


def _open(path: Path):
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        return safe_open(str(path), framework="pt", device="cpu")
    except Exception as e:  # safetensors raises its own error types for bad headers
        raise CheckpointError(
            f"{path}: not a readable .safetensors file (truncated or corrupt?): {e}"
        ) from None


def read_shapes(path: str | os.PathLike, prefixes: Iterable[str] = ("",)) -> dict[str, Shape]:
    """Key -> shape for every tensor in ``path`` whose key starts with one of ``prefixes``."""
    path = Path(path)
    prefixes = tuple(prefixes)
    with _open(path) as f:
        return {
            k: tuple(f.get_slice(k).get_shape())
            for k in f.keys()
            if k.startswith(prefixes)
        }


def _listing(title: str, items: list[str]) -> str:
    shown = items[:_LIST_LIMIT]
    more = f" ... and {len(items) - len(shown)} more" if len(items) > len(shown) else ""
    return f"{title} ({len(items)}): " + ", ".join(shown) + more


def check_layout(
    found: Mapping[str, Shape], expected: Mapping[str, Shape], source: str
) -> None:
    """Raise one CheckpointError naming every missing, unexpected and mis-shaped key."""
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    misshaped = sorted(
        f"{k} is {list(found[k])}, expected {list(expected[k])}"
        for k in set(found) & set(expected)
        if tuple(found[k]) != tuple(expected[k])
    )
    problems = []
    if missing:
        problems.append(_listing("missing keys", missing))
    if unexpected:
        problems.append(_listing("unexpected keys", unexpected))
    if misshaped:
        problems.append(_listing("wrong shapes", misshaped))
    if problems:
        raise CheckpointError(f"{source} does not match the model layout: " + "; ".join(problems))


def read_tensors(
    path: str | os.PathLike,
    expected: Mapping[str, Shape],
    *,
    prefixes: Iterable[str] = ("",),
    dtype: torch.dtype | None = None,
) -> dict[str, torch.Tensor]:
    """Check ``path`` against ``expected`` (only keys under ``prefixes``), then read it.

    Returns CPU tensors keyed by the official names. ``dtype`` converts each tensor
    as it is read (one tensor at a time, never the whole file twice). A big file reports
    its progress to :data:`progress_hook`, if one is set.
    """
    path = Path(path)
    prefixes = tuple(prefixes)
    check_layout(read_shapes(path, prefixes), expected, str(path))
    report = progress_hook if path.stat().st_size >= _PROGRESS_MIN_BYTES else None
    out: dict[str, torch.Tensor] = {}
    keys = sorted(expected)
    with _open(path) as f:
        for i, k in enumerate(keys, 1):
            out[k] = _read_one(f, k, dtype, path)
            if report is not None:
                report(path.name, i, len(keys))
    return out


def _read_one(f, key: str, dtype: torch.dtype | None, path: Path) -> torch.Tensor:
    try:
        t = f.get_tensor(key)
    except Exception as e:
        raise CheckpointError(f"{path}: cannot read tensor {key} (truncated file?): {e}") from None
    if not t.is_floating_point() and not t.dtype == torch.int32:
        raise CheckpointError(f"{path}: tensor {key} has unsupported dtype {t.dtype}")
    if dtype is not None and t.is_floating_point() and t.dtype != dtype:
        t = t.to(dtype)
    return t

"""State banks: the model state and the generation controls in one ``.safetensors``.

Writes are atomic: a temp file in the same directory, flushed and fsynced, then
``os.replace`` onto the bank and an fsync of the directory. A crash at any point leaves
either the old bank or the new one, never a half-written file.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from mrtd.errors import UserError

FORMAT = "mrtd-bank-1"


def bank_path(bank_dir: str | os.PathLike, n: int) -> Path:
    return Path(bank_dir) / f"bank_{n:03d}.safetensors"


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Replace ``path`` with ``data`` so readers see the old or the new file, nothing else."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_bank(path: str | os.PathLike, tensors: dict[str, torch.Tensor], meta: dict[str, str]) -> None:
    data = st_save({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, {"format": FORMAT, **meta})
    write_atomic(path, data)


def load_bank(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UserError(f"cannot read bank {path}: {e.strerror}") from None
    try:
        tensors = st_load(data)
        from safetensors import safe_open  # metadata needs the file API

        with safe_open(str(path), "pt") as f:
            meta = f.metadata() or {}
    except (SafetensorError, ValueError) as e:
        raise UserError(f"{path}: not a readable bank: {e}") from None
    if meta.get("format") != FORMAT:
        raise UserError(f"{path}: not an mrtd bank (format {meta.get('format')!r})")
    return tensors, meta

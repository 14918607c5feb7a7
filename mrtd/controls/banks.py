"""State banks: the model state, the generation controls and the scenes in one ``.safetensors``.

Writes are atomic: a temp file in the same directory, flushed and fsynced, then
``os.replace`` onto the bank and an fsync of the directory. A crash at any point leaves
either the old bank or the new one, never a half-written file.
"""

from __future__ import annotations

import json
import os
import struct
import threading
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from mrtd.errors import UserError

FORMAT = "mrtd-bank-1"


def bank_name(n: int) -> str:
    return f"bank_{n:03d}.safetensors"


def bank_path(bank_dir: str | os.PathLike, n: int) -> Path:
    return Path(bank_dir) / bank_name(n)


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Replace ``path`` with ``data`` so readers see the old or the new file, nothing else.
    The temp file is created exclusively and never through a symbolic link; OS errors
    (missing or read-only folder, disk full) are UserErrors naming the file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError as e:
        raise UserError(f"cannot write bank {path}: {e.strerror or e}") from None


def save_bank(path: str | os.PathLike, tensors: dict[str, torch.Tensor], meta: dict[str, str]) -> None:
    data = st_save({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, {"format": FORMAT, **meta})
    write_atomic(path, data)


def parse_bank(data: bytes, label: str) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """A bank file's bytes -> (tensors, metadata); UserError naming ``label`` otherwise."""
    try:
        tensors = st_load(data)
        (n,) = struct.unpack_from("<Q", data)
        header = json.loads(data[8:8 + n])
        meta = header.get("__metadata__") or {}
    except (SafetensorError, ValueError, struct.error, UnicodeDecodeError, AttributeError) as e:
        raise UserError(f"{label}: not a readable bank: {e}") from None
    if meta.get("format") != FORMAT:
        raise UserError(f"{label}: not an mrtd bank (format {meta.get('format')!r})")
    return tensors, meta


def load_bank(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UserError(f"cannot read bank {path}: {e.strerror}") from None
    return parse_bank(data, str(path))

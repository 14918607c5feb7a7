"""State banks: the live stream state and generation controls saved to a numbered file,
and loaded back as the reset target.

A bank holds the generator's tensors (:meth:`StreamGenerator.bank_tensors`) and the
controls and scenes (:mod:`.scenes`) as JSON. Taking the snapshot is cheap and happens on the frame the save lands
on; writing it (atomic, fsynced) and reading a bank back run on the file thread
(:mod:`.actions`), and installing what was read happens on the generation thread.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from mrtd.controls.banks import bank_name, parse_bank
from mrtd.datadir import MAX_BANK_BYTES, PathRefused
from mrtd.errors import ControlError, UserError

if TYPE_CHECKING:
    from mrtd.engine.engine import Engine

Tensors = dict[str, torch.Tensor]


class Banks:
    """Bank files of one engine (in its ``bank_dir``, opened through its data folder)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def path(self, n: int) -> Path:
        if self.engine.bank_dir is None:
            raise UserError("no bank directory configured")
        return Path(self.engine.bank_dir) / bank_name(n)

    def snapshot(self, n: int) -> tuple[Path, Tensors, dict[str, str]]:
        """The live stream state and generation controls, copied (frame thread; cheap)."""
        e = self.engine
        # the scenes ride in the same file (one atomic write): saved and loaded with the bank
        meta = {"controls": e.controls.to_json(), "model": e.generator.name, "scenes": e.scenes.to_json()}
        return self.path(n), e.generator.bank_tensors(), meta

    def read(self, n: int) -> tuple[Tensors, dict[str, str]]:
        """File thread (or offline): bank ``n``'s tensors and metadata."""
        self.path(n)
        try:
            fd, _ = self.engine.files.open_read("banks", bank_name(n), MAX_BANK_BYTES)
        except PathRefused as err:
            raise ControlError("/mrtd/bank/load", f"bank {n}: {err}") from None
        try:
            with os.fdopen(fd, "rb") as f:
                data = f.read()
        except OSError as err:
            raise ControlError("/mrtd/bank/load", f"cannot read bank {n}: {err.strerror}") from None
        return parse_bank(data, f"bank {n}")

    def install(self, n: int, tensors: Tensors, meta: dict[str, str]) -> None:
        """Bank ``n`` becomes the reset target (with its controls), then reset to it."""
        e = self.engine
        try:
            target = e.generator.from_bank(tensors)
        except ValueError as err:
            raise UserError(f"bank {n} does not fit this model ({meta.get('model')}): {err}") from None
        # read before anything changes; a bank from before scenes keeps the scenes there are
        scenes = e.scenes.parse_json(meta["scenes"]) if "scenes" in meta else None
        e.target = target
        e.controls.load_json(meta["controls"])
        if scenes is not None:
            e.scenes.saved, e.scenes.morph = scenes, None
        e.reset()

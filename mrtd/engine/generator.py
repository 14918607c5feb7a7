"""The stream generator interface: what the engine asks of a model family.

The engine owns time (frame indices, scheduled controls, effects, the output queue); a
generator owns a model's stream state and turns one frame's conditioning into audio.
They meet at a frame boundary: the engine gives the conditioning and sampling controls
of frame ``F`` and gets back a :class:`Block`: the tokens and audio of ``n`` frames,
``F .. F+n-1``. MRT2 makes one 40 ms frame per step (``n = 1``); Magenta RT v1 makes
2 s chunks (``n = 50``). The engine plays a block out one frame per
:meth:`Engine.step_frame`, applying effect and output controls and logging events at
each frame's own index, and asks for the next block only when this one is played. So
conditioning lands on a step boundary, everything after the model on a frame boundary,
and a chunk model needs no second engine.

Everything that touches the model state goes through here too (reset target,
snapshot/restore, teacher-forced prefill, silence, audio encoding, the tensors of a
bank), so the engine never reaches into one family's buffers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch


@dataclass(frozen=True)
class FrameControls:
    """What the model reads at a step: frame ``F``'s conditioning and sampling controls."""

    cond: np.ndarray  # [144] int conditioning ids (style tokens, notes, drums, guidance)
    temperature: float
    top_k: int
    # /mrtd/guidance/style as set: Magenta RT v1's guidance weight (MRT2 reads its CFG bin from cond)
    guidance: float | None = None


@dataclass
class Block:
    """The frames one step made. Arrays may be the generator's static buffers: valid
    until its next :meth:`StreamGenerator.step` (the engine plays them out first)."""

    tokens: torch.Tensor  # [n, q] host copies: frame F+i's token ids
    audio: np.ndarray  # [n, FRAME, 2] float32 at output scale: row i is frame F+i-lag's audio
    valid: np.ndarray  # [n] bool: row i has audio (False: a warm-up frame, not played)
    lag: int = 0  # frames the audio trails the tokens (MRT2's codec looks one frame ahead: 1)

    def __len__(self) -> int:
        return int(self.tokens.shape[0])


class StreamGenerator(Protocol):
    """One stream of one model family. ``Snapshot`` is the family's own opaque value."""

    name: str  # the model configuration's name (status, bank metadata)
    device: torch.device
    encoder: Any  # audio -> codes for an audio prefill; None: the family has none loaded
    graphed: bool  # steps are CUDA graph replays (after capture)

    def step(self, controls: FrameControls) -> Block:
        """Make the next frame(s) with these controls."""
        ...

    def snapshot(self) -> Any:
        """The stream state now (model and codec), to reset or bank to later."""
        ...

    def restore(self, snap: Any, seed: int) -> None:
        """Put a snapshot back in place and re-seed the sampler."""
        ...

    def prefill(self, codes: torch.Tensor, cond: np.ndarray) -> None:
        """Teacher-force ``codes`` [N, levels] as the context under ``cond`` (no sampling)."""
        ...

    def silence_codes(self) -> torch.Tensor:
        """One frame of codes that decode to silence."""
        ...

    def encode(self, wave: np.ndarray) -> torch.Tensor:
        """Stereo float32 audio (whole frames) -> prefill codes (file thread)."""
        ...

    def bank_tensors(self) -> dict[str, torch.Tensor]:
        """The live state as named CPU tensors (the bank file's layout)."""
        ...

    def from_bank(self, tensors: dict[str, torch.Tensor]) -> Any:
        """A snapshot from a bank's tensors; ValueError if they do not fit this model."""
        ...

    def capture(self) -> bool:
        """Make later steps faster replays (CUDA graphs); False where nothing is captured."""
        ...

    def describe(self) -> str:
        """Where and how steps run, for start-up messages."""
        ...

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

from mrtd.constants import FRAME


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


# ---- audio prefill, shared by the families (both encode with MRT2's SpectroStream encoder)
PREFILL_TRIM = 25  # frames trimmed at each end of an encoded audio prefill (official)


def encoder_device(encoder: Any) -> torch.device:
    """Where a SpectroStream encoder's weights are (the CPU when it has none to ask)."""
    first = getattr(encoder, "first", None)
    return first.weight.device if first is not None else torch.device("cpu")


def encode_prefill(encoder: Any, wave: np.ndarray, levels: int) -> torch.Tensor:
    """Stereo float32 audio (whole frames) -> prefill codes ``[N, levels]`` on the CPU, the
    edges trimmed as the official prefill does (the encoder's first and last frames see
    padding, not music)."""
    with torch.inference_mode():
        x = torch.from_numpy(np.ascontiguousarray(wave))[None].to(encoder_device(encoder))
        codes = encoder(x, levels)[0, :, :levels].cpu()
    if codes.shape[0] > 4 * PREFILL_TRIM:
        codes = codes[PREFILL_TRIM:-PREFILL_TRIM]
    return codes


def silence_codes(encoder: Any, decoder: Any, levels: int) -> torch.Tensor:
    """One frame of codes that decode to silence, on the CPU: the encoder's middle frame of
    zeros if an encoder is loaded, else the RVQ quantisation of a zero embedding (an
    approximation)."""
    if encoder is not None:
        with torch.inference_mode():
            codes = encoder(torch.zeros(1, 75 * FRAME, 2, device=encoder_device(encoder)), levels)
        return codes[0, codes.shape[1] // 2, :levels].cpu()
    table = decoder.rvq.table
    zero = torch.zeros(1, table.shape[-1], device=table.device)
    return decoder.rvq.embeddings_to_codes(zero, levels)[0].cpu()

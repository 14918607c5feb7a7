"""Audio for a prefill: a prompt file or the JACK inputs' capture, read and encoded.

These run on the engine's file thread (or in place offline): reading a file of up to
28 s and encoding it takes far longer than a 40 ms frame. File names from the network
were confined to the data folder when the message was checked; here the file is opened
again as what it must be (a regular file of bounded size). The encoding itself is the
model family's (:meth:`StreamGenerator.encode`); the teacher-forced prefill that
follows runs on the generation thread (:meth:`Engine.prefill`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from mrtd.constants import FRAME, SAMPLE_RATE
from mrtd.datadir import MAX_AUDIO_BYTES, OPERATOR, DataDir, PathRefused
from mrtd.engine.generator import StreamGenerator
from mrtd.errors import ControlError

PREFILL_MAX_S = 28.0
KEEP_CAPTURES = 32  # input captures kept in captures/ (each up to ~11 MB)
ADDRESS = "/mrtd/prefill/audio"


@dataclass(frozen=True)
class Capture:
    """Audio taken from the JACK inputs for a prefill: saved to ``path`` (so the event log
    replays it as ``/mrtd/prefill/audio PATH``) and encoded, both off the frame thread."""

    wave: np.ndarray
    path: Path
    fd: int


def new_capture(files: DataDir, wave: np.ndarray) -> Capture:
    """A fresh file in captures/ for ``wave`` (created now, written on the file thread)."""
    stem = datetime.now().strftime("input-%Y%m%d-%H%M%S-%f")
    try:
        fd, path = files.create("captures", files.free_name("captures", stem, ".wav"))
    except PathRefused as e:
        raise ControlError("/mrtd/prefill/input", f"{e}") from None
    return Capture(wave, path, fd)


def file_codes(files: DataDir, gen: StreamGenerator, path: str) -> torch.Tensor:
    """The first 28 s of a 48 kHz file, read in bounded pieces (never more than it keeps),
    encoded to prefill codes."""
    files = OPERATOR if os.path.isabs(path) else files
    try:
        fd, _ = files.open_read("prompts", path, MAX_AUDIO_BYTES)
    except PathRefused as e:
        raise ControlError(ADDRESS, f"{e}") from None
    try:
        with sf.SoundFile(fd, closefd=False) as f:
            if f.samplerate != SAMPLE_RATE:
                raise ControlError(ADDRESS, f"{path}: {f.samplerate} Hz; audio prefill needs "
                                   f"{SAMPLE_RATE} Hz (resample it first)")
            wave = f.read(int(PREFILL_MAX_S * f.samplerate), dtype="float32", always_2d=True)
    except (RuntimeError, OSError, sf.LibsndfileError) as e:
        raise ControlError(ADDRESS, f"cannot read audio {path}: {e}") from None
    finally:
        os.close(fd)
    return encode(gen, wave, path)


def capture_codes(files: DataDir, gen: StreamGenerator, cap: Capture) -> torch.Tensor:
    """Save captured input audio (for replay), then encode it."""
    try:
        with sf.SoundFile(cap.fd, "w", SAMPLE_RATE, 2, subtype="FLOAT", format="WAV", closefd=True) as f:
            f.write(cap.wave)
    except (RuntimeError, OSError, sf.LibsndfileError) as e:
        raise ControlError("/mrtd/prefill/input", f"cannot save the capture {cap.path.name}: {e}") from None
    files.prune("captures", "input-*.wav", KEEP_CAPTURES)
    return encode(gen, cap.wave, cap.path.name)


def encode(gen: StreamGenerator, wave: np.ndarray, label: str) -> torch.Tensor:
    """Mono or stereo (extra channels dropped), cut to whole frames, encoded."""
    wave = np.repeat(wave, 2, axis=1) if wave.shape[1] == 1 else wave[:, :2]
    wave = wave[: wave.shape[0] // FRAME * FRAME]
    if wave.shape[0] < FRAME:
        raise ControlError(ADDRESS, f"{label}: shorter than one 40 ms frame")
    return gen.encode(wave)

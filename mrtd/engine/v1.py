"""Magenta RT v1 as a stream generator: one 2 s chunk (50 frames) per step.

A step runs the official chunk (:class:`mrtd.model.v1.system.V1System`): the encoder
input from the 10 s context and the first 6 style tokens, 800 sampled tokens, a
stateless 51-frame decode and the 40 ms crossfade. The engine plays the 50 frames out
one per :meth:`Engine.step_frame`; conditioning and sampling controls are read once per
chunk, so they land on the next chunk boundary (the engine holds them there and logs
them at that frame, and its status says ``chunk_frames: 50``).

What v1 reads from :class:`FrameControls`: the style tokens of ``cond`` (the first 6 of
the 12 MusicCoCa levels; none when no prompt is active), temperature, top-k and the
guidance weight (``/mrtd/guidance/style`` as given, ``FrameControls.guidance``). Notes,
drums and their guidance have no v1 meaning; the engine refuses them under v1.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from mrtd.constants import FRAME, SAMPLE_RATE
from mrtd.engine.generator import Block, FrameControls, encode_prefill, silence_codes
from mrtd.model.mrt2.codec_decoder import SpectroStreamDecoder
from mrtd.model.v1.system import CHUNK_FRAMES, LEVELS, STYLE_TOKENS, V1State, V1System

# The official v1 plays what the decoder gives (``generate_chunk`` returns the decoded
# samples unscaled), unlike MRT2, whose published audio is half the decoder's.
OUTPUT_GAIN = 1.0
COND_OFFSET = 7  # cond ids are raw values + 7 (mrtd.model.mrt2.conditioning.build_cond)
# the official v1 defaults (MagentaRTT5X): the engine starts its controls here under v1
DEFAULTS = {"temperature": 1.1, "top_k": 40, "guidance.0": 5.0}


def style_codes(cond: np.ndarray) -> np.ndarray | None:
    """The first 6 MusicCoCa codes of a 144-id conditioning vector (ids 0..11 are the
    style levels, raw + 7); None when all 6 are masked (no prompt active): no style."""
    raw = np.asarray(cond[:STYLE_TOKENS], np.int64) - COND_OFFSET
    return None if (raw < 0).all() else raw


class V1Generator:
    """One v1 stream: the LLM, a SpectroStream decoder (and optionally its encoder), the
    chunk state on the host."""

    family = "v1"
    chunk_frames = CHUNK_FRAMES
    lag = 0
    graphed = False
    defaults = DEFAULTS
    codec_source = "the given decoder"  # where the codec came from (load_engine: the MRT2 file)

    def __init__(self, model: Any, decoder: SpectroStreamDecoder, *, seed: int = 0, encoder: Any = None):
        self.model, self.decoder, self.encoder = model, decoder, encoder
        self.system = V1System(model, decoder)
        self.name = model.cfg.name
        self.device = self.system.device
        self.state = V1State()
        self.seed = int(seed)
        self.chunk_ms = 0.0  # wall time of the last chunk
        self._out = np.zeros((CHUNK_FRAMES, FRAME, 2), np.float32)
        self._valid = np.ones(CHUNK_FRAMES, bool)

    # ---- the step ----------------------------------------------------------------------
    def step(self, controls: FrameControls) -> Block:
        t0 = time.perf_counter()
        guidance = controls.guidance if controls.guidance is not None else DEFAULTS["guidance.0"]
        chunk = self.system.generate_chunk(self.state, style_codes(controls.cond), seed=self.seed,
                                           guidance=guidance, temperature=controls.temperature,
                                           top_k=controls.top_k)
        np.multiply(chunk.audio.reshape(CHUNK_FRAMES, FRAME, 2), OUTPUT_GAIN, out=self._out)
        tokens = torch.from_numpy(chunk.tokens[0].astype(np.int64).reshape(CHUNK_FRAMES, LEVELS))
        self.chunk_ms = 1000 * (time.perf_counter() - t0)
        return Block(tokens, self._out, self._valid, self.lag)

    # ---- state -------------------------------------------------------------------------
    def snapshot(self) -> V1State:
        return self.state.copy()

    def restore(self, snap: V1State, seed: int) -> None:
        self.state = snap.copy()
        self.seed = int(seed)

    def prefill(self, codes: torch.Tensor, cond: np.ndarray) -> None:
        """Codes ``[N, 16]`` become the context (its last 250 frames) and chunk 0 starts
        from there; ``cond`` is unused (v1 reads no conditioning over its context)."""
        if codes.shape[-1] < LEVELS:
            raise ValueError(f"v1 prefill needs {LEVELS} RVQ levels, got {codes.shape[-1]}")
        self.state = V1State()
        self.system.prime(self.state, codes[:, :LEVELS].cpu().numpy())

    def silence_codes(self) -> torch.Tensor:
        return silence_codes(self.encoder, self.decoder, LEVELS)

    def encode(self, wave: np.ndarray) -> torch.Tensor:
        return encode_prefill(self.encoder, wave, LEVELS)

    # ---- banks: "v1.context" [250, 16] int32, "v1.chunk_index" [1], "v1.tail" [1920, 2] ---
    def bank_tensors(self) -> dict[str, torch.Tensor]:
        s = self.state
        return {"v1.context": torch.from_numpy(s.context.astype(np.int32).copy()),
                "v1.chunk_index": torch.tensor([s.chunk_index], dtype=torch.int64),
                "v1.tail": torch.from_numpy(s.tail.astype(np.float32).copy())}

    def from_bank(self, tensors: dict[str, torch.Tensor]) -> V1State:
        try:
            ctx, idx, tail = (tensors[k] for k in ("v1.context", "v1.chunk_index", "v1.tail"))
        except KeyError as e:
            raise ValueError(f"not a Magenta RT v1 bank (no {e.args[0]})") from None
        ref = V1State()
        if tuple(ctx.shape) != ref.context.shape or tuple(tail.shape) != ref.tail.shape or idx.numel() != 1:
            raise ValueError(f"v1 state shapes {tuple(ctx.shape)}, {tuple(tail.shape)}")
        c = ctx.numpy().astype(np.int32)
        if c.min() < -1 or c.max() >= 1024:
            raise ValueError("v1 context codes out of range")
        return V1State(c.copy(), int(idx.reshape(-1)[0]), tail.numpy().astype(np.float32).copy())

    # ---- how it runs -------------------------------------------------------------------
    def capture(self) -> bool:
        return False  # no CUDA graph for the v1 chunk (yet)

    def describe(self) -> str:
        """``cpu float32, 2 s chunks``; ``cuda:0 (NVIDIA H100) bfloat16, codec float32, 2 s chunks``."""
        name = lambda dt: str(dt).replace("torch.", "")
        dev = self.device
        where = str(dev)
        if dev.type == "cuda":
            where = f"{dev.type}:{dev.index if dev.index is not None else torch.cuda.current_device()}"
            where += f" ({torch.cuda.get_device_name(dev)})"
        dtype = getattr(self.model, "dtype", next(self.model.parameters()).dtype)
        text = f"{where} {name(dtype)}"
        codec = self.decoder.in_first.weight.dtype
        if codec != dtype:
            text += f", codec {name(codec)}"
        return text + f", {CHUNK_FRAMES * FRAME / SAMPLE_RATE:g} s chunks"

"""Magenta RT v1 chunk system: 10 s of context in, the next 2 s of audio out.

The official ``MagentaRTT5X.generate_chunk`` (``magenta_rt/system.py`` at ``v1_legacy``),
step by step, in numpy around the PyTorch model and the SpectroStream decoder:

1. the LLM encoder input (:func:`encoder_input`): the first 4 RVQ levels of the
   ``[250, 16]`` context, frame-major, as ids ``2 + 1024 level + code`` (empty = -1 ->
   MASK = 1), then the first 6 MusicCoCa tokens as ``17410 + 1024 level + code``; row 1
   (classifier-free guidance) is row 0 with those 6 ids set to MASK; no style: all MASK;
2. 800 tokens (50 frames x 16 levels) from ``decode.generate`` keyed by
   ``PRNGKey(seed + chunk_index)`` (``unsafe_rbg``: ``rng.prng_key``), row 0 kept and
   mapped to codes by :func:`llm_to_rvq` (unconstrained: any id maps to some code);
3. audio: the context's last frame (zeros on chunk 0) + the 50 new frames are decoded
   *statelessly* as one block of 51 frames (:meth:`V1System.decode`), 97,920 samples; the
   first 96,000 are the chunk, its first 1,920 (40 ms) faded in over the previous chunk's
   tail with an equal-power ramp; the last 1,920 are the next tail;
4. the context rolls by 50 frames (all 16 levels kept) and ``chunk_index`` counts up.

The stateless decode repeats one frame per chunk (the crossfade frame) so chunks join
without a click although the codec state is never carried across chunks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from mrtd.constants import FRAME
from mrtd.model.v1.decode import generate
from mrtd.model.v1.rng import prng_key

PAD, MASK = 0, 1
CODEC_OFFSET = 2  # 2 + 1024 level + code, levels 0..15 -> [2, 16386)
STYLE_OFFSET = 17410  # 17410 + 1024 level + code, levels 0..5 (1024 ids unused in between)
CODEBOOK = 1024
CONTEXT_FRAMES, CHUNK_FRAMES, LEVELS = 250, 50, 16
ENCODER_LEVELS, STYLE_TOKENS = 4, 6
CROSSFADE = FRAME  # 1920 samples = 40 ms = one codec frame
CHUNK_SAMPLES = CHUNK_FRAMES * FRAME  # 96,000


def crossfade_ramp(n: int = CROSSFADE) -> np.ndarray:
    """The official equal-power fade-in ``sin(linspace(0, pi/2, n, endpoint=False))``, in
    float32 like ``magenta_rt.audio.crossfade_ramp`` (its flip is the fade-out)."""
    return np.sin(np.linspace(0, np.pi / 2, n, endpoint=False, dtype=np.float32))


RAMP = crossfade_ramp()


@dataclass
class V1State:
    """The stream between chunks: codes of the last 10 s, how many chunks were made (it
    keys the sampler), and the audio tail the next chunk fades in over."""

    context: np.ndarray = field(default_factory=lambda: np.full((CONTEXT_FRAMES, LEVELS), -1, np.int32))
    chunk_index: int = 0
    tail: np.ndarray = field(default_factory=lambda: np.zeros((CROSSFADE, 2), np.float32))

    def copy(self) -> V1State:
        return V1State(self.context.copy(), self.chunk_index, self.tail.copy())

    def update(self, rvq: np.ndarray, tail: np.ndarray) -> None:
        """Append a chunk's codes ``[n, 16]`` (the context rolls by ``n`` frames), keep its tail."""
        rvq = np.asarray(rvq, np.int32)
        if rvq.ndim != 2 or rvq.shape[1] != LEVELS or rvq.shape[0] > CONTEXT_FRAMES:
            raise ValueError(f"chunk codes must be [<= {CONTEXT_FRAMES}, {LEVELS}], got {rvq.shape}")
        if rvq.size and (rvq.min() < 0 or rvq.max() >= CODEBOOK):
            raise ValueError(f"chunk codes must be in [0, {CODEBOOK})")
        self.context = np.concatenate([self.context[rvq.shape[0]:], rvq])
        self.tail = np.asarray(tail, np.float32).reshape(CROSSFADE, 2).copy()
        self.chunk_index += 1

    def crossfade_frame(self) -> np.ndarray:
        """The frame decoded ahead of a chunk's 50: the context's last. Official: zeros on
        chunk 0, whose context is empty in the official flow; here zeros whenever that frame
        is empty, so a chunk after a prefill (chunk 0 on a full context) joins the
        prefilled sound instead of 40 ms of decoded zeros."""
        last = self.context[-1]
        return np.zeros(LEVELS, np.int32) if (last < 0).any() else last.astype(np.int32)


def encoder_input(context: np.ndarray, style_codes=None) -> np.ndarray:
    """The LLM encoder input ``[2, 1006]`` int32 of the official ``generate_chunk``.

    ``context``: ``[250, >=4]`` RVQ codes, -1 = empty (-> MASK). ``style_codes``: the
    MusicCoCa codes (the first 6 are used; a -1 among them is MASK, which the official
    never sends: there the whole style is present or None), None = no style (all MASK).
    Row 1 is row 0 with the style ids MASK: the unconditioned row of guidance."""
    ctx = np.asarray(context)[:, :ENCODER_LEVELS].astype(np.int64)
    if ctx.shape != (CONTEXT_FRAMES, ENCODER_LEVELS) or ctx.max(initial=0) >= CODEBOOK or ctx.min(initial=0) < -1:
        raise ValueError(f"context must be [{CONTEXT_FRAMES}, >= {ENCODER_LEVELS}] codes in [-1, {CODEBOOK})")
    levels = CODEBOOK * np.arange(ENCODER_LEVELS)
    codec = np.where(ctx >= 0, CODEC_OFFSET + levels + np.maximum(ctx, 0), MASK).reshape(-1)
    style = np.full(STYLE_TOKENS, MASK, np.int64)
    if style_codes is not None:
        s = np.asarray(style_codes, np.int64).reshape(-1)[:STYLE_TOKENS]
        if s.shape != (STYLE_TOKENS,) or s.max() >= CODEBOOK or s.min() < -1:
            raise ValueError(f"need {STYLE_TOKENS} style codes in [-1, {CODEBOOK}), got {s}")
        style = np.where(s >= 0, STYLE_OFFSET + CODEBOOK * np.arange(STYLE_TOKENS) + np.maximum(s, 0), MASK)
    pos = np.concatenate([codec, style])
    neg = pos.copy()
    neg[-STYLE_TOKENS:] = MASK
    return np.stack([pos, neg]).astype(np.int32)


def llm_to_rvq(tokens) -> np.ndarray:
    """LLM ids -> RVQ codes as the official ``llm_to_rvq(safe=False)``: ``max(t - 2, 0) % 1024``
    for every id (MASK, PAD, style and padding-row ids included: the vocabulary is not
    constrained while sampling, so any id can come out)."""
    t = np.asarray(tokens, np.int64)
    return (np.maximum(t - CODEC_OFFSET, 0) % CODEBOOK).astype(np.int32)


def crossfade(audio: np.ndarray, tail: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``[96000 + 1920, 2]`` decoded samples + the previous tail -> (the chunk ``[96000, 2]``,
    the next tail). float32 throughout, rounding as the official in-place numpy ops."""
    audio = np.asarray(audio, np.float32)
    chunk = audio[:-CROSSFADE].copy()
    ramp = RAMP[:, None]
    chunk[:CROSSFADE] *= ramp
    chunk[:CROSSFADE] += np.asarray(tail, np.float32) * np.flip(ramp, axis=0)
    return chunk, audio[-CROSSFADE:].copy()


@dataclass
class Chunk:
    """One generated chunk: the audio to play, its codes and the raw LLM output."""

    audio: np.ndarray  # [96000, 2] float32, decoder scale
    rvq: np.ndarray  # [50, 16] int32 codes (now the context's last 50 frames)
    tokens: np.ndarray  # [2, 800] int32 raw LLM output (row 0 is the one used)
    encoder_input: np.ndarray  # [2, 1006] int32


class V1System:
    """The v1 LLM (``mrtd.model.v1.model.V1Model``) with a SpectroStream decoder
    (``mrtd.model.mrt2.codec_decoder.SpectroStreamDecoder``: v1 shares its architecture
    and its 64-level RVQ table)."""

    def __init__(self, model, decoder):
        self.model, self.decoder = model, decoder
        cfg = getattr(model, "cfg", None)
        self.max_steps = cfg.decoder_len if cfg is not None else CHUNK_FRAMES * LEVELS

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    # ---- tokens ---------------------------------------------------------------------------
    def generate_tokens(self, enc: np.ndarray, *, seed: int, guidance: float, temperature: float,
                        top_k: int) -> np.ndarray:
        """The official decode loop on ``enc`` ``[2, 1006]`` with key ``PRNGKey(seed)``."""
        x = torch.from_numpy(np.asarray(enc, np.int64)).to(self.device)
        out = generate(self.model, x, max_steps=self.max_steps, guidance=float(guidance),
                       temperature=float(temperature), top_k=int(top_k), key=prng_key(int(seed)))
        return np.asarray(out, np.int32)

    # ---- audio ----------------------------------------------------------------------------
    @torch.inference_mode()
    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Codes ``[T, 16]`` -> ``[T * 1920, 2]`` float32, statelessly, as v1's decoder graph:
        the summed codebook embeddings get one zero frame appended (its ``temporal_padding``)
        and the first codec frame of the spectrum is cropped (``temporal_cropping``, the one
        frame lookahead), so frame ``t``'s audio is samples ``[1920 t, 1920 (t + 1))``. MRT2's
        offline decode is the same network without the appended frame. (The padding and
        cropping are as read from v1's TF decoder graph by kvark/meganeura's inspection;
        the official ``ssv2_48k_stereo`` test vectors are the end-to-end check.)"""
        dec = self.decoder
        table = dec.rvq.table
        c = torch.as_tensor(np.asarray(codes, np.int64), device=table.device)
        emb = dec.rvq.codes_to_embeddings(c)[None]  # [1, T, F]
        emb = torch.cat([emb, emb.new_zeros(1, 1, emb.shape[-1])], dim=1)
        return dec(emb)[0].float().cpu().numpy()

    # ---- one chunk ------------------------------------------------------------------------
    def generate_chunk(self, state: V1State, style_codes=None, *, seed: int, guidance: float = 5.0,
                       temperature: float = 1.1, top_k: int = 40) -> Chunk:
        """The official ``generate_chunk``: tokens, audio with the crossfade, ``state``
        updated in place (context rolled, tail kept, chunk index + 1)."""
        enc = encoder_input(state.context, style_codes)
        tokens = self.generate_tokens(enc, seed=seed + state.chunk_index, guidance=guidance,
                                      temperature=temperature, top_k=top_k)
        rvq = llm_to_rvq(tokens[0]).reshape(CHUNK_FRAMES, LEVELS)
        codes = np.concatenate([state.crossfade_frame()[None], rvq])
        audio, tail = crossfade(self.decode(codes), state.tail)
        state.update(rvq, tail)
        return Chunk(audio, rvq, tokens, enc)

    def prime(self, state: V1State, codes: np.ndarray) -> None:
        """Write codes ``[N, 16]`` into the context (the last 250 frames, the rest empty)
        and set the tail to the last frame's audio as a chunk would leave it, so the first
        chunk after an audio prefill fades in over the prefilled sound."""
        codes = np.asarray(codes, np.int32)
        if codes.ndim != 2 or codes.shape[1] != LEVELS or codes.shape[0] < 1:
            raise ValueError(f"prefill codes must be [N >= 1, {LEVELS}], got {codes.shape}")
        codes = codes[-CONTEXT_FRAMES:]
        state.context = np.full((CONTEXT_FRAMES, LEVELS), -1, np.int32)
        state.context[-codes.shape[0]:] = codes
        state.chunk_index = 0
        state.tail = self.decode(codes[-(CHUNK_FRAMES + 1):])[-CROSSFADE:].copy()

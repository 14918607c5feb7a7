"""The v1 chunk system against the official ``generate_chunk`` (oracle references made by
the official JAX code with random tiny weights, ``tests/fixtures/v1/``): encoder input,
token -> code mapping, context roll, the three chained chunks, and the chunk -> audio
path (stateless 51-frame decode, 40 ms equal-power crossfade) on the tiny MRT2 codec."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from mrtd.model.mrt2.codec_decoder import load_decoder
from mrtd.model.v1.checkpoint import load_v1
from mrtd.model.v1.system import (
    CHUNK_SAMPLES,
    CROSSFADE,
    MASK,
    RAMP,
    V1State,
    V1System,
    crossfade,
    encoder_input,
    llm_to_rvq,
)

FIX = Path(__file__).parents[2] / "fixtures"
CASES = ("empty_nostyle", "partial", "full")


@pytest.fixture(scope="module")
def ref():
    with np.load(FIX / "v1" / "ref_fp32.npz") as z:
        return {k: z[k] for k in z.files}


@pytest.fixture(scope="module")
def codec():
    return load_decoder(FIX / "mrt2_tiny.safetensors")


@pytest.fixture(scope="module")
def system(codec):
    return V1System(load_v1(FIX / "v1" / "checkpoint"), codec)


def style(ref, case: str):
    return None if case == "empty_nostyle" else ref[f"{case}/style_tokens"]


@pytest.mark.parametrize("case", CASES)
def test_encoder_input_is_the_official(ref, case):
    enc = encoder_input(ref[f"{case}/context_tokens"], style(ref, case))
    assert enc.dtype == np.int32 and enc.shape == (2, 1006)
    assert np.array_equal(enc, ref[f"{case}/encoder_input_tokens"])
    assert (enc[1, -6:] == MASK).all() and np.array_equal(enc[0, :1000], enc[1, :1000])


def test_style_codes_beyond_six_are_ignored_and_masked_levels_are_mask(ref):
    ctx, st = ref["full/context_tokens"], ref["full/style_tokens"]
    assert np.array_equal(encoder_input(ctx, st[:6]), encoder_input(ctx, st))
    part = st[:6].copy()
    part[3:] = -1  # fewer style levels: MASK where the official whole-or-nothing style has none
    enc = encoder_input(ctx, part)
    assert np.array_equal(enc[0, -6:-3], ref["full/encoder_input_tokens"][0, -6:-3])
    assert (enc[0, -3:] == MASK).all()
    with pytest.raises(ValueError):
        encoder_input(ctx, np.full(6, 1024))


@pytest.mark.parametrize("case", [*CASES, "eos"])
def test_llm_to_rvq_is_the_official_unsafe_map(ref, case):
    for kind in ("greedy", "sampled"):
        rvq = llm_to_rvq(ref[f"{case}/{kind}_tokens"][0]).reshape(50, 16)
        assert np.array_equal(rvq, ref[f"{case}/{kind}_rvq"])
    # every id maps somewhere: MASK/PAD -> 0, style and padding rows wrap
    assert np.array_equal(llm_to_rvq([0, 1, 2, 1025, 17410 + 5, 29823]), [0, 0, 0, 1023, (17408 + 5) % 1024, 29821 % 1024])


def test_context_rolls_by_one_chunk(ref):
    s = V1State()
    assert np.array_equal(s.context, ref["rollout/initial_context_tokens"])
    for i in range(3):
        assert s.chunk_index == i
        assert np.array_equal(s.context, ref["rollout/context_tokens_before"][i])
        assert np.array_equal(encoder_input(s.context, ref["full/style_tokens"]), ref["rollout/encoder_input_tokens"][i])
        s.update(ref["rollout/rvq"][i], np.zeros((CROSSFADE, 2), np.float32))
    assert np.array_equal(s.context[-150:].reshape(3, 50, 16), ref["rollout/rvq"])
    assert (s.context[:100] == -1).all()
    with pytest.raises(ValueError):
        s.update(np.full((50, 16), 1024), np.zeros((CROSSFADE, 2)))


def test_crossfade_is_equal_power_and_continuous():
    assert np.array_equal(RAMP, np.sin(np.linspace(0, np.pi / 2, CROSSFADE, endpoint=False, dtype=np.float32)))
    np.testing.assert_allclose(RAMP ** 2 + np.flip(RAMP) ** 2, 1.0, atol=2e-3)  # equal power (offset by one sample)
    rng = np.random.default_rng(0)
    prev, new = rng.standard_normal((2, CHUNK_SAMPLES + CROSSFADE, 2)).astype(np.float32)
    chunk_a, tail = crossfade(prev, np.zeros((CROSSFADE, 2), np.float32))
    chunk_b, tail_b = crossfade(new, tail)
    assert chunk_a.shape == (CHUNK_SAMPLES, 2) and np.array_equal(tail, prev[-CROSSFADE:])
    assert np.array_equal(chunk_a[CROSSFADE:], prev[CROSSFADE:CHUNK_SAMPLES])
    # the join: chunk b starts where the previous decode went on (its tail at full weight,
    # the new chunk at zero), then fades to its own
    np.testing.assert_allclose(chunk_b[0], prev[CHUNK_SAMPLES], rtol=1e-6)
    assert RAMP[0] == 0 and np.flip(RAMP)[0] > 0.9999
    expect = (new[:CROSSFADE] * RAMP[:, None]) + prev[CHUNK_SAMPLES:] * np.flip(RAMP)[:, None]
    np.testing.assert_allclose(chunk_b[:CROSSFADE], expect, rtol=0, atol=1e-6)
    assert np.array_equal(tail_b, new[-CROSSFADE:])


def test_stateless_decode_is_one_frame_per_code_frame(codec):
    """51 frames -> 97,920 samples; frame t's audio is samples [1920 t, 1920 (t+1)), the
    same as MRT2's offline decode of those frames (which needs the next frame for the last)."""
    sysm = V1System.__new__(V1System)
    sysm.decoder = codec
    codes = np.random.default_rng(1).integers(0, 1024, (51, 16))
    audio = sysm.decode(codes)
    assert audio.shape == (51 * 1920, 2) and audio.dtype == np.float32
    mrt2 = codec(torch.from_numpy(codes)[None])[0].numpy()  # (T - 1) * 1920
    np.testing.assert_allclose(audio[:50 * 1920], mrt2, rtol=0, atol=1e-5)
    assert np.abs(audio[-1920:]).max() > 0


def test_three_chained_chunks_are_the_official_rollout(ref, system):
    s = V1State()
    tail = s.tail
    for i in range(3):
        chunk = system.generate_chunk(s, ref["full/style_tokens"], seed=0)  # T 1.1, top-k 40, w 5
        assert np.array_equal(chunk.encoder_input, ref["rollout/encoder_input_tokens"][i])
        assert np.array_equal(chunk.tokens, ref["rollout/tokens"][i]), f"chunk {i}"
        assert np.array_equal(chunk.rvq, ref["rollout/rvq"][i])
        assert chunk.audio.shape == (CHUNK_SAMPLES, 2) and np.isfinite(chunk.audio).all()
        if i:  # continuous with the previous decode
            np.testing.assert_allclose(chunk.audio[0], tail[0], rtol=1e-6, atol=1e-7)
        tail = s.tail
    assert s.chunk_index == 3 and np.array_equal(s.context[-150:].reshape(3, 50, 16), ref["rollout/rvq"])


def test_prime_writes_the_context_and_a_matching_tail(codec):
    sysm = V1System.__new__(V1System)
    sysm.decoder = codec
    codes = np.random.default_rng(2).integers(0, 1024, (300, 16)).astype(np.int32)
    s = V1State()
    sysm.prime(s, codes)
    assert np.array_equal(s.context, codes[-250:]) and s.chunk_index == 0
    np.testing.assert_allclose(s.tail, sysm.decode(codes[-51:])[-CROSSFADE:], atol=1e-6)
    assert np.array_equal(s.crossfade_frame(), codes[-1])
    short = V1State()
    sysm.prime(short, codes[:10])
    assert (short.context[:240] == -1).all() and np.array_equal(short.context[240:], codes[:10])
    assert not V1State().crossfade_frame().any()  # empty context: zeros, as the official chunk 0

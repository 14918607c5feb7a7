"""The unsafe_rbg port reproduces the official JAX stream bit for bit: keys, the raw
Philox RngBitGenerator output and its new state, split, the 800-step key chain of a
decode, and the step-0 bits and Gumbel noise (vectors from the v1 oracle, seeds 0 and 1;
see tests/fixtures/v1/PRNG.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mrtd.model.v1 import rng

PRNG = Path(__file__).parents[2] / "fixtures" / "v1" / "prng.npz"
SEEDS = (0, 1)
V = 29824


@pytest.fixture(scope="module")
def ref() -> dict[str, np.ndarray]:
    with np.load(PRNG) as z:
        return {k: z[k] for k in z.files}


@pytest.mark.parametrize("seed", SEEDS)
def test_key(ref, seed):
    k = rng.prng_key(seed)
    assert k.dtype == np.uint32 and k.shape == (4,)
    np.testing.assert_array_equal(k, ref[f"key_seed{seed}"])


def test_key_wraps_like_int32_jax():
    np.testing.assert_array_equal(rng.prng_key(7), [0, 7, 0, 7])
    np.testing.assert_array_equal(rng.prng_key(-1), [0, 0xFFFFFFFF, 0, 0xFFFFFFFF])


@pytest.mark.parametrize("seed", SEEDS)
def test_raw_bits_and_new_state(ref, seed):
    new, bits = rng.rng_bit_generator(rng.prng_key(seed), (20, 4))
    assert bits.dtype == np.uint32 and new.dtype == np.uint32
    np.testing.assert_array_equal(bits, ref[f"rbg_raw_20x4_seed{seed}"])
    np.testing.assert_array_equal(new, ref[f"rbg_raw_20x4_newstate_seed{seed}"])


@pytest.mark.parametrize("seed", SEEDS)
def test_split(ref, seed):
    k1, k2 = rng.split(rng.prng_key(seed))
    np.testing.assert_array_equal(np.stack([k1, k2]), ref[f"split_seed{seed}"])
    raw = ref[f"rbg_raw_20x4_seed{seed}"]
    np.testing.assert_array_equal(k1, raw[0])
    np.testing.assert_array_equal(k2, raw[10])


@pytest.mark.parametrize("seed", SEEDS)
def test_decode_key_chain(ref, seed):
    """t5x: ``rng1, rng2 = split(state.rng)`` each step, rng1 samples, rng2 carries on."""
    state, keys = rng.prng_key(seed), []
    for _ in range(800):
        k1, state = rng.split(state)
        keys.append(k1)
    np.testing.assert_array_equal(np.stack(keys), ref[f"step_keys_seed{seed}"])


@pytest.mark.parametrize("seed", SEEDS)
def test_step0_bits(ref, seed):
    key = ref[f"step_keys_seed{seed}"][0]
    np.testing.assert_array_equal(rng.bits(key, (2, V)), ref[f"step0_bits_seed{seed}"])


@pytest.mark.parametrize("seed", SEEDS)
def test_step0_gumbel_bit_exact(ref, seed):
    key = ref[f"step_keys_seed{seed}"][0]
    g = rng.gumbel(key, (2, V))
    want = ref[f"step0_gumbel_seed{seed}"]
    assert g.dtype == np.float32 and g.shape == (2, V)
    np.testing.assert_array_equal(g.view(np.uint32), want.view(np.uint32))


def test_numpy_log_would_not_be_exact(ref):
    """Why xla_log exists: a correctly rounded log misses the oracle in many places."""
    u = rng.uniform_from_bits(ref["step0_bits_seed0"])
    g = -np.log(-np.log(u))
    assert (g != ref["step0_gumbel_seed0"]).sum() > 1000


@pytest.mark.parametrize("seed", SEEDS)
def test_positions_match_the_whole_draw(ref, seed):
    """bits_at / gumbel_at pick flattened elements without computing the rest."""
    key = ref[f"step_keys_seed{seed}"][0]
    pos = np.array([0, 1, 2, 3, 4, 7, 29823, 29824, 29825, 2 * V - 1, 12345])
    np.testing.assert_array_equal(rng.bits_at(key, pos), ref[f"step0_bits_seed{seed}"].reshape(-1)[pos])
    np.testing.assert_array_equal(rng.gumbel_at(key, pos).view(np.uint32),
                                  ref[f"step0_gumbel_seed{seed}"].reshape(-1)[pos].view(np.uint32))


def test_shape_independent_stream_and_odd_sizes():
    """Element i of the stream does not depend on the requested shape (sizes not a
    multiple of 4 are a prefix of the next multiple), and the state advances by blocks."""
    key = rng.prng_key(3)
    new7, b7 = rng.rng_bit_generator(key, (7,))
    new8, b8 = rng.rng_bit_generator(key, (2, 4))
    np.testing.assert_array_equal(b7, b8.reshape(-1)[:7])
    np.testing.assert_array_equal(new7, new8)
    np.testing.assert_array_equal(new8, [0, 3, 2, 3])


def test_counter_carry_into_high_word():
    """A low counter word near 2**64 carries into the high 64 bits (XLA's u128 add)."""
    key = np.array([5, 6, 0xFFFFFFFF, 0xFFFFFFFF], dtype=np.uint32)
    new, b = rng.rng_bit_generator(key, (8,))
    np.testing.assert_array_equal(new, [5, 6, 1, 0])
    # block 1: counter low word wrapped to 0, high half = A + 1 = words (6, 6); Philox key still A
    words = [np.array([w], dtype=np.uint64) for w in (0, 0, 6, 6)]
    want = np.stack(rng._philox(words, 5, 6), axis=-1).astype(np.uint32)[0]
    np.testing.assert_array_equal(b[4:], want)
    assert not np.array_equal(b[:4], b[4:])


def test_uniform_range():
    tiny = np.finfo(np.float32).tiny
    b = np.array([0, 1 << 9, 0xFFFFFFFF], dtype=np.uint32)
    u = rng.uniform_from_bits(b)
    assert u[0] == tiny
    assert u[1] == np.float32(2.0**-23)
    assert u[2] == np.float32(1 - 2.0**-23)


def test_bad_key():
    with pytest.raises(ValueError, match="uint32"):
        rng.split(np.array([0, 1, 0, 1], dtype=np.int64))


@pytest.mark.parametrize("key", [[0, 9, 0, 9], [5, 6, 0xFFFFFFF8, 0xFFFFFFFF], [0xFFFFFFFF] * 4])
def test_split_is_rows_0_and_10_for_any_key(key):
    """split's scalar Philox equals the vectorised generator, counter carry included."""
    key = np.array(key, dtype=np.uint32)
    _, raw = rng.rng_bit_generator(key, (20, 4))
    k1, k2 = rng.split(key)
    np.testing.assert_array_equal(k1, raw[0])
    np.testing.assert_array_equal(k2, raw[10])


def test_fma_rounds_once():
    """1+2^-23 + (2^-24 - 2^-70): just below a float32 midpoint. A float64 sum lands on
    the midpoint and ties to even (1+2^-22); a true FMA gives 1+2^-23."""
    a = np.array([1 + 2.0**-23], np.float32)
    b = np.float32(2.0**-24 * (1 - 2.0**-23))
    c = np.array([1 + 2.0**-23], np.float32)
    naive = (a.astype(np.float64) * np.float64(b) + c.astype(np.float64)).astype(np.float32)
    assert naive[0] == np.float32(1 + 2.0**-22)
    assert rng._fma(a, b, c)[0] == np.float32(1 + 2.0**-23)
    # and just above the midpoint, the other way round
    b2 = np.float32(2.0**-24 * (1 + 2.0**-23))
    a2 = np.array([1 + 2.0**-23], np.float32)
    c2 = np.array([1.0], np.float32)
    assert rng._fma(a2, b2, c2)[0] == np.float32(1 + 2.0**-23)


def test_xla_log_is_a_log():
    x = np.logspace(-37, 38, 20001).astype(np.float32)
    x = x[np.isfinite(x) & (x > 0)]
    got = rng.xla_log(x).astype(np.float64)
    want = np.log(x.astype(np.float64))
    assert np.all(np.abs(got - want) <= 4e-7 * np.maximum(1.0, np.abs(want)))
    assert rng.xla_log(np.array([1.0], np.float32))[0] == 0.0

"""The random stream of official Magenta RT v1 sampling: JAX ``unsafe_rbg`` on XLA:CPU.

t5x's ``InteractiveModel`` switches JAX to the ``unsafe_rbg`` PRNG, so every key is
``uint32[4] = [0, s, 0, s]`` and every draw is XLA's ``RngBitGenerator`` with the default
algorithm, which XLA:CPU expands to Philox4x32-10. A threefry port would never match.

The facts this port follows (XLA ``rng_bit_generator_expander`` and ``prng`` builder lib;
JAX ``prng.py`` / ``random.py``):

- JAX hands XLA the four uint32 words as two little-endian uint64 ``(A, B)``:
  ``A = w0 | w1 << 32``, ``B = w2 | w3 << 32``.
- With a two-word state the Philox key is ``A`` (as uint32 ``[lo, hi]``) and the 128-bit
  counter is ``B + 2**64 * A`` (the state reversed; no key scrambling).
- Counter ``c + i`` (128-bit add) gives four uint32 outputs; output ``4*i + j`` of the
  flattened shape is word ``j`` of block ``i``.
- The returned state is ``[A, B + ceil(n / 4)]`` (low 64 bits only).
- ``split(k)`` = rows 0 and 10 of ``rng_bit_generator(k, (20, 4))``.
- ``uniform(minval=tiny, maxval=1)``: ``float32(bits >> 9 | 0x3F800000) - 1``, times
  ``(1 - tiny)`` plus ``tiny``, then ``max(tiny, .)``; ``gumbel = -log(-log(u))``.
- ``log`` is XLA:CPU's own float32 approximation (a Cephes polynomial, the exponent
  added back as ``e*q1 + e*q2``), compiled with fused multiply-adds. With numpy's log a
  third of the noise values are off by an ulp or more (up to ~1e-6 absolute, thousands of
  ulps where the noise is near 0), so :func:`xla_log` reproduces it operation by
  operation and the noise matches the oracle bit for bit.
- On XLA:GPU the default algorithm is also Philox (bits would match) but ``log`` is
  CUDA's; TPUs use another generator. The port targets the CPU path the oracle ran.

Everything is vectorised numpy arithmetic. Keys are plain ``np.ndarray``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = 0x9E3779B9
_W1 = 0xBB67AE85
_ROUNDS = 10
_MASK32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_TINY = np.finfo(np.float32).tiny


def prng_key(seed: int) -> np.ndarray:
    """``jax.random.PRNGKey(seed)`` under unsafe_rbg: the threefry seed pair ``[0, s]``
    written twice. JAX (x64 off) holds the seed as int32, whose high word is 0, so a
    negative seed becomes ``s mod 2**32``; larger seeds are reduced the same way."""
    lo = int(seed) & 0xFFFFFFFF
    return np.array([0, lo, 0, lo], dtype=np.uint32)


def _as_key(key: np.ndarray) -> tuple[int, int]:
    k = np.asarray(key)
    if k.shape != (4,) or k.dtype != np.uint32:
        raise ValueError(f"an unsafe_rbg key is uint32[4], got {k.dtype}{list(k.shape)}")
    w = [int(x) for x in k]
    return w[0] | (w[1] << 32), w[2] | (w[3] << 32)


def _philox(c: list[np.ndarray], k0: int, k1: int) -> list[np.ndarray]:
    """Philox4x32-10 on counter words ``c`` (uint64 arrays holding uint32 values)."""
    x0, x1, x2, x3 = c
    for r in range(_ROUNDS):
        ka = np.uint64((k0 + r * _W0) & 0xFFFFFFFF)
        kb = np.uint64((k1 + r * _W1) & 0xFFFFFFFF)
        p0 = x0 * _M0
        p1 = x2 * _M1
        x0, x1, x2, x3 = ((p1 >> _S32) ^ x1 ^ ka, p1 & _MASK32,
                          (p0 >> _S32) ^ x3 ^ kb, p0 & _MASK32)
    return [x0, x1, x2, x3]


def _blocks(key: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Philox blocks number ``index`` (int array) of ``key``'s stream as uint32 [len, 4]."""
    a, b = _as_key(key)
    i = np.asarray(index, dtype=np.uint64)
    lo = i + np.uint64(b)  # wraps mod 2**64; the carry goes to the high half
    hi = np.where(lo < np.uint64(b), np.uint64((a + 1) & (2**64 - 1)), np.uint64(a))
    c = [lo & _MASK32, lo >> _S32, hi & _MASK32, hi >> _S32]
    out = _philox(c, a & 0xFFFFFFFF, a >> 32)
    return np.stack(out, axis=-1).astype(np.uint32)


def bits_at(key: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Flattened elements ``positions`` of any ``bits(key, shape)`` whose size exceeds
    them: Philox is counter based, so element ``p`` is word ``p % 4`` of block ``p // 4``
    whatever the shape, and only those blocks are computed."""
    pos = np.asarray(positions, dtype=np.int64)
    return _blocks(key, pos // 4)[np.arange(pos.size), pos % 4]


def rng_bit_generator(key: np.ndarray, shape: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """``lax.rng_bit_generator(key, shape, uint32)`` on XLA:CPU -> (new_key, bits)."""
    shape = tuple(int(d) for d in shape)
    n = int(np.prod(shape, dtype=np.int64))
    nblocks = (n + 3) // 4
    bits = _blocks(key, np.arange(nblocks)).reshape(-1)[:n].reshape(shape)
    a, b = _as_key(key)
    b2 = (b + nblocks) & (2**64 - 1)
    new = np.array([a & 0xFFFFFFFF, a >> 32, b2 & 0xFFFFFFFF, b2 >> 32], dtype=np.uint32)
    return new, bits


def bits(key: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """``jax.random.bits(key, shape, uint32)``: uint32 array of ``shape``."""
    return rng_bit_generator(key, shape)[1]


def _philox_block(a: int, b: int, i: int) -> tuple[int, int, int, int]:
    """One Philox block in plain Python ints (faster than numpy for a couple of blocks)."""
    lo = b + i
    hi = a + (lo >> 64)
    lo &= 0xFFFFFFFFFFFFFFFF
    hi &= 0xFFFFFFFFFFFFFFFF
    x0, x1, x2, x3 = lo & 0xFFFFFFFF, lo >> 32, hi & 0xFFFFFFFF, hi >> 32
    k0, k1 = a & 0xFFFFFFFF, a >> 32
    for _ in range(_ROUNDS):
        p0 = x0 * 0xD2511F53
        p1 = x2 * 0xCD9E8D57
        x0, x1, x2, x3 = (p1 >> 32) ^ x1 ^ k0, p1 & 0xFFFFFFFF, (p0 >> 32) ^ x3 ^ k1, p0 & 0xFFFFFFFF
        k0 = (k0 + _W0) & 0xFFFFFFFF
        k1 = (k1 + _W1) & 0xFFFFFFFF
    return x0, x1, x2, x3


def split(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``jax.random.split(key)`` -> (k1, k2): rows 0 and 10 of a (20, 4) draw."""
    a, b = _as_key(key)
    return (np.array(_philox_block(a, b, 0), dtype=np.uint32),
            np.array(_philox_block(a, b, 10), dtype=np.uint32))


def uniform_from_bits(b: np.ndarray) -> np.ndarray:
    """``jax.random.uniform(minval=tiny, maxval=1)`` of float32 given its uint32 bits."""
    f = ((b >> np.uint32(9)) | np.uint32(0x3F800000)).view(np.float32) - np.float32(1.0)
    scale = np.float32(1.0) - _TINY  # == 1 in float32, kept for the formula's sake
    return np.maximum(_TINY, f * scale + _TINY)


def _fma(a: np.ndarray, b: np.ndarray | np.float32, c: np.ndarray | np.float32) -> np.ndarray:
    """float32 ``a*b + c`` with one rounding, as an FMA instruction computes it.

    The float64 product of two float32 is exact, so the float64 sum carries the only
    rounding before the final float32 one. Two roundings differ from one only when the
    float64 sum lands exactly halfway between two float32 (low 29 mantissa bits
    ``1 << 28``) while being inexact; those rare values are rounded to odd (the TwoSum
    error folded into the last bit), which makes the float32 rounding exact.
    """
    p = np.asarray(a, np.float64) * b
    s = p + c
    si = s.view(np.int64)
    half = (si & 0x1FFFFFFF) == 0x10000000
    if half.any():
        c64 = np.asarray(c, np.float64)
        bv = s - p
        err = (p - (s - bv)) + (c64 - bv)
        fix = half & (err != 0)
        up = np.signbit(err) == np.signbit(s)
        s = np.where(fix, si + np.where(up, 1, -1), si).view(np.float64)
    return s.astype(np.float32)


_LOG_P = [np.float32(v) for v in (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1,
                                  -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
                                  2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1)]
_LOG_Q1 = np.float32(-2.12194440e-4)
_LOG_Q2 = np.float32(0.693359375)
_SQRTHF = np.float32(0.707106781186547524)
_F1 = np.float32(1.0)


def xla_log(x: np.ndarray) -> np.ndarray:
    """float32 natural log exactly as XLA:CPU computes it, for finite ``x > 0``.

    Mantissa m in [0.5, 1) and exponent e; below sqrt(1/2) the mantissa is doubled and
    e lowered so that t = m - 1 is centred on 0; log(1+t) is a degree-9 polynomial in t
    (evaluated in three interleaved parts), and e*ln2 is added as e*q1 + e*q2. The op
    order and which multiply-adds are fused follow the oracle bit for bit.
    """
    x = np.maximum(np.asarray(x, np.float32), _TINY)  # the approximation's denormal cut
    xi = x.view(np.uint32)
    e = (xi >> np.uint32(23)).astype(np.int32) - 0x7F
    m = ((xi & np.uint32(0x807FFFFF)) | np.uint32(0x3F000000)).view(np.float32)
    e = _F1 + e.astype(np.float32)
    small = m < _SQRTHF
    extra = np.where(small, m, np.float32(0.0))
    m = m - _F1
    e = e - np.where(small, _F1, np.float32(0.0))
    t = m + extra
    t2 = t * t
    t3 = t2 * t
    p = _LOG_P
    y0 = _fma(_fma(t, p[0], p[1]), t, p[2])
    y1 = _fma(_fma(t, p[3], p[4]), t, p[5])
    y2 = _fma(_fma(t, p[6], p[7]), t, p[8])
    y = _fma(_fma(y0, t3, y1), t3, y2)
    y = _fma(y, t3, _LOG_Q1 * e)
    t = _fma(t2, np.float32(-0.5), t)
    t = t + y
    return _fma(e, _LOG_Q2, t)


def gumbel_from_bits(b: np.ndarray) -> np.ndarray:
    """``-log(-log(u))`` (jax mode "low") of float32 given the uniform's uint32 bits."""
    u = uniform_from_bits(b)
    return -xla_log(-xla_log(u))


def gumbel(key: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """``jax.random.gumbel(key, shape, float32)`` under unsafe_rbg."""
    return gumbel_from_bits(bits(key, shape))


def gumbel_at(key: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Flattened elements ``positions`` of ``gumbel(key, shape)`` (see :func:`bits_at`)."""
    return gumbel_from_bits(bits_at(key, positions))

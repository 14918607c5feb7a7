"""The v1 step sampler follows the official t5x/JAX decode step: CFG (skipped at w=0),
greedy at T <= 1e-4 ignoring top-k, /max(T, 1e-4), top-k threshold mask with ties kept,
and Gumbel-max where only row 0's draw of the (2, V) noise decides."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from mrtd.model.v1 import rng, sampler
from mrtd.model.v1.sampler import TOPK_FILL, choose, guided, scaled_masked, topk_mask

FIX = Path(__file__).parents[2] / "fixtures" / "v1"
V = 29824


def logits2(seed: int, v: int = V, scale: float = 3.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(2, v, generator=g) * scale


def reference_token(l2: torch.Tensor, key, w: float, t: float, k: int) -> int:
    """The step spelled out over the whole (2, V) draw, as JAX computes it."""
    l = l2.numpy()
    cfg = np.float32(1 + w) * l[0] - np.float32(w) * l[1] if w else l[0]
    cfg = np.repeat(cfg[None], 2, axis=0)  # both rows carry the guided logits
    s = cfg / np.float32(max(t, 1e-4))
    if 0 < k < s.shape[-1]:
        # a value survives iff fewer than k values are strictly greater than it
        greater = (s[:, None, :] > s[:, :, None]).sum(-1) if s.shape[-1] <= 64 else None
        if greater is None:
            kth = -np.sort(-s, axis=-1)[:, k - 1:k]
            s = np.where(s >= kth, s, np.float32(TOPK_FILL))
        else:
            s = np.where(greater < k, s, np.float32(TOPK_FILL))
    g = rng.gumbel(key, s.shape)
    return int(np.argmax(g + s, axis=-1)[0])


def test_cfg_formula():
    l2 = logits2(0)
    want = np.float32(6.0) * l2[0].numpy() - np.float32(5.0) * l2[1].numpy()
    np.testing.assert_array_equal(guided(l2, 5.0).numpy(), want)


def test_zero_guidance_skips_cfg():
    """w == 0 never touches row 1 (the official lax.cond): NaNs there change nothing."""
    l2 = logits2(1)
    l2[1] = float("nan")
    np.testing.assert_array_equal(guided(l2, 0.0).numpy(), l2[0].numpy())
    assert choose(l2, None, guidance=0.0, temperature=0.0, top_k=40) == int(l2[0].argmax())
    key = rng.split(rng.prng_key(0))[0]
    tok = choose(l2, key, guidance=0.0, temperature=1.1, top_k=40)
    assert tok == reference_token(l2, key, 0.0, 1.1, 40)


def test_greedy_is_argmax_of_guided_logits():
    l2 = logits2(2)
    want = int(torch.argmax(6 * l2[0] - 5 * l2[1]))
    for k in (0, 1, 40, V):
        assert choose(l2, None, guidance=5.0, temperature=0.0, top_k=k) == want


def test_greedy_ignores_top_k_and_key():
    """At T <= 1e-4 the official step takes argmax without masking or noise, so no key is
    needed and any top-k (even one that would exclude nothing) gives the same id."""
    l2 = logits2(3)
    key = rng.split(rng.prng_key(5))[0]
    a = choose(l2, None, guidance=5.0, temperature=1e-4, top_k=1)
    b = choose(l2, key, guidance=5.0, temperature=0.0, top_k=V + 10)
    assert a == b == int(torch.argmax(guided(l2, 5.0)))


def test_just_above_threshold_samples():
    l2 = torch.zeros(2, 64)  # all equal: greedy gives 0, sampling follows the noise
    key = rng.split(rng.prng_key(11))[0]
    assert choose(l2, None, guidance=5.0, temperature=1e-4, top_k=0) == 0
    tok = choose(l2, key, guidance=5.0, temperature=1.01e-4, top_k=0)
    assert tok == int(np.argmax(rng.gumbel(key, (2, 64))[0]))
    with pytest.raises(ValueError, match="key"):
        choose(l2, None, guidance=5.0, temperature=1.0, top_k=0)


def test_topk_keeps_ties():
    x = torch.tensor([[8.3, 1.2, 1.3, 1.2, 1.2, 9.7, -100.0]])
    m = topk_mask(x, 4)
    keep = (m != TOPK_FILL).numpy()[0]
    # the 4th largest is 1.2, held three times: all three survive (6 values kept)
    np.testing.assert_array_equal(keep, [True, True, True, True, True, True, False])
    np.testing.assert_array_equal(m[0, keep].numpy(), x[0, keep].numpy())
    assert (m[0, ~keep] == TOPK_FILL).all()
    assert (topk_mask(x, 2) != TOPK_FILL).sum() == 2
    assert torch.equal(topk_mask(x, 0), x) and torch.equal(topk_mask(x, 7), x)


def test_topk_matches_counting_definition():
    """Kept iff fewer than k values are strictly greater (t5x's bisected threshold)."""
    g = torch.Generator().manual_seed(4)
    for trial in range(20):
        x = torch.randint(-5, 6, (50,), generator=g).float() / 2  # many ties
        k = int(torch.randint(1, 50, (1,), generator=g))
        greater = (x[None, :] > x[:, None]).sum(-1)
        want = torch.where(greater < k, x, torch.full_like(x, TOPK_FILL))
        assert torch.equal(topk_mask(x, k), want), (trial, k)


def test_temperature_scaling():
    l = torch.tensor([1.0, 2.0, 3.5, -1.0])
    np.testing.assert_array_equal(scaled_masked(l, 1.1, 0).numpy(), (l / np.float32(1.1)).numpy())
    # the divisor never goes below 1e-4
    np.testing.assert_array_equal(scaled_masked(l, 1e-6, 0).numpy(), (l / np.float32(1e-4)).numpy())
    # top-k applies after scaling, on the scaled values
    m = scaled_masked(l, 2.0, 2).numpy()
    np.testing.assert_array_equal(m, [TOPK_FILL, 1.0, 1.75, TOPK_FILL])


@pytest.mark.parametrize("seed", range(6))
def test_sampled_token_equals_full_draw(seed):
    """The fast path (noise only for the top-k survivors) equals the official full draw."""
    l2 = logits2(100 + seed)
    state = rng.prng_key(seed)
    for _ in range(5):
        key, state = rng.split(state)
        for w, t, k in ((5.0, 1.1, 40), (3.0, 0.7, 1), (0.0, 2.0, 400), (5.0, 1.1, 0)):
            assert choose(l2, key, guidance=w, temperature=t, top_k=k) == \
                reference_token(l2, key, w, t, k)


def test_only_row0_draw_counts():
    """Equal logits on both rows, yet the token is row 0's noise argmax, not row 1's."""
    v = 128
    l2 = torch.zeros(2, v)
    found = False
    state = rng.prng_key(0)
    for _ in range(20):
        key, state = rng.split(state)
        g = rng.gumbel(key, (2, v))
        tok = choose(l2, key, guidance=5.0, temperature=1.1, top_k=0)
        assert tok == int(np.argmax(g[0]))
        found |= int(np.argmax(g[1])) != tok
    assert found


def test_ties_broken_by_lowest_index():
    l2 = torch.zeros(2, 8)
    l2[0, 3] = l2[0, 5] = 4.0
    assert choose(l2, None, guidance=0.0, temperature=0.0, top_k=0) == 3


def test_greedy_matches_oracle_cfg_argmax():
    """Oracle: the official teacher-forced logits of both rows (positions 0..31) through
    choose's greedy branch (CFG w=5, top-k ignored) give the official CFG argmax."""
    with np.load(FIX / "ref_fp32.npz") as z:
        rows = z["partial/tf_logits_first32"]
        want = z["partial/tf_cfg_argmax"][:32]
    for i in range(32):
        l2 = torch.from_numpy(np.ascontiguousarray(rows[:, i]))
        assert choose(l2, None, guidance=5.0, temperature=0.0, top_k=40) == want[i]


def test_candidates_with_and_without_ties():
    s = torch.tensor([0.5, 3.0, 2.0, 2.0, -1.0, 2.0, 4.0])
    ids, vals = sampler.candidates(s, 2)  # 4.0, 3.0: no tie at the cut
    np.testing.assert_array_equal(ids, [1, 6])
    np.testing.assert_array_equal(vals, [3.0, 4.0])
    ids, vals = sampler.candidates(s, 3)  # the 3rd largest, 2.0, is held three times
    np.testing.assert_array_equal(ids, [1, 2, 3, 5, 6])
    np.testing.assert_array_equal(vals, [3.0, 2.0, 2.0, 2.0, 4.0])
    ids, _ = sampler.candidates(s, 0)
    np.testing.assert_array_equal(ids, np.arange(7))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_logits_give_the_cpu_token():
    """choose runs CFG, scaling and top-k where the logits live; same token as on CPU."""
    state = rng.prng_key(2)
    for i in range(20):
        key, state = rng.split(state)
        l2 = logits2(200 + i)
        for w, t, k in ((5.0, 1.1, 40), (5.0, 0.0, 40), (0.0, 0.9, 0)):
            assert choose(l2.cuda(), key, guidance=w, temperature=t, top_k=k) == \
                choose(l2, key, guidance=w, temperature=t, top_k=k)

"""Per-step token choice of Magenta RT v1, as the official t5x/JAX decode step does it.

One step (``t5x/decoding.py`` temperature_sample with v1's CFG logit callback):

1. classifier-free guidance ``(1+w)*l_cond - w*l_uncond`` (skipped when ``w == 0``, the
   official ``lax.cond``); the result is repeated to both rows;
2. ``temperature <= 1e-4`` is greedy: argmax of the guided logits, top-k ignored (the
   official ``lax.cond(T > 1e-4, sample, argmax)``);
3. otherwise ``l / max(T, 1e-4)``, then t5x's ``binary_search.topk_mask``: every logit
   ``>=`` the k-th largest is kept (ties at the threshold survive), the rest become
   ``-1e7``;
4. ``jax.random.categorical``: ``argmax(gumbel(key, (2, V)) + l)`` per row. Both rows hold
   the same logits, but each row has its own noise; the official state callback keeps
   row 0's token, so only ``gumbel[0]`` decides and row 1's draw is spent unused.

CFG and scaling round once per operation in float32, as the oracle's own re-derivation
of its sampled tokens does. (XLA:CPU may fuse the CFG multiply-add; that is at most a
1-ulp difference, and either form gives every fixture token.) The Gumbel noise is the
official stream bit for bit (:mod:`mrtd.model.v1.rng`), so given equal logits the seeded
tokens are the official ones.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from mrtd.model.v1 import rng

#: t5x's fill value for logits outside the top-k (``binary_search.topk_mask``).
TOPK_FILL = -1e7
#: t5x: temperatures at or below this mean greedy; it is also the divisor's floor.
MIN_TEMPERATURE = 1e-4
#: numpy's log vs XLA's: the Gumbel noise differs by < 1e-6 (measured 9.5e-7 at most over
#: the oracle's 119,296 values); candidates this close to the best are decided exactly.
_APPROX_SLACK = 1e-3


def guided(logits2: Tensor, guidance: float) -> Tensor:
    """[2, V] raw logits (row 0 conditioned, row 1 unconditioned) -> [V] guided float32."""
    l = logits2.float()
    if guidance == 0.0:
        return l[0]
    w = torch.tensor(guidance, dtype=torch.float32, device=l.device)
    return (1.0 + w) * l[0] - w * l[1]


def topk_mask(logits: Tensor, top_k: int) -> Tensor:
    """Keep logits ``>=`` the k-th largest (ties kept), fill the rest with -1e7.

    t5x bisects for the largest threshold with at least k values at or above it; that
    threshold is exactly the k-th largest value, so a sort finds the same mask.
    """
    k = int(top_k)
    if k <= 0 or k >= logits.shape[-1]:
        return logits
    thr = torch.topk(logits, k, dim=-1).values[..., -1:]
    return torch.where(logits >= thr, logits, torch.full_like(logits, TOPK_FILL))


def scaled_masked(logits: Tensor, temperature: float, top_k: int) -> Tensor:
    """Guided logits -> the distribution the official sampler draws from: /max(T,1e-4),
    then the top-k threshold mask."""
    t = torch.tensor(max(float(temperature), MIN_TEMPERATURE), dtype=torch.float32)
    return topk_mask(logits / t.to(logits.device), top_k)


def candidates(scaled: Tensor, top_k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ids (ascending) and scaled logits that survive the top-k mask, on the host.

    Only these can win the Gumbel-max: a masked entry scores ``-1e7 + g`` with the noise
    ``g`` in about [-4.5, 16.7], far below any kept logit. Cutting to them before the
    host copy means one small transfer per step on a GPU and noise for ~k ids only.
    """
    v = scaled.shape[-1]
    k = int(top_k)
    if 0 < k < v:
        vals, ids = torch.topk(scaled, k + 1)  # descending; one extra to see a tie at k
        vals_np = vals.detach().to("cpu", torch.float32).numpy()
        thr = vals_np[k - 1]
        if vals_np[k] < thr:  # no tie across the cut: exactly the k largest survive
            ids_np = ids[:k].cpu().numpy()
            order = np.argsort(ids_np)
            ids_np, vals_np = ids_np[order], vals_np[:k][order]
        else:  # ties at the threshold: all of them survive
            keep = torch.nonzero(scaled >= vals[k - 1]).squeeze(1)
            ids_np = keep.cpu().numpy()
            vals_np = scaled[keep].detach().to("cpu", torch.float32).numpy()
        if vals_np.min() > TOPK_FILL + 64.0:
            return ids_np, vals_np
        # absurd logits near the fill value: score the whole masked vocabulary instead
        full = topk_mask(scaled, k)
    else:
        full = scaled
    return np.arange(v), full.detach().to("cpu", torch.float32).numpy()


def gumbel_argmax(ids: np.ndarray, vals: np.ndarray, key: np.ndarray) -> int:
    """Row 0's ``argmax(gumbel(key, (2, V))[0] + scaled)`` (``jax.random.categorical``)
    restricted to the candidates ``ids`` (ascending, so ties keep the lowest id as
    ``argmax`` does). Row 0 is the first V values of the stream: its noise at id ``i`` is
    stream element ``i``, and the draw's row 1 never needs computing.

    numpy's log gives the noise to within ~1e-6 of XLA's, which already settles every id
    more than ``_APPROX_SLACK`` behind the best; only when several are that close (rare)
    do they get the exact XLA noise. The result is the exact official choice either way.
    """
    b = rng.bits_at(key, ids)
    approx = -np.log(-np.log(rng.uniform_from_bits(b))) + vals
    top = float(approx.max())
    near = np.flatnonzero(approx >= top - (_APPROX_SLACK + abs(top) * 1e-6))
    if near.size == 1:
        return int(ids[near[0]])
    g = rng.gumbel_from_bits(b[near])
    return int(ids[near[int(np.argmax(g + vals[near]))]])


def choose(logits2: Tensor, key: np.ndarray | None, *, guidance: float, temperature: float,
           top_k: int) -> int:
    """Row 0's token of one official decode step.

    logits2: [2, V] float32 raw logits (row 0 conditioned, row 1 unconditioned), any device.
    key: this step's ``rng1`` (uint32[4], from :func:`rng.split`); unused when greedy and
    may then be None.
    """
    l = guided(logits2, guidance)
    if not float(temperature) > MIN_TEMPERATURE:
        return int(torch.argmax(l))
    if key is None:
        raise ValueError("sampling with temperature > 1e-4 needs a PRNG key")
    t = torch.tensor(max(float(temperature), MIN_TEMPERATURE), dtype=torch.float32)
    ids, vals = candidates(l / t.to(l.device), top_k)
    return gumbel_argmax(ids, vals, key)

"""Token sampling as the official ``_sample_categorical_with_temperature``.

Per level: only the level's own 1024 ids are eligible (the official range mask), top-k
keeps every logit >= the k-th largest (ties kept), then ``logits + temperature * g``
with Gumbel noise ``g`` and argmax (lowest index on ties). Temperature 0 is therefore
exact greedy. Noise is drawn per stream from that stream's own ``torch.Generator`` so a
stream's samples never depend on its neighbours in the batch; drawing it outside the
step keeps the step capturable in a CUDA graph.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

MASKED_LOGIT = -0.7 * torch.finfo(torch.float32).max


def gumbel_noise(generators: Sequence[torch.Generator], levels: int = 12, size: int = 1024,
                 device: torch.device | str | None = None) -> Tensor:
    """[B, levels, size] float32 Gumbel(0,1) noise, row b from ``generators[b]`` (finite)."""
    rows = []
    for g in generators:
        u = torch.rand(levels, size, generator=g, device=g.device, dtype=torch.float32)
        u = u.clamp_(1e-10, 1.0 - 1e-7)
        rows.append(-torch.log(-torch.log(u)))
    out = torch.stack(rows)
    return out if device is None else out.to(device)


def make_generators(seeds: Sequence[int], device: torch.device | str = "cpu") -> list[torch.Generator]:
    """One independent generator per stream."""
    return [torch.Generator(device=device).manual_seed(int(s)) for s in seeds]


def sample_level(logits: Tensor, temperature: Tensor, top_k: Tensor, noise: Tensor | None) -> Tensor:
    """logits [B,C] (soft-capped, one codebook) -> code [B] in 0..C-1.

    temperature [B] float, top_k [B] int (clipped to 1..C), noise [B,C] Gumbel or None (greedy).
    """
    t, k_idx = sampling_params(temperature, top_k, logits.shape[-1], logits.device)
    return sample_prepared(logits, t, k_idx, noise)


def sampling_params(temperature: Tensor | None, top_k: Tensor | None, size: int,
                    device: torch.device) -> tuple[Tensor | None, Tensor | None]:
    """The per-frame sampler inputs, computed once for all levels: temperature ``[B,1]``
    float32 clamped at 0, and the top-k threshold index ``k - 1`` ``[B,1]`` with ``k``
    clipped to 1..``size`` (None: no top-k, every logit eligible)."""
    t = None if temperature is None else temperature.to(device=device, dtype=torch.float32).clamp(min=0.0)[:, None]
    k_idx = None if top_k is None else (top_k.to(device=device, dtype=torch.long).clamp(1, size) - 1)[:, None]
    return t, k_idx


def sample_prepared(logits: Tensor, t: Tensor | None, k_idx: Tensor | None, noise: Tensor | None) -> Tensor:
    """:func:`sample_level` with :func:`sampling_params` already applied (fixed shapes,
    no host syncs: safe inside a CUDA graph)."""
    logits = logits.float()
    if k_idx is not None:
        thr = logits.sort(-1, descending=True).values.gather(-1, k_idx)
        logits = logits.masked_fill(logits < thr, MASKED_LOGIT)
    if noise is not None:
        if t is None:
            raise ValueError("sampling with noise needs a temperature")
        logits = logits + t * noise
    return logits.argmax(-1)


def gumbel_noise_into(generators: Sequence[torch.Generator], out: Tensor) -> Tensor:
    """:func:`gumbel_noise` written into ``out`` [B, levels, size] float32 in place (same
    numbers, same generator consumption; ``out`` on the generators' device, e.g. pinned
    CPU memory for a later copy to the GPU)."""
    for g, row in zip(generators, out.unbind(0), strict=True):
        torch.rand(row.shape, generator=g, out=row)
        row.clamp_(1e-10, 1.0 - 1e-7).log_().neg_().log_().neg_()
    return out

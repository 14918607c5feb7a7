"""SpectroStream residual vector quantiser (RVQ): codes <-> embeddings <-> LM token ids.

The table is ``params/soundstream/quantizer/embedding`` ``[64 levels, 1024 codes, F]``; one
table serves both directions (the encoder file carries none). MRT2's language model uses
the first 12 levels, as unique ids ``6 + 1024 q + code`` (ids 0..5 are reserved).
"""

from __future__ import annotations

import torch
from torch import nn

NUM_RESERVED_IDS = 6


def codes_to_ids(codes: torch.Tensor, num_embeddings: int = 1024) -> torch.Tensor:
    """Raw codes ``[..., Q]`` (0..1023) -> unique LM token ids ``6 + 1024 q + code``."""
    q = torch.arange(codes.shape[-1], device=codes.device, dtype=codes.dtype)
    return NUM_RESERVED_IDS + num_embeddings * q + codes


def ids_to_codes(ids: torch.Tensor, num_embeddings: int = 1024) -> torch.Tensor:
    """Unique LM token ids -> raw codes, ``(id - 6) mod 1024`` as the official sampler does."""
    return torch.remainder(ids - NUM_RESERVED_IDS, num_embeddings)


class RVQ(nn.Module):
    """Greedy residual VQ with the official nearest-neighbour rule.

    Distance ``-2 r.c + |c|^2`` (the constant ``|r|^2`` is omitted, as officially, because it
    changes the float32 rounding of near ties), ``argmin`` takes the lowest index on ties, and
    the residual update is the straight-through form ``r - (r + (c - r))``.
    """

    def __init__(self, num_quantizers: int = 64, num_embeddings: int = 1024, dim: int = 256):
        super().__init__()
        self.register_buffer("table", torch.zeros(num_quantizers, num_embeddings, dim))

    def load_official(self, table: torch.Tensor) -> None:
        self.table.copy_(table)

    def codes_to_embeddings(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes ``[..., Q]`` (Q <= 64, raw 0..1023) -> sum of the first Q codebooks ``[..., F]``."""
        codes = codes.long()
        out = self.table[0][codes[..., 0]]
        for q in range(1, codes.shape[-1]):
            out = out + self.table[q][codes[..., q]]
        return out

    @torch.no_grad()
    def embeddings_to_codes(self, emb: torch.Tensor, levels: int = 64) -> torch.Tensor:
        """Embeddings ``[..., F]`` -> codes ``[..., levels]`` (int64), greedy level by level."""
        shape = emb.shape[:-1]
        r = emb.reshape(-1, emb.shape[-1]).to(self.table.dtype)
        out = []
        for q in range(levels):
            c = self.table[q]
            dist = -2.0 * (r @ c.T) + (c * c).sum(-1)[None, :]
            idx = torch.argmin(dist, dim=-1)  # first minimum on ties (torch and jnp agree)
            out.append(idx)
            quantized = r + (c[idx] - r)
            r = r - quantized
        return torch.stack(out, -1).reshape(*shape, levels)

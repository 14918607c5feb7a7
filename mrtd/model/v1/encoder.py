"""The v1 encoder: a plain T5 encoder over 1006 context + style tokens.

Token embedding (shared with the decoder) plus a fixed sinusoid (flaxformer ``FixedEmbed``,
max length 1006), bidirectional attention without any relative bias, then ``encoder_norm``.
Only id 0 is padding (flaxformer masks ``tokens > 0``): MASK = 1 is attended like any token.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mrtd.model.v1.config import V1Config
from mrtd.model.v1.layers import MASK_BIAS, Layer, rms_norm, sinusoid


def padding_bias(q_valid: Tensor, k_valid: Tensor) -> Tensor:
    """[B,Tq] / [B,Tk] bool -> [B,1,Tq,Tk] float32 additive mask (0 visible, -1e10 not)."""
    ok = q_valid[:, None, :, None] & k_valid[:, None, None, :]
    return torch.where(ok, 0.0, MASK_BIAS)


class Encoder(nn.Module):
    def __init__(self, cfg: V1Config, dtype: torch.dtype):
        super().__init__()
        self.cfg, self.dtype = cfg, dtype
        self.layers = nn.ModuleList(
            Layer(cfg.d_model, cfg.num_heads, cfg.head_dim, cfg.mlp_dim, False, cfg.eps, dtype)
            for _ in range(cfg.encoder_layers))
        self.encoder_norm = nn.Parameter(torch.ones(cfg.d_model))
        self.register_buffer("position_embedding", sinusoid(cfg.encoder_len, cfg.d_model),
                             persistent=False)

    def forward(self, tokens: Tensor, embedded: Tensor) -> Tensor:
        """tokens [B,S] ids, embedded [B,S,D] their token embeddings -> [B,S,D] (compute dtype)."""
        s = tokens.shape[1]
        x = (embedded.float() + self.position_embedding[:s]).to(self.dtype)
        valid = tokens > 0
        bias = padding_bias(valid, valid)
        for layer in self.layers:
            x = layer(x, bias)
        return rms_norm(x, self.encoder_norm, self.cfg.eps, self.dtype)

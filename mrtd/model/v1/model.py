"""Magenta RT v1: T5 encoder + depthformer decoder, shared token embedding, untied head.

``dtype`` is the activation dtype (the official ``ACTIVATION_DTYPE``): float32 for exact
parity, bfloat16 like the official default. Whatever it is, the RMSNorm reductions,
attention logits/softmax, the decoder's embedded inputs and ``logits_dense`` stay float32,
as in the official model; the norm scales, relative-bias tables and ``logits_dense`` are
kept float32 and rounded where the official rounds them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mrtd.model.v1.config import V1Config
from mrtd.model.v1.decoder import DecodeCache, Decoder
from mrtd.model.v1.encoder import Encoder, padding_bias
from mrtd.model.v1.layers import rms_norm


class V1Model(nn.Module):
    def __init__(self, cfg: V1Config, dtype: torch.dtype = torch.float32):
        super().__init__()
        self.cfg, self.dtype = cfg, dtype
        # one_hot @ table in the activation dtype == a row gather of the rounded table
        self.token_embedder = nn.Parameter(torch.empty(cfg.vocab, cfg.d_model, dtype=dtype))
        self.encoder = Encoder(cfg, dtype)
        self.decoder = Decoder(cfg, dtype)
        self.decoder_norm = nn.Parameter(torch.ones(cfg.d_model))
        self.logits_dense = nn.Parameter(torch.empty(cfg.vocab, cfg.d_model))  # float32, [V, D]
        self.requires_grad_(False)  # inference only

    @property
    def device(self) -> torch.device:
        return self.token_embedder.device

    def embed(self, tokens: Tensor) -> Tensor:
        return F.embedding(tokens, self.token_embedder)

    def encode(self, enc_tokens: Tensor) -> Tensor:
        """[B,1006] ids -> [B,1006,D] encoder outputs (after encoder_norm), compute dtype."""
        return self.encoder(enc_tokens, self.embed(enc_tokens))

    def cross_bias(self, enc_tokens: Tensor) -> Tensor:
        """[B,1,1,S]: decoder queries see every encoder position except padding (id 0)."""
        ones = torch.ones(enc_tokens.shape[0], 1, dtype=torch.bool, device=enc_tokens.device)
        return padding_bias(ones, enc_tokens > 0)

    def head(self, y: Tensor) -> Tensor:
        """Decoder output -> float32 logits over the whole 29824-row vocabulary."""
        return F.linear(rms_norm(y, self.decoder_norm, self.cfg.eps, self.dtype).float(), self.logits_dense)

    def logits(self, enc_tokens: Tensor, dec_inputs: Tensor) -> Tensor:
        """Teacher forcing: enc [B,1006], dec_inputs [B,800] (targets shifted right, BOS 0)
        -> [B,800,V] float32. Every decoder position is treated as valid (no target-padding
        masks): the official decode path never masks either."""
        if dec_inputs.shape[-1] % self.cfg.levels:
            raise ValueError(f"decoder inputs must be whole frames of {self.cfg.levels} tokens")
        encoded = self.encode(enc_tokens)
        y = self.decoder(self.embed(dec_inputs).float(), encoded, self.cross_bias(enc_tokens))
        return self.head(y)

    # ---- decode mode (used by decode.generate)

    def start(self, enc_tokens: Tensor) -> DecodeCache:
        """Encode and build the static caches of one chunk."""
        encoded = self.encode(enc_tokens)
        return self.decoder.new_cache(encoded, self.cross_bias(enc_tokens))

    def step(self, cache: DecodeCache, tokens: Tensor, step: int) -> Tensor:
        """One decode step: tokens [B] fed at ``step`` (0 = BOS) -> logits [B,V] float32."""
        emb = self.embed(tokens[:, None]).float()
        return self.head(self.decoder.step(cache, emb, step))[:, 0]

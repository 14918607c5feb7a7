"""The v1 "depthformer" decoder: a temporal stack per frame, a depth stack per level.

800 decoder positions are 50 frames x 16 RVQ levels, frame-major, input = targets shifted
right with BOS 0. Per frame t:

- temporal stack (self-attention over frames with a shared T5 relative bias [H,128],
  cross-attention to the encoder, MLP); its input is the *mean of the 16 embeddings fed at
  the previous frame's positions*, i.e. of the previous frame's tokens; frame 0 averages 16
  copies of emb(0) (the official edge padding);
- depth stack (self-attention over the 16 levels with its own bias [H,16], MLP); its input
  is ``[temporal_out_t, emb(y_16t), ..., emb(y_16t+14)]``, so level l is predicted from
  the frame context and levels < l.

``forward`` runs all 800 positions at once (teacher forcing); ``step`` is one official decode
step against static caches: the temporal stack runs only at a frame's first level and the
depth cache restarts at every frame. The decoder's embedded inputs are float32 in every
mode (the official ``DepthformerDecoder.dtype`` is float32), its layers use the compute dtype.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from mrtd.model.v1.config import V1Config
from mrtd.model.v1.layers import Layer, causal_bias, relative_bias


@dataclass
class DecodeCache:
    """Static per-chunk decode state for a batch (CFG: 2 rows). All tensors preallocated."""

    temporal_k: Tensor  # [Lt,B,H,frames,Dh]
    temporal_v: Tensor
    cross_k: Tensor  # [Lt,B,H,S,Dh] encoder keys/values, computed once per chunk
    cross_v: Tensor
    cross_bias: Tensor  # [B,1,1,S] float32, -1e10 at encoder padding (id 0)
    depth_k: Tensor  # [Ld,B,H,levels,Dh], overwritten from slot 0 every frame
    depth_v: Tensor
    temporal_bias: Tensor  # [H,frames,frames] float32 relative bias (query, key)
    depth_bias: Tensor  # [H,levels,levels]
    frame_emb: Tensor  # [B,levels,D] float32 embeddings fed during the current frame
    temporal_out: Tensor  # [B,1,D] temporal output of the current frame


class Decoder(nn.Module):
    def __init__(self, cfg: V1Config, dtype: torch.dtype):
        super().__init__()
        self.cfg, self.dtype = cfg, dtype
        args = (cfg.d_model, cfg.num_heads, cfg.head_dim, cfg.mlp_dim)
        self.temporal = nn.ModuleList(Layer(*args, True, cfg.eps, dtype) for _ in range(cfg.temporal_layers))
        self.depth = nn.ModuleList(Layer(*args, False, cfg.eps, dtype) for _ in range(cfg.depth_layers))
        self.relpos_bias = nn.Parameter(torch.zeros(cfg.num_heads, cfg.temporal_buckets))
        self.relpos_bias_depth = nn.Parameter(torch.zeros(cfg.num_heads, cfg.depth_buckets))

    def _bias(self, table: Tensor, length: int, max_distance: int) -> Tensor:
        """Relative bias rounded to the compute dtype (as flaxformer combines biases), plus
        the causal mask: [H, length, length] float32."""
        r = relative_bias(table.to(self.dtype), length, max_distance)
        return r.float() + causal_bias(length).to(r.device)

    def temporal_bias(self, frames: int) -> Tensor:
        return self._bias(self.relpos_bias, frames, self.cfg.temporal_max_distance)

    def depth_bias(self) -> Tensor:
        return self._bias(self.relpos_bias_depth, self.cfg.levels, self.cfg.depth_max_distance)

    def forward(self, emb: Tensor, encoded: Tensor, cross_bias: Tensor) -> Tensor:
        """Teacher forcing: emb [B,N,D] float32 embeddings of the decoder inputs (N = frames x
        levels), encoded [B,S,D], cross_bias [B,1,1,S] -> pre-norm outputs [B,N,D]."""
        q = self.cfg.levels
        b, n, d = emb.shape
        t = n // q
        # official edge padding: 15 extra copies of position 0 in front, frames of 16
        padded = torch.cat([emb[:, :1].expand(b, q - 1, d), emb], 1)[:, :n]
        x = padded.reshape(b, t, q, d).mean(2)
        bias = self.temporal_bias(t)
        for layer in self.temporal:
            x = layer(x, bias, encoded, cross_bias)
        levels = emb.reshape(b, t, q, d)[:, :, 1:].to(x.dtype)
        y = torch.cat([x[:, :, None], levels], 2).reshape(b * t, q, d)
        bias = self.depth_bias()
        for layer in self.depth:
            y = layer(y, bias)
        return y.reshape(b, n, d)

    def new_cache(self, encoded: Tensor, cross_bias: Tensor) -> DecodeCache:
        """Caches for one chunk: encoder keys/values of every temporal layer, zeroed K/V."""
        c = self.cfg
        b, dev = encoded.shape[0], encoded.device
        ks, vs = zip(*(layer.encoder_decoder_attention.kv(encoded) for layer in self.temporal))

        def z(layers: int, length: int) -> Tensor:
            return torch.zeros(layers, b, c.num_heads, length, c.head_dim, dtype=self.dtype, device=dev)

        return DecodeCache(
            temporal_k=z(c.temporal_layers, c.chunk_frames), temporal_v=z(c.temporal_layers, c.chunk_frames),
            cross_k=torch.stack(ks), cross_v=torch.stack(vs), cross_bias=cross_bias,
            depth_k=z(c.depth_layers, c.levels), depth_v=z(c.depth_layers, c.levels),
            temporal_bias=self.temporal_bias(c.chunk_frames), depth_bias=self.depth_bias(),
            frame_emb=torch.zeros(b, c.levels, c.d_model, device=dev),
            temporal_out=torch.zeros(b, 1, c.d_model, device=dev),
        )

    def step(self, cache: DecodeCache, emb: Tensor, step: int) -> Tensor:
        """Decode step ``step`` (0-based): emb [B,1,D] float32 embedding of the token fed now
        (BOS 0 at step 0, else the previous step's token) -> pre-norm output [B,1,D]."""
        q = self.cfg.levels
        frame, level = divmod(step, q)
        if step > 0:
            cache.frame_emb[:, (step - 1) % q] = emb[:, 0]
        if level == 0:
            src = emb.expand(-1, q, -1) if step == 0 else cache.frame_emb
            x = src.mean(1, keepdim=True)
            bias = cache.temporal_bias[:, frame:frame + 1, :frame + 1]
            for i, layer in enumerate(self.temporal):
                x = layer.step(x, frame, cache.temporal_k[i], cache.temporal_v[i], bias,
                               (cache.cross_k[i], cache.cross_v[i]), cache.cross_bias)
            cache.temporal_out = x
            y = x
        else:
            y = emb
        bias = cache.depth_bias[:, level:level + 1, :level + 1]
        for i, layer in enumerate(self.depth):
            y = layer.step(y, level, cache.depth_k[i], cache.depth_v[i], bias)
        return y

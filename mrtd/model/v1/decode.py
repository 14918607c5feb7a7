"""One v1 chunk: the official decode loop (t5x ``temperature_sample`` + v1's callbacks).

- batch 2 for classifier-free guidance: row 0 conditioned, row 1 the same input with the
  style tokens masked; both rows are fed row 0's tokens (v1's state callback overwrites row
  1's sequence, current token and ``ended`` flag with row 0's before every step > 0 and
  after the loop);
- zero-length prefill: step 0 feeds BOS 0, step s > 0 the token chosen at step s - 1;
- per step ``rng1, rng = split(rng)``, starting from ``key``; ``rng1`` picks the token
  (:func:`mrtd.model.v1.sampler.choose`: CFG, greedy at T=0, else /T, top-k, Gumbel-max);
- EOS is id 1 (t5x's ``eos_id or 1``): it is written, the rest of the row stays 0.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from mrtd.model.v1 import rng, sampler
from mrtd.model.v1.model import V1Model

EOS_ID = 1


@torch.inference_mode()
def generate(model: V1Model, enc_tokens: Tensor, *, max_steps: int = 800, guidance: float = 5.0,
             temperature: float = 1.1, top_k: int = 40, key: np.ndarray | None = None) -> np.ndarray:
    """enc_tokens [2,1006] (row 0 conditioned, row 1 unconditioned) -> int32 [2,800] tokens
    (both rows equal, as the official output). ``key`` is the uint32[4] unsafe_rbg key
    ``PRNGKey(seed + chunk_index)``; it may be None only when greedy (temperature <= 1e-4)."""
    n = model.cfg.decoder_len
    if not 0 <= max_steps <= n:
        raise ValueError(f"max_steps must be in 0..{n}, got {max_steps}")
    enc = torch.as_tensor(enc_tokens, dtype=torch.long, device=model.device)
    cache = model.start(enc)
    out = np.zeros((2, n), np.int32)
    state = None if key is None else np.asarray(key, dtype=np.uint32)
    cur = torch.zeros(enc.shape[0], dtype=torch.long, device=enc.device)
    for step in range(max_steps):
        step_key = None
        if state is not None:
            step_key, state = rng.split(state)
        logits2 = model.step(cache, cur, step)
        if logits2.device.type != "cpu":  # the sampler's noise is host numpy
            logits2 = logits2.cpu()
        token = sampler.choose(logits2, step_key, guidance=guidance, temperature=temperature, top_k=top_k)
        out[:, step] = token
        if token == EOS_ID:
            break
        cur.fill_(token)
    return out

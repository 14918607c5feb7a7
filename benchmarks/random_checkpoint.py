"""An MRT2 generation checkpoint of a real size with random weights, in the official
layout (``params/depthformer/...`` and ``params/soundstream/...`` keys, float32), so that
``mrtd serve --checkpoint FILE`` runs a real-size model as a user with the real file
would: the same loader, check and fast-path defaults. For live measurements only (the
real weights cannot be downloaded here); the values are scaled normals by the role the
key name gives (norm scales near 1, biases near 0, kernels 1/sqrt(fan-in)).

    python benchmarks/random_checkpoint.py --size mrt2_small --out /tmp/mrt2_small_random.safetensors
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch
from safetensors.numpy import save_file

from mrtd.model.mrt2.codec_decoder import checkpoint_shapes
from mrtd.model.mrt2.config import CONFIGS
from mrtd.model.mrt2.depthformer import Depthformer


def value(key: str, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    r = rng.standard_normal(shape, dtype=np.float32)
    leaf = key.rsplit("/", 1)[-1]
    if leaf == "scale" or "norm" in leaf:
        return 1.0 + 0.1 * r
    if leaf in ("bias", "per_dim_scale") or leaf.endswith("bias"):
        return 0.05 * r
    if "sink" in key:
        return 0.15 * r
    if leaf == "kernel" and len(shape) == 4:  # conv [kh, kw, in, out]
        return r / math.sqrt(shape[0] * shape[1] * shape[2])
    if leaf == "kernel":  # dense [in, ...]
        return r / math.sqrt(shape[0])
    return r / math.sqrt(shape[-1])  # embedding tables, codebooks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=sorted(CONFIGS), default="mrt2_small")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    cfg = CONFIGS[a.size]
    rng = np.random.default_rng(a.seed)
    shapes = {**Depthformer.checkpoint_shapes(cfg), **checkpoint_shapes(cfg.codec)}
    tensors = {k: value(k, tuple(s), rng) for k, s in sorted(shapes.items())}
    save_file(tensors, a.out)
    n = sum(t.size for t in tensors.values())
    print(f"wrote {a.out}: {a.size} shapes, {n / 1e6:.1f} M values, random (seed {a.seed})")


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    main()

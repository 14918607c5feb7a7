"""One-row int8 weight-only products on one CPU thread: PyTorch's ``_weight_int8pack_mm``
against mrtd's native kernel (``mrtd/model/mrt2/int8_kernel.py``), per matrix, on the
matrix shapes of mrt2_small's language model, in two settings:

- ``memory``: enough distinct matrices cycled (``--set-mb``, default 192 MB, the temporal
  stack's int8 bytes) that none is in cache when it is read again: what the temporal step
  pays a frame;
- ``depth``: the depth stack's matrices of one level (15.7 MB, adapter, 2 layers, one
  level's head), cycled: what each of the 12 depth steps pays, from the shared cache.

Weights/s is the matrix's bytes over its time (the int8 codes; scales are 0.1% more).

    python benchmarks/int8_kernel.py [--json benchmarks/results/int8_kernel_cpu_xeon.json]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import torch

from mrtd.devtools.bench_env import environment, write_result
from mrtd.model.mrt2 import int8_kernel

# mrt2_small [out, in]: temporal self qkv, o, cross q, kv (in 256), FFN w1, w2; depth d=768
TEMPORAL = [(3072, 1024), (1024, 1024), (1024, 1024), (2048, 256), (4096, 1024), (1024, 4096)]
DEPTH_LEVEL = [(768, 1024)] + [(2304, 768), (768, 768), (3072, 768), (768, 3072)] * 2 + [(1024, 768)]


class _Log:
    @staticmethod
    def info(msg: str) -> None:
        print(msg)


def _time(fn, mats, rounds: int) -> float:
    """Mean seconds per matrix over ``rounds`` passes through ``mats`` (one pass first, untimed)."""
    for m in mats:
        fn(*m)
    t0 = time.perf_counter()
    for _ in range(rounds):
        for m in mats:
            fn(*m)
    return (time.perf_counter() - t0) / (rounds * len(mats))


def _case(shapes: list[tuple[int, int]], copies: int, g: torch.Generator) -> list[tuple]:
    mats = []
    for _ in range(copies):
        for n, k in shapes:
            q = torch.randint(-127, 128, (n, k), generator=g, dtype=torch.int8)
            scale = (torch.rand(n, generator=g) * 0.01 + 1e-4).to(torch.bfloat16)
            mats.append((torch.randn(1, k, generator=g).to(torch.bfloat16), q, scale))
    return mats


def run(set_mb: int, rounds: int) -> dict[str, Any]:
    torch.set_num_threads(1)
    native = int8_kernel.library() is not None
    g = torch.Generator().manual_seed(0)
    per_copy = sum(n * k for n, k in TEMPORAL)
    settings = {
        "memory": _case(TEMPORAL, max(1, round(set_mb * 1e6 / per_copy)), g),
        "depth": _case(DEPTH_LEVEL, 1, g),
    }
    out: dict[str, Any] = {}
    for name, mats in settings.items():
        rows = {}
        for n, k in sorted({tuple(m[1].shape) for m in mats}):
            of_shape = [m for m in mats if tuple(m[1].shape) == (n, k)]
            kernels = {"torch": torch._weight_int8pack_mm}
            if native:
                kernels["native"] = int8_kernel.matmul
            rows[f"{n}x{k}"] = {kn: round(_time(fn, of_shape, rounds) * 1e3, 4) for kn, fn in kernels.items()}
        total = {}
        kernels = {"torch": torch._weight_int8pack_mm, **({"native": int8_kernel.matmul} if native else {})}
        for kn, fn in kernels.items():
            s = _time(fn, mats, rounds)
            total[kn] = {"ms_per_matrix": round(s * 1e3, 4),
                         "weights_gb_per_s": round(sum(m[1].numel() for m in mats) / len(mats) / s / 1e9, 2)}
        out[name] = {"set_mb": round(sum(m[1].numel() for m in mats) / 1e6, 1), "ms_by_shape": rows,
                     "all_matrices": total}
    return {"benchmark": "int8 one-row products, one thread", "kernel": int8_kernel.kernel_name(),
            "rounds": rounds, **out}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--set-mb", type=int, default=192, help="bytes of distinct matrices cycled in 'memory'")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--json", help="write the figures here")
    a = p.parse_args()
    res = {**run(a.set_mb, a.rounds), "environment": environment("cpu", "int8"),
           "command": "python benchmarks/int8_kernel.py" + (f" --json {a.json}" if a.json else "")}
    for name in ("memory", "depth"):
        print(name, res[name]["set_mb"], "MB:", res[name]["all_matrices"])
    if a.json:
        write_result(a.json, res, _Log)


if __name__ == "__main__":
    main()

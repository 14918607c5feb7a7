"""Teacher-forced top-1 agreement of the weight-only quantised language model
(``--dtype int8|int4``) with float32, on mrt2_small's shapes WITHOUT the official
random checkpoint (it needs JAX to make; see ../shared/oracle/README.md): mrtd's own
random mrt2_small weights (as ``mrtd bench --size mrt2_small`` builds them), float32 as the
teacher, run on the inputs of the mrt2_small reference (``tf_cond``/``tf_target`` of
ref_mrt2_small_float32.npz). A proxy for the gate until the checkpoint can be made:
``mrtd verify --dtype int8 --checkpoint mrt2_small.safetensors --reference
ref_mrt2_small_float32.npz`` is the real one.

``--stream`` adds the streaming path on one thread (``Depthformer.step`` with the
reference's tokens forced, frame by frame), where the int8 model runs the native frame of
``lm_step.c`` (``int8``) or PyTorch's operators (``int8_eager``): the teacher is still
float32's teacher-forced logits.

    python benchmarks/quant_agreement.py [--ref NPZ] [--json OUT] [--groups 128,32] [--stream]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from mrtd.devtools.verify import _own_columns, top1_agreement
from mrtd.engine.demo import random_models
from mrtd.model.mrt2 import native_step
from mrtd.model.mrt2.config import mrt2_small
from mrtd.model.mrt2.quant import quantize_lm

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--ref", default=str(ROOT.parent / "shared/oracle/fixtures/ref_mrt2_small_float32.npz"))
    p.add_argument("--json")
    p.add_argument("--groups", default="128,32", help="int4 group sizes to try")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--stream", action="store_true", help="also the one-thread streaming path (native int8 frame)")
    a = p.parse_args()
    torch.set_num_threads(2)
    with np.load(a.ref) as z:
        cond, tgt = torch.from_numpy(z["tf_cond"]), torch.from_numpy(z["tf_target"])
    cfg = mrt2_small

    def logits(mode: str, group: int = 128) -> np.ndarray:
        dtype = torch.float32 if mode == "float32" else torch.bfloat16
        m, _ = random_models(cfg, a.seed, dtype)
        if mode in ("int8", "int4"):
            quantize_lm(m, mode, group)
        with torch.inference_mode():
            out, _ = m(cond, tgt, return_aux=True)
        return _own_columns(out.float().numpy(), cfg.num_codebooks, cfg.num_reserved, cfg.codebook_size)

    t = time.perf_counter()
    teacher = logits("float32")
    s = np.sort(teacher, -1)
    res = {"reference_inputs": Path(a.ref).name, "weights": f"mrtd random mrt2_small (seed {a.seed})",
           "positions": int(teacher[..., 0].size), "teacher_margin_median": float(np.median(s[..., -1] - s[..., -2])),
           "modes": {}}
    runs = [("bfloat16", 0), ("int8", 0)] + [("int4", int(g)) for g in a.groups.split(",")]
    for mode, g in runs:
        lg = logits(mode, g or 128)
        name = f"int4_g{g}" if mode == "int4" else mode
        res["modes"][name] = {"tf_top1_agreement": top1_agreement(lg, teacher),
                              "tf_logits_max_abs": float(np.abs(lg - teacher).max())}
        print(name, res["modes"][name], flush=True)
    if a.stream:
        torch.set_num_threads(1)  # where the native frame runs
        for mode in ("bfloat16", "int8_eager", "int8"):
            lg = stream_logits(cfg, a.seed, mode, cond, tgt)
            res["modes"][f"stream_{mode}"] = {"top1_agreement": top1_agreement(lg, teacher),
                                              "logits_max_abs": float(np.abs(lg - teacher).max())}
            print(f"stream_{mode}", res["modes"][f"stream_{mode}"], flush=True)
    res["seconds"] = round(time.perf_counter() - t, 1)
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1) + "\n")


def stream_logits(cfg, seed: int, mode: str, cond: torch.Tensor, tgt: torch.Tensor) -> np.ndarray:
    """Forced-token streaming logits [1, T, 12, 1024] of ``mode`` (bfloat16, int8 with
    the native frame, int8_eager without it), soft-capped as the teacher-forced ones."""
    from mrtd.model.mrt2.depth import soft_cap

    m, _ = random_models(cfg, seed, torch.bfloat16)
    if mode.startswith("int8"):
        quantize_lm(m, "int8")
    if mode == "int8_eager":
        native_step.drop(m)
    state = m.new_state(1)
    out = []
    with torch.inference_mode():
        for f in range(tgt.shape[1]):
            o = m.step(state, cond[:, f], forced=tgt[:, f])
            out.append(soft_cap(o.logits.float(), cfg.soft_cap))
    return torch.stack(out, 1).numpy()


if __name__ == "__main__":
    main()

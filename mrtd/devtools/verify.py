"""``mrtd verify``: run the PyTorch model on an oracle reference's inputs and compare.

The family comes from ``--family`` or is recognised: a Magenta RT v1 checkpoint (a folder
of ``target.*`` zarr arrays, or a ``.tar``) or a v1 reference goes to
:mod:`mrtd.devtools.verify_v1`; everything below is MRT2.

Checks (depthformer, when the reference has ``tf_*`` arrays): teacher-forced logits,
forced-token streaming logits on every generated frame (plus temporal outputs), and
free-running greedy tokens up to the first low-margin (frame, level). Codec and encoder
checks come from ``mrtd.devtools.codec_check``. Prints one JSON object; exit
status 0 only when every check passes.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from mrtd.errors import UserError

TOL_F32 = 1e-4
TOL_BF16 = 0.1
LOW_MARGIN = 1e-3
TOP1_GATE = 0.99  # weight-only int8/int4: teacher-forced top-1 agreement with the float32 reference
_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "int8": torch.bfloat16, "int4": torch.bfloat16}


def quant_gate(agreement: float, bf16_agreement: float | None) -> bool:
    """int8/int4 pass: top-1 agreement with the float32 reference >= :data:`TOP1_GATE`, or
    no lower than the unquantised bfloat16 model's own agreement (a reference whose near-tied
    positions already flip under bfloat16 rounding, like the 120-position tiny one, cannot
    ask more of the weights than of the activations)."""
    return agreement >= TOP1_GATE or (bf16_agreement is not None and agreement >= bf16_agreement)


def top1_agreement(logits: np.ndarray, ref_logits: np.ndarray) -> float:
    """Share of positions whose argmax over the last axis (a level's own codebook) is the
    reference's."""
    return float((np.argmax(logits, -1) == np.argmax(ref_logits, -1)).mean())


def _ref_dtype(path: Path) -> str:
    """The compute dtype the reference was made with: its .json, else its file name."""
    meta = path.with_suffix(".json")
    if meta.is_file():
        try:
            return str(json.loads(meta.read_text())["compute_dtype"])
        except (ValueError, KeyError, OSError):
            pass
    return "bfloat16" if "bfloat16" in path.name or "bf16" in path.name else "float32"


def _load_ref(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise UserError(f"reference not found: {path}")
    try:
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    except Exception as e:  # zipfile/np errors for a bad file
        raise UserError(f"{path}: not a readable .npz reference: {e}") from None


def _device(name: str) -> torch.device:
    try:
        dev = torch.device(name)
    except RuntimeError as e:
        raise UserError(f"bad --device {name!r}: {e}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"--device {name}: CUDA is not available in this torch install")
    return dev


def _own_columns(logits: np.ndarray, q: int, reserved: int, size: int) -> np.ndarray:
    """[..., Q, V] -> [..., Q, size]: each level's own codebook columns."""
    return np.stack([logits[..., i, reserved + i * size: reserved + (i + 1) * size] for i in range(q)], -2)


@torch.no_grad()
def depthformer_report(ref: dict, model, device: torch.device, strict: bool, quant: str | None = None) -> dict:
    """Teacher-forced, forced-token streaming and greedy checks. ``strict``: float32
    tolerances. ``quant`` (int8/int4 weights): the gate is teacher-forced top-1 agreement
    >= :data:`TOP1_GATE` with the reference (logits max abs reported, no verdict)."""
    cfg = model.cfg
    tol = TOL_F32 if strict else TOL_BF16
    q, size, res = cfg.num_codebooks, cfg.codebook_size, cfg.num_reserved
    out: dict = {}

    t0 = time.perf_counter()
    cond = torch.from_numpy(ref["tf_cond"]).to(device)
    tgt = torch.from_numpy(ref["tf_target"]).to(device)
    logits, aux = model(cond, tgt, return_aux=True)
    logits = logits.cpu().numpy()
    out["tf_frames"] = int(tgt.shape[1])
    own = _own_columns(logits, q, res, size)
    out["tf_logits_max_abs"] = float(np.abs(own - ref["tf_logits"]).max())
    out["tf_top1_agreement"] = top1_agreement(own, ref["tf_logits"])
    out["tf_logits_full_first_last_max_abs"] = float(
        np.abs(logits[:, [0, -1]] - ref["tf_logits_full_first_last"]).max()
    )
    if "tf_source" in ref:
        out["tf_source_max_abs"] = float(np.abs(aux["source"].cpu().numpy() - ref["tf_source"]).max())
    out["tf_seconds"] = round(time.perf_counter() - t0, 3)

    t0 = time.perf_counter()
    gen_cond = torch.from_numpy(ref["gen_cond"]).to(device)
    gen_tok = torch.from_numpy(ref["gen_tokens"]).to(device)
    n = int(gen_tok.shape[0])
    state = model.new_state(1, device)
    per_frame, t_out, agree = [], 0.0, []
    for f in range(n):
        o = model.step(state, gen_cond[f: f + 1], forced=gen_tok[f: f + 1])
        lf = o.logits[0].float().cpu().numpy()
        per_frame.append(float(np.abs(lf - ref["gen_depth_logits"][f]).max()))
        agree.append(top1_agreement(lf, ref["gen_depth_logits"][f]))
        if "gen_temporal_outputs" in ref:
            t_out = max(t_out, float(np.abs(o.temporal_out[0].float().cpu().numpy() - ref["gen_temporal_outputs"][f]).max()))
    out["stream_frames"] = n
    out["stream_logits_max_abs"] = max(per_frame)
    out["stream_logits_frames_within_tol"] = sum(e <= tol for e in per_frame)
    out["stream_top1_agreement"] = float(np.mean(agree))
    out["stream_temporal_outputs_max_abs"] = t_out
    out["stream_seconds"] = round(time.perf_counter() - t0, 3)

    # free-running greedy: compare frames before the first (frame, level) with a low margin
    low = np.argwhere(ref["gen_margin"] < LOW_MARGIN)
    n_cmp = int(low[0, 0]) if len(low) else n
    state = model.new_state(1, device)
    zero = torch.zeros(1, device=device)
    ones = torch.ones(1, dtype=torch.long, device=device)
    match = 0
    for f in range(n_cmp):
        o = model.step(state, gen_cond[f: f + 1], temperature=zero, top_k=ones)
        if torch.equal(o.tokens[0].cpu(), gen_tok[f].cpu().long()):
            match += 1
    out["greedy_tokens_match_frames"] = match
    out["greedy_frames_compared"] = n_cmp
    out["greedy_first_low_margin"] = [int(x) for x in low[0]] if len(low) else None

    ok = out["tf_logits_max_abs"] <= tol and out["tf_logits_full_first_last_max_abs"] <= tol
    ok = ok and out["stream_logits_max_abs"] <= tol
    if quant:
        ok = out["tf_top1_agreement"] >= TOP1_GATE
    if strict:
        ok = ok and out["stream_temporal_outputs_max_abs"] <= tol and match == n_cmp
    out["depthformer_pass"] = bool(ok)
    return out


def detect_family(checkpoint: str | None, ref: dict[str, np.ndarray]) -> str:
    """"v1" or "mrt2": by the checkpoint's form (a folder with ``target.*`` arrays or a
    ``.tar``: v1; a ``.safetensors``: MRT2), else by the reference's arrays."""
    if checkpoint:
        p = Path(checkpoint)
        if p.is_dir():
            from mrtd.model.v1.checkpoint import is_v1_checkpoint

            return "v1" if is_v1_checkpoint(p) else "mrt2"
        if p.suffix == ".tar" or p.name.endswith((".tar.gz", ".tgz")):
            return "v1"
        if p.suffix == ".safetensors":
            return "mrt2"
    return "v1" if any(k.endswith("/encoder_input_tokens") for k in ref) else "mrt2"


def run_verify(args: argparse.Namespace) -> int:
    ref_path = Path(args.reference)
    ref = _load_ref(ref_path)
    device = _device(args.device)
    dtype = _DTYPES[args.dtype]
    ref_dtype = _ref_dtype(ref_path)
    family = getattr(args, "family", "auto") or "auto"
    if family == "auto":
        family = detect_family(args.checkpoint, ref)
    if family == "v1":
        from mrtd.devtools.verify_v1 import run_verify_v1

        if args.encoder:
            raise UserError("--encoder checks the MRT2 SpectroStream encoder against an MRT2 encoder reference; "
                            "a v1 reference has no encoder arrays")
        return run_verify_v1(args, ref, ref_path, device, dtype, ref_dtype)
    if getattr(args, "cases", None):
        raise UserError("--cases is for v1 references (--family v1)")
    strict = ref_dtype == "float32" and dtype == torch.float32
    quant = args.dtype if args.dtype in ("int8", "int4") else None
    if quant and device.type != "cpu":
        raise UserError(f"--dtype {quant} (weight-only quantised language model) runs on the CPU only")
    result: dict = {
        "reference": str(ref_path),
        "reference_compute_dtype": ref_dtype,
        "dtype": args.dtype,
        "device": str(device),
        "tolerances": {
            "logits_max_abs": None if quant else TOL_F32 if strict else TOL_BF16,
            "tf_top1_agreement": TOP1_GATE if quant else None,
            "greedy": f"identical up to the first margin < {LOW_MARGIN}" if strict else "informational",
        },
    }
    ok = True
    checked = False
    if "tf_logits" in ref:
        if not args.checkpoint:
            raise UserError("--checkpoint is required for a depthformer reference")
        from mrtd.model.mrt2.config import MRT2Config
        from mrtd.model.mrt2.depthformer import load_depthformer

        cfg = MRT2Config.from_manifest(args.manifest) if args.manifest else None
        t0 = time.perf_counter()
        model = load_depthformer(args.checkpoint, cfg, device=device, dtype=dtype)
        if quant:
            from mrtd.model.mrt2.quant import quant_counts, quantize_lm

            quantize_lm(model, quant)
            result["quantised_matrices"] = quant_counts(model)
        result["config"] = model.cfg.name
        result["load_seconds"] = round(time.perf_counter() - t0, 3)
        with torch.inference_mode():
            rep = depthformer_report(ref, model, device, strict, quant)
        del model
        if quant:  # the unquantised bfloat16 model on the same reference, side by side
            base = load_depthformer(args.checkpoint, cfg, device=device, dtype=torch.bfloat16)
            with torch.inference_mode():
                b = depthformer_report(ref, base, device, False)
            del base
            rep["bfloat16_tf_top1_agreement"] = b["tf_top1_agreement"]
            rep["bfloat16_tf_logits_max_abs"] = b["tf_logits_max_abs"]
            rep["depthformer_pass"] = quant_gate(rep["tf_top1_agreement"], b["tf_top1_agreement"])
        result.update(rep)
        ok = ok and rep["depthformer_pass"]
        checked = True

    if args.checkpoint and "ss_codes" in ref:
        from mrtd.devtools.codec_check import codec_report

        # SpectroStream is float32 in every official configuration (its references too)
        rep = codec_report(ref, args.checkpoint, device, torch.float32)
        _merge(result, rep, "codec_")
        result["codec_dtype"] = "float32"
        result["codec_pass"] = bool(rep.get("pass", False))
        ok = ok and result["codec_pass"]
        checked = True
    if args.encoder:
        from mrtd.devtools.codec_check import encoder_report

        rep = encoder_report(ref, args.encoder, args.checkpoint, device)
        _merge(result, rep, "encoder_")
        result["encoder_pass"] = bool(rep.get("pass", False))
        ok = ok and result["encoder_pass"]
        checked = True
    if not checked:
        raise UserError(f"{ref_path}: nothing to check (no depthformer or codec arrays, and no --encoder)")
    result["pass"] = bool(ok)
    print(json.dumps(result, indent=None))
    return 0 if ok else 1


def _merge(result: dict, rep: dict, prefix: str) -> None:
    """Add another report's keys (not its ``pass``); a clashing key gets ``prefix``."""
    for k, v in rep.items():
        if k != "pass":
            result[prefix + k if k in result else k] = v


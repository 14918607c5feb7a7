"""``mrtd verify``: its options (argparse only: no torch at import time)."""

from __future__ import annotations

import argparse

from mrtd.cli.options import add_manifest


def run(args: argparse.Namespace) -> int:
    from mrtd.devtools.verify import run_verify

    return run_verify(args)


def add_verify(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify",
        help="check this install's model against official reference outputs",
        description=(
            "Run the PyTorch model (MRT2 or Magenta RT v1) on the inputs stored in an official "
            "reference file (.npz from the parity oracle) and compare. Prints one JSON object; "
            "exit status 0 only when every check is within tolerance. v1: encoder outputs, "
            "teacher-forced logits, greedy and seeded sampled tokens per case, chained chunks; "
            "arrays the reference lacks are listed as not checked."
        ),
    )
    p.add_argument("--family", choices=["auto", "mrt2", "v1"], default="auto",
                   help="model family (default: recognised from the checkpoint: a v1 folder of "
                   "target.* arrays or .tar, an MRT2 .safetensors; else from the reference)")
    p.add_argument("--checkpoint", metavar="CKPT",
                   help="generation checkpoint: MRT2 .safetensors (official layout) or a v1 T5X folder / .tar")
    p.add_argument("--reference", metavar="REF.npz", required=True, help="reference outputs to compare with")
    add_manifest(
        p,
        config_alias=True,
        help="model config: MRT2, a manifest whose 'config' object uses the official field names; "
        "v1, an oracle config.json (its 'dims', and the 'sampling' settings it records) "
        "(default: inferred from the checkpoint's tensor shapes)",
    )
    p.add_argument("--cases", metavar="A,B",
                   help="v1: check only these cases of the reference (e.g. partial,full; default: all, "
                   "and the chained chunks)")
    p.add_argument(
        "--encoder",
        metavar="ENCODER.safetensors",
        help="SpectroStream encoder weights; with an encoder reference npz, checks the encoder",
    )
    p.add_argument("--dtype", choices=["float32", "bfloat16", "int8", "int4"], default="float32",
                   help="compute dtype (default: float32); int8/int4: weight-only quantised language model "
                   "with bfloat16 activations (CPU), gated on teacher-forced top-1 agreement >= 99%% with "
                   "the reference (give the float32 one)")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda (default: cpu)")
    p.set_defaults(run=run)

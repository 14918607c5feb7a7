"""Options that several commands share, so each means one thing everywhere."""

from __future__ import annotations

import argparse

DTYPES = ("auto", "float32", "bfloat16", "int8", "int4")
MODEL_SIZES = ("mrt2_small", "mrt2_base", "v1_base", "v1_large")


def add_manifest(p: argparse.ArgumentParser, *, config_alias: bool, help: str) -> None:
    """``--manifest MANIFEST.json`` (the model config); ``--config`` stays an alias where it
    meant the manifest before (render, verify, bench), not in serve (its TOML file)."""
    flags = ["--manifest", "--config"] if config_alias else ["--manifest"]
    p.add_argument(*flags, dest="manifest", metavar="MANIFEST.json", help=help)


def add_model_args(p: argparse.ArgumentParser, *, config_alias: bool, required: bool) -> None:
    """The model options `render` and `serve` share: what to load, where it runs, seed,
    CPU threads."""
    src = p.add_mutually_exclusive_group(required=required)
    src.add_argument("--size", choices=MODEL_SIZES,
                     help="an official model found on disk (see 'mrtd weights list'): MRT2 "
                     "(mrt2_small, mrt2_base) or Magenta RT v1 (v1_base, v1_large: 2 s chunks, "
                     "latency of 2 s and more by design)")
    src.add_argument("--checkpoint", metavar="CKPT",
                     help="generation checkpoint: MRT2 .safetensors, or a Magenta RT v1 T5X checkpoint "
                     "folder or .tar (recognised by its contents)")
    src.add_argument("--demo", action="store_true",
                     help="the embedded demo model: tiny, trained here on synthetic notes, not MRT2; "
                     "plays the notes held, timbre by style family, drums when asked, silent unasked "
                     "(its default temperature is 0.8; no files needed)")
    src.add_argument("--demo-random", action="store_true",
                     help="the embedded untrained demo (mrt2_tiny dimensions, weights from a fixed seed: "
                     "noise-like audio, bit-exact from its recipe)")
    p.add_argument("--weights", metavar="DIR", help="where the official files are: checkpoints for --size, "
                   "MusicCoCa for text/audio prompts (default: MRTD_WEIGHTS, the Hugging Face cache, "
                   "~/Documents/Magenta/magenta-rt-v2)")
    add_manifest(p, config_alias=config_alias, help="model config (default: inferred from the checkpoint)")
    p.add_argument("--codec", metavar="CODEC.safetensors",
                   help="Magenta RT v1: the MRT2 .safetensors whose SpectroStream decoder turns v1's "
                   "tokens into audio (same codec; default: an MRT2 checkpoint found as 'mrtd weights "
                   "list' shows)")
    p.add_argument("--encoder", metavar="ENCODER.safetensors",
                   help="SpectroStream encoder for audio prefill (default: encoder.safetensors beside the "
                   "checkpoint or in resources/spectrostream/, if present)")
    p.add_argument("--device", default="cpu", metavar="DEVICE",
                   help="where the model and codec run: cpu, cuda or cuda:N (default: cpu)")
    p.add_argument("--dtype", choices=DTYPES, default="auto",
                   help="language-model compute dtype (default: int8 for an official-size model on the CPU, "
                   "the fast path; float32 for the demo on the CPU; bfloat16 on cuda); int8/int4: weight-only "
                   "quantised language model on the CPU, bfloat16 activations")
    p.add_argument("--graph", action=argparse.BooleanOptionalAction, default=True,
                   help="CUDA: replay each frame as a CUDA graph (default: on; ignored on the CPU)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default: 0)")
    p.add_argument("--codec-dtype", choices=("auto", "float32", "bfloat16"), default="auto",
                   help="codec compute dtype (default: bfloat16 for an official-size model on the CPU, the "
                   "fast path; else float32 as the official)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads in all (default: every core this process may use for an "
                   "official-size model on the CPU, the fast path; 1 for the demo; 0 = torch's choice)")
    p.add_argument("--compile", action="store_true",
                   help="torch.compile the language model's stages before playing (MRT2; mrt2_small int8 on 2 CPU "
                   "cores: 0.51x -> 0.72x real time; the first time takes about 90 s on 2 cores, later starts "
                   "~10 s from the cache in ~/.cache/mrtd/inductor; fused math rounds differently from eager)")
    p.add_argument("--two-stage", action=argparse.BooleanOptionalAction, default=None,
                   help="CPU: the codec on its own thread and cores while the language model makes the next "
                   "frame (one frame, 40 ms, more latency; default: on for an official-size model with 2+ "
                   "threads, the fast path)")


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask, as taskset or a container sets it)."""
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def resolve_fast_path(args: argparse.Namespace, voices: int = 1) -> None:
    """Fill in the ``auto`` choices of ``--dtype``, ``--codec-dtype``, ``--threads`` and
    ``--two-stage`` (in place). An official-size MRT2 model (``--size``, ``--checkpoint``) on
    the CPU takes the fast path: int8 language model, bfloat16 codec, every usable core,
    two stages when there are 2+ threads (one voice). The demo and Magenta RT v1 keep
    float32 on one thread, as before: the demo's output and its replay do not change.
    An explicit choice is kept as given."""
    from mrtd.engine.build import is_v1_source

    cpu = (getattr(args, "device", None) or "cpu").strip().lower() == "cpu"
    demo = getattr(args, "demo", False) or getattr(args, "demo_random", False)
    fast = cpu and not demo and not is_v1_source(args.checkpoint, args.size)
    fill_fast_path(args, fast, voices == 1, keep_auto_dtype=True)


def fill_fast_path(args: argparse.Namespace, fast: bool, one_stream: bool, keep_auto_dtype: bool = False) -> None:
    """The ``auto`` choices once it is known whether the fast path applies (shared by
    serve/render and the bench). ``keep_auto_dtype``: off the fast path ``--dtype auto``
    stays for the loader to resolve (float32 on the CPU, bfloat16 on CUDA)."""
    if args.dtype == "auto" and (fast or not keep_auto_dtype):
        args.dtype = "int8" if fast else "float32"
    if args.codec_dtype == "auto":
        args.codec_dtype = "bfloat16" if fast else "float32"
    if args.threads is None:
        args.threads = usable_cores() if fast else 1
    if args.two_stage is None:
        args.two_stage = fast and one_stream and args.threads >= 2 and not getattr(args, "adapt_threads", False)

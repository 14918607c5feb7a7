"""``mrtd render``: the engine run offline, as fast as the machine allows.

Same code path as live: events are posted for their frames, :meth:`Engine.step_frame`
is pulled by the output queue level and the audio is read through the real-time reader
(fades, gain), only without waiting for the clock. Output: 24-bit PCM WAV by default
(``--format float`` for 32-bit float), 48 kHz stereo.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from mrtd.errors import UserError

if TYPE_CHECKING:  # the CLI imports this module for its parser: keep torch out of --help
    import numpy as np

    from mrtd.daemon.engine import Engine

SAMPLE_RATE = 48000

SUBTYPES = {"pcm24": "PCM_24", "pcm16": "PCM_16", "float": "FLOAT"}
BLOCK = 1024  # reader period, like a JACK buffer


def load_engine(checkpoint: str | None, config: str | None, demo: bool, seed: int,
                encoder: str | None = None, *, size: str | None = None, weights: str | None = None,
                style_sync: bool = False, device: str = "cpu", dtype: str = "auto", graph: bool = True,
                **kw) -> Engine:
    """An engine on the demo model, a checkpoint, or an official size found on disk, with
    MusicCoCa for text/audio prompts when its files are found.

    ``device``: cpu, cuda or cuda:N (model, codec, encoder and the frame's buffers);
    ``dtype``: the language model's compute dtype, float32 | bfloat16 | auto (float32 on
    the CPU, bfloat16 on CUDA); the codec stays float32 as the official. ``graph``: on
    CUDA, the frame is captured as a CUDA graph after its warm-up (eager, with a logged
    warning, if capture fails). Weight layouts: the faster one measured for the device
    and dtype for checkpoints (``best_layout``, ``best_codec_layout``); the demo keeps its
    construction layouts (no gain at its size, and CPU float32 stays ``build_demo()``
    bit for bit).

    The SpectroStream encoder (audio prefill) is ``encoder`` if given, else
    ``encoder.safetensors`` found beside the checkpoint or in the official resources
    folder, else none (audio prefill then answers a clear error). ``style_sync``: prompt
    encoding waits for its result (offline rendering: deterministic)."""
    import torch

    from mrtd.daemon.engine import Engine

    dev, lm_dtype = resolve_device(device, dtype)
    codec_dtype = torch.float32
    if size:
        from mrtd.resources import find_checkpoint

        checkpoint = str(find_checkpoint(size, weights))
    if demo:
        from mrtd.daemon.demo import build_demo

        model, dec = build_demo(device=dev, dtype=lm_dtype)
    elif checkpoint:
        from mrtd.model.codec_decoder import load_decoder
        from mrtd.model.config import MRT2Config
        from mrtd.model.depthformer import load_depthformer
        from mrtd.file_checks import check_file

        if Path(checkpoint).is_dir():
            raise UserError(f"checkpoint {checkpoint} is a folder; give the .safetensors file")
        if not Path(checkpoint).is_file():
            raise UserError(f"checkpoint not found: {checkpoint}")
        problem = check_file(checkpoint)
        if problem:
            raise UserError(f"checkpoint {checkpoint}: {problem}")
        cfg = MRT2Config.from_manifest(config) if config else None
        from mrtd.model.framestep import best_codec_layout, set_codec_layout

        model = load_depthformer(checkpoint, cfg, device=dev, dtype=lm_dtype)  # in its best_layout
        dec = load_decoder(checkpoint, cfg.codec if cfg else None, device=dev, dtype=codec_dtype)
        set_codec_layout(dec, best_codec_layout(dev, codec_dtype))
        kw["encoder"] = _find_encoder(checkpoint, encoder, dev, codec_dtype)
    else:
        raise UserError("give --checkpoint CKPT, --size NAME or --demo")
    if demo and encoder:
        raise UserError("--encoder needs --checkpoint (the demo model has no encoder)")
    engine = Engine(model, dec, seed=seed, style=load_style(weights, sync=style_sync), **kw)
    engine.source = checkpoint or "the embedded demo"
    if graph and dev.type == "cuda":
        engine.capture()  # falls back to eager with a logged warning
    return engine


DTYPES = ("auto", "float32", "bfloat16")


def resolve_device(device: str | None, dtype: str | None = "auto"):
    """(torch.device, torch.dtype) for ``--device`` / ``--dtype``; a CUDA device that this
    machine or this torch build does not have is a UserError saying why."""
    import torch

    text = (device or "cpu").strip().lower()
    try:
        dev = torch.device(text)
    except (RuntimeError, ValueError):
        dev = None
    if dev is None or dev.type not in ("cpu", "cuda") or (dev.type == "cpu" and dev.index not in (None, 0)):
        raise UserError(f"--device must be cpu, cuda or cuda:N, got {device!r}")
    if dev.type == "cuda":
        if torch.version.cuda is None:
            raise UserError(f"CUDA is not available: torch {torch.__version__} was built without CUDA; "
                            "use --device cpu")
        if not torch.cuda.is_available():
            raise UserError(f"CUDA is not available: no GPU found (torch {torch.__version__}, CUDA "
                            f"{torch.version.cuda}); use --device cpu")
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise UserError(f"--device {device}: only {count} CUDA device(s) found (cuda:0..cuda:{count - 1})")
        dev = torch.device("cuda", dev.index if dev.index is not None else torch.cuda.current_device())
    else:
        dev = torch.device("cpu")
    name = dtype or "auto"
    if name == "auto":
        name = "bfloat16" if dev.type == "cuda" else "float32"
    if name not in ("float32", "bfloat16"):
        raise UserError(f"--dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    return dev, getattr(torch, name)


def load_style(weights: str | None, *, sync: bool = False):
    """The prompt-slot encoder: MusicCoCa from the files found (``--weights``,
    MRTD_WEIGHTS, the Hugging Face cache, the official folder), or none."""
    from mrtd.daemon.style import StyleEncoder
    from mrtd.resources import find_musiccoca

    where = ("Get them with 'mrtd weights download' or put the official resources/musiccoca/ files "
             "in a folder given by --weights DIR; 'mrtd weights list' shows what is found.")
    found = find_musiccoca(weights)
    if found is None:
        return StyleEncoder(None, sync=sync, where=where)
    from mrtd.model.musiccoca import MusicCoCa

    return StyleEncoder(MusicCoCa(found), sync=sync, where=where)


def _find_encoder(checkpoint: str, explicit: str | None, device=None, dtype=None):
    from mrtd.model.checkpoint import CheckpointError
    from mrtd.model.codec_encoder import find_encoder_file, load_encoder

    try:
        path = find_encoder_file(checkpoint, explicit)
    except CheckpointError:
        if explicit:
            raise
        return None
    kw = {} if device is None else {"device": device, "dtype": dtype}
    return load_encoder(path, checkpoint, **kw)


def render(engine: Engine, seconds: float, progress=None) -> np.ndarray:
    """``seconds`` of audio ``[n, 2]`` float32 (post-effects) through the live pipeline,
    unpaced."""
    import numpy as np

    total = int(round(seconds * SAMPLE_RATE))
    out = np.zeros((total, engine.output.channels), np.float32)
    pos = 0
    while pos < total:
        while engine.output.has_room():
            engine.step_frame()
        n = min(BLOCK, total - pos)
        engine.read_into(out[pos:pos + n])
        pos += n
        if progress is not None:
            progress(pos / SAMPLE_RATE)
    return np.ascontiguousarray(out[:, :2])


def run_render(args: argparse.Namespace) -> int:
    import numpy as np
    import soundfile as sf
    import torch
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from mrtd.daemon.events import EventWriter, read_events
    from mrtd.datadir import DataDir

    console = Console(stderr=True)
    logging.basicConfig(level=logging.WARNING, format="mrtd: %(message)s")
    if args.seconds <= 0:
        raise UserError("--seconds must be > 0")
    if args.threads:
        torch.set_num_threads(args.threads)
    resolve_device(args.device, args.dtype)  # a device this machine lacks fails before any file is touched
    events = read_events(args.events) if args.events else []
    out_path = Path(args.out)
    if not out_path.parent.exists():
        raise UserError(f"output directory does not exist: {out_path.parent}")
    sink = EventWriter(args.log_events) if args.log_events else None
    # the event file is the operator's: its names point into the data folder like the live
    # daemon's, and absolute paths (captures, the operator's own files) are taken as they are
    files = DataDir(args.data_dir, overrides={"banks": args.bank_dir}, trusted=True)
    engine = load_engine(args.checkpoint, args.config, args.demo, args.seed, args.encoder, event_sink=sink,
                         strict=True, bank_dir=files.folder("banks", create=False), files=files,
                         size=args.size, weights=args.weights,
                         style_sync=True, device=args.device, dtype=args.dtype, graph=args.graph)
    if args.demo:
        console.print("[bold red]DEMO MODEL: untrained weights, the output is noise-like, not music[/]")
    engine.post_events(events)
    t0 = time.perf_counter()
    with Progress(TextColumn("rendering"), BarColumn(), TextColumn("{task.completed:.1f}/{task.total:.1f} s"),
                  TextColumn("{task.fields[speed]}"), TimeRemainingColumn(), console=console,
                  disable=args.quiet) as bar:
        task = bar.add_task("render", total=args.seconds, speed="")

        def progress(done: float) -> None:
            el = time.perf_counter() - t0
            bar.update(task, completed=done, speed=f"{done / el:.1f}x real time" if el > 0 else "")

        try:
            audio = render(engine, args.seconds, progress)
        finally:
            if sink is not None:
                sink.close()
    elapsed = time.perf_counter() - t0
    sf.write(str(out_path), np.clip(audio, -1.0, 1.0), SAMPLE_RATE, subtype=SUBTYPES[args.format])
    console.print(f"wrote {out_path} ({args.seconds:g} s, {SUBTYPES[args.format]}, {engine.frame} frames, "
                  f"{args.seconds / elapsed:.1f}x real time on {engine.describe()})")
    return 0


def add_model_args(p: argparse.ArgumentParser, *, manifest_flag: str, required: bool) -> None:
    """The model options `render` and `serve` share: what to load, where it runs, seed,
    CPU threads."""
    src = p.add_mutually_exclusive_group(required=required)
    src.add_argument("--size", choices=["mrt2_small", "mrt2_base"],
                     help="an official model found on disk (see 'mrtd weights list')")
    src.add_argument("--checkpoint", metavar="CKPT", help="generation checkpoint (.safetensors, official layout)")
    src.add_argument("--demo", action="store_true", help="the embedded untrained demo model (no files needed)")
    p.add_argument("--weights", metavar="DIR", help="where the official files are: checkpoints for --size, "
                   "MusicCoCa for text/audio prompts (default: MRTD_WEIGHTS, the Hugging Face cache, "
                   "~/Documents/Magenta/magenta-rt-v2)")
    flags = ["--manifest"] + ([manifest_flag] if manifest_flag != "--manifest" else [])  # --config: older scripts
    p.add_argument(*flags, dest=manifest_flag.lstrip("-"), metavar="MANIFEST.json",
                   help="model config (default: inferred from the checkpoint)")
    p.add_argument("--encoder", metavar="ENCODER.safetensors",
                   help="SpectroStream encoder for audio prefill (default: encoder.safetensors beside the "
                   "checkpoint or in resources/spectrostream/, if present)")
    p.add_argument("--device", default="cpu", metavar="DEVICE",
                   help="where the model and codec run: cpu, cuda or cuda:N (default: cpu)")
    p.add_argument("--dtype", choices=DTYPES, default="auto",
                   help="language-model compute dtype (default: float32 on cpu, bfloat16 on cuda); "
                   "the codec stays float32")
    p.add_argument("--graph", action=argparse.BooleanOptionalAction, default=True,
                   help="CUDA: replay each frame as a CUDA graph (default: on; ignored on the CPU)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default: 0)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default: 1, fastest for small models; 0 = torch's choice)")


def add_render(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "render", help="render audio offline to a WAV file, optionally replaying events",
        description="Run the engine offline (same code path as live, without real-time pacing) "
        "and write a 48 kHz stereo WAV. Replaying an event file with the same checkpoint and seed "
        "gives bit-identical audio on CPU.")
    add_model_args(p, manifest_flag="--config", required=True)
    p.add_argument("--seconds", type=float, required=True, help="length of the output")
    p.add_argument("--events", metavar="FILE", help="JSON-lines event file to replay (frame-stamped OSC)")
    p.add_argument("--log-events", metavar="FILE", help="write every applied change (replayable) to FILE")
    p.add_argument("--data-dir", metavar="DIR", help="the data folder the event file's names refer to, as in "
                   "'mrtd serve' (default: $XDG_DATA_HOME/mrtd, i.e. ~/.local/share/mrtd)")
    p.add_argument("--bank-dir", metavar="DIR", help="directory of state banks for /mrtd/bank/* events "
                   "(default: DATA_DIR/banks)")
    p.add_argument("--out", metavar="OUT.wav", required=True, help="output WAV file")
    p.add_argument("--format", choices=sorted(SUBTYPES), default="pcm24",
                   help="sample format: pcm24 (default), pcm16 or float (32-bit)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run_render)

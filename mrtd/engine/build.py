"""Building an engine: the model (demo, a checkpoint, or an official size found on disk),
the device and dtype it runs in, MusicCoCa for style prompts, the SpectroStream encoder
for audio prefill. ``mrtd serve`` and ``mrtd render`` build theirs here."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mrtd.errors import UserError

if TYPE_CHECKING:
    from mrtd.engine.engine import Engine


def load_engine(checkpoint: str | None, config: str | None, demo: bool | str | None, seed: int,
                encoder: str | None = None, *, size: str | None = None, weights: str | None = None,
                style_sync: bool = False, device: str = "cpu", dtype: str = "auto", graph: bool = True,
                codec: str | None = None, codec_dtype: str = "float32", two_stage: bool = False,
                threads: int = 1, compile: bool = False, **kw) -> Engine:
    """An engine on the demo model, a checkpoint, or an official size found on disk, with
    MusicCoCa for text/audio prompts when its files are found. ``demo``: ``"random"`` is
    the untrained random demo, any other true value the trained one (with its encoder).

    ``device``: cpu, cuda or cuda:N (model, codec, encoder and the frame's buffers);
    ``dtype``: the language model's compute dtype, float32 | bfloat16 | auto (float32 on
    the CPU, bfloat16 on CUDA), or int8 | int4 on the CPU: weight-only quantised language
    model with bfloat16 activations (:mod:`mrtd.model.mrt2.quant`); the codec stays float32
    as the official. ``graph``: on
    CUDA, the frame is captured as a CUDA graph after its warm-up (eager, with a logged
    warning, if capture fails). Weight layouts: the faster one measured for the device
    and dtype for checkpoints (``best_layout``, ``best_codec_layout``); the demos keep their
    builders' layouts (no gain at their size, and CPU float32 stays ``build_demo()`` /
    ``build_random_demo()`` bit for bit).

    The SpectroStream encoder (audio prefill) is ``encoder`` if given, else
    ``encoder.safetensors`` found beside the checkpoint or in the official resources
    folder, else none (audio prefill then answers a clear error). ``style_sync``: prompt
    encoding waits for its result (offline rendering: deterministic).

    Magenta RT v1: ``size`` ``v1_base`` / ``v1_large``, or a ``checkpoint`` that is a v1
    T5X folder or ``.tar`` (autodetected; ``config`` then is a v1 ``config.json`` with
    ``dims``, for custom shapes). v1 decodes with the SpectroStream decoder inside an MRT2
    checkpoint: ``codec`` (an MRT2 ``.safetensors``), else ``mrt2_small`` / ``mrt2_base``
    beside the v1 checkpoint, else the first one found (``find_v1_codec``); the encoder for audio prefill is found beside that file. The
    latency budget defaults to :data:`V1_LATENCY_MS` (a 2 s chunk must be made while the
    queue plays).

    ``codec_dtype``: the codec's compute dtype (float32 as the official, or bfloat16: MRT2
    only). ``two_stage`` (CPU, MRT2): the codec on a thread of its own
    (:mod:`mrtd.engine.two_stage`), ``threads`` CPU threads in all split between the stages.
    ``compile``: ``torch.compile`` the language model's stages now (MRT2), before any CUDA
    graph is captured; Inductor's cache is kept in ``~/.cache/mrtd/inductor`` unless
    TORCHINDUCTOR_CACHE_DIR says otherwise, so only the first start pays in full."""
    import torch

    from mrtd.engine.engine import Engine

    dev, lm_dtype = resolve_device(device, dtype)
    quant = quant_mode(dtype)
    if codec_dtype not in ("float32", "bfloat16"):
        raise UserError(f"--codec-dtype must be float32 or bfloat16, got {codec_dtype!r}")
    codec_dtype_name, codec_dtype = codec_dtype, getattr(torch, codec_dtype)
    if two_stage and dev.type != "cpu":
        raise UserError("--two-stage is for the CPU (on CUDA the frame is one graph)")
    if _is_v1(checkpoint, size):
        if two_stage:
            raise UserError("--two-stage is for MRT2; Magenta RT v1 makes 2 s chunks")
        if codec_dtype_name != "float32":
            raise UserError("--codec-dtype bfloat16 is for MRT2; Magenta RT v1's codec runs float32")
        if compile:
            raise UserError("--compile is for MRT2 (Magenta RT v1 runs eager)")
        if quant:
            raise UserError(f"--dtype {quant} is for the MRT2 language model; Magenta RT v1 runs float32 or bfloat16")
        if demo:
            raise UserError("--demo is the MRT2 demo model; give --size v1_base|v1_large or --checkpoint DIR")
        if size:
            from mrtd.weights.find import find_checkpoint

            checkpoint = str(find_checkpoint(size, weights))
        gen = _load_v1(checkpoint, config, codec, encoder, weights, seed, dev, lm_dtype)
        if kw.get("latency_ms") is None:
            kw["latency_ms"] = V1_LATENCY_MS
        engine = Engine(generator=gen, seed=seed, style=load_style(weights, sync=style_sync), **kw)
        engine.source = f"{checkpoint} (codec from {gen.codec_source})"
        return engine  # no CUDA graph for v1 chunks
    if codec:
        raise UserError("--codec is for Magenta RT v1 (the MRT2 checkpoint holds its own codec)")
    if size:
        from mrtd.weights.find import find_checkpoint

        checkpoint = str(find_checkpoint(size, weights))
    if demo:
        from mrtd.engine.demo import build_demo, build_demo_encoder, build_random_demo

        if demo == "random":
            model, dec = build_random_demo(device=dev, dtype=lm_dtype)
        else:
            model, dec = build_demo(device=dev, dtype=lm_dtype)
            if not encoder:
                kw["encoder"] = build_demo_encoder(dev)
        if codec_dtype != torch.float32:
            from mrtd.model.mrt2.codec_decoder import place

            place(dec, dev, codec_dtype)
    elif checkpoint:
        from mrtd.model.mrt2.codec_decoder import load_decoder
        from mrtd.model.mrt2.config import MRT2Config
        from mrtd.model.mrt2.depthformer import load_depthformer
        from mrtd.weights.check import check_file

        if Path(checkpoint).is_dir():
            raise UserError(f"checkpoint {checkpoint} is a folder; give the .safetensors file")
        if not Path(checkpoint).is_file():
            raise UserError(f"checkpoint not found: {checkpoint}")
        problem = check_file(checkpoint)
        if problem:
            raise UserError(f"checkpoint {checkpoint}: {problem}")
        cfg = MRT2Config.from_manifest(config) if config else None
        from mrtd.model.mrt2.framestep import best_codec_layout, set_codec_layout

        model = load_depthformer(checkpoint, cfg, device=dev, dtype=lm_dtype)  # in its best_layout
        if config:
            from mrtd.model.mrt2.config import sampling_defaults

            model.sampling_defaults = sampling_defaults(config)
        dec = load_decoder(checkpoint, cfg.codec if cfg else None, device=dev, dtype=codec_dtype)
        set_codec_layout(dec, best_codec_layout(dev, codec_dtype))
        kw["encoder"] = _find_encoder(checkpoint, encoder, dev, codec_dtype)
    else:
        raise UserError("give --checkpoint CKPT, --size NAME or --demo")
    if quant:
        from mrtd.model.mrt2.quant import quantize_lm

        quantize_lm(model, quant)
    if demo and encoder:
        raise UserError("--encoder needs --checkpoint (the demo models bring their own: --demo has one, "
                        "--demo-random none)")
    if two_stage:
        from mrtd.engine.two_stage import TwoStageMRT2Generator, split_threads

        lm_threads, codec_threads = split_threads(threads or torch.get_num_threads())
        kw["generator"] = TwoStageMRT2Generator(model, dec, seed=seed, encoder=kw.pop("encoder", None),
                                                lm_threads=lm_threads, codec_threads=codec_threads)
    engine = Engine(model, dec, seed=seed, style=load_style(weights, sync=style_sync), **kw)
    engine.source = checkpoint or "the embedded demo"
    if compile:
        compile_generator(engine.generator)
    if graph and dev.type == "cuda":
        engine.capture()  # falls back to eager with a logged warning
    return engine


DTYPES = ("auto", "float32", "bfloat16", "int8", "int4")  # as mrtd.cli.options offers them
QUANT_DTYPES = ("int8", "int4")  # weight-only language model on the CPU, bfloat16 activations


def load_voices(n: int, checkpoint: str | None, config: str | None, demo: bool, seed: int,
                encoder: str | None = None, *, per_voice=None, style_sync: bool = False, **kw) -> list[Engine]:
    """``n`` voices (engines) on one batched step of one loaded MRT2 model (:mod:`.voices`):
    voice k's seed is ``seed + k - 1``; ``per_voice(k)`` gives its own engine keywords
    (event log, bank folder). The model, codec, encoder and MusicCoCa are loaded once."""
    from mrtd.engine.voices import voice_engines

    if _is_v1(checkpoint, kw.get("size")):
        raise UserError("--voices needs an MRT2 model: Magenta RT v1 makes 2 s chunks one stream at a time")
    graph = kw.pop("graph", True)
    if kw.pop("two_stage", False):
        raise UserError("--two-stage works with one voice (the voices share one batched step)")
    if kw.pop("compile", False):
        raise UserError("--compile works with one voice for now (the voices' batched step runs eager)")
    first = load_engine(checkpoint, config, demo, seed, encoder, style_sync=style_sync, graph=False, **kw)
    engine_kw = {k: kw[k] for k in ("latency_ms", "files", "bank_dir") if kw.get(k) is not None}
    engines = voice_engines(first.model, first.decoder, [seed + k for k in range(n)], encoder=first.encoder,
                            per_voice=per_voice, style=first.style, **engine_kw)
    for e in engines:
        e.source = first.source
    if graph and first.device.type == "cuda":
        engines[0].capture()  # the batch's graph, for every voice (eager, with a warning, if it fails)
    return engines


def compile_generator(gen) -> None:
    """``torch.compile`` an MRT2 generator's language-model stages on this thread, with the
    thread count its steps will run with (Inductor's CPU kernels are made for it)."""
    import os

    import torch

    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(Path.home() / ".cache" / "mrtd" / "inductor"))
    lm_threads = getattr(gen, "lm_threads", None)
    if lm_threads:
        torch.set_num_threads(lm_threads)
    gen.fs.compile()


def quant_mode(dtype: str | None) -> str | None:
    """``int8`` / ``int4`` when ``--dtype`` asks for weight-only quantised language-model
    weights (:func:`mrtd.model.mrt2.quant.quantize_lm`), else None."""
    return dtype if dtype in QUANT_DTYPES else None


V1_LATENCY_MS = 2000.0  # v1's default latency budget: the queue plays while a 2 s chunk is made


def is_v1_source(checkpoint: str | None, size: str | None) -> bool:
    """True when ``--size`` / ``--checkpoint`` name a Magenta RT v1 model."""
    return _is_v1(checkpoint, size)


def _is_v1(checkpoint: str | None, size: str | None) -> bool:
    if size:
        return size.startswith("v1_")
    if not checkpoint:
        return False
    from mrtd.model.v1.checkpoint import is_v1_checkpoint

    return is_v1_checkpoint(checkpoint)


def _load_v1(checkpoint: str | None, config: str | None, codec: str | None, encoder: str | None,
             weights: str | None, seed: int, dev, lm_dtype):
    """A :class:`~mrtd.engine.v1.V1Generator`: the v1 LLM, MRT2's SpectroStream decoder
    (``codec`` or the first MRT2 checkpoint found) and, when found, its encoder."""
    import torch

    from mrtd.engine.v1 import V1Generator
    from mrtd.model.mrt2.codec_decoder import load_decoder
    from mrtd.model.mrt2.framestep import best_codec_layout, set_codec_layout
    from mrtd.model.v1.checkpoint import load_v1
    from mrtd.model.v1.config import V1Config
    from mrtd.weights.check import check_file
    from mrtd.weights.v1 import find_v1_codec

    if not checkpoint or not Path(checkpoint).exists():
        raise UserError(f"checkpoint not found: {checkpoint}")
    if codec is None:
        beside = [Path(checkpoint).resolve().parent / f"{n}.safetensors" for n in ("mrt2_small", "mrt2_base")]
        found = next((p for p in beside if p.is_file() and check_file(p) is None), None) or find_v1_codec(weights)
        if found is None:
            raise UserError("Magenta RT v1 decodes with the SpectroStream codec of an MRT2 checkpoint and none "
                            "was found: give --codec FILE (an mrt2_small/mrt2_base .safetensors) or get one with "
                            "'mrtd weights download --size mrt2_small'")
        codec = str(found)
    if not Path(codec).is_file():
        raise UserError(f"codec file not found: {codec} (an MRT2 .safetensors holding params/soundstream/*)")
    problem = check_file(codec)
    if problem:
        raise UserError(f"codec {codec}: {problem}")
    model = load_v1(checkpoint, V1Config.from_json(config) if config else None, device=dev, dtype=lm_dtype)
    dec = load_decoder(codec, device=dev, dtype=torch.float32)
    set_codec_layout(dec, best_codec_layout(dev, torch.float32))
    gen = V1Generator(model, dec, seed=seed, encoder=_find_encoder(codec, encoder, dev, torch.float32))
    gen.codec_source = codec
    return gen


def resolve_device(device: str | None, dtype: str | None = "auto"):
    """(torch.device, torch.dtype) for ``--device`` / ``--dtype``; a CUDA device that this
    machine or this torch build does not have is a UserError saying why. ``int8``/``int4``
    (CPU only) give bfloat16, their activation dtype; :func:`quant_mode` tells them apart."""
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
    if name in QUANT_DTYPES:
        if dev.type != "cpu":
            raise UserError(f"--dtype {name} (weight-only quantised language model) runs on the CPU only; "
                            "on CUDA use bfloat16")
        name = "bfloat16"  # the packed int8/int4 kernels take bfloat16 activations
    if name == "auto":
        name = "bfloat16" if dev.type == "cuda" else "float32"
    if name not in ("float32", "bfloat16"):
        raise UserError(f"--dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    return dev, getattr(torch, name)


def load_style(weights: str | None, *, sync: bool = False):
    """The prompt-slot encoder: MusicCoCa from the files found (``--weights``,
    MRTD_WEIGHTS, the Hugging Face cache, the official folder), or none."""
    from mrtd.controls.style import StyleEncoder
    from mrtd.weights.find import find_musiccoca

    where = ("Get them with 'mrtd weights download' or put the official resources/musiccoca/ files "
             "in a folder given by --weights DIR; 'mrtd weights list' shows what is found.")
    found = find_musiccoca(weights)
    if found is None:
        return StyleEncoder(None, sync=sync, where=where)
    from mrtd.model.musiccoca import MusicCoCa

    return StyleEncoder(MusicCoCa(found), sync=sync, where=where)


def _find_encoder(checkpoint: str, explicit: str | None, device=None, dtype=None):
    from mrtd.model.mrt2.checkpoint import CheckpointError
    from mrtd.model.mrt2.codec_encoder import find_encoder_file, load_encoder

    try:
        path = find_encoder_file(checkpoint, explicit)
    except CheckpointError:
        if explicit:
            raise
        return None
    kw = {} if device is None else {"device": device, "dtype": dtype}
    return load_encoder(path, checkpoint, **kw)

"""``mrtd bench`` for Magenta RT v1: what one 2 s chunk costs.

A chunk is the official decode of 800 tokens (50 frames x 16 levels) for a batch of 2
(guidance), timed as :func:`mrtd.model.v1.decode.generate` runs it: the encoder over the
1006 context + style tokens once, then 800 sequential steps (temporal stack once per
frame, depth stack every step, the sampler on the host). Then the SpectroStream decode of
its 51 frames, as :meth:`mrtd.model.v1.system.V1System.decode` does it. Real time means a
chunk (tokens + audio) made in under 2 s: RTF = 2 s / chunk time. v1 plays a chunk only
once it is whole, so its latency is at least 2 s plus the chunk time, whatever the RTF.

Models: ``--size v1_base | v1_large`` (the official shapes) or ``--config CONFIG.json``
(an oracle config's ``dims``) with random weights in the official layout
(``random_params``; speed does not depend on the values), or ``--checkpoint`` (a v1
folder or ``.tar``). The codec is random weights of MRT2's codec shapes, or ``--codec``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from mrtd.errors import UserError

CHUNK_SECONDS = 2.0


def is_v1_bench(args: argparse.Namespace) -> bool:
    """A v1 size, a v1 checkpoint (folder of target.* arrays or .tar), or a v1 config.json."""
    if (args.size or "").startswith("v1_"):
        return True
    if args.checkpoint:
        p = Path(args.checkpoint)
        if p.suffix == ".tar":
            return True
        try:
            return p.is_dir() and any(c.name.startswith("target.") for c in p.iterdir())
        except OSError:
            return False
    if args.manifest:
        try:
            return "dims" in json.loads(Path(args.manifest).read_text())
        except (OSError, ValueError, TypeError):
            return False
    return False


def build_model(args, dtype, device):
    """(V1Model, description): a checkpoint, or random weights of a size / config."""
    from mrtd.model.v1.checkpoint import load_v1, params_to_model, random_params
    from mrtd.model.v1.config import SIZES, V1Config
    from mrtd.model.v1.model import V1Model

    cfg = V1Config.from_json(args.manifest) if args.manifest else None
    if args.checkpoint:
        if not Path(args.checkpoint).exists():
            raise UserError(f"checkpoint not found: {args.checkpoint}")
        model = load_v1(args.checkpoint, cfg, device=device, dtype=dtype)
        return model, f"checkpoint {args.checkpoint} ({model.cfg.name})"
    if cfg is None:
        cfg = SIZES[args.size]
    params = random_params(cfg, args.seed)
    model = params_to_model(V1Model(cfg, dtype), params).to(device).eval()
    del params
    what = args.size if not args.manifest else f"{Path(args.manifest).name} dims"
    return model, f"{what} shapes ({cfg.name}), random weights (seed {args.seed})"


def build_codec(args, device):
    """(SpectroStream decoder, description): ``--codec`` or random weights of MRT2's codec,
    in the weight layout the engine uses for the device (``best_codec_layout``)."""
    import torch

    from mrtd.model.mrt2.framestep import best_codec_layout, set_codec_layout

    dec, what = _codec(args, device)
    return set_codec_layout(dec, best_codec_layout(device, torch.float32)), what


def _codec(args, device):
    import torch

    from mrtd.model.mrt2.codec_decoder import SpectroStreamDecoder, load_decoder

    codec = getattr(args, "codec", None)
    if codec:
        if not Path(codec).is_file():
            raise UserError(f"codec file not found: {codec}")
        return load_decoder(codec, device=device), f"codec {codec}"
    from mrtd.engine.demo import _fill_codec
    from mrtd.model.mrt2.config import CONFIGS

    g = torch.Generator().manual_seed(args.seed)
    with torch.no_grad():
        dec = SpectroStreamDecoder(CONFIGS["mrt2_small"].codec)
        _fill_codec(dec, g)
    return dec.to(device).eval(), "SpectroStream decoder shapes (MRT2), random weights"


def _ms(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "ms_mean": round(statistics.fmean(values), 3), "ms_min": round(min(values), 3),
            "ms_max": round(max(values), 3)}


def parity_v1(dtype, device) -> dict[str, Any]:
    """The tiny official reference (tests/fixtures/v1) through this run's dtype and device:
    encoder and teacher-forced logits of the ``partial`` case (the ``mrtd verify`` checks
    and tolerances; bfloat16 gets figures without a verdict)."""
    import numpy as np
    import torch

    from mrtd.devtools.bench import FIXTURES
    from mrtd.devtools.verify_v1 import CaseRunner, settings
    from mrtd.model.v1.checkpoint import load_v1

    fix = FIXTURES / "v1"
    name = "ref_bf16.npz" if dtype == torch.bfloat16 else "ref_fp32.npz"
    if not ((fix / "checkpoint").is_dir() and (fix / name).is_file()):
        return {"checked": False, "reason": f"fixtures not found under {fix}"}
    with np.load(fix / name) as z:
        ref = {k: z[k] for k in z.files}
    model = load_v1(fix / "checkpoint", device=device, dtype=dtype)
    run = CaseRunner(model, ref, device, dtype == torch.float32, settings(str(fix / "config.json")))
    enc, tf = run.encoder("partial"), run.teacher_forced("partial")
    verdicts = [v for v in (enc.get("pass"), tf.get("pass")) if v is not None]
    return {"checked": True, "reference": name, "encoder_max_abs": enc.get("max_abs"),
            "logits_first32_max_abs": tf.get("first32_max_abs"), "tolerance": tf.get("tolerance"),
            "pass": all(verdicts) if verdicts else None}


def run_bench_v1(args: argparse.Namespace) -> int:
    t_start = time.perf_counter()
    import numpy as np
    import torch

    from mrtd.devtools.bench import _env_extra, _Log, peak_memory
    from mrtd.devtools.bench_env import environment, write_result
    from mrtd.model.v1 import rng
    from mrtd.model.v1.decode import generate
    from mrtd.model.v1.system import V1System, encoder_input, llm_to_rvq

    if args.checkpoint and args.size not in ("demo", None) and not args.size.startswith("v1_"):
        raise UserError("give --size or --checkpoint, not both")
    if args.checkpoint and (args.size or "").startswith("v1_"):
        raise UserError("give --size or --checkpoint, not both")
    for flag, on in (("--int8", args.int8), ("--compile", args.compile), ("--latency", args.latency),
                     ("--streams", args.streams != 1)):
        if on:
            raise UserError(f"{flag} is for MRT2; Magenta RT v1's bench times one 2 s chunk")
    try:
        device = torch.device(args.device)
    except RuntimeError as e:
        raise UserError(f"bad --device {args.device!r}: {e}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"--device {args.device}: CUDA is not available in this torch install")
    if args.threads:
        torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    chunks = args.chunks if args.chunks is not None else 1
    real_size = not args.manifest or args.checkpoint
    warmup = args.warmup if args.warmup is not None else (0 if real_size and device.type == "cpu" else 1)
    if chunks < 1 or warmup < 0:
        raise UserError("--chunks must be >= 1 and --warmup >= 0")
    log = _Log()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    t = time.perf_counter()
    model, what = build_model(args, dtype, device)
    dec, codec_what = build_codec(args, device)
    build_s = time.perf_counter() - t
    cfg = model.cfg
    log.info(f"{what}: built in {build_s:.1f} s; {warmup} warm-up + {chunks} timed chunk(s) of "
             f"{cfg.decoder_len} steps")

    r = np.random.default_rng(args.seed)
    enc_np = encoder_input(r.integers(0, 1024, (cfg.context_frames, cfg.levels)),
                           r.integers(0, 1024, cfg.style_tokens))
    enc = torch.from_numpy(enc_np.astype(np.int64)).to(device)
    system = V1System(model, dec)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    enc_ms, chunk_ms, steps, codec_ms, first_chunk_s = [], [], [], [], None
    with torch.inference_mode():
        model.start(enc)  # untimed: the first call's allocations are not the encoder's cost
        sync()
        for i in range(warmup + chunks):
            timed = i >= warmup
            sync()
            t0 = time.perf_counter()
            model.start(enc)
            sync()
            e = 1000 * (time.perf_counter() - t0)
            t0 = time.perf_counter()
            toks = generate(model, enc, max_steps=cfg.decoder_len, key=rng.prng_key(args.seed + i))
            sync()
            c = 1000 * (time.perf_counter() - t0)
            eos = np.flatnonzero(toks[0] == 1)
            n_steps = int(eos[0]) + 1 if eos.size else cfg.decoder_len
            codes = np.concatenate([np.zeros((1, cfg.levels), np.int32),
                                    llm_to_rvq(toks[0]).reshape(cfg.chunk_frames, cfg.levels)])
            t0 = time.perf_counter()
            system.decode(codes)
            sync()
            k = 1000 * (time.perf_counter() - t0)
            if first_chunk_s is None:
                first_chunk_s = time.perf_counter() - t_start
            if timed:
                enc_ms.append(e)
                chunk_ms.append(c)
                steps.append(n_steps)
                codec_ms.append(k)
            log.info(f"chunk {i + 1}/{warmup + chunks}{'' if timed else ' (warm-up)'}: encoder {e:.0f} ms, "
                     f"chunk {c:.0f} ms ({n_steps} steps), codec {k:.0f} ms")
    mem = peak_memory(device)
    encoder_mean = statistics.fmean(enc_ms)
    per_step = [(c - encoder_mean) / n for c, n in zip(chunk_ms, steps)]
    step_ms = statistics.fmean(per_step)
    # a row that samples EOS (id 1) early stops: the chunk time at 800 steps is projected
    chunk_800 = encoder_mean + step_ms * cfg.decoder_len
    codec_mean = statistics.fmean(codec_ms)
    gate: dict[str, Any] = {"checked": False, "reason": "--no-parity"}
    if args.parity:
        gate = parity_v1(dtype, device)
        if gate.get("pass") is False:
            log.warn("PARITY FAILED for this configuration: its speed does not count")
    env = environment(str(device), args.dtype)
    env.update(_env_extra(torch, device))
    result: dict[str, Any] = {
        "benchmark": "mrtd bench (Magenta RT v1)",
        "command": "mrtd " + " ".join(shlex.quote(a) for a in getattr(args, "argv", None) or sys.argv[1:]),
        "family": "v1",
        "model": what, "codec_model": codec_what, "config_name": cfg.name,
        "config": {k: getattr(cfg, k) for k in ("d_model", "num_heads", "head_dim", "mlp_dim", "encoder_layers",
                                                 "temporal_layers", "depth_layers", "vocab")},
        "params": {"language_model": sum(p.numel() for p in model.parameters()),
                   "codec": sum(p.numel() for p in dec.parameters())},
        "setup": {"size": None if args.checkpoint or args.manifest else args.size, "device": str(device),
                  "dtype": args.dtype, "batch": 2, "chunks": chunks, "warmup": warmup,
                  "threads": torch.get_num_threads(), "seed": args.seed,
                  "sampling": {"guidance": 5.0, "temperature": 1.1, "top_k": 40}},
        "parity": gate,
        "encoder": _ms(enc_ms),
        "chunk": _ms(chunk_ms) | {"steps": steps, "ms_at_800_steps": round(chunk_800, 3),
                                  "note": "tokens: encoder + 800 decode steps + sampling (generate)"},
        "decode": {"ms_mean": round(chunk_800 - encoder_mean, 3), "per_step_ms": round(step_ms, 4)},
        "codec": _ms(codec_ms) | {"frames": cfg.chunk_frames + 1},
        "rtf": {"tokens": round(1000 * CHUNK_SECONDS / chunk_800, 4),
                "tokens_and_audio": round(1000 * CHUNK_SECONDS / (chunk_800 + codec_mean), 4),
                "note": "2 s of audio / time to make it; real time needs >= 1"},
        "latency": {"min_s": round(CHUNK_SECONDS + (chunk_800 + codec_mean) / 1000, 3),
                    "note": "a chunk plays once whole: at least 2 s of audio + its making, by design"},
        "time_to_first_audio": {"build_s": round(build_s, 3),
                                "first_chunk_from_start_s": round(first_chunk_s or 0.0, 3)},
        "memory": mem,
        "env": env,
    }
    rt = result["rtf"]
    log.info(f"[bold]{cfg.name}[/] {device} {args.dtype}: chunk {chunk_800 / 1000:.2f} s (encoder "
             f"{encoder_mean:.0f} ms + {cfg.decoder_len} steps x {step_ms:.2f} ms), codec {codec_mean:.0f} ms; "
             f"RTF {rt['tokens_and_audio']:.3f}x (tokens only {rt['tokens']:.3f}x); "
             f"latency >= {result['latency']['min_s']:.1f} s; peak memory {mem['mib']:.0f} MiB")
    if gate.get("checked"):
        log.info(f"parity (tiny official reference): {gate['pass']} (encoder {gate['encoder_max_abs']:.1e}, "
                 f"logits {gate['logits_first32_max_abs']:.1e})")
    if args.json:
        write_result(args.json, result, log)
    return 0

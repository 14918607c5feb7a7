"""Issue 17's two-stage question, measured before it is built into the engine: how fast
is a frame when the language model (noise, temporal, depth) of frame F+1 runs on one
core while the codec of frame F runs on the other, each with its own torch intra-op
thread count, handing tokens over through a queue of one?

Runs on random weights of a real size (``--size mrt2_small``), the same FrameStep the
engine uses: first sequential with 1 and 2 threads (today's step), then two stages with
``--lm-threads`` and ``--codec-threads``; checks the two-stage tokens and audio are
bit-identical to the sequential step with the same thread counts; writes JSON with the
environment.

    python benchmarks/two_stage.py --size mrt2_small --dtype bfloat16 --codec-dtype bfloat16 \\
        --frames 60 --json benchmarks/results/two_stage_small_bf16.json
"""

from __future__ import annotations

import argparse
import json
import queue
import statistics
import threading
import time
from types import SimpleNamespace

import numpy as np
import torch

from mrtd.devtools.bench import build_models, stream_conds
from mrtd.devtools.bench_env import environment
from mrtd.model.mrt2.framestep import FrameStep
from mrtd.model.mrt2.rvq import ids_to_codes


def sequential(fs: FrameStep, frames: int, threads: int) -> tuple[float, list, list]:
    torch.set_num_threads(threads)
    toks, audio = [], []
    with torch.inference_mode():
        for _ in range(8):
            fs.run()
        t0 = time.perf_counter()
        for _ in range(frames):
            out = fs.run()
            toks.append(out.tokens.clone())
            audio.append(out.audio.clone())
        dt = time.perf_counter() - t0
    return dt / frames, toks, audio


def two_stage(fs: FrameStep, frames: int, lm_threads: int, codec_threads: int) -> tuple[float, list, list]:
    """LM on this thread, codec on a worker; frame F's codec overlaps frame F+1's LM."""
    todo: queue.Queue = queue.Queue(maxsize=1)
    done: queue.Queue = queue.Queue(maxsize=1)
    dec = fs.decoder

    def codec_worker() -> None:
        torch.set_num_threads(codec_threads)
        with torch.inference_mode():
            while True:
                tok = todo.get()
                if tok is None:
                    return
                a, _ = dec.step(ids_to_codes(tok), fs.dec_state)
                done.put(a.clone())

    w = threading.Thread(target=codec_worker, daemon=True)
    w.start()
    torch.set_num_threads(lm_threads)
    toks, audio = [], []
    with torch.inference_mode():
        def lm() -> torch.Tensor:
            fs._draw_noise()
            fs._temporal()
            fs._depth()
            return fs.tokens.clone()
        for _ in range(8):  # warm-up, through the same pipeline
            todo.put(lm())
            done.get()
        first = lm()
        todo.put(first)
        t0 = time.perf_counter()
        pending = first
        for i in range(frames):
            nxt = lm() if i < frames - 1 else None  # overlaps the codec of ``pending``
            a = done.get()
            toks.append(pending)
            audio.append(a)
            if nxt is not None:
                todo.put(nxt)
                pending = nxt
        dt = time.perf_counter() - t0
    todo.put(None)
    w.join()
    return dt / frames, toks, audio


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="mrt2_small")
    ap.add_argument("--dtype", default="bfloat16", choices=("float32", "bfloat16", "int8", "int4"))
    ap.add_argument("--codec-dtype", default="bfloat16", choices=("float32", "bfloat16"))
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--lm-threads", type=int, default=1)
    ap.add_argument("--codec-threads", type=int, default=1)
    ap.add_argument("--json")
    a = ap.parse_args()
    quant = a.dtype if a.dtype in ("int8", "int4") else None
    dtype = torch.bfloat16 if a.dtype != "float32" else torch.float32
    codec_dtype = getattr(torch, a.codec_dtype)
    args = SimpleNamespace(size=a.size, checkpoint=None, manifest=None, seed=0, layout="auto",
                           codec_layout="auto", streams=1)
    model, dec, what = build_models(args, dtype, codec_dtype, torch.device("cpu"))
    if quant:
        from mrtd.model.mrt2.quant import quantize_lm

        quantize_lm(model, quant)

    def fresh() -> FrameStep:
        fs = FrameStep(model, dec, 1, seeds=[0])
        fs.set_controls(cond=stream_conds(model.cfg, 1, 0))
        return fs

    res: dict = {"model": what, "dtype": a.dtype, "codec_dtype": a.codec_dtype, "frames": a.frames}
    for t in (1, 2):
        s, _, _ = sequential(fresh(), a.frames, t)
        res[f"sequential_{t}_threads"] = {"ms": round(1000 * s, 2), "rtf": round(0.04 / s, 4)}
        print(f"sequential, {t} thread(s): {1000 * s:.1f} ms/frame = {0.04 / s:.3f}x real time", flush=True)
    fs = fresh()
    snap = fs.snapshot()
    p, toks, audio = two_stage(fs, a.frames, a.lm_threads, a.codec_threads)
    print(f"two stages (LM {a.lm_threads} thread, codec {a.codec_threads}): {1000 * p:.1f} ms/frame = "
          f"{0.04 / p:.3f}x real time", flush=True)
    # the same frames sequentially with the LM's thread count: bit for bit?
    fs.restore(snap)
    torch.set_num_threads(a.lm_threads)
    with torch.inference_mode():
        for _ in range(8):
            fs.run()
        ref = [(fs.run().tokens.clone(), fs.audio.clone()) for _ in range(a.frames)]
    same_tokens = all(torch.equal(x, r[0]) for x, r in zip(toks, ref))
    diff = max(float((x - r[1]).abs().max()) for x, r in zip(audio, ref))
    res["two_stage"] = {"lm_threads": a.lm_threads, "codec_threads": a.codec_threads, "ms": round(1000 * p, 2),
                        "rtf": round(0.04 / p, 4), "tokens_equal_sequential": same_tokens,
                        "audio_max_abs_vs_sequential": diff}
    print(f"tokens equal to the sequential step: {same_tokens}; audio max abs difference {diff:.3g}")
    res["environment"] = environment("cpu", a.dtype)
    res["command"] = "python benchmarks/two_stage.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(a).items() if k != "json" and v is not None)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()

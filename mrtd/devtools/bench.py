"""``mrtd bench``: frames/s, real-time factor, frame-time tail, time to first audio,
peak memory and control-to-audio latency of the whole-frame step; JSON with the
environment.

The frame is :class:`mrtd.model.mrt2.framestep.FrameStep` (temporal + 12 depth levels +
sampler + 1-frame codec decode over static buffers; a CUDA graph on the GPU), for
``--streams`` independent streams in one batched step, each with its own conditioning
and seed. Every timed frame includes drawing the noise on the host and fetching the
tokens and audio back to the host (the synchronisation a daemon really does).
Real time = 25 frames/s per stream (one frame = 40 ms = 1920 stereo samples at 48 kHz).

Models: ``demo`` (the embedded trained demo, its package weights), ``demo_random`` (the
untrained random demo), ``mrt2_tiny`` (the test fixture's tiny dimensions),
``mrt2_small`` / ``mrt2_base`` (the official shapes); all but ``demo`` are built in memory
with random weights from ``--seed`` (speed does not depend on the values); or
``--checkpoint CKPT`` for real weights. Before its speed counts, the configuration's
parity is checked on the tiny official reference when the repository's fixtures are
present (same dtype/device/options as the run).

Magenta RT v1 (``--size v1_base|v1_large``, a v1 ``--checkpoint`` folder/.tar, or a v1
``--config CONFIG.json``) is timed per 2 s chunk instead: :mod:`mrtd.devtools.bench_v1`.

Control latency (``--latency``) is the paired-seed method on the real
:class:`mrtd.engine.engine.Engine`: the same seed twice, once with a control posted when
the output stream is at sample P; latency = first differing output sample - P.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mrtd.constants import FRAME, FRAME_RATE, SAMPLE_RATE
from mrtd.errors import UserError

if TYPE_CHECKING:  # the CLI imports this module for its parser: keep torch out of --help
    import numpy as np

SIZES = ("demo", "demo_random", "mrt2_tiny", "mrt2_small", "mrt2_base", "v1_base", "v1_large")
DEFAULT_CONTROL = "/mrtd/prompt/1/tokens " + " ".join(str(t) for t in range(100, 112))
FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"
_DTYPES = ("float32", "bfloat16")
# timed frames by size when --frames is not given: (cpu, cuda)
_FRAMES = {"demo": (250, 2000), "demo_random": (250, 2000), "mrt2_tiny": (250, 2000), "mrt2_small": (40, 1000),
           "mrt2_base": (10, 300)}


# ---- command line ----------------------------------------------------------------------
# ---- models ------------------------------------------------------------------------------
def random_models(cfg, seed: int, dtype, codec_dtype, device, layout: str = "row"):
    """Depthformer + codec decoder of ``cfg``'s shapes with weights drawn from ``seed``
    (the demo's recipe: with the demo config and seed this is the demo model), projection
    matrices in ``layout`` (see ``Depthformer.set_weight_layout``)."""
    from mrtd.engine.demo import random_models
    from mrtd.model.mrt2.codec_decoder import place

    model, dec = random_models(cfg, seed, dtype)
    model = model.to(device).eval().requires_grad_(False).set_weight_layout(layout)
    return model, place(dec, device, codec_dtype)


def build_models(args, dtype, codec_dtype, device):
    """(model, decoder, description) for the command line's model choice, projection
    matrices and codec weights in the layouts the options ask for (auto: the faster)."""
    from mrtd.model.mrt2.framestep import set_codec_layout

    layout, codec_layout = layouts(args, device, dtype, codec_dtype)
    model, dec, what = _build(args, dtype, codec_dtype, device, layout)
    return model, set_codec_layout(dec, codec_layout), what


def layouts(args, device, dtype, codec_dtype) -> tuple[str, str]:
    """(LM weight layout, codec weight layout) of this run: the options, auto resolved."""
    from mrtd.model.mrt2.depthformer import Depthformer
    from mrtd.model.mrt2.framestep import best_codec_layout

    lm = args.layout if args.layout != "auto" else Depthformer.best_layout(device, dtype, args.streams)
    codec = args.codec_layout if args.codec_layout != "auto" else best_codec_layout(device, codec_dtype)
    return lm, codec


def _build(args, dtype, codec_dtype, device, layout):
    from dataclasses import replace

    from mrtd.engine.demo import DEMO_FILE, DEMO_MANIFEST, DEMO_SEED, RANDOM_DEMO_CONFIG
    from mrtd.model.mrt2.config import CONFIGS

    if args.size == "demo" and not args.checkpoint:  # the trained demo: its package files
        demo = argparse.Namespace(**{**vars(args), "checkpoint": str(DEMO_FILE), "manifest": str(DEMO_MANIFEST)})
        model, dec, _ = _build(demo, dtype, codec_dtype, device, layout)
        return model, dec, "demo (trained on synthetic notes, the package's weights)"
    if args.checkpoint:
        from mrtd.model.mrt2.codec_decoder import load_decoder
        from mrtd.model.mrt2.config import MRT2Config
        from mrtd.model.mrt2.depthformer import load_depthformer

        if not Path(args.checkpoint).is_file():
            raise UserError(f"checkpoint not found: {args.checkpoint}")
        cfg = MRT2Config.from_manifest(args.manifest) if args.manifest else None
        model = load_depthformer(args.checkpoint, cfg, device=device, dtype=dtype).set_weight_layout(layout)
        dec = load_decoder(args.checkpoint, cfg.codec if cfg else None, device=device, dtype=codec_dtype)
        return model, dec, f"checkpoint {args.checkpoint} ({model.cfg.name})"
    if args.size == "demo_random":
        return (*random_models(RANDOM_DEMO_CONFIG, DEMO_SEED, dtype, codec_dtype, device, layout),
                "demo_random (untrained, mrt2_tiny dims, demo seed)")
    cfg = replace(RANDOM_DEMO_CONFIG, name="mrt2_tiny") if args.size == "mrt2_tiny" else CONFIGS[args.size]
    return (*random_models(cfg, args.seed, dtype, codec_dtype, device, layout),
            f"{args.size} shapes, random weights (seed {args.seed})")


def stream_conds(cfg, streams: int, seed: int) -> np.ndarray:
    """One conditioning vector per stream: distinct style tokens, default notes/guidance."""
    import numpy as np

    from mrtd.model.mrt2.conditioning import build_cond

    rng = np.random.default_rng(seed)
    return np.stack([build_cond(rng.integers(0, 1024, cfg.style_channels)) for _ in range(streams)])


# ---- statistics ----------------------------------------------------------------------------
def summary(ms, streams: int = 1) -> dict[str, float]:
    """Frame-time figures (ms) and the rates they imply; RTF = frames/s / 25 per stream."""
    import numpy as np

    a = np.asarray(ms, dtype=np.float64)
    mean = float(a.mean())
    fps = 1000.0 / mean if mean > 0 else math.inf
    return {
        "frames": int(a.size), "ms_mean": round(mean, 4), "ms_p50": round(float(np.percentile(a, 50)), 4),
        "ms_p90": round(float(np.percentile(a, 90)), 4), "ms_p99": round(float(np.percentile(a, 99)), 4),
        "ms_max": round(float(a.max()), 4), "ms_min": round(float(a.min()), 4),
        "fps": round(fps, 3), "rtf": round(fps / FRAME_RATE, 4),
        "aggregate_fps": round(fps * streams, 3), "aggregate_rtf": round(fps * streams / FRAME_RATE, 4),
    }


def peak_memory(device) -> dict[str, Any]:
    import torch

    if device.type == "cuda":
        b = torch.cuda.max_memory_allocated(device)
        return {"kind": "cuda_max_memory_allocated", "bytes": int(b), "mib": round(b / 2**20, 1),
                "reserved_mib": round(torch.cuda.max_memory_reserved(device) / 2**20, 1)}
    import resource

    b = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    return {"kind": "process_rss_peak", "bytes": int(b), "mib": round(b / 2**20, 1)}


def process_age_s() -> float | None:
    """Seconds since this process started (Linux /proc), else None."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


# ---- the frame loop ------------------------------------------------------------------------
def first_audio_ms(fs) -> float:
    """From a reset state: frames until every stream has valid audio, fetched to the host."""
    t0 = time.perf_counter()
    while True:
        out = fs.run()
        fs.fetch()
        if out.valid.all():
            return 1000.0 * (time.perf_counter() - t0)


class StageTimer:
    """Times the intervals of one frame by walking :meth:`FrameStep.stages` (the same
    frame :meth:`FrameStep.run` makes) with a mark before the first step and after each:
    ``perf_counter`` floats on the CPU, CUDA events on the GPU. The frame itself never
    times anything; this is the bench's switch for it."""

    def __init__(self, fs):
        self.fs = fs
        self.steps = fs.stages()
        self.names = [name for name, _ in self.steps]
        self.on_cuda = fs.on_cuda

    def run(self):
        """One frame; returns (FrameOutput, marks)."""
        import torch

        marks = [self._mark()]
        with torch.inference_mode():
            for _, fn in self.steps:
                fn()
                marks.append(self._mark())
        return self.fs.end_frame(), marks

    def _mark(self):
        if self.on_cuda:
            import torch

            ev = torch.cuda.Event(enable_timing=True)
            ev.record(torch.cuda.current_stream(self.fs.device))
            return ev
        return time.perf_counter()

    @staticmethod
    def ms(marks: list) -> list[float]:
        """Durations in ms between consecutive marks (synchronises on CUDA)."""
        if marks and isinstance(marks[0], float):
            return [1000.0 * (b - a) for a, b in zip(marks, marks[1:])]
        if marks:
            marks[-1].synchronize()
        return [a.elapsed_time(b) for a, b in zip(marks, marks[1:])]


def timed_frames(fs, n: int, stages: bool, governor: Any = None) -> tuple[list[float], dict[str, list[float]]]:
    """``n`` frames, each timed from the noise draw to the tokens and audio on the host;
    with ``stages`` also the intervals of the frame's steps (:class:`StageTimer`); each
    frame's time fed to ``governor`` (``--adapt-threads``) after it is taken."""
    frame_ms: list[float] = []
    timer = StageTimer(fs) if stages else None
    per: dict[str, list[float]] = {k: [] for k in (timer.names if timer else fs.stage_names())}
    for _ in range(n):
        t0 = time.perf_counter()
        if timer is not None:
            _, marks = timer.run()
        else:
            fs.run()
        fs.fetch()
        frame_ms.append(1000.0 * (time.perf_counter() - t0))
        if governor is not None:
            governor.after_frame(frame_ms[-1] / 1000.0)
        if timer is not None:
            for k, v in zip(timer.names, timer.ms(marks)):
                per[k].append(v)
    return frame_ms, per


def eager_check(fs, frames: int = 6) -> dict[str, Any]:
    """The configured step (CUDA graph and/or compiled stages) vs the plain eager step
    from the same snapshot: tokens equal, audio max abs difference."""
    import numpy as np

    snap = fs.snapshot()
    mode = fs.mode
    fs.use("eager")
    eager = [tuple(x.copy() for x in (fs.run(), fs.fetch())[1]) for _ in range(frames)]
    fs.restore(snap)
    fs.use(mode)
    fast = [tuple(x.copy() for x in (fs.run(), fs.fetch())[1]) for _ in range(frames)]
    fs.restore(snap)
    tok_eq = all(np.array_equal(a[0], b[0]) for a, b in zip(eager, fast))
    diff = max(float(np.abs(a[1] - b[1]).max()) for a, b in zip(eager, fast))
    return {"frames": frames, "tokens_equal": bool(tok_eq), "audio_max_abs": diff, "pass": bool(tok_eq)}


# ---- parity gate ---------------------------------------------------------------------------
def parity_gate(dtype, device, int8: bool | str | None = False, layout: str = "row", codec_dtype=None,
                codec_layout: str = "default") -> dict[str, Any]:
    """The tiny official reference through this run's options (dtype, device, int8/int4
    weights, layouts, codec dtype); needs the repository's tests/fixtures. Language model:
    the ``mrtd verify`` checks and tolerances (float32 1e-4, bfloat16 0.1 on the logits;
    int8/int4 weights: teacher-forced top-1 agreement >= 99% with the float32 reference,
    logits max abs reported); ``lm_side_by_side``: bfloat16/int8/int4 against the float32
    reference, for the table (quantised runs only); codec:
    streaming decode vs the official float32 waveform (1e-5; a bfloat16 codec has no
    official reference, so its error is reported without a verdict)."""
    import numpy as np
    import torch

    from mrtd.devtools.codec_check import DECODE_TOL
    from mrtd.devtools.verify import (
        TOL_BF16,
        TOL_F32,
        TOP1_GATE,
        depthformer_report,
        quant_gate,
    )
    from mrtd.model.mrt2.codec_decoder import load_decoder
    from mrtd.model.mrt2.config import MRT2Config
    from mrtd.model.mrt2.depthformer import load_depthformer
    from mrtd.model.mrt2.framestep import set_codec_layout

    codec_dtype = codec_dtype or torch.float32
    quant = "int8" if int8 is True else (int8 or None)
    name = "bfloat16" if dtype == torch.bfloat16 and not quant else "float32"
    ckpt = FIXTURES / "mrt2_tiny.safetensors"
    ref_path = FIXTURES / f"ref_mrt2_tiny_{name}.npz"
    f32_path = FIXTURES / "ref_mrt2_tiny_float32.npz"
    if not (ckpt.is_file() and ref_path.is_file() and f32_path.is_file()):
        return {"checked": False, "reason": f"fixtures not found under {FIXTURES}"}
    cfg = MRT2Config.from_manifest(FIXTURES / "mrt2_tiny.manifest.json")
    from mrtd.model.mrt2.quant import quant_counts, quantize_lm

    model = load_depthformer(ckpt, cfg, device=device, dtype=dtype).set_weight_layout(layout)
    if quant:
        quantize_lm(model, quant)
        counts = quant_counts(model)
    with np.load(ref_path) as z:
        ref = {k: z[k] for k in z.files}
    strict = dtype == torch.float32 and not quant
    with torch.inference_mode():
        rep = depthformer_report(ref, model, device, strict, quant)
    keep = ("tf_logits_max_abs", "tf_top1_agreement", "stream_logits_max_abs", "stream_top1_agreement",
            "stream_temporal_outputs_max_abs", "greedy_tokens_match_frames", "greedy_frames_compared")
    out: dict[str, Any] = {"checked": True, "reference": ref_path.name, "tolerance": TOL_F32 if strict else TOL_BF16,
                           **{k: rep[k] for k in keep}, "lm_pass": bool(rep["depthformer_pass"])}
    if quant:
        out["tolerance"] = None
        out["top1_gate"] = TOP1_GATE
        out["quantised_matrices"] = counts  # int4 on the tiny model: none (its widths fall back to int8)
        side = {}
        for mode in ("bfloat16", "int8", "int4"):
            m = load_depthformer(ckpt, cfg, device=device, dtype=torch.bfloat16)
            if mode != "bfloat16":
                quantize_lm(m, mode)
            with torch.inference_mode():
                r = depthformer_report(ref, m, device, False, mode if mode != "bfloat16" else None)
            side[mode] = {k: r[k] for k in ("tf_top1_agreement", "tf_logits_max_abs", "stream_top1_agreement",
                                            "stream_logits_max_abs")}
        out["lm_side_by_side"] = side
        out["lm_pass"] = quant_gate(rep["tf_top1_agreement"], side["bfloat16"]["tf_top1_agreement"])
    dec = set_codec_layout(load_decoder(ckpt, device=device, dtype=codec_dtype), codec_layout)
    with np.load(f32_path) as z:
        codes, wave = torch.from_numpy(z["ss_codes"]).to(device), z["ss_waveform_step"]
    with torch.inference_mode():
        audio = dec.stream(codes)[0].float().cpu().numpy()
    err = float(np.abs(audio - wave).max())
    snr = 10 * math.log10(float((wave ** 2).mean()) / max(float(((audio - wave) ** 2).mean()), 1e-30))
    exact_codec = codec_dtype == torch.float32
    out["codec"] = {"reference": f32_path.name, "dtype": str(codec_dtype).replace("torch.", ""),
                    "max_abs": err, "snr_db": round(snr, 1), "tolerance": DECODE_TOL if exact_codec else None,
                    "pass": (err <= DECODE_TOL) if exact_codec else None}
    out["pass"] = out["lm_pass"] and out["codec"]["pass"] is not False
    return out


# ---- control latency (paired seeds) --------------------------------------------------------
def parse_control(text: str) -> tuple[str, tuple]:
    parts = shlex.split(text)
    if not parts or not parts[0].startswith("/"):
        raise UserError(f"--latency-control needs 'ADDRESS [ARGS...]', got {text!r}")

    def conv(v: str):
        for f in (int, float):
            try:
                return f(v)
            except ValueError:
                pass
        return v

    return parts[0], tuple(conv(v) for v in parts[1:])


def run_engine_output(engine, total: int, period: int, event: tuple | None = None,
                      paced: bool = False) -> tuple[np.ndarray, int | None]:
    """``total`` samples of the engine's output stream (wet L/R) as the audio side reads
    it, ``period`` samples at a time. ``event`` = (P, address, args): posted (for "the next
    frame") once the reader has consumed P samples. Returns (audio, position posted at).

    Unpaced (default): generation is pulled by the queue level before every read, as
    ``mrtd render`` does, so the result does not depend on the machine's speed. Paced:
    the engine's own thread generates while this thread reads at the wall-clock rate."""
    import numpy as np

    out = np.zeros((total, 2), np.float32)
    block = np.zeros((period, engine.output.channels), np.float32)
    posted = None
    pos = 0
    if paced:
        engine.start()
        t_fill = time.perf_counter()
        while engine.output.has_room() and time.perf_counter() - t_fill < 10.0:
            time.sleep(0.001)  # prime the queue as a live start does
        t0 = time.perf_counter()
    try:
        while pos < total:
            if event is not None and posted is None and pos >= event[0]:
                engine.post(event[1], *event[2])
                posted = pos
            n = min(period, total - pos)
            if paced:
                wait = t0 + pos / SAMPLE_RATE - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
            else:
                while engine.output.has_room():
                    engine.step_frame()
            engine.read_into(block[:n])
            out[pos:pos + n] = block[:n, :2]
            pos += n
    finally:
        if paced:
            engine.stop()
    return out, posted


def first_difference(a: np.ndarray, b: np.ndarray) -> int | None:
    """Index of the first sample (row) where two streams differ, None if identical."""
    import numpy as np

    n = min(len(a), len(b))
    rows = np.flatnonzero(np.any(a[:n] != b[:n], axis=1))
    return int(rows[0]) if rows.size else None


def paired_seed_latency(make_engine, address: str, args: tuple, *, trials: int = 5, start_s: float = 0.4,
                        period: int = 256, paced: bool = False) -> dict[str, Any]:
    """Control-to-audio latency by paired seeds on the real Engine.

    ``make_engine()`` returns a fresh engine (same model, same seed) each call. One baseline
    run, then one run per trial with ``address args`` posted when the output stream is at
    P_i (spread over the 40 ms frame grid); latency_i = (first differing sample - P_i) / 48 kHz.
    A trial whose output never differs is reported as "no difference" (latency None)."""
    import numpy as np

    make_engine().post(address, *args)  # a bad control is a UserError now, not a silent "no difference"
    probe = make_engine()
    budget = probe.output.budget
    start = int(round(start_s * SAMPLE_RATE / period)) * period
    step = 2 * FRAME
    posts = [start + i * step + (int(round(i * FRAME / max(1, trials) / period)) * period) for i in range(trials)]
    total = posts[-1] + budget + 6 * FRAME + period
    t0 = time.perf_counter()
    base, _ = run_engine_output(probe, total, period, None, paced)
    base_underruns = probe.output.underruns
    rows = []
    for p in posts:
        e = make_engine()
        audio, posted = run_engine_output(e, total, period, (p, address, args), paced)
        d = first_difference(base, audio)
        applied = [ev.frame for ev in e.applied if ev.address == address]
        rows.append({
            "post_at_sample": posted, "applied_at_frame": applied[0] if applied else None,
            "first_diff_sample": d,
            "latency_ms": None if d is None else round(1000.0 * (d - posted) / SAMPLE_RATE, 3),
            "underruns": e.output.underruns,
        })
    lat = [r["latency_ms"] for r in rows if r["latency_ms"] is not None]
    res: dict[str, Any] = {
        "method": "paired-seed", "engine": "mrtd.engine.engine.Engine", "control": [address, *args],
        "paced": paced, "period": period, "latency_budget_ms": probe.output.latency_ms,
        "queue_budget_samples": budget, "trials": rows, "baseline_underruns": base_underruns,
        "no_difference": sum(r["latency_ms"] is None for r in rows), "seconds": round(time.perf_counter() - t0, 2),
    }
    if lat:
        a = np.asarray(lat)
        res.update(latency_ms_min=float(a.min()), latency_ms_p50=float(np.percentile(a, 50)),
                   latency_ms_mean=round(float(a.mean()), 3), latency_ms_max=float(a.max()))
    else:
        res.update(latency_ms_min=None, latency_ms_p50=None, latency_ms_mean=None, latency_ms_max=None,
                   note="the control changed nothing in the output (no difference in any trial)")
    if paced and (base_underruns or any(r["underruns"] for r in rows)):
        res["warning"] = "underruns during a paced run: the paired outputs also differ by concealment"
    return res


# ---- the command ---------------------------------------------------------------------------
RIVALS = {
    # a busy loop: one core taken, as by a DAW's audio thread or a build
    "busy": "while True:\n    pass",
    # a memory-bound loop: streams 256 MB over and over (the memory bus taken, as by a sampler)
    "memory": "import numpy as np\na = np.ones(1 << 25)\nwhile True:\n    a += 1.0",
}


def contend(kind: str | None) -> list[subprocess.Popen]:
    """``--contend busy|memory``: one competing process beside the timed frames (what a
    live machine that also runs a DAW looks like); its CPU is not this benchmark's."""
    if not kind:
        return []
    proc = subprocess.Popen([sys.executable, "-c", RIVALS[kind]], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(0.5)  # let it get going (the numpy one allocates first)
    return [proc]


def stop_rivals(rivals: list[subprocess.Popen]) -> None:
    for p in rivals:
        if p.poll() is None:
            p.kill()
            p.wait(5)
    rivals.clear()


def resolve_bench_fast_path(args: argparse.Namespace) -> None:
    """The bench's ``auto`` choices, as ``mrtd serve`` makes them
    (:func:`mrtd.cli.options.resolve_fast_path`): an official size (or a checkpoint) on the
    CPU takes the fast path; the demo and the tiny shapes keep float32 on one thread."""
    from mrtd.cli.options import fill_fast_path

    fast = (args.device or "cpu").strip().lower() == "cpu" and (
        bool(args.checkpoint) or args.size in ("mrt2_small", "mrt2_base"))
    fill_fast_path(args, fast, args.streams == 1)
    if args.two_stage and ((args.device or "cpu").strip().lower() != "cpu" or args.streams != 1
                           or getattr(args, "adapt_threads", False)):
        raise UserError("--two-stage is for one stream on the CPU, without --adapt-threads")


def timed_two_stage(fs, n: int, codec_threads: int) -> tuple[list[float], dict[str, list[float]]]:
    """``n`` frames of the two-stage pipeline (:mod:`mrtd.engine.two_stage`): the language
    model's steps timed on this thread, the codec timed on its own; a frame's time is the
    interval between frames, once the pipeline is full (the first frame is not counted)."""
    import torch

    from mrtd.engine.two_stage import CodecThread

    class Timed:  # the codec's half, timed where it runs
        def __init__(self) -> None:
            self.ms: list[float] = []

        def run_codec(self, tokens):
            t = time.perf_counter()
            out = fs.run_codec(tokens)
            self.ms.append(1000.0 * (time.perf_counter() - t))
            return out

    timed = Timed()
    codec = CodecThread(timed, codec_threads)
    lm_steps = fs.stages()[:-1]
    per: dict[str, list[float]] = {name: [] for name, _ in lm_steps}
    frame_ms: list[float] = []
    last = None
    try:
        for _ in range(n + 1):
            marks = [time.perf_counter()]
            with torch.inference_mode():
                for _, fn in lm_steps:
                    fn()
                    marks.append(time.perf_counter())
            tokens = fs.tokens.clone()
            if codec.busy:
                codec.take()
            codec.submit(tokens)
            for (name, _), a, b in zip(lm_steps, marks, marks[1:]):
                per[name].append(1000.0 * (b - a))
            if last is not None:
                frame_ms.append(1000.0 * (marks[0] - last))
            last = marks[0]
        codec.take()
    finally:
        codec.close()
    per = {k: v[1:] for k, v in per.items()}
    per["codec"] = timed.ms[1:]
    return frame_ms, per


def run_bench(args: argparse.Namespace) -> int:
    from mrtd.devtools.bench_v1 import is_v1_bench

    if is_v1_bench(args):
        from mrtd.devtools.bench_v1 import run_bench_v1

        if args.dtype in ("int8", "int4"):
            raise UserError(f"--dtype {args.dtype} is for the MRT2 language model; v1 runs float32 or bfloat16")
        if args.two_stage:
            raise UserError("--two-stage is for MRT2; Magenta RT v1 makes 2 s chunks")
        args.dtype = "float32" if args.dtype == "auto" else args.dtype
        args.threads = 1 if args.threads is None else args.threads
        return run_bench_v1(args)
    if getattr(args, "chunks", None) is not None or getattr(args, "codec", None):
        raise UserError("--chunks and --codec are for Magenta RT v1 (--size v1_base|v1_large)")
    t_cold0 = time.perf_counter()
    age0 = process_age_s()
    import numpy as np
    import torch

    from mrtd.devtools.bench_env import environment, write_result
    from mrtd.model.mrt2.framestep import FrameStep

    if args.streams < 1:
        raise UserError("--streams must be >= 1")
    if args.checkpoint and args.size != "demo":
        raise UserError("give --size or --checkpoint, not both")
    resolve_bench_fast_path(args)
    try:
        device = torch.device(args.device)
    except RuntimeError as e:
        raise UserError(f"bad --device {args.device!r}: {e}") from None
    if device.type not in ("cpu", "cuda"):
        raise UserError(f"--device must be cpu or cuda, got {args.device}")
    on_cuda = device.type == "cuda"
    if on_cuda and not torch.cuda.is_available():
        raise UserError(f"--device {args.device}: CUDA is not available in this torch install")
    if args.int8 and args.dtype not in ("bfloat16", "int8"):
        raise UserError("--int8 needs --dtype bfloat16 (int8 weights, bfloat16 activations)")
    quant = args.dtype if args.dtype in ("int8", "int4") else ("int8" if args.int8 else None)
    if quant and device.type != "cpu":
        raise UserError(f"--dtype {quant} (weight-only quantised language model) runs on the CPU only")
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.two_stage:
        from mrtd.engine.two_stage import split_threads

        lm_threads, codec_threads = split_threads(args.threads or torch.get_num_threads())
        # this thread is the language model's from here on (warm-up, compile, timing): Inductor's
        # CPU kernels are made for the thread count they run with
        torch.set_num_threads(lm_threads)
    dtype = torch.bfloat16 if quant else getattr(torch, args.dtype)
    codec_dtype = getattr(torch, args.codec_dtype)
    log = _Log()
    if args.size == "mrt2_base" and not args.checkpoint:
        size = {"float32": 4, "bfloat16": 2, "int8": 1, "int4": 0.5}[args.dtype]
        log.warn("mrt2_base: 2.4 B parameters (~%.1f GB of weights in %s); building them takes a while"
                 % (2.41 * size, args.dtype))
    if on_cuda:
        torch.cuda.reset_peak_memory_stats(device)

    t = time.perf_counter()
    model, dec, what = build_models(args, dtype, codec_dtype, device)
    if quant:
        from mrtd.model.mrt2.quant import quantize_lm

        quantize_lm(model, quant)
    build_s = time.perf_counter() - t
    cfg = model.cfg
    window = max(cfg.self_window, cfg.cross_window)
    warmup = args.warmup if args.warmup is not None else window + 8
    size = cfg.name if args.checkpoint else args.size
    frames = args.frames if args.frames is not None else _FRAMES.get(size, (40, 1000))[on_cuda]
    if frames < 1:
        raise UserError("--frames must be >= 1")

    fs = FrameStep(model, dec, args.streams, seeds=[args.seed + i for i in range(args.streams)], device=device)
    fs.set_controls(cond=stream_conds(cfg, args.streams, args.seed))
    if args.compile:
        log.info("compiling the temporal and depth stages (torch.compile)...")
        fs.compile()
    graph = on_cuda and args.graph
    if graph:
        fs.capture()
    cold_ms = first_audio_ms(fs)
    cold_s = time.perf_counter() - t_cold0
    log.info(f"{what}: built in {build_s:.1f} s, first audio {cold_s:.2f} s after start")

    gate: dict[str, Any] = {"checked": False, "reason": "--no-parity"}
    if args.parity:
        lm_layout, codec_layout = layouts(args, device, dtype, codec_dtype)
        gate = parity_gate(dtype, device, quant, lm_layout, codec_dtype, codec_layout)
        if gate.get("checked") and not gate["pass"]:
            log.warn("PARITY FAILED for this configuration: its speed does not count")
    gcheck = eager_check(fs) if (graph or args.compile) else None
    if gcheck is not None and not gcheck["pass"]:
        log.warn("the graph/compiled step's tokens differ from the eager step's")

    # a full garbage collection of the ~10^5 objects alive after setup takes ~70 ms: freeze
    # them so collections during the loop only scan new objects (a live daemon should too)
    gc.collect()
    gc.freeze()
    rivals = contend(args.contend)
    try:
        for _ in range(warmup):
            fs.run()
            fs.fetch()
        stages_inline = not on_cuda  # CPU: stage marks are free; CUDA: timed in their own pass
        governor = None
        if getattr(args, "adapt_threads", False):
            from mrtd.engine.threads import ThreadGovernor

            governor = ThreadGovernor(torch.get_num_threads())
        if args.two_stage:
            frame_ms, per = timed_two_stage(fs, frames, codec_threads)
        else:
            frame_ms, per = timed_frames(fs, frames, stages_inline, governor)
        stop_rivals(rivals)
        if on_cuda:
            n_st = min(frames, 200)
            if graph:
                fs.capture(split=True)
            _, per = timed_frames(fs, n_st, True)
            if graph:
                fs.capture(split=False)
        warm = []
        for _ in range(3):
            fs.reset()
            warm.append(first_audio_ms(fs))
    finally:
        stop_rivals(rivals)
        gc.unfreeze()
    mem = peak_memory(device)

    latency = None
    if args.latency:
        latency = _latency(args, model, dec, device, log)

    from mrtd.model.mrt2.int8_kernel import kernel_name
    from mrtd.model.mrt2.native_step import plan_of
    from mrtd.model.mrt2.quant import weight_count

    env = environment(str(device), args.dtype)
    env.update(_env_extra(torch, device))
    result: dict[str, Any] = {
        "benchmark": "mrtd bench",
        "command": "mrtd " + " ".join(shlex.quote(a) for a in getattr(args, "argv", None) or sys.argv[1:]),
        "model": what, "config_name": cfg.name,
        "params": {"language_model": weight_count(model), "codec": weight_count(dec)},
        "setup": {"size": None if args.checkpoint else args.size, "device": str(device), "dtype": args.dtype,
                  "codec_dtype": args.codec_dtype, "int8": quant == "int8", "quant": quant, "streams": args.streams,
                  "int8_kernel": kernel_name() if quant else None,
                  "native_frames": getattr(plan_of(model), "frames", 0),
                  "weight_layout": _layout_of(model), "codec_layout": _codec_layout_of(dec), "gc_frozen": True,
                  "frames": frames, "warmup": warmup,
                  "threads": lm_threads + codec_threads if args.two_stage else torch.get_num_threads(),
                  "two_stage": {"lm_threads": lm_threads, "codec_threads": codec_threads} if args.two_stage else None,
                  "cuda_graph": fs.mode == "graph" if on_cuda else "n/a (cpu)", "compiled": fs.compiled,
                  "seed": args.seed, "contend": args.contend,
                  "adapt_threads": None if governor is None else {"threads_at_end": governor.n,
                                                                   "changes": governor.changes}},
        "parity": gate,
        "eager_check": gcheck,
        "frame": summary(frame_ms, args.streams),
        "stages": {k: summary(v, args.streams) for k, v in per.items() if v},
        "time_to_first_audio": {
            "cold_s": round(cold_s, 3),
            "cold_from_process_start_s": None if age0 is None else round(age0 + cold_s, 3),
            "build_s": round(build_s, 3), "compile_s": round(fs.compile_s, 3), "capture_s": round(fs.capture_s, 3),
            "first_frames_ms": round(cold_ms, 3),
            "warm_ms": round(float(np.median(warm)), 3), "warm_ms_all": [round(w, 3) for w in warm],
            "note": "cold: from the start of the command (torch import, weights built/loaded, graph "
                    "capture) to the first valid audio of every stream on the host; warm: after a reset",
        },
        "memory": mem,
        "latency": latency,
        "env": env,
    }
    _print_table(result, log)
    if args.json:
        write_result(args.json, result, log)
    return 0


def _latency(args, model, dec, device, log) -> dict[str, Any]:
    if device.type != "cpu":
        return {"skipped": "the Engine runs on the CPU; run --latency with --device cpu"}
    from mrtd.engine.engine import Engine

    address, cargs = parse_control(args.latency_control)
    log.info(f"control latency: {args.latency_trials} paired runs of the Engine ({address})")
    return paired_seed_latency(lambda: Engine(model, dec, seed=args.seed), address, cargs,
                               trials=args.latency_trials, period=args.period, paced=args.latency_paced)


def _layout_of(model) -> str:
    w = model.temporal.layers[0].ffn.w1
    if not hasattr(w, "stride"):
        return getattr(model, "quant", None) or "int8"
    return "row" if w.is_contiguous() else "col"


def _codec_layout_of(dec) -> str:
    import torch

    if dec.in_unit.conv.packs is not None:
        return "packed"
    w = dec.in_unit.conv.weight
    last = not w.is_contiguous() and w.is_contiguous(memory_format=torch.channels_last)
    return "channels_last" if last else "default"


def _env_extra(torch, device) -> dict[str, Any]:
    extra: dict[str, Any] = {"cuda": torch.version.cuda, "interop_threads": torch.get_num_interop_threads()}
    try:
        extra["load_avg"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                extra["cpu_model"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    if device.type == "cuda":
        p = torch.cuda.get_device_properties(device)
        extra.update(gpu=p.name, gpu_memory_gib=round(p.total_memory / 2**30, 1),
                     capability=f"{p.major}.{p.minor}")
    return extra


class _Log:
    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True)
        if not self.console.is_terminal:
            self.console = Console(stderr=True, width=120)

    def info(self, msg: str) -> None:
        self.console.print(msg, highlight=False)

    def warn(self, msg: str) -> None:
        self.console.print(f"[bold yellow]warning:[/] {msg}", highlight=False)


def _print_table(r: dict, log: _Log) -> None:
    from rich.console import Console
    from rich.table import Table

    s = r["setup"]
    t = Table(title=f"mrtd bench: {r['model']} | {s['device']} {s['dtype']} {s['weight_layout']} (codec "
              f"{s['codec_dtype']} {s['codec_layout']})"
              f"{' ' + s['quant'] if s.get('quant') and s['quant'] != s['dtype'] else ''} | {s['streams']} stream(s) | threads {s['threads']} | "
              f"graph {s['cuda_graph']}{' | compiled' if s['compiled'] else ''}"
              f"{' | beside a ' + s['contend'] + ' process' if s.get('contend') else ''}")
    for col in ("stage", "ms mean", "p50", "p99", "max", "frames/s", "RTF/stream", "RTF total"):
        t.add_column(col, justify="right" if col != "stage" else "left")
    rows = [*r["stages"].items(), ("whole frame", r["frame"])]
    for name, v in rows:
        t.add_row(name, f"{v['ms_mean']:.3f}", f"{v['ms_p50']:.3f}", f"{v['ms_p99']:.3f}", f"{v['ms_max']:.3f}",
                  f"{v['fps']:.1f}", f"{v['rtf']:.3f}x", f"{v['aggregate_rtf']:.3f}x")
    console = Console()
    if not console.is_terminal:
        console = Console(width=120)
    console.print(t)
    tf = r["time_to_first_audio"]
    g = r["parity"]
    if not g.get("checked"):
        par = "not checked: " + g.get("reason", "")
    else:
        c = g["codec"]
        verdict = "no bf16 tolerance" if c["pass"] is None else ("ok" if c["pass"] else "FAIL")
        gate_txt = (f"top-1 agreement {g['tf_top1_agreement']:.4f} (gate {g['top1_gate']:g} or bfloat16's)"
                    if g.get("tolerance") is None else f"tolerance {g['tolerance']:g}")
        par = (f"{'PASS' if g['pass'] else 'FAIL'} (LM logits max abs {g['tf_logits_max_abs']:.2e} / "
               f"{g['stream_logits_max_abs']:.2e}, {gate_txt}; codec {c['dtype']} max abs "
               f"{c['max_abs']:.1e}, SNR {c['snr_db']:.0f} dB, {verdict})")
    lines = [f"parity (tiny official reference): {par}",
             *[f"  LM {k} vs float32: top-1 {v['tf_top1_agreement']:.4f}, logits max abs {v['tf_logits_max_abs']:.3g}"
               for k, v in g.get("lm_side_by_side", {}).items()],
             f"time to first audio: cold {tf['cold_s']:.2f} s, warm {tf['warm_ms']:.1f} ms",
             f"peak memory ({r['memory']['kind']}): {r['memory']['mib']:.0f} MiB"]
    if r["eager_check"]:
        ec = r["eager_check"]
        lines.append(f"graph/compiled step vs eager: tokens {'equal' if ec['tokens_equal'] else 'DIFFER'}, "
                     f"audio max abs {ec['audio_max_abs']:.2e}")
    lat = r["latency"]
    if lat:
        if "skipped" in lat:
            lines.append(f"control latency: skipped ({lat['skipped']})")
        elif lat["latency_ms_p50"] is None:
            lines.append(f"control latency: no difference in the output ({lat['control'][0]} changed nothing)")
        else:
            lines.append(f"control latency ({lat['control'][0]}, {len(lat['trials'])} trials, "
                         f"{'paced' if lat['paced'] else 'pulled'}): p50 {lat['latency_ms_p50']:.1f} ms, "
                         f"min {lat['latency_ms_min']:.1f}, max {lat['latency_ms_max']:.1f} ms "
                         f"(queue budget {lat['latency_budget_ms']:.0f} ms)")
    for line in lines:
        log.info(line)

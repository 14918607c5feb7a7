"""Train the embedded demo model on synthetic music, on a CPU (issue 23).

The demo must make music a newcomer can hear: the notes sent, drums when asked, a timbre
per style, silence when nothing is asked. Real weights cannot ship, so a tiny model of
the MRT2 architecture learns it here from :mod:`mrtd.devtools.synth_music`, in stages
that each write into a work folder (so a stage can be rerun alone):

1. ``data``: seeded pieces (audio + the engine's conditioning per frame), ``data.npz``.
2. ``codec``: a tiny SpectroStream encoder + decoder (the real code path and checkpoint
   layout, small widths) as an autoencoder, multi-resolution STFT losses.
3. ``rvq``: residual k-means of the encoder's embeddings: 12 levels of 1024 codes (the
   real code widths), nearest codes by the official rule.
4. ``tune``: the decoder fine-tuned on the quantised embeddings of whole pieces (what it
   will be given when the language model speaks).
5. ``lm``: a tiny depthformer, teacher-forced on the pieces' tokens and conditioning;
   ``lm_more``: more steps from ``lm.pt`` at a third of the learning rate;
   ``lm_robust``: more again with scheduled sampling (a share of the past frames it sees
   are its own draws at temperature 1.3), so it comes back from its own stray draws.
6. ``export``: one generation checkpoint (``params/depthformer/...`` and
   ``params/soundstream/...``, float32), ``encoder.safetensors`` and the manifest, in the
   official layouts: the inverse of the official loaders (:func:`official_tensors`). The
   manifest also carries the demo's own sampling default (``defaults``: temperature 0.8).

Every stage is seeded and logs its losses to ``<work>/log.json``. The recipe (dims, steps,
learning rates) is :data:`RECIPE`; ``--minutes`` scales the training stages' wall times.

    python -m mrtd.devtools.train_demo --work /tmp/demo-train            # all stages
    python -m mrtd.devtools.train_demo --work /tmp/demo-train --stage lm  # one stage

The shipped demo ran ``data``, ``codec`` and ``rvq`` on two threads, ``tune`` on one thread
(55 minutes; it and ``lm`` are independent and may run side by side, at a cost to ``lm``),
then ``lm``, ``lm_more`` and ``lm_robust`` on two threads alone, then ``export``: about
2 h 35 min one stage after another (``benchmarks/results/demo_training_log.json``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from mrtd.constants import FRAME
from mrtd.engine.demo import RANDOM_DEMO_CONFIG
from mrtd.model.mrt2.codec_config import CodecConfig
from mrtd.model.mrt2.codec_decoder import Conv, ConvT, SpectroStreamDecoder
from mrtd.model.mrt2.codec_encoder import SpectroStreamEncoder


@dataclass(frozen=True)
class Recipe:
    seed: int = 23
    pieces: int = 320  # data: seeded pieces of `seconds` each
    seconds: float = 8.0
    crop: int = 16  # codec: frames per training crop
    codec_batch: int = 8
    codec_lr: float = 2e-3
    spec_weight: float = 2.0  # the complex-spectrum term of codec_loss
    codec_minutes: float = 35.0
    rvq_frames: int = 60000
    rvq_iters: int = 12
    tune_minutes: float = 55.0  # on one thread
    tune_lr: float = 1e-3
    tune_spec_weight: float = 2.0  # the decoder alone: the codec's own balance
    lm_crop: int = 32
    lm_batch: int = 16
    lm_lr: float = 3e-3
    cond_table_lr_scale: float = 30.0  # the note/drum rows' learning rate, x lm_lr (see stage_lm)
    lm_minutes: float = 20.0
    lm_more_minutes: float = 12.0  # --stage lm_more: resumed from lm.pt
    robust_minutes: float = 30.0  # --stage lm_robust: resumed from lm.pt, scheduled sampling
    robust_mix: float = 0.3  # share of past tokens replaced by the model's own samples
    robust_temperature: float = 1.3  # ... drawn as the engine draws them by default
    robust_top_k: int = 40
    onset_weight: float = 5.0  # ... and the loss where a note starts (and onset_frames - 1 after) x this (1: off)
    onset_frames: int = 4
    # the manifest's sampling default for the engine (see sampling_defaults): of 0.8, 0.9 and 1.0
    # the one at which the shipped weights played every check at seeds 0 and 1
    demo_temperature: float = 0.8


RECIPE = Recipe()
# the released codec's strides less one frequency halving (10 latent bins, not 5), in the order
# that makes the decoder upsample time last (see codec_loss)
CODEC = CodecConfig(decoder_base_conv_depth=8, encoder_base_conv_depth=4, num_features=16, num_quantizers=12,
                    ratios=((2, 1), (2, 2), (1, 2), (1, 3), (1, 2), (1, 2)), mults=(2, 1, 2, 1, 2, 1))
# the language model of the untrained demo (mrt2_tiny's dimensions) with this codec
CONFIG = replace(RANDOM_DEMO_CONFIG, name="mrt2_demo", codec=CODEC)
LOG_EPS = 1e-4
STFT_SIZES = (2048, 1024, 512, 256, 128)


# ---- log ---------------------------------------------------------------------------------
class Log:
    def __init__(self, work: Path):
        self.path = work / "log.json"
        self.data = json.loads(self.path.read_text()) if self.path.exists() else {}

    def put(self, stage: str, **kv) -> None:
        self.data.setdefault(stage, {}).update(kv)
        self._write(stage)

    def curve(self, stage: str, step: int, **kv) -> None:
        self.data.setdefault(stage, {}).setdefault("curve", []).append({"step": step, **kv})
        self._write(stage)

    def _write(self, stage: str) -> None:
        """This stage's entry into the file as it is now (two stages may run side by side)."""
        now = json.loads(self.path.read_text()) if self.path.exists() else {}
        now[stage] = self.data[stage]
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(now, indent=1))
        tmp.replace(self.path)


# ---- 1. data -------------------------------------------------------------------------------
def _render(job: tuple[int, float]):
    from mrtd.devtools.synth_music import render_piece

    p = render_piece(*job)
    return p.audio, p.cond


def stage_data(work: Path, log: Log, r: Recipe = RECIPE) -> None:
    """Render ``r.pieces`` pieces (two processes) into ``data.npz``: audio [P, T*1920, 2]
    float16 and conditioning [P, T, 144] int16."""
    from multiprocessing import get_context

    t0 = time.time()
    seeds = [r.seed * 100_000 + i for i in range(r.pieces)]
    with get_context("spawn").Pool(max(1, min(2, os.cpu_count() or 1))) as pool:
        out = pool.map(_render, [(s, r.seconds) for s in seeds], chunksize=8)
    audio = np.stack([a for a, _ in out]).astype(np.float16)
    cond = np.stack([c for _, c in out]).astype(np.int16)
    np.savez(work / "data.npz", audio=audio, cond=cond, seeds=np.array(seeds))
    log.put("data", pieces=r.pieces, seconds=r.seconds, wall_s=round(time.time() - t0, 1))
    print(f"data: {r.pieces} pieces of {r.seconds} s in {time.time() - t0:.0f} s")


def load_data(work: Path) -> tuple[np.ndarray, np.ndarray]:
    d = np.load(work / "data.npz")
    return d["audio"], d["cond"]


# ---- 2. codec ------------------------------------------------------------------------------
def init_codec(m: torch.nn.Module, g: torch.Generator) -> None:
    """Trainable convs, He-style normal weights (fan-in), zero biases."""
    for _, c in sorted(m.named_modules()):
        if isinstance(c, (Conv, ConvT)):
            w = c.weight
            fan_in = (w.shape[1] if isinstance(c, Conv) else w.shape[0]) * w.shape[2] * w.shape[3]
            w.data = torch.randn(w.shape, generator=g) * math.sqrt(1.0 / fan_in)
            c.bias.data.zero_()
            w.requires_grad_(True)
            c.bias.requires_grad_(True)


def stft_loss(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Multi-resolution STFT loss of ``[B, N, 2]`` waves: log-magnitude L1 + spectral
    convergence, summed over :data:`STFT_SIZES`."""
    y = y.transpose(1, 2).reshape(-1, y.shape[1])
    x = x.transpose(1, 2).reshape(-1, x.shape[1])
    total = y.new_zeros(())
    for n in STFT_SIZES:
        w = torch.hann_window(n, device=y.device)
        ys = torch.stft(y, n, n // 4, window=w, return_complex=True).abs()
        xs = torch.stft(x, n, n // 4, window=w, return_complex=True).abs()
        total = total + (torch.log(ys + LOG_EPS) - torch.log(xs + LOG_EPS)).abs().mean()
        total = total + torch.linalg.norm(ys - xs) / (torch.linalg.norm(xs) + 1e-6)
    return total / len(STFT_SIZES)


def codec_loss(dec: SpectroStreamDecoder, emb: torch.Tensor, x: torch.Tensor, spec_weight: float) -> torch.Tensor:
    """Decode ``emb`` and compare with the wave ``x`` it came from: :func:`stft_loss` on the
    waves, plus ``spec_weight`` x the relative L1 distance of the decoder's own spectrum to
    the STFT of ``x``.

    A pitch is heard only if each partial's phase turns by ``2 pi f hop`` from one STFT
    frame to the next. The synthetic notes sit on a 25 Hz grid with a fixed phase at the
    onset (:func:`~mrtd.devtools.synth_music.grid_hz`), so a held note's spectrum repeats
    every frame and the complex term is a plain regression the decoder can meet.

    The layout decides whether the decoder meets it (measured for issue 23, 2026-12-07).
    The released ``ratios`` upsample time first in the decoder, at 5-10 frequency bins, so
    each STFT frame's own phases must pass the whole frequency-upsampling stack: a demo
    codec in that layout never carried a pitch (0 of 12 held notes). :data:`CODEC` puts the
    time strides last, so each of a codec frame's 4 STFT frames comes from full-resolution
    features through its own transposed-conv taps; with crops of 16 frames and
    ``spec_weight`` 2 it carries MIDI 57/64/69 of every family within 0.35 semitone through
    the 12 RVQ levels (``codec_pitch`` in ``benchmarks/results/demo_music.json``)."""
    from mrtd.model.mrt2.stft import istft, stft

    spec = dec.spectrum(emb)[:, :, dec.lookahead:]
    y = istft(spec, dec.window)
    loss = stft_loss(y, x[:, :y.shape[1]])
    if spec_weight:
        target = stft(x)[:, :, :spec.shape[2]]
        loss = loss + spec_weight * (spec - target).abs().mean() / (target.abs().mean() + 1e-6)
    return loss


def _crops(audio: np.ndarray, n: int, frames: int, rng: np.random.Generator) -> torch.Tensor:
    total = audio.shape[1] // FRAME
    idx = rng.integers(0, audio.shape[0], n)
    start = rng.integers(0, total - frames + 1, n)
    x = np.stack([audio[i, s * FRAME:(s + frames) * FRAME] for i, s in zip(idx, start)])
    return torch.from_numpy(x.astype(np.float32))


def _schedule(opt: torch.optim.Optimizer, lr: float, frac: float) -> None:
    """Linear warm-up over the first 3% of the time, then cosine to 5%."""
    f = frac / 0.03 if frac < 0.03 else 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac)))
    for grp in opt.param_groups:
        grp["lr"] = lr * f * grp.get("scale", 1.0)


def _train(name: str, log: Log, params: list, lr: float, betas: tuple[float, float], weight_decay: float,
           minutes: float, batch_loss, every=None) -> int:
    """AdamW on ``params`` (parameters, or parameter groups whose optional ``scale``
    multiplies the learning rate) for ``minutes`` of wall time (warm-up then cosine), one
    ``batch_loss()`` a step, gradients clipped at 1; the mean loss every 50 steps goes to
    the log (and any ``metrics`` that ``batch_loss`` returns beside it). ``every(step)``
    runs after each step. Returns the number of steps."""
    groups = params if isinstance(params[0], dict) else [{"params": params}]
    opt = torch.optim.AdamW(groups, lr=lr, betas=betas, weight_decay=weight_decay)
    params = [p for grp in groups for p in grp["params"]]
    t0, budget, step, acc = time.time(), minutes * 60, 0, []
    while (el := time.time() - t0) < budget:
        _schedule(opt, lr, el / budget)
        loss, *extra = batch_loss()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        acc.append([loss.item(), *extra])
        step += 1
        if step % 50 == 0:
            m = np.mean(np.array(acc), 0)
            kv = {"loss": round(float(m[0]), 4)}
            if len(m) > 1:
                kv["top1_level0"] = round(float(m[1]), 4)
            log.curve(name, step, **kv, t=round(el))
            print(f"{name} step {step} " + " ".join(f"{k} {v}" for k, v in kv.items()) + f" ({el:.0f} s)", flush=True)
            acc = []
        if every is not None:
            every(step)
    log.put(name, steps=step, wall_s=round(time.time() - t0))
    return step


def _trainable(*mods: torch.nn.Module) -> list[torch.nn.Parameter]:
    return [p for m in mods for p in m.parameters() if p.requires_grad]


def stage_codec(work: Path, log: Log, r: Recipe = RECIPE) -> None:
    audio, _ = load_data(work)
    torch.manual_seed(r.seed)
    g = torch.Generator().manual_seed(r.seed)
    enc, dec = SpectroStreamEncoder(CODEC), SpectroStreamDecoder(CODEC)
    init_codec(enc, g)
    init_codec(dec, g)
    rng = np.random.default_rng(r.seed)

    def batch():
        x = _crops(audio, r.codec_batch, r.crop, rng)
        return (codec_loss(dec, enc.encode(x), x, r.spec_weight),)

    def save(step: int = 0) -> None:
        if step % 200 == 0:  # a checkpoint to look at while it trains
            torch.save({"enc": enc.state_dict(), "dec": dec.state_dict()}, work / "codec.pt")

    _train("codec", log, _trainable(enc, dec), r.codec_lr, (0.8, 0.99), 0.0, r.codec_minutes, batch, save)
    save()


def _load_codec(work: Path, name: str = "codec.pt") -> tuple[SpectroStreamEncoder, SpectroStreamDecoder]:
    enc, dec = SpectroStreamEncoder(CODEC), SpectroStreamDecoder(CODEC)
    sd = torch.load(work / name)
    enc.load_state_dict(sd["enc"])
    dec.load_state_dict(sd["dec"])
    return enc, dec


# ---- 3. rvq --------------------------------------------------------------------------------
@torch.no_grad()
def embed_all(enc: SpectroStreamEncoder, audio: np.ndarray, chunk: int = 8) -> torch.Tensor:
    """Every piece through the encoder whole: [P, T, F]."""
    out = []
    for i in range(0, audio.shape[0], chunk):
        out.append(enc.encode(torch.from_numpy(audio[i:i + chunk].astype(np.float32))))
    return torch.cat(out)


@torch.no_grad()
def residual_kmeans(x: torch.Tensor, levels: int, codes: int, iters: int, g: torch.Generator) -> torch.Tensor:
    """Codebooks [levels, codes, F] by k-means of each level's residual (nearest code by
    ``-2 r.c + |c|^2``, the official rule); an empty cluster takes a random residual."""
    def nearest(r: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return torch.argmin(-2.0 * (r @ c.T) + (c * c).sum(-1)[None], -1)

    tables, r = [], x.clone()
    for _ in range(levels):
        c = r[torch.randperm(r.shape[0], generator=g)[:codes]].clone()
        for _ in range(iters):
            idx = nearest(r, c)
            sums = torch.zeros_like(c).index_add_(0, idx, r)
            counts = torch.bincount(idx, minlength=codes).float()
            empty = counts == 0
            c = torch.where(empty[:, None], r[torch.randint(0, r.shape[0], (codes,), generator=g)],
                            sums / counts.clamp(min=1)[:, None])
        r = r - c[nearest(r, c)]
        tables.append(c)
    return torch.stack(tables)


def stage_rvq(work: Path, log: Log, r: Recipe = RECIPE) -> None:
    audio, _ = load_data(work)
    enc, dec = _load_codec(work)
    t0 = time.time()
    emb = embed_all(enc, audio)
    flat = emb.reshape(-1, emb.shape[-1])
    g = torch.Generator().manual_seed(r.seed)
    pick = flat[torch.randperm(flat.shape[0], generator=g)[:r.rvq_frames]]
    table = residual_kmeans(pick, CODEC.num_quantizers, CODEC.num_embeddings, r.rvq_iters, g)
    dec.rvq.table.copy_(table)
    codes = dec.rvq.embeddings_to_codes(flat, CODEC.rvq_levels)
    q = dec.rvq.codes_to_embeddings(codes)
    rel = [float(torch.linalg.norm(flat - dec.rvq.codes_to_embeddings(codes[:, :k])) / torch.linalg.norm(flat))
           for k in (1, 2, 4, 12)]
    torch.save({"table": table, "codes": codes.reshape(*emb.shape[:2], -1).short(),
                "quantized": q.reshape(emb.shape)}, work / "rvq.pt")
    log.put("rvq", rel_error_levels_1_2_4_12=[round(v, 4) for v in rel], wall_s=round(time.time() - t0))
    print("rvq: relative error after 1/2/4/12 levels", [f"{v:.3f}" for v in rel])


# ---- 4. tune -------------------------------------------------------------------------------
def stage_tune(work: Path, log: Log, r: Recipe = RECIPE) -> None:
    """The decoder on quantised embeddings of whole pieces (encoder and codes frozen)."""
    audio, _ = load_data(work)
    _, dec = _load_codec(work)
    rv = torch.load(work / "rvq.pt")
    dec.rvq.table.copy_(rv["table"])
    q = rv["quantized"]
    params = list(dec.parameters())  # conv weights and biases (the RVQ table is a buffer)
    for p in params:
        p.requires_grad_(True)
    rng = np.random.default_rng(r.seed + 1)
    total = q.shape[1]

    def batch():
        idx = rng.integers(0, q.shape[0], r.codec_batch)
        start = rng.integers(0, total - r.crop + 1, r.codec_batch)
        e = torch.stack([q[i, s:s + r.crop] for i, s in zip(idx, start)])
        x = torch.from_numpy(np.stack([audio[i, s * FRAME:(s + r.crop) * FRAME]
                                       for i, s in zip(idx, start)]).astype(np.float32))
        return (codec_loss(dec, e, x, r.tune_spec_weight),)

    _train("tune", log, params, r.tune_lr, (0.8, 0.99), 0.0, r.tune_minutes, batch)
    sd = torch.load(work / "codec.pt")
    sd["dec"] = dec.state_dict()
    torch.save(sd, work / "codec_tuned.pt")


# ---- 5. lm ---------------------------------------------------------------------------------
def init_depthformer(model, g: torch.Generator) -> None:
    """The random demo's scaled-normal init by parameter role (norm scales near 1,
    matrices and tables normal / sqrt(fan-in)), with biases and per-dim scales at 0."""
    from mrtd.engine.demo import _fill_depthformer

    _fill_depthformer(model, g)
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if leaf in ("b1", "b2", "ln_bias", "logits_bias", "per_dim_scale"):
                p.zero_()


def sample_own(own: torch.Tensor, temperature: float, top_k: int, g: torch.Generator) -> torch.Tensor:
    """Codes drawn from own-codebook logits ``[..., 1024]`` by the engine's own sampler
    (top-k, then Gumbel-max at ``temperature``), its noise from ``g``."""
    from mrtd.model.mrt2.sampler import gumbel_noise_into, sample_level

    flat = own.reshape(-1, own.shape[-1])
    n = flat.shape[0]
    noise = gumbel_noise_into([g], torch.empty(1, *flat.shape))[0]
    codes = sample_level(flat, torch.full((n,), float(temperature)), torch.full((n,), int(top_k)), noise)
    return codes.reshape(own.shape[:-1])


def onset_weights(cond: torch.Tensor, weight: float, frames: int) -> torch.Tensor:
    """Per-frame loss weights ``[B, T]`` from conditioning ids ``[B, T, 144]``: ``weight`` on
    a frame where a note starts and on the ``frames - 1`` after it, 1 elsewhere. A note
    starts where its state turns sounding (``auto_strum`` marks none: every sounding note
    is 3) or is an onset (``unmask``'s 2, also a key struck again); not at a crop's start.

    Why: there the note's state, not the past frames, says what to play. Measured before
    this weighting (issue 23, 2026-12-07): teacher-forced after ``lm_more``, notes moved 5
    semitones lowered the level-0 accuracy at onsets only from 0.70 to 0.55, and at a low
    temperature the model held one pitch whatever note was asked. The shipped demo's
    ``lm_robust`` uses weight 5; it plays the notes asked (``pitch`` in
    ``benchmarks/results/demo_music.json``). Not measured: the same recipe at weight 1."""
    from mrtd.model.mrt2.conditioning import NOTE_ONSET, NOTE_SUSTAIN

    state = cond[..., 12:140] - 7  # the 128 note ids (conditioning.py's layout) back to raw states
    sounding = state >= NOTE_SUSTAIN
    onset = state == NOTE_ONSET
    onset[:, 1:] |= sounding[:, 1:] & ~sounding[:, :-1]
    onset = onset.any(-1)
    onset[:, 0] = False
    near = onset.clone()
    for k in range(1, min(frames, onset.shape[1])):
        near[:, k:] |= onset[:, :-k]
    return 1.0 + (weight - 1.0) * near.float()


def stage_lm(work: Path, log: Log, r: Recipe = RECIPE, resume: bool = False, robust: bool = False) -> None:
    from mrtd.model.mrt2.depthformer import Depthformer
    from mrtd.model.mrt2.rvq import codes_to_ids

    _, cond = load_data(work)
    codes = torch.load(work / "rvq.pt")["codes"].long()
    ids = codes_to_ids(codes)
    cond_t = torch.from_numpy(cond.astype(np.int64))
    torch.manual_seed(r.seed)
    g = torch.Generator().manual_seed(r.seed)
    model = Depthformer(CONFIG)
    init_depthformer(model, g)
    model.encoder.init_buffers("cpu")
    name = "lm"
    if resume:  # more steps from lm.pt: a fresh schedule from a third of the learning rate
        model.load_state_dict(torch.load(work / "lm.pt"))
        r = replace(r, lm_lr=r.lm_lr / 3, lm_minutes=r.robust_minutes if robust else r.lm_more_minutes,
                    seed=r.seed + (20 if robust else 10))
        name = "lm_robust" if robust else "lm_more"
    mix = r.robust_mix if robust else 0.0
    model.train()
    rng = np.random.default_rng(r.seed + 2)
    cfg_top = torch.tensor([40, 40, 8]) + 1
    total = ids.shape[1]
    off = CONFIG.num_reserved + torch.arange(12) * CONFIG.codebook_size

    def batch():
        b = r.lm_batch
        idx = rng.integers(0, ids.shape[0], b)
        start = rng.integers(0, total - r.lm_crop + 1, b)
        tgt = torch.stack([ids[i, s:s + r.lm_crop] for i, s in zip(idx, start)])
        c = torch.stack([cond_t[i, s:s + r.lm_crop] for i, s in zip(idx, start)])
        # guidance bins are inputs the controls change; the demo learns to ignore them
        c[..., 141:144] = 7 + (torch.rand(b, 1, 3) * cfg_top).long().expand(-1, r.lm_crop, -1)
        target = tgt - off
        past = None
        if mix > 0:  # scheduled sampling: the temporal stack sees some of its own draws
            with torch.no_grad():
                drawn = sample_own(model.own_logits(c, tgt), r.robust_temperature, r.robust_top_k, g) + off
            past = torch.where(torch.rand(tgt.shape, generator=g) < mix, drawn, tgt)
        own = model.own_logits(c, tgt, past)  # [B, T, 12, 1024] soft-capped
        ce = F.cross_entropy(own.reshape(-1, CONFIG.codebook_size), target.reshape(-1), reduction="none")
        w = onset_weights(c, r.onset_weight if robust else 1.0, r.onset_frames)
        loss = (ce.reshape(target.shape) * w[..., None]).sum() / (w.sum() * target.shape[-1])
        return loss, float((own[:, :, 0].argmax(-1) == target[:, :, 0]).float().mean())

    # The note, drum and guidance rows are averaged over 132 channels before they meet the
    # style branch, so a held chord moves the conditioning by ~1% at the shared learning rate:
    # measured, the model then ignored notes and drums entirely. They learn 30x faster.
    table = model.encoder.regular_table
    rest = [p for p in model.parameters() if p is not table]
    groups = [{"params": rest}, {"params": [table], "scale": r.cond_table_lr_scale, "weight_decay": 0.0}]
    _train(name, log, groups, r.lm_lr, (0.9, 0.98), 0.01, r.lm_minutes, batch)
    torch.save(model.state_dict(), work / "lm.pt")


# ---- 6. export -----------------------------------------------------------------------------
def official_tensors(module: torch.nn.Module, shapes: dict[str, tuple[int, ...]], load) -> dict[str, np.ndarray]:
    """The official-layout tensors of ``module``'s values, found by loading: every element
    of every official key gets a distinct id, ``load`` puts them into a twin module the way
    the loader does, and each parameter element then names the official element it came
    from. So the export is the loader's exact inverse, whatever it transposes or fuses."""
    keys = sorted(shapes)
    sizes = [math.prod(shapes[k]) for k in keys]
    if sum(sizes) >= 1 << 24:
        raise ValueError("too many values to tag exactly in float32")
    base = np.concatenate([[0], np.cumsum(sizes)])
    tagged = {k: torch.arange(base[i], base[i + 1], dtype=torch.float64).float().reshape(shapes[k])
              for i, k in enumerate(keys)}
    twin = load(tagged)
    flat = np.full(int(base[-1]), np.nan, np.float32)
    mine = dict(module.state_dict())
    for name, tag in twin.state_dict().items():
        if not tag.is_floating_point() or name not in mine:
            continue
        t, v = tag.reshape(-1), mine[name].detach().float().reshape(-1)
        ok = ~torch.isnan(t)  # NaN: not from the file (a twin's own value)
        flat[t[ok].long().numpy()] = v[ok].numpy()
    missing = [k for i, k in enumerate(keys) if np.isnan(flat[base[i]:base[i + 1]]).any()]
    if missing:
        raise ValueError(f"export left keys unset: {missing[:5]}")
    return {k: flat[base[i]:base[i + 1]].reshape(shapes[k]) for i, k in enumerate(keys)}


def manifest() -> dict:
    """The demo's config in the official manifest fields (what ``--manifest`` reads): the
    tiny fixture's temporal/depth/conditioning fields, which the demo shares, and its own
    codec widths; checked to read back as :data:`CONFIG`."""
    from mrtd.model.mrt2.config import MRT2Config

    tiny = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "mrt2_tiny.manifest.json"
    cfg = json.loads(tiny.read_text())["config"]
    codec = asdict(CODEC)
    codec["ratios"] = [list(r) for r in codec["ratios"]]
    codec["mults"] = list(codec["mults"])
    cfg["spectrostream"] = codec
    m = {"size": CONFIG.name, "model": "mrtd demo: tiny MRT2 architecture trained on synthetic notes (not MRT2)",
         "training": "python -m mrtd.devtools.train_demo (recipe in its RECIPE)", "config": cfg,
         "defaults": {"temperature": RECIPE.demo_temperature}}
    if MRT2Config.from_manifest(m) != CONFIG:
        raise ValueError("the manifest does not read back as the demo's config")
    return m


def export(work: Path, out: Path, log: Log | None = None) -> None:
    from safetensors.numpy import save_file

    from mrtd.model.mrt2.depthformer import Depthformer

    enc, dec = _load_codec(work, "codec_tuned.pt")
    dec.rvq.table.copy_(torch.load(work / "rvq.pt")["table"])
    model = Depthformer(CONFIG)
    model.load_state_dict(torch.load(work / "lm.pt"))

    def load_lm(t):
        with torch.device("meta"):
            m = Depthformer(CONFIG)
        return m.load_official(dict(t))

    def load_dec(t):
        d = SpectroStreamDecoder(CODEC)
        d.load_official(t)
        return d

    def load_enc(t):
        e = SpectroStreamEncoder(CODEC)
        e.load_official(t, torch.full_like(e.rvq.table, float("nan")))  # the table is the generation file's
        return e

    gen = {**official_tensors(model, Depthformer.checkpoint_shapes(CONFIG), load_lm),
           **official_tensors(dec, dec.official_shapes(), load_dec)}
    encoder = official_tensors(enc, enc.official_shapes(), load_enc)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"model": "mrtd demo: a tiny MRT2-architecture model trained on synthetic notes (not MRT2)",
            "recipe": json.dumps(asdict(RECIPE))}
    save_file(gen, str(out / "demo.safetensors"), metadata=meta)
    save_file(encoder, str(out / "encoder.safetensors"), metadata=meta)
    (out / "demo.manifest.json").write_text(json.dumps(manifest(), indent=1) + "\n")
    if log is not None:
        log.put("export", bytes=sum((out / n).stat().st_size for n in ("demo.safetensors", "encoder.safetensors")))
    print(f"wrote {out}/demo.safetensors and encoder.safetensors")


def stage_lm_more(work: Path, log: Log, r: Recipe = RECIPE) -> None:
    """More language-model steps from ``lm.pt`` (the shipped demo: its samples at the
    default temperature 1.3 were still too loose after ``lm``)."""
    stage_lm(work, log, r, resume=True)


def stage_lm_robust(work: Path, log: Log, r: Recipe = RECIPE) -> None:
    """More language-model steps from ``lm.pt`` with scheduled sampling: the temporal
    stack sees a share (``robust_mix``) of its own draws at the default temperature in
    place of the true past frames, and learns to come back (the shipped demo: after
    ``lm_more`` its draws at temperature 1.3 strayed from silence and never returned)."""
    stage_lm(work, log, r, resume=True, robust=True)


STAGES = {"data": stage_data, "codec": stage_codec, "rvq": stage_rvq, "tune": stage_tune, "lm": stage_lm,
          "lm_more": stage_lm_more, "lm_robust": stage_lm_robust}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", required=True, help="folder for the stages' files and log.json")
    ap.add_argument("--stage", choices=[*STAGES, "export", "all"], default="all")
    ap.add_argument("--out", default=None, help="export folder (default: <work>/export)")
    ap.add_argument("--minutes", type=float, default=None, help="scale every training stage's time to this total")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    log = Log(work)
    r = RECIPE
    if a.minutes is not None:
        timed = ("codec_minutes", "tune_minutes", "lm_minutes", "lm_more_minutes", "robust_minutes")
        k = a.minutes / sum(getattr(r, f) for f in timed)
        r = replace(r, **{f: getattr(r, f) * k for f in timed})
    log.put("recipe", **asdict(r), torch=torch.__version__)
    log.put(f"threads_{a.stage}", threads=a.threads)
    for name, fn in STAGES.items():
        if a.stage in (name, "all"):
            fn(work, log, r)
    if a.stage in ("export", "all"):
        export(work, Path(a.out) if a.out else work / "export", log)


if __name__ == "__main__":
    main()

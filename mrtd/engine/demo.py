"""The embedded demo models, both tiny MRT2-architecture models that need no download.

``--demo`` (:func:`build_demo`): trained here on synthetic notes
(:mod:`mrtd.devtools.train_demo`), shipped in the package as an official-layout
checkpoint (``mrtd/weights/demo/``: generation checkpoint, its manifest, and the
SpectroStream encoder) and read by the same loaders as a real checkpoint. It plays the
notes it is sent, drums when asked, a timbre per style family, silence when nothing is
asked: it is NOT MRT2, it is there to hear the pipeline work.

``--demo-random`` (:func:`build_random_demo`): the mrt2_tiny dimensions with weights drawn
from a fixed seed at start-up. Untrained (noise-like audio), bit-exact from its recipe,
for tests and benchmarks that want the tiny shapes.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import torch

from mrtd.model.mrt2.codec_config import CodecConfig
from mrtd.model.mrt2.codec_decoder import Conv, ConvT, SpectroStreamDecoder
from mrtd.model.mrt2.config import MRT2Config
from mrtd.model.mrt2.depthformer import Depthformer

log = logging.getLogger("mrtd.demo")

DEMO_DIR = Path(__file__).resolve().parent.parent / "weights" / "demo"
DEMO_FILE = DEMO_DIR / "demo.safetensors"  # the trained demo's generation checkpoint
DEMO_MANIFEST = DEMO_DIR / "demo.manifest.json"  # its config (official manifest fields)
DEMO_ENCODER = DEMO_DIR / "encoder.safetensors"  # its SpectroStream encoder (audio prefill)

DEMO_SEED = 20260101
# the dimensions of tests/fixtures/mrt2_tiny.manifest.json (a test keeps them in sync)
RANDOM_DEMO_CONFIG = MRT2Config(
    name="mrt2_demo_untrained",
    enc_dim=32, style_dim=16,
    temporal_layers=2, temporal_dim=48, temporal_heads=2, temporal_head_dim=24, temporal_ffn=96,
    self_window=4, cross_window=4,
    depth_layers=2, depth_dim=32, depth_heads=2, depth_head_dim=16, depth_ffn=64,
    codec=CodecConfig(decoder_base_conv_depth=4, num_features=8),
)


def _fill_depthformer(model: Depthformer, g: torch.Generator) -> None:
    """Scaled-normal init by parameter role (norm scales near 1, biases near 0)."""
    for name, p in sorted(model.named_parameters()):
        leaf = name.rsplit(".", 1)[-1]
        r = torch.randn(p.shape, generator=g, dtype=torch.float32)
        if leaf in ("pre_norm", "post_norm", "ln_scale"):
            v = 1.0 + 0.1 * r
        elif leaf in ("b1", "b2", "ln_bias", "logits_bias", "per_dim_scale"):
            v = 0.05 * r
        elif leaf in ("sink_k", "sink_v"):
            v = 0.15 * r
        else:  # [out, in] matrices and embedding tables
            v = r / math.sqrt(p.shape[-1])
        p.data = v.to(p.dtype)


def _fill_codec(dec: SpectroStreamDecoder, g: torch.Generator) -> None:
    for name, m in sorted(dec.named_modules()):
        if isinstance(m, (Conv, ConvT)):
            w = m.weight
            fan_in = (w.shape[1] if isinstance(m, Conv) else w.shape[0]) * w.shape[2] * w.shape[3]
            w.data = torch.randn(w.shape, generator=g) / math.sqrt(fan_in)
            m.bias.data = 0.05 * torch.randn(m.bias.shape, generator=g)
    dec.rvq.table.copy_(0.05 * torch.randn(dec.rvq.table.shape, generator=g))


def random_models(cfg, seed: int, dtype: torch.dtype = torch.float32) -> tuple[Depthformer, SpectroStreamDecoder]:
    """A depthformer and codec decoder of ``cfg``'s shapes, weights drawn on the CPU from
    ``seed`` (the demo's recipe; the bench uses it for random weights of the real sizes)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model = Depthformer(cfg, dtype)
        _fill_depthformer(model, g)
        model.encoder.init_buffers("cpu")
        dec = SpectroStreamDecoder(cfg.codec)
        _fill_codec(dec, g)
    return model, dec


def demo_config() -> MRT2Config:
    return MRT2Config.from_manifest(DEMO_MANIFEST)


def build_demo(*, device: torch.device | str = "cpu",
               dtype: torch.dtype = torch.float32) -> tuple[Depthformer, SpectroStreamDecoder]:
    """The trained demo's depthformer and codec decoder, read from the package's
    official-layout checkpoint by the official loaders (``dtype``: the language model's
    compute dtype; the codec float32; both on ``device``)."""
    from mrtd.model.mrt2.codec_decoder import load_decoder
    from mrtd.model.mrt2.config import sampling_defaults
    from mrtd.model.mrt2.depthformer import load_depthformer

    log.info("demo model: tiny, trained on synthetic notes (not MRT2)")
    cfg = demo_config()
    model = load_depthformer(DEMO_FILE, cfg, device=device, dtype=dtype)
    model.sampling_defaults = sampling_defaults(DEMO_MANIFEST)  # its engine starts there (temperature 0.8)
    return model, load_decoder(DEMO_FILE, cfg.codec, device=device)


def build_demo_encoder(device: torch.device | str = "cpu"):
    """The trained demo's SpectroStream encoder (audio prefill with ``--demo``)."""
    from mrtd.model.mrt2.codec_encoder import load_encoder

    return load_encoder(DEMO_ENCODER, DEMO_FILE, demo_config().codec, device=device)


def build_random_demo(seed: int = DEMO_SEED, *, device: torch.device | str = "cpu",
                      dtype: torch.dtype = torch.float32) -> tuple[Depthformer, SpectroStreamDecoder]:
    """The untrained random demo (``--demo-random``), same every run: float32 on the CPU
    by default; ``dtype`` is the language model's compute dtype (the weights are drawn in
    float32 and rounded to it), the codec stays float32 (as the official); both on
    ``device``. Weight layouts are the construction ones (``row``, contiguous convs)."""
    log.info("random demo model: untrained weights from seed %d (not music)", seed)
    model, dec = random_models(RANDOM_DEMO_CONFIG, seed, dtype)
    if torch.device(device).type != "cpu":
        model, dec = model.to(device), dec.to(device)
    return model.eval().requires_grad_(False), dec.eval()


def demo_notice(kind: str | bool) -> str:
    """What ``serve`` and ``render`` say at start-up about a demo model."""
    if kind == "random":
        return "DEMO MODEL (--demo-random): untrained weights, the output is noise-like, not music"
    return ("DEMO MODEL: a tiny model trained on synthetic notes, not MRT2, there to hear the pipeline "
            "work: it plays the MIDI notes (or /mrtd/note/on) held, its timbre follows style tokens, "
            "/mrtd/drums on adds drums, and it falls silent when nothing is asked (at its own default "
            "temperature 0.8); tuned to a 25 Hz grid, so notes below A3 may sit up to a semitone off")

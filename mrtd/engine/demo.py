"""The embedded demo model: MRT2 at the tiny test dimensions with weights drawn from a
fixed seed at start-up, in memory. Nothing is downloaded or shipped, and a 2-core
machine runs the whole pipeline in real time. It is UNTRAINED: it makes noise-like
audio, useful only to exercise the daemon (controls, JACK, OSC, latency).
"""

from __future__ import annotations

import logging
import math

import torch

from mrtd.model.mrt2.codec_config import CodecConfig
from mrtd.model.mrt2.codec_decoder import Conv, ConvT, SpectroStreamDecoder
from mrtd.model.mrt2.config import MRT2Config
from mrtd.model.mrt2.depthformer import Depthformer

log = logging.getLogger("mrtd.demo")

DEMO_SEED = 20260101
# the dimensions of tests/fixtures/mrt2_tiny.manifest.json (a test keeps them in sync)
DEMO_CONFIG = MRT2Config(
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


def build_demo(seed: int = DEMO_SEED, *, device: torch.device | str = "cpu",
               dtype: torch.dtype = torch.float32) -> tuple[Depthformer, SpectroStreamDecoder]:
    """The untrained demo depthformer and codec decoder, same every run: float32 on the CPU
    by default; ``dtype`` is the language model's compute dtype (the weights are drawn in
    float32 and rounded to it), the codec stays float32 (as the official); both on
    ``device``. Weight layouts are the construction ones (``row``, contiguous convs)."""
    log.info("demo model: untrained weights from seed %d (not music)", seed)
    model, dec = random_models(DEMO_CONFIG, seed, dtype)
    if torch.device(device).type != "cpu":
        model, dec = model.to(device), dec.to(device)
    return model.eval().requires_grad_(False), dec.eval()

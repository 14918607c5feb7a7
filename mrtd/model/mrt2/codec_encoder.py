"""SpectroStream encoder: 48 kHz stereo -> 25 Hz embeddings -> RVQ codes (audio prefill).

Layer mode (whole signal) plus an exact live wrapper (``EncoderStream``). The official file is ``encoder.safetensors`` with keys
``params/encoder/...``; the RVQ table comes from the generation checkpoint (one table
for both directions). Semantics follow the official config: STFT -> per stereo channel
(shared weights) ``base_conv_first`` and ``encoder_0..5`` -> concatenate -> ``encoder_6``
-> ``bottleneck`` -> flatten ``[5 bins, C]`` bin-major -> ``output_convs``. Convs are
"semicausal" in time (``k - s`` left, ``s - 1`` right: strided layers peek one frame
ahead), frequency padding symmetric; residual shortcuts average-pool by the stride.

For prefill the official C++ engine encodes a fixed 28 s buffer and trims 25 frames on
each side; ``EncoderStream`` is exact from the first frame on.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from mrtd.model.mrt2.checkpoint import CheckpointError, read_shapes, read_tensors
from mrtd.model.mrt2.codec_config import CodecConfig
from mrtd.model.mrt2.codec_decoder import Conv, Pair, elu, place, same_pad
from mrtd.model.mrt2.rvq import RVQ
from mrtd.model.mrt2.stft import stft

PREFIX = "params/encoder/"
RVQ_KEY = "params/soundstream/quantizer/embedding"
ENCODER_FILE = "encoder.safetensors"


def _strided_conv(key: str, cin: int, cout: int, k: Pair, stride: Pair) -> Conv:
    return Conv(key, cin, cout, k, stride, time_pad=(k[0] - stride[0], stride[0] - 1),
                freq_pad=same_pad(k[1], stride[1]))


class EncoderUnit(nn.Module):
    """Residual unit ``conv_KxK_a(elu(conv3x3(elu(x)))) + conv1x1(avgpool(x))``."""

    def __init__(self, key: str, cin: int, cout: int, stride: Pair):
        super().__init__()
        self.stride = stride
        k = (max(3, 2 * stride[0]), max(3, 2 * stride[1]))
        self.conv = _strided_conv(f"{key}/conv2d_3x3", cin, cin, (3, 3), (1, 1))
        self.conv_a = _strided_conv(f"{key}/conv2d_{k[0]}x{k[1]}_a", cin, cout, k, stride)
        self.shortcut = Conv(f"{key}/shortcut_layer/conv1x1", cin, cout, (1, 1)) if cin != cout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv_a(elu(self.conv(elu(x))))
        s = x
        if self.stride != (1, 1):
            s = F.avg_pool2d(F.pad(s, (0, 0, 0, self.stride[0] - 1)), self.stride, self.stride)
        if self.shortcut is not None:
            s = self.shortcut(s)
        return y + s


class SpectroStreamEncoder(nn.Module):
    """Waveform ``[B, N, 2]`` at 48 kHz -> embeddings ``[B, ceil(N/1920), F]`` -> codes."""

    def __init__(self, cfg: CodecConfig):
        super().__init__()
        if cfg.channel_splits != 2 or cfg.num_channels != 4:
            raise ValueError("only the released stereo layout (4 channels, 2 splits) is supported")
        self.cfg = cfg
        c = cfg.encoder_base_conv_depth
        g = cfg.channel_splits
        self.first = _strided_conv("base_conv_first", cfg.num_channels // g, c, (7, 7), (1, 1))
        units, bins = [], cfg.num_bins
        n = len(cfg.ratios)
        for i, (stride, mult) in enumerate(zip(cfg.ratios, cfg.mults)):
            cin = c * g if i == n - 1 else c  # groups are concatenated before the last block
            c = int(round(c * mult))
            units.append(EncoderUnit(f"encoder_{i}", cin, c, stride))
            bins //= stride[1]
        self.units = nn.ModuleList(units)
        self.bottleneck = EncoderUnit("bottleneck", c, c, (1, 1))
        self.bins, self.width = bins, c
        flat, nf = bins * c, cfg.num_features
        self.out_last = Conv("output_convs/conv1x1_last", flat, nf, (1, 1))
        self.out_b1 = Conv("output_convs/shortcut_layer/conv1x1_b1", flat, flat, (1, 1))
        self.out_b2 = Conv("output_convs/shortcut_layer/conv1x1_b2", flat, nf, (1, 1))
        self.rvq = RVQ(cfg.num_quantizers, cfg.num_embeddings, nf)

    def _convs(self) -> list[Conv]:
        return [m for m in self.modules() if isinstance(m, Conv)]

    def official_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every ``params/encoder/...`` key of ``encoder.safetensors`` with its shape."""
        out: dict[str, tuple[int, ...]] = {}
        for m in self._convs():
            out.update({PREFIX + k: v for k, v in m.official_shapes().items()})
        return out

    @torch.no_grad()
    def load_official(self, tensors: dict[str, torch.Tensor], rvq_table: torch.Tensor) -> None:
        t = {k[len(PREFIX):]: v for k, v in tensors.items() if k.startswith(PREFIX)}
        for m in self._convs():
            m.load_official(t)
        self.rvq.load_official(rvq_table)

    @torch.inference_mode()
    def embeddings(self, wave: torch.Tensor) -> torch.Tensor:
        """Waveform ``[B, N, 2]`` (N a multiple of 1920 for exact official framing) -> ``[B, T, F]``."""
        return self.encode(wave)

    def encode(self, wave: torch.Tensor) -> torch.Tensor:
        """:meth:`embeddings` with autograd (training the demo codec); no inference mode."""
        spec = stft(wave).to(self.first.weight.dtype)  # [B, 4, 4T, 480]
        b, g = spec.shape[0], self.cfg.channel_splits
        x = spec.reshape(b * g, spec.shape[1] // g, *spec.shape[2:])  # stereo channels -> batch
        x = self.first(x)
        for u in self.units[:-1]:
            x = u(x)
        x = x.reshape(b, g * x.shape[1], *x.shape[2:])
        x = self.bottleneck(self.units[-1](x))  # [B, C, T, bins]
        t = x.shape[2]
        x = x.permute(0, 3, 1, 2).reshape(b, self.bins * self.width, t, 1)  # index f*C + c
        x = self.out_last(x) + self.out_b2(elu(self.out_b1(elu(x))))  # [B, F, T, 1]
        return x[..., 0].transpose(1, 2)

    @torch.inference_mode()
    def forward(self, wave: torch.Tensor, levels: int | None = None) -> torch.Tensor:
        """Waveform -> codes ``[B, T, levels]`` (default: the 12 levels MRT2 uses)."""
        levels = self.cfg.rvq_levels if levels is None else levels
        return self.rvq.embeddings_to_codes(self.embeddings(wave).float(), levels)


# Blocks re-encoded per live step. An output frame depends on ~14 earlier frames (56 STFT
# frames of causal convs); measured on the tiny fixture: windows of 16+ blocks give the
# layer-mode result (1e-6 float noise), 15 do not (3e-5). 18 keeps two spare.
STREAM_HISTORY = 18


class EncoderStream:
    """Live encoding, one 1920-sample block per call, exact to layer mode.

    Like the official step mode, the output after block ``i`` is frame ``i - 1`` (frame
    ``i - 1`` needs 479 samples of block ``i``: the STFT frame reaches into the next hop and
    the strided convs look one step ahead); the first call returns ``valid=False``. Each
    call re-encodes the last ``STREAM_HISTORY`` blocks (a static buffer) in layer mode, which
    covers the whole receptive field, so results equal whole-signal encoding; before the
    buffer is full only the blocks received so far are used, as layer mode from the start.
    Cost: ``STREAM_HISTORY`` frames of encoder work per call (fine for capture; the
    generation loop does not depend on it).
    """

    def __init__(self, enc: SpectroStreamEncoder, batch: int = 1, history: int = STREAM_HISTORY):
        p = enc.first.weight
        self.enc, self.block, self.history = enc, enc.cfg.samples_per_frame, history
        self.audio = torch.zeros(batch, history * self.block, 2, device=p.device, dtype=torch.float32)
        self.steps = 0

    def reset(self) -> None:
        self.audio.zero_()
        self.steps = 0

    @torch.inference_mode()
    def step(self, block: torch.Tensor, levels: int | None = None
             ) -> tuple[torch.Tensor, torch.Tensor, bool]:
        """``block`` ``[B, 1920, 2]`` -> ``(embedding [B, F], codes [B, levels], valid)``."""
        n = self.block
        self.audio.copy_(torch.roll(self.audio, -n, dims=1))
        self.audio[:, -n:].copy_(block)
        self.steps += 1
        frames = min(self.steps, self.history)
        emb = self.enc.embeddings(self.audio[:, -frames * n:]).float()
        if frames < 2:
            emb = torch.zeros_like(emb[:, 0])
        else:
            emb = emb[:, -2]
        levels = self.enc.cfg.rvq_levels if levels is None else levels
        return emb, self.enc.rvq.embeddings_to_codes(emb, levels), self.steps > 1


def find_encoder_file(checkpoint_path: str | os.PathLike | None = None,
                      explicit: str | os.PathLike | None = None) -> Path:
    """Locate ``encoder.safetensors``.

    Order: ``explicit``; next to the generation checkpoint (where the official MLX loader
    looks); ``<root>/resources/spectrostream/encoder.safetensors`` of the official layout,
    root = the parent of the checkpoint's ``checkpoints/`` folder.
    """
    if explicit is not None:
        p = Path(explicit)
        if not p.is_file():
            raise CheckpointError(f"encoder weights not found: {p}")
        return p
    if checkpoint_path is None:
        raise CheckpointError("no encoder path and no generation checkpoint to look next to")
    ckpt_dir = Path(checkpoint_path).resolve().parent
    tried = [ckpt_dir / ENCODER_FILE, ckpt_dir.parent / "resources" / "spectrostream" / ENCODER_FILE]
    for p in tried:
        if p.is_file():
            return p
    raise CheckpointError(
        "SpectroStream encoder weights not found; tried " + ", ".join(str(p) for p in tried)
        + " (get resources/spectrostream/encoder.safetensors of the official release or pass its path)"
    )


def load_encoder(encoder_path: str | os.PathLike, checkpoint_path: str | os.PathLike,
                 cfg: CodecConfig | None = None, *, device: str | torch.device = "cpu",
                 dtype: torch.dtype = torch.float32) -> SpectroStreamEncoder:
    """Encoder from ``encoder.safetensors`` plus the RVQ table of the generation checkpoint.

    Widths are read from the files unless ``cfg`` is given; a layout mismatch raises a
    ``CheckpointError`` naming every offending key.
    """
    table_shape = read_shapes(checkpoint_path, (RVQ_KEY,)).get(RVQ_KEY)
    if table_shape is None:
        raise CheckpointError(f"{checkpoint_path}: no {RVQ_KEY} (not an MRT2 generation checkpoint?)")
    if cfg is None:
        shapes = read_shapes(encoder_path, (PREFIX,))
        first = shapes.get(PREFIX + "base_conv_first/conv/kernel")
        if first is None or len(first) != 4:
            raise CheckpointError(
                f"{encoder_path}: no {PREFIX}base_conv_first/conv/kernel: not a SpectroStream encoder file"
            )
        cfg = replace(CodecConfig(), encoder_base_conv_depth=first[3], num_quantizers=table_shape[0],
                      num_embeddings=table_shape[1], num_features=table_shape[2])
    enc = SpectroStreamEncoder(cfg)
    tensors = read_tensors(encoder_path, enc.official_shapes(), prefixes=(PREFIX,), dtype=torch.float32)
    table = read_tensors(checkpoint_path, {RVQ_KEY: tuple(enc.rvq.table.shape)}, prefixes=(RVQ_KEY,))[RVQ_KEY]
    enc.load_official(tensors, table)
    return place(enc, device, dtype)

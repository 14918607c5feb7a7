"""SpectroStream decoder: RVQ codes (25 Hz) -> 48 kHz stereo, offline and streaming.

One module serves both paths. Every conv with time context sees either the zero-padded
whole sequence (offline) or its own left-context buffer (streaming), so the two agree to
float rounding. Tensors are channels-first ``[B, C, T, F]`` (time = H, frequency = W).

Official semantics (sequence-layers, reproduced here): convs are causal in time (``k - 1``
frames on the left) with symmetric frequency padding; transposed convs insert ``s - 1``
zeros between inputs and cross-correlate with the *unflipped* kernel (time "causal",
frequency "same"), which equals ``conv_transpose2d`` with a flipped kernel plus a crop.
The decoder looks one codec frame ahead: offline drops the first 4 STFT frames
(``T`` codes -> ``(T - 1) * 1920`` samples); streaming step ``t`` returns frame ``t - 1``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from math import prod

import torch
import torch.nn.functional as F
from torch import nn

from mrtd.model.mrt2.checkpoint import read_shapes, read_tensors
from mrtd.model.mrt2.codec_config import CodecConfig
from mrtd.model.mrt2.rvq import RVQ
from mrtd.model.mrt2.stft import inverse_window, istft, istft_step

PREFIX = "params/soundstream/"
Pair = tuple[int, int]


def can_pack() -> bool:
    """Whether this torch build has oneDNN's prepacked convolutions (x86/ARM CPU builds)."""
    return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_convolution_pointwise")


class Packs:
    """Conv weights reordered once into oneDNN's blocked layout, per input shape.

    ``F.conv2d`` on the CPU reorders the weight into that layout on every call: at one
    codec frame a call, most of the decoder's big low-resolution convs (up to 19 MB of
    bfloat16 weights for 28 output positions) spent 5x longer reordering than computing.
    The packed call is the same oneDNN primitive, so where ``F.conv2d`` ran oneDNN too
    (bfloat16) the output is the same bit for bit; small float32 convs that PyTorch ran
    through its own im2col path now run in oneDNN (rounding only: 1e-6 on the tiny codec).
    A streaming decoder sees a fixed shape per conv; up to ``LIMIT`` shapes are kept (an
    offline decode of another length runs unpacked). They are a second copy of the
    weights (mrt2_small's codec: 71 MB in bfloat16). Training never uses them, and a
    weight that changed (loaded in place, or replaced) is packed again.
    """

    LIMIT = 4

    def __init__(self, transposed: bool):
        self.transposed = transposed
        self.by_shape: dict[tuple[int, ...], torch.Tensor] = {}
        self.source: tuple[int, int] = (0, -1)  # (data_ptr, version) of the weight packed
        self.failed = False

    def get(self, x: torch.Tensor, weight: torch.Tensor, stride: Pair) -> torch.Tensor | None:
        if torch.is_grad_enabled() or x.device.type != "cpu" or x.dtype != weight.dtype:
            return None
        source = (weight.data_ptr(), weight._version)
        if source != self.source:
            self.by_shape.clear()
            self.source = source
        key = tuple(x.shape)
        w = self.by_shape.get(key)
        if w is None and len(self.by_shape) < self.LIMIT and not self.failed:
            mk = torch.ops.mkldnn
            try:
                if self.transposed:
                    w = mk._reorder_convolution_transpose_weight(weight, [0, 0], [0, 0], list(stride), [1, 1], 1,
                                                                 list(key))
                else:
                    w = mk._reorder_convolution_weight(weight, [0, 0], list(stride), [1, 1], 1, list(key))
            except (RuntimeError, NotImplementedError):  # a oneDNN build without it: stay unpacked
                self.failed = True
                return None
            self.by_shape[key] = w
        return w


def same_pad(k: int, s: int = 1) -> Pair:
    """Official symmetric frequency padding of a conv: ``p = k - s`` split ``(p//2, p - p//2)``."""
    p = max(k - s, 0)
    return p // 2, p - p // 2


class Conv(nn.Module):
    """Conv2D with explicit (time, freq) padding; optional streaming over time.

    Streaming requires time stride 1 and causal time padding (``k - 1`` left): the buffer
    then holds the last ``k - 1`` input frames, which is exactly what zero padding gives at
    the start of the offline path.
    """

    def __init__(self, key: str, cin: int, cout: int, k: Pair, stride: Pair = (1, 1),
                 time_pad: Pair | None = None, freq_pad: Pair | None = None):
        super().__init__()
        self.key, self.k, self.stride = key, k, stride
        self.time_pad = time_pad if time_pad is not None else (k[0] - 1, 0)
        self.freq_pad = freq_pad if freq_pad is not None else same_pad(k[1], stride[1])
        self.weight = nn.Parameter(torch.zeros(cout, cin, *k), requires_grad=False)
        self.bias = nn.Parameter(torch.zeros(cout), requires_grad=False)
        self.slot = -1  # index of this conv's buffer in a streaming state (-1: stateless)
        self.context = k[0] - 1
        self.packs: Packs | None = None  # set by ``set_codec_layout(..., "packed")``

    def official_shapes(self) -> dict[str, tuple[int, ...]]:
        o, i, kh, kw = self.weight.shape
        return {f"{self.key}/conv/kernel": (kh, kw, i, o), f"{self.key}/conv/bias": (o,)}

    def load_official(self, t: dict[str, torch.Tensor]) -> None:
        self.weight.copy_(t[f"{self.key}/conv/kernel"].permute(3, 2, 0, 1))
        self.bias.copy_(t[f"{self.key}/conv/bias"])

    def forward(self, x: torch.Tensor, bufs: list[torch.Tensor] | None = None) -> torch.Tensor:
        if bufs is not None and self.context:
            buf = bufs[self.slot]
            x = torch.cat([buf, x], dim=2)
            buf.copy_(x[:, :, -self.context:])
            x = F.pad(x, (*self.freq_pad, 0, 0))
        else:
            x = F.pad(x, (*self.freq_pad, *self.time_pad))
        w = self.packs.get(x, self.weight, self.stride) if self.packs is not None else None
        if w is not None:
            return torch.ops.mkldnn._convolution_pointwise(x, w, self.bias, [0, 0], list(self.stride), [1, 1], 1,
                                                          "none", [], "")
        return F.conv2d(x, self.weight, self.bias, self.stride)


class ConvT(nn.Module):
    """Official Conv2DTranspose (zero insertion + unflipped correlation), causal in time.

    Computed as ``conv_transpose2d`` with the kernel flipped, cropped to ``T*st x F*sf``.
    Streaming keeps the last ``(kt - 1) // st`` input frames, enough for every output of
    the new frames.
    """

    def __init__(self, key: str, cin: int, cout: int, k: Pair, stride: Pair):
        super().__init__()
        self.key, self.k, self.stride = key, k, stride
        amount = k[1] + stride[1] - 2
        left = k[1] - 1 if stride[1] > k[1] - 1 else -(-amount // 2)
        self.freq_offset = k[1] - 1 - left
        self.weight = nn.Parameter(torch.zeros(cin, cout, *k), requires_grad=False)
        self.bias = nn.Parameter(torch.zeros(cout), requires_grad=False)
        self.slot = -1
        self.context = (k[0] - 1) // stride[0]
        self.packs: Packs | None = None

    def official_shapes(self) -> dict[str, tuple[int, ...]]:
        i, o, kh, kw = self.weight.shape
        return {f"{self.key}/conv/kernel": (kh, kw, i, o), f"{self.key}/conv/bias": (o,)}

    def load_official(self, t: dict[str, torch.Tensor]) -> None:
        self.weight.copy_(t[f"{self.key}/conv/kernel"].permute(2, 3, 0, 1).flip(2, 3))
        self.bias.copy_(t[f"{self.key}/conv/bias"])

    def forward(self, x: torch.Tensor, bufs: list[torch.Tensor] | None = None) -> torch.Tensor:
        st, sf = self.stride
        n_new, n_bins = x.shape[2], x.shape[3]
        start = 0
        if bufs is not None and self.context:
            buf = bufs[self.slot]
            x = torch.cat([buf, x], dim=2)
            buf.copy_(x[:, :, -self.context:])
            start = self.context * st
        w = self.packs.get(x, self.weight, self.stride) if self.packs is not None else None
        if w is not None:
            y = torch.ops.mkldnn._convolution_transpose_pointwise(x, w, self.bias, [0, 0], [0, 0], list(self.stride),
                                                                  [1, 1], 1, "none", [], "")
        else:
            y = F.conv_transpose2d(x, self.weight, self.bias, self.stride)
        return y[:, :, start:start + n_new * st, self.freq_offset:self.freq_offset + n_bins * sf]


def elu(x: torch.Tensor) -> torch.Tensor:
    return F.elu(x)


class DecoderUnit(nn.Module):
    """Residual unit ``conv3x3(elu(up_conv(elu(x)))) + upsample(conv1x1(x))``."""

    def __init__(self, key: str, cin: int, cout: int, stride: Pair):
        super().__init__()
        self.stride = stride
        if stride == (1, 1):
            self.conv_a = Conv(f"{key}/conv2d_3x3_a", cin, cout, (3, 3))
        else:
            k = (max(3, 2 * stride[0]), max(3, 2 * stride[1]))
            self.conv_a = ConvT(f"{key}/conv2dtranspose_{k[0]}x{k[1]}", cin, cout, k, stride)
        self.conv = Conv(f"{key}/conv2d_3x3", cout, cout, (3, 3))
        self.shortcut = Conv(f"{key}/shortcut_layer/conv1x1", cin, cout, (1, 1)) if cin != cout else None

    def forward(self, x: torch.Tensor, bufs: list[torch.Tensor] | None = None) -> torch.Tensor:
        y = self.conv(elu(self.conv_a(elu(x), bufs)), bufs)
        s = self.shortcut(x) if self.shortcut is not None else x
        st, sf = self.stride
        if st > 1:
            s = s.repeat_interleave(st, dim=2)
        if sf > 1:
            s = s.repeat_interleave(sf, dim=3)
        return y + s


@dataclass
class DecoderState:
    """Static streaming state: per-conv left-context buffers, the ISTFT tail, a gate.

    All tensors are allocated once and updated in place (stable ``data_ptr``), so a step
    can be captured in a CUDA graph. ``gate`` is 0 until the first step has run: it
    silences the frame the lookahead invalidates without a data-dependent branch.
    """

    bufs: list[torch.Tensor]
    tail: torch.Tensor  # [B, 2, 480]
    gate: torch.Tensor  # [1] float, 0 before the first step, then 1
    steps: int = 0

    def reset(self) -> None:
        for b in self.bufs:
            b.zero_()
        self.tail.zero_()
        self.gate.zero_()
        self.steps = 0

    def tensors(self) -> list[torch.Tensor]:
        return [*self.bufs, self.tail, self.gate]


class SpectroStreamDecoder(nn.Module):
    """Codes or embeddings -> 48 kHz stereo float waveform (decoder + inverse STFT)."""

    def __init__(self, cfg: CodecConfig):
        super().__init__()
        if cfg.channel_splits != 2 or cfg.num_channels != 4:
            raise ValueError("only the released stereo layout (4 channels, 2 splits) is supported")
        self.cfg = cfg
        ratios = cfg.ratios[::-1]
        mults = cfg.mults[::-1]
        c = cfg.decoder_base_conv_depth * int(prod(cfg.mults))
        self.bins = cfg.num_bins // int(prod(r[1] for r in cfg.ratios))
        self.width = c
        nf, proj, d = cfg.num_features, self.bins * c, "decoder"
        self.rvq = RVQ(cfg.num_quantizers, cfg.num_embeddings, nf)
        self.in_first = Conv(f"{d}/input_layer/conv1x1_first", nf, proj, (1, 1))
        self.in_b1 = Conv(f"{d}/input_layer/shortcut_layer/conv1x1_b1", nf, proj, (1, 1))
        self.in_b2 = Conv(f"{d}/input_layer/shortcut_layer/conv1x1_b2", proj, proj, (1, 1))
        self.in_unit = DecoderUnit(f"{d}/input_layers_residual_unit", c, c, (1, 1))
        # decoder_0 runs on both channel groups together; its output is split into
        # 2 groups (left, right) that share the weights of every later layer.
        out = int(round(c / mults[0])) * cfg.channel_splits
        self.up0 = DecoderUnit(f"{d}/decoder_0", c, out, ratios[0])
        cin = out // cfg.channel_splits
        ups = []
        for i in range(1, len(ratios)):
            cout = int(round(cin / mults[i]))
            ups.append(DecoderUnit(f"{d}/decoder_{i}", cin, cout, ratios[i]))
            cin = cout
        self.ups = nn.ModuleList(ups)
        self.out_conv = Conv(f"{d}/output_layer/base_conv_last", cin, cfg.num_channels // cfg.channel_splits,
                             (7, 7))
        self.lookahead = cfg.decoder_lookahead * cfg.time_stride
        self.register_buffer("window", inverse_window(cfg.stft_frame_length, cfg.stft_frame_step),
                             persistent=False)
        self._plan_state()

    # ---- weights -------------------------------------------------------------------------
    def _convs(self) -> list[Conv | ConvT]:
        return [m for m in self.modules() if isinstance(m, (Conv, ConvT))]

    def official_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every ``params/soundstream/...`` key this decoder reads, with its shape."""
        shapes = {PREFIX + "quantizer/embedding": tuple(self.rvq.table.shape)}
        for m in self._convs():
            shapes.update({PREFIX + k: v for k, v in m.official_shapes().items()})
        return shapes

    @torch.no_grad()
    def load_official(self, tensors: dict[str, torch.Tensor]) -> None:
        t = {k[len(PREFIX):]: v for k, v in tensors.items() if k.startswith(PREFIX)}
        self.rvq.load_official(t["quantizer/embedding"])
        for m in self._convs():
            m.load_official(t)

    # ---- streaming state -----------------------------------------------------------------
    def _plan_state(self) -> None:
        """Assign a buffer slot to every conv with time context; record each buffer's shape."""
        self._buf_specs: list[tuple[int, int, int, int]] = []  # (groups, C, frames, bins)

        def add(m, groups: int, bins: int) -> None:
            if m.context:
                m.slot = len(self._buf_specs)
                self._buf_specs.append((groups, m.weight.shape[1] if isinstance(m, Conv)
                                        else m.weight.shape[0], m.context, bins))

        def unit(u: DecoderUnit, groups: int, bins: int) -> int:
            add(u.conv_a, groups, bins)
            bins_out = bins * u.stride[1]
            add(u.conv, groups, bins_out)
            return bins_out

        bins = unit(self.in_unit, 1, self.bins)
        bins = unit(self.up0, 1, bins)
        for u in self.ups:
            bins = unit(u, self.cfg.channel_splits, bins)
        add(self.out_conv, self.cfg.channel_splits, bins)

    def init_state(self, batch: int = 1) -> DecoderState:
        """Zeroed streaming state for ``batch`` streams, on this module's device/dtype."""
        p = self.in_first.weight
        bufs = [torch.zeros(batch * g, c, n, f, device=p.device, dtype=p.dtype)
                for g, c, n, f in self._buf_specs]
        tail = torch.zeros(batch, 2, self.cfg.stft_frame_step, device=p.device, dtype=torch.float32)
        gate = torch.zeros(1, device=p.device, dtype=torch.float32)
        return DecoderState(bufs, tail, gate)

    # ---- network -------------------------------------------------------------------------
    def spectrum(self, emb: torch.Tensor, bufs: list[torch.Tensor] | None = None) -> torch.Tensor:
        """Embeddings ``[B, T, F]`` -> decoder spectrum ``[B, 4, 4T, 480]`` (before lookahead)."""
        b, t, _ = emb.shape
        x = emb.to(self.in_first.weight.dtype).transpose(1, 2).unsqueeze(-1)  # [B, F, T, 1]
        x = self.in_first(x) + self.in_b2(elu(self.in_b1(x)))  # [B, bins*C, T, 1]
        x = x.reshape(b, self.bins, self.width, t).permute(0, 2, 3, 1)  # bin-major -> [B, C, T, bins]
        x = self.in_unit(x, bufs)
        x = self.up0(x, bufs)
        g = self.cfg.channel_splits
        x = x.reshape(b * g, x.shape[1] // g, *x.shape[2:])  # groups -> batch (b major)
        for u in self.ups:
            x = u(x, bufs)
        x = self.out_conv(elu(x), bufs)  # [B*g, 2, 4T, 480]
        return x.reshape(b, g * x.shape[1], *x.shape[2:])

    def _embed(self, codes_or_emb: torch.Tensor) -> torch.Tensor:
        if codes_or_emb.is_floating_point():
            return codes_or_emb
        return self.rvq.codes_to_embeddings(codes_or_emb)

    @torch.inference_mode()
    def forward(self, codes_or_emb: torch.Tensor, output: str = "float") -> torch.Tensor:
        """Offline decode: codes ``[B, T, Q]`` (int) or embeddings ``[B, T, F]`` -> ``[B, (T-1)*1920, 2]``."""
        return transform_output(self.decode(self._embed(codes_or_emb)), output)

    def decode(self, emb: torch.Tensor) -> torch.Tensor:
        """Offline decode of embeddings ``[B, T, F]`` with autograd (training the demo codec):
        ``[B, (T-1)*1920, 2]``, the raw decoder output."""
        return istft(self.spectrum(emb)[:, :, self.lookahead:], self.window)

    def stream(self, codes_or_emb: torch.Tensor, state: DecoderState | None = None,
               output: str = "float") -> tuple[torch.Tensor, list[bool], DecoderState]:
        """A whole ``[B, T, Q|F]`` sequence through :meth:`step`, frame by frame.

        Returns ``(audio [B, T*1920, 2], valid per step, state)``; audio of step ``t`` is
        frame ``t - 1`` (the first step is silent)."""
        state = self.init_state(codes_or_emb.shape[0]) if state is None else state
        outs, valid = [], []
        for t in range(codes_or_emb.shape[1]):
            a, v = self.step(codes_or_emb[:, t], state, output)
            outs.append(a)
            valid.append(v)
        return torch.cat(outs, 1), valid, state

    @torch.inference_mode()
    def step(self, codes_or_emb: torch.Tensor, state: DecoderState,
             output: str = "float") -> tuple[torch.Tensor, bool]:
        """Decode one codec frame (``[B, Q]`` codes or ``[B, F]`` embeddings).

        Returns ``(audio [B, 1920, 2], valid)``: the audio of the *previous* frame (the
        decoder looks one frame ahead). The first step after ``init_state``/``reset``
        returns silence with ``valid=False``.
        """
        x = self._embed(codes_or_emb)
        if x.dim() == 2:
            x = x.unsqueeze(1)
        spec = self.spectrum(x, state.bufs) * state.gate
        audio = istft_step(spec, state.tail, self.window)
        state.gate.fill_(1.0)
        valid = state.steps > 0
        state.steps += 1
        return transform_output(audio, output), valid


# ---- official output scaling -----------------------------------------------------------
def float_to_int16(x: torch.Tensor) -> torch.Tensor:
    """Official output transform: ``round(32767.5 * clip(0.5 x, -1, 1) - 0.5)`` as int16.

    Computed in float32 like the official sampler; ``torch.round`` rounds half to even as
    ``jnp.round`` does.
    """
    y = torch.clamp(0.5 * x.float(), -1.0, 1.0)
    return torch.round(32767.5 * y - 0.5).to(torch.int16)


def int16_to_float(q: torch.Tensor) -> torch.Tensor:
    """int16 PCM -> float in [-1, 1) (what the official ``generate()`` returns)."""
    return q.float() / 32768.0


def transform_output(x: torch.Tensor, output: str) -> torch.Tensor:
    """``float``: raw decoder output; ``int16``: official published audio (int16 / 32768,
    half the decoder amplitude); ``pcm16``: the int16 samples themselves."""
    if output == "float":
        return x
    if output == "int16":
        return int16_to_float(float_to_int16(x))
    if output == "pcm16":
        return float_to_int16(x)
    raise ValueError(f"unknown output transform {output!r} (float, int16, pcm16)")


# ---- construction / loading -------------------------------------------------------------
def infer_config(shapes: dict[str, tuple[int, ...]], base: CodecConfig | None = None) -> CodecConfig:
    """Codec config whose widths match a checkpoint (decoder depth and RVQ width from shapes)."""
    from dataclasses import replace

    base = base or CodecConfig()
    q, e, f = shapes[PREFIX + "quantizer/embedding"]
    depth = shapes[PREFIX + "decoder/output_layer/base_conv_last/conv/kernel"][2]
    return replace(base, num_quantizers=q, num_embeddings=e, num_features=f, decoder_base_conv_depth=depth)


def checkpoint_shapes(cfg: CodecConfig) -> dict[str, tuple[int, ...]]:
    """All ``params/soundstream/...`` keys and shapes of a generation checkpoint."""
    with torch.device("meta"):
        return SpectroStreamDecoder(cfg).official_shapes()


def load_decoder(path: str | os.PathLike, cfg: CodecConfig | None = None, *, device: str | torch.device = "cpu",
                 dtype: torch.dtype = torch.float32) -> SpectroStreamDecoder:
    """Decoder (with its RVQ table) from a generation checkpoint's ``params/soundstream/*``.

    Without ``cfg`` the widths are read from the file (tiny and real both load).
    """
    if cfg is None:
        cfg = infer_config(read_shapes(path, (PREFIX,)))
    tensors = read_tensors(path, checkpoint_shapes(cfg), prefixes=(PREFIX,), dtype=torch.float32)
    dec = SpectroStreamDecoder(cfg)
    dec.load_official(tensors)
    return place(dec, device, dtype)


def place(module: nn.Module, device: str | torch.device, dtype: torch.dtype) -> nn.Module:
    """Move to ``device``, cast conv weights to ``dtype``; the RVQ table and the STFT
    windows stay float32 (codes must match exactly; the FFTs run in float32)."""
    module = module.to(device)
    for m in module.modules():
        if isinstance(m, (Conv, ConvT)):
            m.weight.data = m.weight.data.to(dtype)
            m.bias.data = m.bias.data.to(dtype)
    return module.eval()

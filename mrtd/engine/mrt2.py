"""MRT2 as a stream generator: one 40 ms frame per step through :class:`FrameStep`.

The frame is a FrameStep of one stream: static buffers on the model's device, controls
written into its inputs every step, and on CUDA optionally replayed as a CUDA graph
(:meth:`MRT2Generator.capture`). On the CPU in float32 it is the same arithmetic as
``Depthformer.step`` + the codec ``step``, bit for bit. Frame ``F``'s audio comes out of
the codec one step later (decoder lookahead: ``Block.lag = 1``); the first codec frame
after a start or reset is not valid. The Gumbel noise comes from one CPU
``torch.Generator`` seeded by the engine, so CPU float32 replays are bit-identical.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np
import torch

from mrtd.constants import FRAME
from mrtd.engine.generator import Block, FrameControls, encode_prefill, silence_codes
from mrtd.model.mrt2.codec_decoder import SpectroStreamDecoder
from mrtd.model.mrt2.depthformer import Depthformer, StreamState
from mrtd.model.mrt2.framestep import FrameStep
from mrtd.model.mrt2.rvq import codes_to_ids, ids_to_codes

OUTPUT_GAIN = 0.5  # the official output scaling: published audio is half the decoder's
CODEC_WARMUP = 8  # prefill frames run through the codec so the first audio is continuous

# (model state, codec tensors + [codec steps]): a reset target or a bank
Snapshot = tuple[StreamState, list[torch.Tensor]]


class MRT2Generator:
    """One MRT2 stream (model and codec must share a device; conditioning and noise are
    made on the host)."""

    lag = 1

    def __init__(self, model: Depthformer, decoder: SpectroStreamDecoder, *, seed: int = 0, encoder: Any = None):
        self.model, self.decoder, self.encoder = model, decoder, encoder
        self.name = model.cfg.name
        self.fs = FrameStep(model, decoder, 1, seeds=[seed])
        self.device = self.fs.device
        self.graph_error: str | None = None  # why CUDA graph capture failed, if it did
        self._out = np.zeros((1, FRAME, 2), np.float32)  # the step's audio at output scale

    @property
    def defaults(self) -> dict[str, Any]:
        """Controls this model's engine starts at instead of the schema's (its manifest's
        ``defaults``: the trained demo's temperature)."""
        return dict(getattr(self.model, "sampling_defaults", {}))

    # ---- the step ----------------------------------------------------------------------
    def step(self, controls: FrameControls) -> Block:
        fs = self.fs
        fs.set_controls(cond=controls.cond, temperature=controls.temperature, top_k=controls.top_k)
        out = fs.run()  # noise from fs.generators[0], drawn on the host
        tokens = out.tokens.to("cpu", copy=True)  # the static buffer is the next frame's
        if out.valid[0]:
            np.multiply(out.audio[0].cpu().numpy(), OUTPUT_GAIN, out=self._out[0])
        return Block(tokens, self._out, out.valid, self.lag)

    # ---- state -------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        steps = int(self.fs.codec_steps()[0])  # the host count (a graph replay does not update dec_state.steps)
        codec = [t.clone() for t in self.fs.dec_state.tensors()] + [torch.tensor([steps])]
        return self.fs.state.clone(), codec

    def restore(self, snap: Snapshot, seed: int) -> None:
        state, codec = snap
        self.fs.state.copy_(state)
        for dst, src in zip(self.fs.dec_state.tensors(), codec[:-1]):
            dst.copy_(src)
        self.fs.set_codec_steps(int(codec[-1][0]))
        self.fs.seed([seed])

    # ---- history (loops, rewind: mrtd.engine.looper) -------------------------------------
    def history_snapshot(self) -> dict:
        """Everything that decides the coming frames, the sampler's noise state included
        (:meth:`FrameStep.snapshot`): restoring it and making a frame with the same
        controls gives the same frame, bit for bit on CPU float32."""
        return self.fs.snapshot()

    def history_restore(self, snap: dict) -> None:
        self.fs.restore(snap)

    def reseed(self, seed: int) -> None:
        """New noise from here on (a loop pass that varies), the stream state kept."""
        self.fs.seed([seed])

    @torch.inference_mode()
    def prefill(self, codes: torch.Tensor, cond: np.ndarray) -> None:
        """Official prefill: N-1 forced steps, frame N-1 left as the previous frame; the
        last :data:`CODEC_WARMUP` frames through the codec so the first audio is continuous."""
        fs, n = self.fs, codes.shape[0]
        ids = codes_to_ids(codes.long().to(self.device))[None]
        fs.state.reset()
        fs.state.prev.copy_(ids[:, 0])
        c = torch.from_numpy(cond)[None].to(self.device)
        for i in range(1, n):  # eager steps on the FrameStep's own buffers (forced: no sampling)
            self.model.step(fs.state, c, fs.temperature, fs.top_k, None, forced=ids[:, i])
        fs.dec_state.reset()
        for i in range(max(0, n - CODEC_WARMUP), n):
            self.decoder.step(ids_to_codes(ids[:, i]), fs.dec_state)
        fs.set_codec_steps(fs.dec_state.steps)

    def silence_codes(self) -> torch.Tensor:
        return silence_codes(self.encoder, self.decoder, 12)

    def encode(self, wave: np.ndarray) -> torch.Tensor:
        return encode_prefill(self.encoder, wave, 12)

    # ---- banks: "model.<StreamState field>", "codec.<i>" (the last: codec steps) ---------
    def bank_tensors(self) -> dict[str, torch.Tensor]:
        fs = self.fs
        t = {f"model.{f.name}": getattr(fs.state, f.name) for f in fields(fs.state)}
        codec = [*fs.dec_state.tensors(), torch.tensor([int(fs.codec_steps()[0])])]
        t.update({f"codec.{i}": x for i, x in enumerate(codec)})
        return {k: v.detach().to("cpu", copy=True).contiguous() for k, v in t.items()}

    def from_bank(self, tensors: dict[str, torch.Tensor]) -> Snapshot:
        return snapshot_from_bank(self.fs.state.clone(), self.fs.dec_state.tensors(), tensors)

    # ---- how it runs -------------------------------------------------------------------
    def capture(self) -> bool:
        """CUDA: record the frame as a CUDA graph (FrameStep's warm-up first; the stream
        state is left as it was). False on the CPU, or if capture fails (then eager,
        :attr:`graph_error` says why)."""
        if not self.fs.on_cuda:
            return False
        try:
            return self.fs.capture()
        except Exception as e:  # noqa: BLE001 - any capture failure means: run eager
            self.fs.release()
            self.graph_error = f"{type(e).__name__}: {e}"
            return False

    @property
    def graphed(self) -> bool:
        return self.fs.mode == "graph"

    def describe(self) -> str:
        """``cpu float32``, ``cuda:0 (NVIDIA H100) bfloat16, codec float32, CUDA graph``."""
        name = lambda dt: str(dt).replace("torch.", "")
        dev = self.device
        where = str(dev)
        if dev.type == "cuda":
            where = f"{dev.type}:{dev.index if dev.index is not None else torch.cuda.current_device()}"
            where += f" ({torch.cuda.get_device_name(dev)})"
        text = f"{where} {name(self.model.dtype)}"
        if getattr(self.model, "quant", None):
            from mrtd.model.mrt2.int8_kernel import kernel_name, why_not
            from mrtd.model.mrt2.native_step import plan_of

            kernel = ""
            if self.model.quant == "int8" and dev.type == "cpu":
                why = why_not()
                frame = " and frame" if plan_of(self.model) is not None else ""
                kernel = f" ({kernel_name()} kernel{frame})" if why is None else f" (PyTorch's kernel: {why})"
            text = f"{where} {self.model.quant} weights{kernel}, {name(self.model.dtype)} activations"
        codec = self.decoder.in_first.weight.dtype
        if codec != self.model.dtype:
            text += f", codec {name(codec)}"
        if dev.type == "cuda":
            text += ", CUDA graph" if self.graphed else (
                ", eager (CUDA graph capture failed)" if self.graph_error else ", eager")
        return text


def snapshot_from_bank(state: StreamState, codec: list[torch.Tensor], tensors: dict[str, torch.Tensor]) -> Snapshot:
    """A bank's tensors as a one-stream snapshot: ``state`` (a scratch copy, filled in
    place) and the codec tensors checked against the shapes of ``codec`` (buffers, tail,
    gate), then the codec step count. ValueError naming what does not fit."""
    try:
        for f in fields(state):
            getattr(state, f.name).copy_(tensors[f"model.{f.name}"])
        got = [tensors[f"codec.{i}"] for i in range(len(codec) + 1)]
        for dst, src in zip(codec, got):
            if dst.shape != src.shape:
                raise RuntimeError("codec state shape")
    except (KeyError, RuntimeError) as e:
        raise ValueError(str(e)) from None
    return state, got

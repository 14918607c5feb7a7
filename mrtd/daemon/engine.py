"""The generation engine: one thread, one stream, controls applied at frame boundaries.

Any thread may :meth:`Engine.post` a control (validated at once, so a bad one is
refused to the sender) for "the next frame" or for a given frame index; the generation
thread applies everything due right before it builds a frame's conditioning, so a frame
never sees half a change, and logs each applied change as an :class:`Event` with its
frame index (optionally to an :class:`EventWriter`). Replaying that log with the same
checkpoint and seed gives bit-identical audio on CPU float32: the Gumbel noise comes
from one CPU ``torch.Generator`` seeded with ``seed + rotation * resets``.

Generation is pulled by the output queue: a frame is made only when it fits in the
latency budget. :meth:`step_frame` is the whole frame pipeline; the live thread and the
offline renderer both call it (the renderer just does not wait for the clock). The frame
itself is a :class:`~mrtd.model.framestep.FrameStep` of one stream: static buffers on the
model's device, controls written into its inputs every frame, and on CUDA optionally
replayed as a CUDA graph (:meth:`Engine.capture`). On the CPU in float32 it is the same
arithmetic as ``Depthformer.step`` + the codec ``step``, bit for bit.
Frame ``F``'s audio comes out of the codec one step later (decoder lookahead); the
first, invalid codec frame after a start or reset is not queued. Each frame's audio is
queued twice, as four channels: post-effects (wet L/R) and pre-effects (dry L/R).
Effect changes are controls like any other, so they too land on a frame and replay.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch

from mrtd.daemon.banks import bank_path, load_bank, save_bank
from mrtd.daemon.controls import ACTIONS, OUTPUT, PLAYING, Controls
from mrtd.daemon.effects import EffectsChain
from mrtd.daemon.events import Event, EventWriter
from mrtd.daemon.output import OutputQueue, db_to_gain
from mrtd.daemon.style import StyleEncoder
from mrtd.errors import UserError
from mrtd.model.codec_decoder import SpectroStreamDecoder
from mrtd.model.depthformer import Depthformer, StreamState
from mrtd.model.framestep import FrameStep
from mrtd.model.rvq import codes_to_ids, ids_to_codes

log = logging.getLogger("mrtd.engine")

OUTPUT_GAIN = 0.5  # the official output scaling: published audio is half the decoder's
FRAME_RATE = 25
PREFILL_MAX_S = 28.0
PREFILL_TRIM = 25  # frames trimmed at each end of an encoded audio prefill (official)
CODEC_WARMUP = 8  # prefill frames run through the codec so the first audio is continuous
CHANNELS = 4  # queued per sample: wet L, wet R (post-effects), dry L, dry R (pre-effects)


class Engine:
    """One MRT2 stream: model + codec + controls + output queue, on the model's device
    (model and codec must share it; the conditioning and the noise are made on the host)."""

    def __init__(self, model: Depthformer, decoder: SpectroStreamDecoder, *, seed: int = 0,
                 latency_ms: float | None = None, event_sink: EventWriter | None = None,
                 bank_dir: str | Path | None = None, encoder: Any = None, strict: bool = False,
                 style: StyleEncoder | None = None):
        self.model, self.decoder, self.encoder = model, decoder, encoder
        self.cfg = model.cfg
        self.style = style if style is not None else StyleEncoder(None)
        self.source = "an in-memory model"  # what was loaded, for start-up messages
        self.controls = Controls(self.style)
        self.controls.seed = int(seed)
        if latency_ms is not None:
            self.controls.latency_ms = float(latency_ms)
        self.output = OutputQueue(self.controls.latency_ms, channels=CHANNELS)
        self.effects = EffectsChain(self.output.sample_rate, self.output.frame)
        self.listeners: list[Callable[[Event], None]] = []  # told of every applied change
        self._frame_buf = np.zeros((self.output.frame, CHANNELS), np.float32)
        self.bank_dir = Path(bank_dir) if bank_dir is not None else None
        self.event_sink = event_sink
        self.strict = strict  # raise errors from applied events (offline) instead of logging them
        # the frame: FrameStep's static buffers are the stream state (these are aliases)
        self.fs = FrameStep(model, decoder, 1, seeds=[self.controls.seed])
        self.device = self.fs.device
        self.state: StreamState = self.fs.state
        self.dec_state = self.fs.dec_state
        self.generator: torch.Generator = self.fs.generators[0]  # CPU, as the official noise
        self.graph_error: str | None = None  # why CUDA graph capture failed, if it did
        self.target = self._snapshot()  # the reset target
        self.frame = 0  # index of the next frame to generate
        self.resets = 0
        self.applied: deque[Event] = deque(maxlen=4096)
        self.errors: deque[str] = deque(maxlen=64)
        self.last_tokens: torch.Tensor | None = None
        self.frame_ms: deque[float] = deque(maxlen=50)
        self._pending: list[tuple[int, int, str, tuple]] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._sync_output()

    # ---- posting controls (any thread) ---------------------------------------------------
    def post(self, address: str, *args: Any, frame: int | None = None) -> None:
        """Schedule a control for frame ``frame`` (None: the next frame boundary).

        Raises UserError at once if the message is invalid; a frame already generated
        means "as soon as possible"."""
        result = self.post_many([(address, args)], frame)[0]
        if isinstance(result, UserError):
            raise result

    def post_many(self, messages: list[tuple[str, tuple | list]], frame: int | None = None) -> list:
        """Schedule several controls for one frame (an OSC bundle): each is checked, and
        the valid ones are queued under one lock, so they land on the same frame.
        Returns, per message, its converted values or the UserError that refused it."""
        results: list = []
        for address, args in messages:
            try:
                results.append(self.controls.check(address, args))
            except UserError as e:
                results.append(e)
        key = -1 if frame is None else int(frame)
        with self._lock:
            for (address, _), values in zip(messages, results):
                if not isinstance(values, UserError):
                    heapq.heappush(self._pending, (key, next(self._seq), address, values))
        return results

    def post_events(self, events: list[Event]) -> None:
        for e in events:
            self.post(e.address, *e.args, frame=e.frame)

    # ---- the frame pipeline (generation thread) ------------------------------------------
    def apply_due(self) -> bool:
        """Apply every control due at the coming frame boundary; True if one changes the
        generated audio (for responsive mode)."""
        changed = False
        while True:
            with self._lock:
                if not self._pending or self._pending[0][0] > self.frame:
                    break
                _, _, address, values = heapq.heappop(self._pending)
            try:
                changed |= self._apply(address, values)
            except UserError as e:
                self.errors.append(f"frame {self.frame}: {e}")
                log.error("frame %d: %s", self.frame, e)
                if self.strict:
                    raise
                reason = str(e)
                reason = reason[len(address) + 2:] if reason.startswith(address + ": ") else reason
                self._tell(Event(self.frame, "/mrtd/error", (address, reason)))  # to the OSC subscribers
                continue
            ev = Event(self.frame, address, values)
            self.applied.append(ev)
            if self.event_sink is not None:
                self.event_sink.write([ev])
            self._tell(ev)
        return changed

    def _tell(self, ev: Event) -> None:
        for listener in self.listeners:
            try:
                listener(ev)
            except Exception:  # a feedback target must never stop the stream
                log.exception("listener failed on %s", ev.address)

    def _apply(self, address: str, values: tuple) -> bool:
        if address in ACTIONS:
            self._action(address, values)
            return False
        if EffectsChain.handles(address):
            self.effects.set(address, values)
            return False
        self.controls.apply(address, values)
        if address in OUTPUT:
            self._sync_output()
            return False
        return address not in PLAYING

    def _sync_output(self) -> None:
        c, o = self.controls, self.output
        o.gain_target = 0.0 if c.mute else db_to_gain(c.volume_db)
        o.paused = c.pause or c.bypass
        o.set_latency_ms(c.latency_ms)
        o.cut_fade = max(1, int(c.reset_fade_ms / 1000 * o.sample_rate))

    @torch.inference_mode()
    def step_frame(self) -> torch.Tensor:
        """Apply due controls, generate frame ``self.frame``, queue the codec's audio.
        Returns the frame's 12 token ids."""
        t0 = time.perf_counter()
        if self.apply_due() and self.controls.responsive:
            self.output.cut()
        c = self.controls
        cond = c.frame_cond()
        if c.feedback:  # prompt slots finished encoding, failed, or changed the style
            for address, values in c.feedback:
                self._tell(Event(self.frame, address, values))
            c.feedback.clear()
        self.fs.set_controls(cond=cond, temperature=c.temperature, top_k=c.top_k)
        out = self.fs.run()  # noise from self.generator, drawn on the host
        tokens = out.tokens[0].to("cpu", copy=True)  # the static buffer is the next frame's
        if out.valid[0]:
            buf = self._frame_buf
            np.multiply(out.audio[0].cpu().numpy(), OUTPUT_GAIN, out=buf[:, 2:])
            wet = self.effects.process(buf[:, 2:])
            buf[:, :2] = wet
            self.output.write(buf, frame_id=self.frame - 1)
        self.last_tokens = tokens
        self.frame += 1
        self.frame_ms.append(1000 * (time.perf_counter() - t0))
        return tokens

    def capture(self) -> bool:
        """CUDA: record the frame as a CUDA graph (FrameStep's warm-up first; the stream
        state is left as it was), so every later frame is one graph replay. True if
        captured; False on the CPU, or with a logged warning if capture fails (the engine
        then stays eager, :attr:`graph_error` says why). Call it before :meth:`start`."""
        if not self.fs.on_cuda:
            return False
        try:
            return self.fs.capture()
        except Exception as e:  # noqa: BLE001 - any capture failure means: run eager
            self.fs.release()
            self.graph_error = f"{type(e).__name__}: {e}"
            log.warning("CUDA graph capture failed, running the frame eagerly: %s", self.graph_error)
            return False

    @property
    def graphed(self) -> bool:
        """True when frames are CUDA graph replays."""
        return self.fs.graphs is not None

    def describe(self) -> str:
        """Where and how frames run, for start-up messages: ``cpu float32``,
        ``cuda:0 (NVIDIA H100) bfloat16, codec float32, CUDA graph``."""
        name = lambda dt: str(dt).replace("torch.", "")  # noqa: E731
        dev = self.device
        where = str(dev)
        if dev.type == "cuda":
            where = f"{dev.type}:{dev.index if dev.index is not None else torch.cuda.current_device()}"
            where += f" ({torch.cuda.get_device_name(dev)})"
        text = f"{where} {name(self.model.dtype)}"
        codec = self.decoder.in_first.weight.dtype
        if codec != self.model.dtype:
            text += f", codec {name(codec)}"
        if dev.type == "cuda":
            text += ", CUDA graph" if self.graphed else (
                ", eager (CUDA graph capture failed)" if self.graph_error else ", eager")
        return text

    # ---- actions -------------------------------------------------------------------------
    def _action(self, address: str, v: tuple) -> None:
        if address == "/mrtd/reset":
            self.reset()
        elif address == "/mrtd/prefill/silence":
            self.prefill_silence(v[0] if v else 22.0)
        elif address == "/mrtd/prefill/audio":
            self.prefill_audio(v[0])
        elif address == "/mrtd/bank/save":
            self.save_bank(v[0])
        elif address == "/mrtd/bank/load":
            self.load_bank(v[0])

    def reset(self, rotate: bool = True) -> None:
        """Back to the reset target; the sampler is re-seeded (``seed + rotation * resets``)
        and the queued audio is dropped with a fade."""
        if rotate:
            self.resets += 1
        self.state.copy_(self.target[0])
        self._restore_codec(self.target[1])
        self.fs.seed([self.controls.seed + self.controls.rotation * self.resets])
        self.output.cut()

    def _snapshot(self) -> tuple[StreamState, list[torch.Tensor]]:
        steps = int(self.fs.codec_steps()[0])  # the host count (a graph replay does not update dec_state.steps)
        codec = [t.clone() for t in self.dec_state.tensors()] + [torch.tensor([steps])]
        return self.state.clone(), codec

    def _restore_codec(self, codec: list[torch.Tensor]) -> None:
        for dst, src in zip(self.dec_state.tensors(), codec[:-1]):
            dst.copy_(src)
        self.fs.set_codec_steps(int(codec[-1][0]))

    @torch.inference_mode()
    def prefill(self, codes: torch.Tensor) -> None:
        """Teacher-force raw codes ``[N, 12]`` into the context (official N-1 steps,
        frame N-1 left as the previous frame), make it the reset target, and reset to it."""
        n = codes.shape[0]
        if n < 1:
            raise UserError("prefill needs at least one frame")
        ids = codes_to_ids(codes.long().to(self.device))[None]
        self.state.reset()
        self.state.prev.copy_(ids[:, 0])
        cond = torch.from_numpy(self.controls.prefill_cond())[None].to(self.device)
        fs = self.fs  # eager steps on the FrameStep's own buffers (forced: no sampling)
        for i in range(1, n):
            self.model.step(self.state, cond, fs.temperature, fs.top_k, None, forced=ids[:, i])
        self.dec_state.reset()
        for i in range(max(0, n - CODEC_WARMUP), n):
            self.decoder.step(ids_to_codes(ids[:, i]), self.dec_state)
        fs.set_codec_steps(self.dec_state.steps)
        self.target = self._snapshot()
        self.reset(rotate=False)

    def silence_codes(self) -> torch.Tensor:
        """12 codes of silence: the encoder's middle frame of zeros if an encoder is loaded,
        else the RVQ quantisation of a zero embedding (an approximation)."""
        if self.encoder is not None:
            codes = self.encoder(torch.zeros(1, 75 * 1920, 2, device=self._encoder_device()))
            return codes[0, codes.shape[1] // 2, :12]
        table = self.decoder.rvq.table
        zero = torch.zeros(1, table.shape[-1], device=table.device)
        return self.decoder.rvq.embeddings_to_codes(zero, 12)[0]

    def _encoder_device(self) -> torch.device:
        first = getattr(self.encoder, "first", None)
        return first.weight.device if first is not None else torch.device("cpu")

    def prefill_silence(self, seconds: float = 22.0) -> None:
        n = max(1, int(round(seconds * FRAME_RATE)))
        self.prefill(self.silence_codes()[None].repeat(n, 1))

    def prefill_audio(self, path: str) -> None:
        if self.encoder is None:
            raise UserError("audio prefill needs the SpectroStream encoder (encoder.safetensors), none is loaded")
        try:
            wave, sr = sf.read(path, dtype="float32", always_2d=True)
        except (RuntimeError, OSError) as e:
            raise UserError(f"cannot read audio {path}: {e}") from None
        if sr != 48000:
            raise UserError(f"{path}: {sr} Hz; audio prefill needs 48000 Hz (resample it first)")
        wave = wave[: int(PREFILL_MAX_S * sr)]
        wave = np.repeat(wave, 2, axis=1) if wave.shape[1] == 1 else wave[:, :2]
        wave = wave[: wave.shape[0] // 1920 * 1920]
        if wave.shape[0] < 1920:
            raise UserError(f"{path}: shorter than one 40 ms frame")
        codes = self.encoder(torch.from_numpy(np.ascontiguousarray(wave))[None].to(self._encoder_device()))[0, :, :12]
        if codes.shape[0] > 4 * PREFILL_TRIM:
            codes = codes[PREFILL_TRIM:-PREFILL_TRIM]
        self.prefill(codes)

    # ---- banks ---------------------------------------------------------------------------
    def _bank(self, n: int) -> Path:
        if self.bank_dir is None:
            raise UserError("no bank directory configured")
        return bank_path(self.bank_dir, n)

    def save_bank(self, n: int) -> Path:
        """The live model state and generation controls -> bank ``n`` (atomic write)."""
        from dataclasses import fields

        t = {f"model.{f.name}": getattr(self.state, f.name) for f in fields(self.state)}
        t.update({f"codec.{i}": x for i, x in enumerate(self._snapshot()[1])})
        path = self._bank(n)
        save_bank(path, t, {"controls": self.controls.to_json(), "model": self.cfg.name})
        return path

    def load_bank(self, n: int) -> None:
        """Bank ``n`` becomes the reset target (with its controls), then reset to it."""
        from dataclasses import fields

        tensors, meta = load_bank(self._bank(n))
        state = self.state.clone()
        try:
            for f in fields(state):
                src = tensors[f"model.{f.name}"]
                getattr(state, f.name).copy_(src)
            codec = [tensors[f"codec.{i}"] for i in range(len(self.dec_state.tensors()) + 1)]
            for dst, src in zip(self.dec_state.tensors(), codec):
                if dst.shape != src.shape:
                    raise RuntimeError("codec state shape")
        except (KeyError, RuntimeError) as e:
            raise UserError(f"bank {n} does not fit this model ({meta.get('model')}): {e}") from None
        self.target = (state, codec)
        self.controls.load_json(meta["controls"])
        self.reset()

    # ---- the live thread -----------------------------------------------------------------
    def start(self) -> None:
        """Start the generation thread (pulled by the output queue level)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="mrtd-generate", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        torch.set_grad_enabled(False)
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)  # this thread's kernels, streams and events on ours
        while not self._stop.is_set():
            try:
                if self.output.has_room():
                    self.step_frame()
                else:
                    self.apply_due()  # output controls (unpause, volume) must land while idle
                    time.sleep(0.002)
            except Exception as e:  # keep the stream alive; the audio side conceals the gap
                log.exception("generation error at frame %d", self.frame)
                self.errors.append(f"frame {self.frame}: {e}")
                time.sleep(0.04)

    @property
    def stopped(self) -> bool:
        """True when no generation thread is running (nothing will fill the queue)."""
        return self._thread is None or self._stop.is_set()

    def read_into(self, out: np.ndarray) -> None:
        """The audio side's call (JACK process callback): ``out`` is ``[n, 4]`` (wet L/R,
        dry L/R); RT-safe, see OutputQueue."""
        self.output.read_into(out)

    def lead_frames(self) -> int:
        """How far generation runs ahead of playback when the queue is full: a control
        stamped with playback time is applied this many frames after the frame heard then."""
        return -(-self.output.budget // self.output.frame) + 2

    def frame_for_sample(self, sample: int) -> int | None:
        """The frame at which a control timed at output stream sample ``sample`` lands, at
        a constant latency (:meth:`lead_frames`); None when that time is not mapped (no
        audio queued there yet): then "as soon as possible" is all one can do."""
        heard = self.output.frame_at(sample)
        return None if heard is None else heard + self.lead_frames()

    def value(self, address: str) -> tuple | None:
        """Current value of a readable address (controls or effects), for OSC queries."""
        if EffectsChain.handles(address):
            return self.effects.value(address)
        return self.controls.value(address)

    def status(self) -> dict[str, Any]:
        ms = list(self.frame_ms)
        mean = sum(ms) / len(ms) if ms else 0.0
        return {
            "model": self.cfg.name, "frame": self.frame, "resets": self.resets,
            "frame_ms": mean, "fps": 1000.0 / mean if mean else 0.0,
            "style_tokens": self.controls.style_tokens().tolist(), "lead_frames": self.lead_frames(),
            "errors": list(self.errors)[-5:], **self.output.status(),
        }

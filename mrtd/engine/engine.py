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
itself is a :class:`~mrtd.model.mrt2.framestep.FrameStep` of one stream: static buffers on the
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
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch

from mrtd.audio.output import OutputQueue
from mrtd.constants import FRAME, FRAME_RATE, SAMPLE_RATE, db_to_gain
from mrtd.controls.banks import bank_name, parse_bank, save_bank
from mrtd.controls.events import Event, EventWriter
from mrtd.controls.state import ACTIONS, OUTPUT, PLAYING, Controls
from mrtd.controls.style import StyleEncoder
from mrtd.datadir import MAX_AUDIO_BYTES, MAX_BANK_BYTES, DataDir, PathRefused
from mrtd.effects.chain import EffectsChain
from mrtd.errors import ControlError, UserError, reason_for
from mrtd.model.mrt2.codec_decoder import SpectroStreamDecoder
from mrtd.model.mrt2.depthformer import Depthformer, StreamState
from mrtd.model.mrt2.framestep import FrameStep
from mrtd.model.mrt2.rvq import codes_to_ids, ids_to_codes

log = logging.getLogger("mrtd.engine")

OUTPUT_GAIN = 0.5  # the official output scaling: published audio is half the decoder's
PREFILL_MAX_S = 28.0
PREFILL_TRIM = 25  # frames trimmed at each end of an encoded audio prefill (official)
CODEC_WARMUP = 8  # prefill frames run through the codec so the first audio is continuous
CHANNELS = 4  # queued per sample: wet L, wet R (post-effects), dry L, dry R (pre-effects)
KEEP_CAPTURES = 32  # input captures kept in captures/ (each up to ~11 MB)

_OPERATOR = DataDir(trusted=True)  # opens paths already checked (or the operator's own)
Reply = Callable[[str, str], None]  # (address, reason): an /mrtd/error to the message's sender


@dataclass(frozen=True)
class Capture:
    """Audio taken from the JACK inputs for a prefill: saved to ``path`` (so the event log
    replays it as ``/mrtd/prefill/audio PATH``) and encoded, both off the frame thread."""

    wave: np.ndarray
    path: Path
    fd: int


@dataclass
class _Parked:
    """An action whose disk work (reading, decoding, encoding) runs on the file thread;
    it takes effect on the first frame after that work is done."""

    job: Future
    address: str
    values: tuple
    reply: Reply | None
    finish: Callable[[Any], None]


class Engine:
    """One MRT2 stream: model + codec + controls + output queue, on the model's device
    (model and codec must share it; the conditioning and the noise are made on the host)."""

    def __init__(self, model: Depthformer, decoder: SpectroStreamDecoder, *, seed: int = 0,
                 latency_ms: float | None = None, event_sink: EventWriter | None = None,
                 bank_dir: str | Path | None = None, encoder: Any = None, strict: bool = False,
                 style: StyleEncoder | None = None, files: DataDir | None = None):
        self.model, self.decoder, self.encoder = model, decoder, encoder
        self.cfg = model.cfg
        self.style = style if style is not None else StyleEncoder(None)
        self.source = "an in-memory model"  # what was loaded, for start-up messages
        # where file names point: the daemon's confined data folder, or (offline, tests) the
        # operator's own paths; banks in ``bank_dir`` when given
        if files is None:
            files = DataDir(overrides={"banks": bank_dir} if bank_dir is not None else None, trusted=True)
        self.files = files
        self.bank_dir = Path(bank_dir) if bank_dir is not None else (
            files.folder("banks", create=False) if not files.trusted else None)
        self.controls = Controls(self.style, files)
        self.controls.seed = int(seed)
        if latency_ms is not None:
            self.controls.latency_ms = float(latency_ms)
        self.output = OutputQueue(self.controls.latency_ms, channels=CHANNELS)
        self.effects = EffectsChain(self.output.sample_rate, self.output.frame)
        self.listeners: list[Callable[[Event], None]] = []  # told of every applied change
        self._frame_buf = np.zeros((self.output.frame, CHANNELS), np.float32)
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
        self._pending: list[tuple[int, int, str, tuple, Reply | None]] = []
        self._parked: deque[_Parked] = deque()
        self._disk: ThreadPoolExecutor | None = None  # the file thread, started on first use
        self._banks_posted: set[int] = set()  # banks a save was posted for (a load may follow it)
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._sync_output()

    # ---- posting controls (any thread) ---------------------------------------------------
    def post(self, address: str, *args: Any, frame: int | None = None, reply: Reply | None = None) -> None:
        """Schedule a control for frame ``frame`` (None: the next frame boundary).

        Raises UserError at once if the message is invalid; a frame already generated
        means "as soon as possible". An error found only when it is applied goes to
        ``reply`` (and to the listeners as ``/mrtd/error``)."""
        result = self.post_many([(address, args)], frame, reply=reply)[0]
        if isinstance(result, UserError):
            raise result

    def post_many(self, messages: list[tuple[str, tuple | list]], frame: int | None = None,
                  reply: Reply | None = None) -> list:
        """Schedule several controls for one frame (an OSC bundle): each is checked, and
        the valid ones are queued under one lock, so they land on the same frame.
        Returns, per message, its converted values or the UserError that refused it."""
        results: list = []
        for address, args in messages:
            try:
                results.append(self._check(address, args))
            except UserError as e:
                results.append(e)
        key = -1 if frame is None else int(frame)
        with self._lock:
            for (address, _), values in zip(messages, results):
                if not isinstance(values, UserError):
                    heapq.heappush(self._pending, (key, next(self._seq), address, values, reply))
        return results

    def _check(self, address: str, args: tuple | list) -> tuple:
        """The controls' checks, plus what the engine can tell at once: an encoder for
        prefill, a bank that exists, a prefill file that can be read."""
        values = self.controls.check(address, args)
        if address == "/mrtd/prefill/audio":
            if self.encoder is None:
                raise ControlError(address, "audio prefill needs the SpectroStream encoder (encoder.safetensors), "
                                "none is loaded")
            try:
                values = (str(self.files.check_read("prompts", values[0])),)
            except PathRefused as e:
                raise ControlError(address, f"{e}") from None
        elif address == "/mrtd/bank/save":
            self._bank(values[0])
            self._banks_posted.add(values[0])
        elif address == "/mrtd/bank/load":
            path = self._bank(values[0])
            if values[0] not in self._banks_posted and not path.exists():
                raise ControlError(address, f"bank {values[0]} is empty (no {path.name} in the banks folder)")
        return values

    def post_events(self, events: list[Event]) -> None:
        for e in events:
            self.post(e.address, *e.args, frame=e.frame)

    # ---- the frame pipeline (generation thread) ------------------------------------------
    def apply_due(self) -> bool:
        """Apply every control due at the coming frame boundary (and any action whose file
        work has finished); True if one changes the generated audio (for responsive mode)."""
        changed = self._finish_parked()
        while True:
            with self._lock:
                if not self._pending or self._pending[0][0] > self.frame:
                    break
                _, _, address, values, reply = heapq.heappop(self._pending)
            try:
                parked = self._park(address, values, reply)
                if parked:
                    changed |= self._finish_parked()
                    continue
                changed |= self._apply(address, values)
            except UserError as e:
                self._refused(address, e, reply)
                continue
            self._applied(Event(self.frame, address, values))
        return changed

    def _applied(self, ev: Event) -> None:
        self.applied.append(ev)
        if self.event_sink is not None:
            self.event_sink.write([ev])
        self._tell(ev)

    def _refused(self, address: str, e: UserError, reply: Reply | None) -> None:
        """An error found as a message is applied: to its sender and to the listeners."""
        self.errors.append(f"frame {self.frame}: {e}")
        log.error("frame %d: %s", self.frame, e)
        if self.strict:
            raise e
        reason = reason_for(e, address)
        if reply is not None:
            try:
                reply(address, reason)
            except Exception:  # a reply path must never stop the stream
                log.exception("replying to the sender of %s failed", address)
        self._tell(Event(self.frame, "/mrtd/error", (address, reason)))  # to the OSC subscribers

    # ---- actions with file work: off the frame thread -------------------------------------
    def _park(self, address: str, values: tuple, reply: Reply | None) -> bool:
        """Start the file work of an action that needs it (prefill from a file or the
        inputs, bank load, bank save); True if the action is now parked. Offline
        (no generation thread: render, tests) the work runs here and the action completes
        on this frame."""
        if address == "/mrtd/prefill/audio":
            src = values[0]
            work = (lambda: self._capture_codes(src)) if isinstance(src, Capture) else (lambda: self._file_codes(src))
            finish: Callable[[Any], None] = self.prefill
            if isinstance(src, Capture):
                values = (str(src.path),)  # what the event log replays
        elif address == "/mrtd/bank/load":
            n = values[0]
            work = lambda: self._read_bank(n)  # noqa: E731
            finish = lambda data: self._install_bank(n, *data)  # noqa: E731
        elif address == "/mrtd/bank/save" and not self._inline:
            path, tensors, meta = self._bank_snapshot(values[0])
            job = self._disk_pool().submit(save_bank, path, tensors, meta)
            job.add_done_callback(lambda f: self._save_done(f, address, values[0], reply))
            return False  # the state was taken on this frame; writing it follows
        else:
            return False
        if self._inline:
            job: Future = Future()
            try:
                job.set_result(work())
            except UserError as e:
                job.set_exception(e)
        else:
            job = self._disk_pool().submit(work)
        self._parked.append(_Parked(job, address, values, reply, finish))
        return True

    @property
    def _inline(self) -> bool:
        """No live generation thread: file work runs in place (offline rendering, tests)."""
        return self._thread is None

    def _finish_parked(self) -> bool:
        """Complete parked actions whose work is done, in the order they were applied."""
        changed = False
        while self._parked and self._parked[0].job.done():
            p = self._parked.popleft()
            try:
                try:
                    data = p.job.result()
                except UserError:
                    raise
                except Exception as e:  # a file that breaks the decoder: the sender hears why
                    log.exception("%s failed", p.address)
                    raise ControlError(p.address, f"{type(e).__name__}: {e}") from None
                p.finish(data)
            except UserError as e:
                self._refused(p.address, e, p.reply)
                continue
            self._applied(Event(self.frame, p.address, p.values))
            changed = True
        return changed

    def _disk_pool(self) -> ThreadPoolExecutor:
        if self._disk is None:
            self._disk = ThreadPoolExecutor(1, thread_name_prefix="mrtd-files")
        return self._disk

    def _save_done(self, job: Future, address: str, n: int, reply: Reply | None) -> None:
        """File thread: a bank write failed? Tell its sender and the listeners."""
        e = job.exception()
        if e is None:
            return
        err = e if isinstance(e, UserError) else UserError(f"cannot write bank {n}: {type(e).__name__}: {e}")
        log.error("%s", err)
        reason = str(err)
        if reply is not None:
            try:
                reply(address, reason)
            except Exception:
                log.exception("replying to the sender of %s failed", address)
        self._tell(Event(self.frame, "/mrtd/error", (address, reason)))

    def wait_files(self, timeout: float = 30.0) -> bool:
        """Block until the file thread is idle (tests, shutdown); False on timeout."""
        if self._disk is None:
            return True
        try:
            self._disk.submit(lambda: None).result(timeout)
            return True
        except Exception:
            return False

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
        elif address == "/mrtd/bank/save":  # offline; live saves are written on the file thread
            self.save_bank(v[0])

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
            codes = self.encoder(torch.zeros(1, 75 * FRAME, 2, device=self._encoder_device()))
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
        """Prefill from an audio file, here and now (offline and tests; live, the engine
        reads and encodes on its file thread)."""
        if self.encoder is None:
            raise UserError("audio prefill needs the SpectroStream encoder (encoder.safetensors), none is loaded")
        self.prefill(self._file_codes(path))

    def _file_codes(self, path: str) -> torch.Tensor:
        """File thread: the first 28 s of a 48 kHz file, read in bounded pieces (never
        more than it keeps), encoded to prefill codes."""
        # an absolute path here was resolved inside prompts/ by _check (or is the operator's,
        # offline); it is opened again as what it must be: a regular file of bounded size
        files = _OPERATOR if os.path.isabs(path) else self.files
        try:
            fd, _ = files.open_read("prompts", path, MAX_AUDIO_BYTES)
        except PathRefused as e:
            raise ControlError("/mrtd/prefill/audio", f"{e}") from None
        try:
            with sf.SoundFile(fd, closefd=False) as f:
                if f.samplerate != SAMPLE_RATE:
                    raise ControlError("/mrtd/prefill/audio", f"{path}: {f.samplerate} Hz; audio prefill needs "
                                    f"{SAMPLE_RATE} Hz (resample it first)")
                wave = f.read(int(PREFILL_MAX_S * f.samplerate), dtype="float32", always_2d=True)
        except (RuntimeError, OSError, sf.LibsndfileError) as e:
            raise ControlError("/mrtd/prefill/audio", f"cannot read audio {path}: {e}") from None
        finally:
            os.close(fd)
        return self._encode(wave, path)

    def _capture_codes(self, cap: Capture) -> torch.Tensor:
        """File thread: save captured input audio (for replay), then encode it."""
        try:
            with sf.SoundFile(cap.fd, "w", SAMPLE_RATE, 2, subtype="FLOAT", format="WAV", closefd=True) as f:
                f.write(cap.wave)
        except (RuntimeError, OSError, sf.LibsndfileError) as e:
            raise ControlError("/mrtd/prefill/input", f"cannot save the capture {cap.path.name}: {e}") from None
        self.files.prune("captures", "input-*.wav", KEEP_CAPTURES)
        return self._encode(cap.wave, cap.path.name)

    def _encode(self, wave: np.ndarray, label: str) -> torch.Tensor:
        wave = np.repeat(wave, 2, axis=1) if wave.shape[1] == 1 else wave[:, :2]
        wave = wave[: wave.shape[0] // FRAME * FRAME]
        if wave.shape[0] < FRAME:
            raise ControlError("/mrtd/prefill/audio", f"{label}: shorter than one 40 ms frame")
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(wave))[None].to(self._encoder_device())
            codes = self.encoder(x)[0, :, :12]
        if codes.shape[0] > 4 * PREFILL_TRIM:
            codes = codes[PREFILL_TRIM:-PREFILL_TRIM]
        return codes

    def post_capture(self, wave: np.ndarray, reply: Reply | None = None) -> Path:
        """Prefill from audio taken from the inputs (``/mrtd/prefill/input``): the capture is
        saved in captures/ and encoded on the file thread, then lands on a frame, logged as
        ``/mrtd/prefill/audio PATH`` so the take replays. Returns the capture's path."""
        if self.encoder is None:
            raise ControlError("/mrtd/prefill/input", "needs the SpectroStream encoder (encoder.safetensors), "
                            "none is loaded")
        stem = datetime.now().strftime("input-%Y%m%d-%H%M%S-%f")
        try:
            fd, path = self.files.create("captures", self.files.free_name("captures", stem, ".wav"))
        except PathRefused as e:
            raise ControlError("/mrtd/prefill/input", f"{e}") from None
        with self._lock:
            heapq.heappush(self._pending, (-1, next(self._seq), "/mrtd/prefill/audio", (Capture(wave, path, fd),), reply))
        return path

    # ---- banks ---------------------------------------------------------------------------
    def _bank(self, n: int) -> Path:
        if self.bank_dir is None:
            raise UserError("no bank directory configured")
        return Path(self.bank_dir) / bank_name(n)

    def _bank_snapshot(self, n: int) -> tuple[Path, dict[str, torch.Tensor], dict[str, str]]:
        """The live model state and generation controls, copied (frame thread; cheap)."""
        from dataclasses import fields

        t = {f"model.{f.name}": getattr(self.state, f.name) for f in fields(self.state)}
        t.update({f"codec.{i}": x for i, x in enumerate(self._snapshot()[1])})
        t = {k: v.detach().to("cpu", copy=True).contiguous() for k, v in t.items()}
        return self._bank(n), t, {"controls": self.controls.to_json(), "model": self.cfg.name}

    def save_bank(self, n: int) -> Path:
        """The live model state and generation controls -> bank ``n`` (atomic write), now."""
        path, tensors, meta = self._bank_snapshot(n)
        save_bank(path, tensors, meta)
        return path

    def _read_bank(self, n: int) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
        """File thread (or offline): bank ``n``'s tensors and metadata."""
        self._bank(n)
        name = bank_name(n)
        try:
            fd, _ = self.files.open_read("banks", name, MAX_BANK_BYTES)
        except PathRefused as e:
            raise ControlError("/mrtd/bank/load", f"bank {n}: {e}") from None
        try:
            with os.fdopen(fd, "rb") as f:
                data = f.read()
        except OSError as e:
            raise ControlError("/mrtd/bank/load", f"cannot read bank {n}: {e.strerror}") from None
        return parse_bank(data, f"bank {n}")

    def load_bank(self, n: int) -> None:
        """Bank ``n`` becomes the reset target (with its controls), then reset to it, now."""
        self._install_bank(n, *self._read_bank(n))

    def _install_bank(self, n: int, tensors: dict[str, torch.Tensor], meta: dict[str, str]) -> None:
        from dataclasses import fields

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
        if self._disk is not None:
            self._disk.shutdown(wait=True, cancel_futures=True)  # a bank being written is finished
            self._disk = None

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

"""The generation engine: one thread, one stream, controls applied at frame boundaries.

Any thread may :meth:`Engine.post` a control (checked at once, so a bad one is refused
to its sender) for "the next frame" or for a given frame index (:mod:`.schedule`); the
generation thread applies everything due right before it builds a frame's
conditioning, so a frame never sees half a change, and logs each applied change as an
:class:`Event` with its frame index (optionally to an :class:`EventWriter`). Replaying
that log with the same checkpoint and seed gives bit-identical audio on CPU float32:
the sampler is re-seeded with ``seed + rotation * resets``.

Generation is pulled by the output queue: a frame is made only when it fits in the
latency budget. :meth:`step_frame` is the whole frame pipeline; the live thread and the
offline renderer both call it (the renderer just does not wait for the clock). The model
is a :class:`~mrtd.engine.generator.StreamGenerator` (MRT2's is the default): it makes
one or more frames per step and the engine plays them out one frame per call. A chunk
model (one that declares ``chunk_frames > 1``, Magenta RT v1) reads its controls once a
chunk: generation controls posted inside a chunk are held to its end and applied and
logged there, so the log says the frame they took effect on. Each
frame's audio is queued twice, as four channels: post-effects (wet L/R) and pre-effects
(dry L/R). Effect changes are controls like any other, so they too land on a frame and
replay. Actions that read or write files are parked until a file thread has done the
work (:mod:`.actions`), so disk never stalls a frame.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mrtd.audio.output import OutputQueue
from mrtd.constants import FRAME_RATE, db_to_gain
from mrtd.controls.banks import save_bank
from mrtd.controls.events import Event, EventWriter
from mrtd.controls.state import ACTIONS, OUTPUT, PLAYING, Controls
from mrtd.controls.style import StyleEncoder
from mrtd.datadir import DataDir
from mrtd.effects.chain import EffectsChain
from mrtd.engine.actions import FileActions
from mrtd.engine.banks import Banks
from mrtd.engine.clock import MusicalClock
from mrtd.engine.generator import Block, FrameControls, StreamGenerator
from mrtd.engine.looper import Looper
from mrtd.engine.modulators import Modulators
from mrtd.engine.mrt2 import MRT2Generator
from mrtd.engine.prefill import file_codes, new_capture
from mrtd.engine.scenes import Scenes
from mrtd.engine.schedule import NEXT, Outbox, Replay, Reply, Schedule
from mrtd.engine.tempo import Tempo
from mrtd.errors import ControlError, UserError

log = logging.getLogger("mrtd.engine")
CHANNELS = 4  # queued per sample: wet L, wet R (post-effects), dry L, dry R (pre-effects)


class Engine:
    """One stream: generator + controls + effects + output queue. ``Engine(model,
    decoder)`` runs MRT2; ``generator=`` runs any :class:`StreamGenerator`."""

    def __init__(self, model: Any = None, decoder: Any = None, *, seed: int = 0, latency_ms: float | None = None,
                 event_sink: EventWriter | None = None, bank_dir: str | Path | None = None, encoder: Any = None,
                 strict: bool = False, style: StyleEncoder | None = None, files: DataDir | None = None,
                 generator: StreamGenerator | None = None):
        self.style = style if style is not None else StyleEncoder(None)
        self.source = "an in-memory model"  # what was loaded, for start-up messages
        # file names point into the daemon's confined data folder, or (offline, tests) are
        # the operator's own paths; banks in ``bank_dir`` when given
        if files is None:
            files = DataDir(overrides={"banks": bank_dir} if bank_dir is not None else None, trusted=True)
        self.files = files
        self.bank_dir = Path(bank_dir) if bank_dir is not None else (
            files.folder("banks", create=False) if not files.trusted else None)
        self.controls = Controls(self.style, files)
        self.controls.seed = int(seed)
        if latency_ms is not None:
            self.controls.latency_ms = float(latency_ms)
        self.generator = generator or MRT2Generator(model, decoder, seed=self.controls.seed, encoder=encoder)
        # a chunk model (Magenta RT v1: 50 frames a step) reads its controls once a chunk:
        # they are held to the chunk boundary and logged there; its MRT2-only controls are refused
        self.chunk_frames = int(getattr(self.generator, "chunk_frames", 1))
        self.controls.family = getattr(self.generator, "family", "mrt2")
        self.controls.set_defaults(getattr(self.generator, "defaults", {}))
        self.model, self.decoder = getattr(self.generator, "model", model), getattr(self.generator, "decoder", decoder)
        self.cfg = getattr(self.model, "cfg", None)
        self.device = self.generator.device
        self.output = OutputQueue(self.controls.latency_ms, channels=CHANNELS)
        self.effects = EffectsChain(self.output.sample_rate, self.output.frame)
        self.outbox = Outbox(event_sink, strict)  # applied events and refusals: log, listeners, sender
        self.listeners, self.applied, self.errors = self.outbox.listeners, self.outbox.applied_events, self.outbox.errors
        self.target = self.generator.snapshot()  # the reset target
        self.frame = 0  # index of the next frame to play out
        self.resets = 0
        self.last_tokens: torch.Tensor | None = None
        self.frame_ms: deque[float] = deque(maxlen=50)
        self.schedule = Schedule()
        self.actions = FileActions(self)
        self.banks = Banks(self)
        self._block: Block | None = None  # the generator's last step, played out row by row
        self._held: list[tuple[str, Any, Reply | None]] = []  # controls waiting for the chunk boundary
        self.clock = MusicalClock()  # which frame plays which beat (tempo source, quantised changes)
        # called with the frame about to be made, on the generation thread, before its controls
        # are applied: a hook posts controls for this frame (schedule.add(..., frame)) or reads state
        self.frame_hooks: list[Callable[[int], None]] = []
        # musical time: tempo sources and quantised changes (the first hook, the schedule's
        # quantiser), scenes and LFOs (hooks whose steps are logged as derived), the recent
        # history for loops and rewind (it wraps the generator call)
        self.tempo = Tempo(self)
        self.scenes, self.lfos = Scenes(self), Modulators(self)
        self.frame_hooks += [self.scenes.hook, self.lfos.hook]
        self.looper = Looper(self)
        # the owners of their own controls: handles(address), apply(address, values), value(address)
        self.owners = (self.tempo, self.looper, self.scenes, self.lfos)
        self._row = 0
        # "make a frame now": the queue has room (a voice of a batch may also join a round
        # early, :mod:`.voices`)
        self.wants_frame: Callable[[], bool] = self.output.has_room
        self.governor: Any = None  # --adapt-threads: a ThreadGovernor fed each frame's time (.threads)
        self._frame_buf = np.zeros((self.output.frame, CHANNELS), np.float32)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._sync_output()

    @property
    def encoder(self) -> Any:
        return self.generator.encoder

    @property
    def event_sink(self) -> EventWriter | None:
        return self.outbox.event_sink

    @event_sink.setter
    def event_sink(self, sink: EventWriter | None) -> None:
        """Start or stop the event log while playing (``/mrtd/record/events/start|stop``)."""
        self.outbox.event_sink = sink

    # ---- posting controls (any thread) ---------------------------------------------------
    def post(self, address: str, *args: Any, frame: int | None = None, reply: Reply | None = None) -> None:
        """Schedule a control for frame ``frame`` (None: the next frame boundary). Raises
        UserError at once if it is invalid; an error found only when it is applied goes
        to ``reply`` (and to the listeners as ``/mrtd/error``)."""
        result = self.post_many([(address, args)], frame, reply=reply)[0]
        if isinstance(result, UserError):
            raise result

    def post_many(self, messages: list[tuple[str, tuple | list]], frame: int | None = None,
                  reply: Reply | None = None) -> list:
        """Schedule several controls for one frame (an OSC bundle): all valid ones land on
        the same frame. Returns, per message, its values or the UserError refusing it."""
        results: list = []
        for address, args in messages:
            try:
                values = self.actions.check(address, self.controls.check(address, args))
                results.append(self.scenes.check(address, self.lfos.check(address, values)))
            except UserError as e:
                results.append(e)
        ok = [(a, v) for (a, _), v in zip(messages, results) if not isinstance(v, UserError)]
        self.schedule.add(ok, frame, reply)
        return results

    def post_events(self, events: list[Event]) -> None:
        """Replay an event log: each event is posted at its frame as a live untimed
        control (checked then), so quantisation applies; a log holds the frames where its
        changes were applied, on the grid, so re-rendering it reproduces the take."""
        # a derived change is skipped: the LFO or morph that made it makes it again
        self.frame_hooks.append(Replay(self.post_many, self.outbox, [e for e in events if not e.via]))

    def post_capture(self, wave: np.ndarray, reply: Reply | None = None) -> Path:
        """Prefill from audio taken from the inputs (``/mrtd/prefill/input``): saved in
        captures/ and encoded on the file thread, logged as ``/mrtd/prefill/audio PATH``
        so the take replays. Returns the capture's path."""
        if self.encoder is None:
            raise ControlError("/mrtd/prefill/input", "needs the SpectroStream encoder (encoder.safetensors), "
                               "none is loaded")
        cap = new_capture(self.files, wave)
        self.schedule.add([("/mrtd/prefill/audio", (cap,))], NEXT, reply)
        return cap.path

    # ---- the frame pipeline (generation thread) ------------------------------------------
    def apply_due(self) -> bool:
        """Apply every control due at the coming frame boundary (and any parked action whose
        file work is done); True if one changes the generated audio (for responsive mode).
        The frame hooks run first: musical time (the clock, modulators, a MIDI file
        player) posts the controls of this frame there, so they land and log like any."""
        for hook in self.frame_hooks:
            hook(self.frame)
        changed = self.actions.finish()
        while True:
            if self._held and not self._mid_chunk():
                held, self._held = self._held, []
                for address, values, reply in held:
                    changed |= self._apply_logged(address, values, reply)
            if (due := self.schedule.pop_due(self.frame)) is None:
                break
            if self._mid_chunk() and self._waits_for_chunk(due[0]):
                self._held.append(due)
                continue
            changed |= self._apply_logged(*due)
        return changed

    def _apply_logged(self, address: str, values: Any, reply: Reply | None) -> bool:
        try:
            if self.actions.park(address, values, reply):
                return self.actions.finish()
            changed = self._apply(address, values)
        except UserError as e:
            self.outbox.refused(self.frame, address, e, reply)
            return False
        # a derived change (an LFO or morph step) is posted with a reply naming its maker
        self.outbox.applied(Event(self.frame, address, values, getattr(reply, "via", "")))
        return changed

    def _mid_chunk(self) -> bool:
        """Inside a chunk the generator made ahead (never with one frame per step)."""
        return self.chunk_frames > 1 and self._block is not None and self._row < len(self._block)

    @staticmethod
    def _waits_for_chunk(address: str) -> bool:
        """A control the generator reads at its step (style, sampling, guidance): under a
        chunk model it lands on the next chunk boundary. Actions, output and effect
        controls land on their own frame; the seed waits for a reset anyway."""
        return not (address in ACTIONS or address in OUTPUT or EffectsChain.handles(address)
                    or address in ("/mrtd/seed", "/mrtd/seed/rotation"))

    def _apply(self, address: str, values: tuple) -> bool:
        for owner in self.owners:  # tempo, loops, scenes, LFOs: none changes the frame's inputs itself
            if owner.handles(address):
                owner.apply(address, values)
                return False
        if address in ACTIONS:
            if address == "/mrtd/reset":
                self.reset()
            elif address == "/mrtd/prefill/silence":
                self.prefill_silence(values[0] if values else 22.0)
            elif address == "/mrtd/bank/save":  # offline; live saves are written on the file thread
                self.save_bank(values[0])
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
        """Apply due controls, play out frame ``self.frame`` (asking the generator for the
        next block when this one is played), queue its audio. Returns its token ids."""
        t0 = time.perf_counter()
        # (an exact loop replays what was made: nothing new to hear sooner)
        if self.apply_due() and self.controls.responsive and not self.looper.replaying:
            self.output.cut()
        c = self.controls
        cond = c.frame_cond()
        if c.feedback:  # prompt slots finished encoding, failed, or changed the style
            for address, values in c.feedback:
                self.outbox.tell(Event(self.frame, address, values))
            c.feedback.clear()
        block = self._block
        if block is None or self._row >= len(block):
            # the looper makes the frame with the generator, or replays it from the history
            block = self._block = self.looper.step(FrameControls(cond, c.temperature, c.top_k, c.guidance[0]))
            self._row = 0
        i = self._row
        self._row += 1
        if block.valid[i]:
            buf = self._frame_buf
            buf[:, 2:] = block.audio[i]
            buf[:, :2] = self.effects.process(buf[:, 2:])
            self.output.write(buf, frame_id=self.frame - block.lag)
        self.last_tokens = block.tokens[i]
        self.frame += 1
        self.frame_ms.append(1000 * (time.perf_counter() - t0))
        return self.last_tokens

    # ---- the stream: reset, prefill, banks -----------------------------------------------------
    def reset(self, rotate: bool = True) -> None:
        """Back to the reset target; the sampler is re-seeded (``seed + rotation * resets``),
        frames made ahead are dropped and the queued audio is cut with a fade."""
        if rotate:
            self.resets += 1
        self.generator.restore(self.target, self.controls.seed + self.controls.rotation * self.resets)
        self.looper.clear()  # another stream: its history and any loop go
        self._block = None
        self.output.cut()

    @torch.inference_mode()
    def prefill(self, codes: torch.Tensor) -> None:
        """Teacher-force codes ``[N, levels]`` into the context, make it the reset target,
        and reset to it."""
        if codes.shape[0] < 1:
            raise UserError("prefill needs at least one frame")
        self.generator.prefill(codes, self.controls.prefill_cond())
        self.target = self.generator.snapshot()
        self.reset(rotate=False)

    def silence_codes(self) -> torch.Tensor:
        return self.generator.silence_codes()

    def prefill_silence(self, seconds: float = 22.0) -> None:
        n = max(1, int(round(seconds * FRAME_RATE)))
        self.prefill(self.silence_codes()[None].repeat(n, 1))

    def prefill_audio(self, path: str) -> None:
        """Prefill from an audio file, here and now (offline and tests; live, the engine
        reads and encodes on its file thread)."""
        if self.encoder is None:
            raise UserError("audio prefill needs the SpectroStream encoder (encoder.safetensors), none is loaded")
        self.prefill(file_codes(self.files, self.generator, path))

    def save_bank(self, n: int) -> Path:
        """The live stream state and generation controls -> bank ``n`` (atomic write), now."""
        path, tensors, meta = self.banks.snapshot(n)
        save_bank(path, tensors, meta)
        return path

    def load_bank(self, n: int) -> None:
        """Bank ``n`` becomes the reset target (with its controls), then reset to it, now."""
        self.banks.install(n, *self.banks.read(n))

    def wait_files(self, timeout: float = 30.0) -> bool:
        """Block until the file thread is idle (tests, shutdown); False on timeout."""
        return self.actions.wait(timeout)

    # ---- how frames run -------------------------------------------------------------------------
    def capture(self) -> bool:
        """CUDA: make later frames graph replays (call before :meth:`start`); False on the
        CPU, or with a logged warning if capture fails (then eager, :attr:`graph_error`)."""
        ok = self.generator.capture()
        if self.graph_error:
            log.warning("CUDA graph capture failed, running the frame eagerly: %s", self.graph_error)
        return ok

    @property
    def graph_error(self) -> str | None:
        return getattr(self.generator, "graph_error", None)

    @property
    def graphed(self) -> bool:
        """True when frames are CUDA graph replays."""
        return self.generator.graphed

    def describe(self) -> str:
        return self.generator.describe()

    # ---- the live thread -------------------------------------------------------------------------
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
        self.actions.shutdown()
        if (close := getattr(self.generator, "close", None)) is not None:
            close()  # a generator's own threads (two stages: the codec thread)

    def _run(self) -> None:
        torch.set_grad_enabled(False)
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)  # this thread's kernels, streams and events on ours
        while not self._stop.is_set():
            try:
                if self.wants_frame():
                    self.step_frame()
                    if self.governor is not None:
                        self.governor.after_frame(self.frame_ms[-1] / 1000.0)
                else:
                    self.apply_due()  # output controls (unpause, volume) must land while idle
                    time.sleep(0.002)
            except Exception as e:  # keep the stream alive; the audio side conceals the gap
                log.exception("generation error at frame %d", self.frame)
                self.errors.append(f"frame {self.frame}: {e}")
                time.sleep(0.04)

    @property
    def offline(self) -> bool:
        """No generation thread: file work runs in place (offline rendering, tests)."""
        return self._thread is None

    @property
    def stopped(self) -> bool:
        """True when no generation thread is running (nothing will fill the queue)."""
        return self._thread is None or self._stop.is_set()

    # ---- the audio side and queries -------------------------------------------------------------
    def read_into(self, out: np.ndarray) -> None:
        """The JACK process callback's call: ``out`` is ``[n, 4]`` (wet L/R, dry L/R);
        RT-safe, see OutputQueue."""
        self.output.read_into(out)

    def lead_frames(self) -> int:
        """How far generation runs ahead of playback when the queue is full: a control
        stamped with playback time is applied this many frames after the frame heard then.
        A generator whose audio trails its steps by more than the codec's one frame (two
        stages: ``lag`` 2) runs that much further ahead, so the distance grows with it."""
        extra = max(0, int(getattr(self.generator, "lag", 0)) - 1)
        return -(-self.output.budget // self.output.frame) + 2 + extra

    def frame_for_sample(self, sample: int) -> int | None:
        """The frame at which a control timed at output sample ``sample`` lands, at a
        constant latency (:meth:`lead_frames`); None when that time is not mapped yet."""
        heard = self.output.frame_at(sample)
        return None if heard is None else heard + self.lead_frames()

    def value(self, address: str) -> tuple | None:
        """Current value of a readable address (controls or effects), for OSC queries."""
        if EffectsChain.handles(address):
            return self.effects.value(address)
        for owner in self.owners:
            if owner.handles(address):
                return owner.value(address)
        return self.controls.value(address)

    def status(self) -> dict[str, Any]:
        ms = list(self.frame_ms)
        mean = sum(ms) / len(ms) if ms else 0.0
        st = {
            "model": self.generator.name, "frame": self.frame, "resets": self.resets,
            "frame_ms": mean, "fps": 1000.0 / mean if mean else 0.0,
            "style_tokens": self.controls.style_tokens().tolist(), "lead_frames": self.lead_frames(),
            "errors": list(self.errors)[-5:], **self.output.status(),
        }
        st["loop"] = self.looper.status()  # loop state, history length and memory
        if self.chunk_frames > 1:  # a chunk model: controls wait for the next chunk boundary
            st["chunk_frames"] = self.chunk_frames
            st["chunk_ms"] = float(getattr(self.generator, "chunk_ms", 0.0))
            # worst case from posting a generation control to hearing it: the rest of the
            # chunk playing out, then the queue
            st["control_latency_ms"] = 1000.0 / FRAME_RATE * (self.chunk_frames + self.lead_frames())
        return st

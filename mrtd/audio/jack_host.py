"""The JACK client: six ports, a process callback that only copies, and reconnection.

Ports (client ``mrtd`` by default): ``out_L``/``out_R`` (post-effects), ``dry_L``/``dry_R``
(pre-effects), ``in_L``/``in_R`` (captured into a rolling buffer for /mrtd/prefill/input),
``midi_in``.

The process callback copies the engine's queue into the output ports, the output into
the tap ring (recording, meters), the inputs into the capture ring and MIDI events into
the MIDI ring, stamped with the output stream sample they arrived at. No model work, no
lock, no buffer allocation; an exception there outputs silence and is counted, so JACK
never drops the client. In freewheel mode (offline bounce, CI) the callback instead
waits for the generator, so what is recorded is exactly what an offline render gives.

MRT2 is a 48 kHz model: other JACK rates are refused with how to fix it (no resampler
in the audio path: a mismatch is almost always a misconfigured server, and resampling
would add latency and hide it). Buffer sizes up to 8192 are all fine; effects run on
the generation thread on fixed 40 ms blocks, so a period change touches nothing.

If the server goes away the engine keeps its state; :class:`JackHost` reports it and
reopens with backoff (:meth:`supervise`), reconnecting the ports it had connected.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from mrtd.audio.output import OutputQueue
from mrtd.audio.rings import AudioRing, MidiRing
from mrtd.constants import CHANNELS, SAMPLE_RATE
from mrtd.errors import UserError

log = logging.getLogger("mrtd.jack")


class Source(Protocol):
    """What the JACK host plays: the engine, seen from the audio side (no torch here)."""

    output: OutputQueue

    @property
    def stopped(self) -> bool: ...

    def read_into(self, out: np.ndarray) -> None: ...

MAX_PERIOD = 8192
AUDIO_OUT = ("out_L", "out_R", "dry_L", "dry_R")
AUDIO_IN = ("in_L", "in_R")
MIDI_IN = "midi_in"
CAPTURE_S = 30.0
FREEWHEEL_WAIT_S = 5.0
RATE_HELP = (f"MRT2 is a {SAMPLE_RATE // 1000} kHz model: start jackd with '-r {SAMPLE_RATE}', or with "
             f"PipeWire run 'pw-metadata -n settings 0 clock.force-rate {SAMPLE_RATE}'")


class JackHost:
    """One JACK client bound to one engine; reopenable after a server loss."""

    def __init__(self, engine: Source, name: str = "mrtd", *, servername: str | None = None,
                 connect: list[str] | None = None, on_event: Callable[[str], None] | None = None):
        self.engine = engine
        self.name, self.servername = name, servername
        self.connect_to = connect or []  # playback port names (or "system") for out_L, out_R
        self.say = on_event or (lambda msg: log.warning("%s", msg))
        self.client: Any = None
        self.tap = AudioRing(4.0)  # post-volume output for recording and meters
        self.capture = AudioRing(CAPTURE_S)  # rolling input capture
        self.midi = MidiRing()
        self.xruns = 0
        self.callback_errors = 0
        self.lost = threading.Event()  # set by the shutdown callback
        self.freewheel = False
        self.blocksize = 0
        self._buf = np.zeros((MAX_PERIOD, len(AUDIO_OUT)), np.float32)  # wet L/R, dry L/R
        self._connected: list[tuple[str, str]] = []
        # playback clock: written by the callback, read by others (seq-checked)
        self._seq = 0
        self._clock_wall = 0.0
        self._clock_sample = 0
        self._clock_jack = 0
        self._in_cycle = False  # a process cycle is running (close() waits for it to end)
        self._ports: dict[str, Any] = {}

    # ---- open / close --------------------------------------------------------------------
    def open(self) -> None:
        """Connect to the JACK server, register the ports, activate; UserError if none."""
        import jack

        # libjack prints its own lines ("Cannot connect to server socket", ...) on every try;
        # mrtd says what matters in one line, so libjack's go to the debug log
        jack.set_error_function(lambda msg: log.debug("libjack: %s", msg))
        jack.set_info_function(lambda msg: log.debug("libjack: %s", msg))
        try:
            client = jack.Client(self.name, no_start_server=True, servername=self.servername)
        except jack.JackOpenError as e:
            server = self.servername or os.environ.get("JACK_DEFAULT_SERVER") or "default"
            raise UserError(f"no JACK server '{server}' is running ({e}); start one (jackd, PipeWire's "
                            "pipewire-jack) or run 'mrtd serve --jack-start dummy'") from None
        if client.samplerate != SAMPLE_RATE:
            rate = client.samplerate
            client.close()
            raise UserError(f"the JACK server runs at {rate} Hz; {RATE_HELP}")
        if client.blocksize > MAX_PERIOD:
            size = client.blocksize
            client.close()
            raise UserError(f"JACK period {size} is larger than {MAX_PERIOD} frames")
        self.blocksize = client.blocksize
        self._ports = {p: client.outports.register(p) for p in AUDIO_OUT}
        self._ports.update({p: client.inports.register(p) for p in AUDIO_IN})
        self._ports[MIDI_IN] = client.midi_inports.register(MIDI_IN)
        # the callback gets its own client: never self.client, which a close or a reconnect
        # replaces while a cycle of the old one may still run
        client.set_process_callback(lambda frames: self._process(frames, client))
        client.set_shutdown_callback(self._shutdown)
        client.set_xrun_callback(self._xrun)
        client.set_freewheel_callback(self._on_freewheel)
        client.set_blocksize_callback(self._on_blocksize)
        self._latency_cb = _latency_callback(self._on_latency)
        _lib().jack_set_latency_callback(_ptr(client), self._latency_cb, None)
        self.lost.clear()
        self.client = client
        client.activate()
        self._connect()

    def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            if not self.lost.is_set():
                client.deactivate()  # no new cycle starts; one already running may still be in Python
                deadline = time.monotonic() + 1.0
                time.sleep(0.02)  # let a cycle that was waiting for the interpreter lock enter
                while self._in_cycle and time.monotonic() < deadline:
                    time.sleep(0.001)
            client.close()  # frees what a running cycle would still read: only after it ended
        except Exception as e:  # the server may already be gone
            log.debug("closing JACK client: %s", e)

    @property
    def full_name(self) -> str:
        return self.client.name if self.client is not None else self.name

    def port_names(self) -> list[str]:
        return [f"{self.full_name}:{p}" for p in (*AUDIO_OUT, *AUDIO_IN, MIDI_IN)]

    def _connect(self) -> None:
        """Auto-connect out_L/out_R (``--connect``); remembered for reconnection."""
        if not self.connect_to:
            return
        targets = self.connect_to
        if targets == ["system"]:
            phys = self.client.get_ports(is_audio=True, is_input=True, is_physical=True)
            targets = [p.name for p in phys[:2]]
        if len(targets) == 1:
            targets = targets * 2
        for src, dst in zip(("out_L", "out_R"), targets):
            try:
                self.client.connect(self._ports[src], dst)
            except Exception as e:
                self.say(f"cannot connect {self.full_name}:{src} to {dst}: {e}")

    def report_latency(self) -> None:
        """Ask JACK to recompute latencies (after a latency budget change)."""
        if self.client is not None and not self.lost.is_set():
            _lib().jack_recompute_total_latencies(_ptr(self.client))

    def _on_latency(self, mode: int, _arg: Any) -> None:
        """JACK's latency callback: our outputs' capture latency is the latency budget
        (how long a control waits before it is heard), so a DAW recording mrtd can
        compensate; the inputs feed no output, so their playback latency is zero."""
        try:
            if mode == JACK_CAPTURE_LATENCY:
                frames = int(self.engine.output.budget)
                for p in AUDIO_OUT:
                    _set_latency(self._ports[p], mode, frames)
            else:
                for p in (*AUDIO_IN, MIDI_IN):
                    _set_latency(self._ports[p], mode, 0)
        except Exception:  # never raise into libjack
            log.exception("latency callback")

    # ---- callbacks (JACK threads) --------------------------------------------------------
    def _process(self, frames: int, client: Any) -> None:
        self._in_cycle = True  # close() waits for it: libjack calls here must not outlive the client
        try:
            self._cycle(frames, client)
        except Exception:
            self.callback_errors += 1
            for p in AUDIO_OUT:
                self._ports[p].get_array().fill(0.0)
        finally:
            self._in_cycle = False

    def _cycle(self, frames: int, client: Any) -> None:
        out = self.engine.output
        if self.freewheel:
            self._wait_for_audio(frames)
        start = out.read
        self._seq += 1  # odd: clock being updated
        self._clock_wall = time.time()
        self._clock_sample = start
        self._clock_jack = client.last_frame_time  # for the transport's mapping
        self._seq += 1
        for offset, data in self._ports[MIDI_IN].incoming_midi_events():
            self.midi.write(start + offset, data)
        buf = self._buf[:frames]
        self.engine.read_into(buf)
        for i, p in enumerate(AUDIO_OUT):
            self._ports[p].get_array()[:] = buf[:, i]
        self.tap.write(buf[:, :CHANNELS])
        cap = buf[:, :CHANNELS]  # reuse: the output copy is done
        cap[:, 0] = self._ports["in_L"].get_array()
        cap[:, 1] = self._ports["in_R"].get_array()
        self.capture.write(cap, overwrite=True)

    def _wait_for_audio(self, frames: int) -> None:
        """Freewheel only (no deadline): wait until the generator has queued a period."""
        out = self.engine.output
        deadline = time.monotonic() + FREEWHEEL_WAIT_S
        while out.queued < frames and not (out.paused or self.engine.stopped):
            if time.monotonic() > deadline:
                break
            time.sleep(0.0005)

    def _shutdown(self, status: Any, reason: str) -> None:
        self.lost.set()

    def _xrun(self, delay_usecs: float) -> None:
        if not self.freewheel:
            self.xruns += 1

    def _on_freewheel(self, starting: bool) -> None:
        self.freewheel = starting

    def _on_blocksize(self, blocksize: int) -> None:
        self.blocksize = blocksize  # nothing else depends on it (see module docstring)

    # ---- clock (any thread) --------------------------------------------------------------
    def stream_sample_at(self, t_wall: float) -> int | None:
        """The output stream sample playing at wall-clock ``t_wall``, from the last cycle."""
        if self.client is None or self.lost.is_set() or self.freewheel:
            return None
        for _ in range(4):
            seq = self._seq
            wall, sample = self._clock_wall, self._clock_sample
            if seq % 2 == 0 and seq == self._seq:
                break
        else:
            return None
        if wall == 0.0:
            return None
        return sample + int(round((t_wall - wall) * SAMPLE_RATE))

    def cycle_clock(self) -> tuple[int, int] | None:
        """(output stream sample, JACK frame time) at the start of the last cycle, seq-checked
        (:mod:`mrtd.audio.transport` maps the transport's position onto the stream with it)."""
        for _ in range(4):
            seq = self._seq
            sample, jack_time = self._clock_sample, self._clock_jack
            if seq % 2 == 0 and seq == self._seq:
                return (sample, jack_time) if seq else None
        return None

    def status(self) -> dict[str, Any]:
        return {"jack": self.client is not None and not self.lost.is_set(), "jack_name": self.full_name,
                "xruns": self.xruns, "blocksize": self.blocksize, "freewheel": self.freewheel,
                "callback_errors": self.callback_errors, "midi_dropped": self.midi.dropped,
                "record_dropped": self.tap.dropped}

    # ---- reconnection (the supervisor thread) --------------------------------------------
    def supervise(self, stop: threading.Event, backoff: tuple[float, ...] = (0.5, 1, 2, 4, 5)) -> None:
        """Until ``stop``: when the server goes away, say so, then reopen with backoff."""
        while not stop.is_set():
            if not self.lost.wait(0.2):
                continue
            self.say("JACK server went away; generation is held, retrying")
            self.close()
            tries = 0
            while not stop.is_set():
                delay = backoff[min(tries, len(backoff) - 1)]
                if stop.wait(delay):
                    return
                tries += 1
                try:
                    self.open()
                except UserError as e:
                    log.debug("JACK reconnect %d: %s", tries, e)
                    continue
                self.engine.output.cut()  # drop audio queued before the outage; fade in fresh
                self.say(f"JACK server is back: playing on {self.full_name}:out_L/out_R "
                         f"(after {tries} tr{'y' if tries == 1 else 'ies'})")
                break


# ---- port latency through libjack (JACK-Client 0.5 does not wrap it) ----------------------

class _LatencyRange(ctypes.Structure):
    _fields_ = [("min", ctypes.c_uint32), ("max", ctypes.c_uint32)]


_LIB: ctypes.CDLL | None = None
JACK_CAPTURE_LATENCY = 0
_latency_callback = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_void_p)


def _lib() -> ctypes.CDLL:
    global _LIB
    if _LIB is None:
        _LIB = ctypes.CDLL(ctypes.util.find_library("jack"))
        _LIB.jack_port_set_latency_range.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(_LatencyRange)]
        _LIB.jack_recompute_total_latencies.argtypes = [ctypes.c_void_p]
        _LIB.jack_port_get_latency_range.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(_LatencyRange)]
        _LIB.jack_set_latency_callback.argtypes = [ctypes.c_void_p, _latency_callback, ctypes.c_void_p]
    return _LIB


def _ptr(obj: Any) -> int:
    import jack

    return int(jack._ffi.cast("uintptr_t", obj._ptr))


def _set_latency(port: Any, mode: int, frames: int) -> None:
    r = _LatencyRange(frames, frames)
    _lib().jack_port_set_latency_range(_ptr(port), mode, ctypes.byref(r))


def capture_latency(port: Any) -> tuple[int, int]:
    """A port's capture latency range (frames), as JACK reports it."""
    r = _LatencyRange()
    _lib().jack_port_get_latency_range(_ptr(port), JACK_CAPTURE_LATENCY, ctypes.byref(r))
    return r.min, r.max

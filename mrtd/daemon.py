"""The composition root of ``mrtd serve``: the pipeline wired once, top to bottom.

schema → controls → engine (model, effects) → output queue → JACK callback → ports; the
callback's tap feeds recording and meters. Beside it, remote control: the hub, which
every control goes through (OSC over UDP/TCP, OSCQuery, MIDI, the config file's
``[controls]``), and the servers that speak to the network.

Threads: generation (engine), the engine's file thread (banks, prefill), JACK
(callback, only copies), MIDI router, tap (recording and meters), supervisor (JACK loss
and reconnection), and one asyncio loop for the OSC and OSCQuery servers.
SIGINT/SIGTERM fade the output out, stop everything and exit 0 (saving a bank first if
``--save-bank-on-exit`` asks). A failure before "ready" stops what started and leaves
the one error line to the command line.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mrtd.constants import SAMPLE_RATE
from mrtd.datadir import FOLDERS, OPERATOR, DataDir, PathRefused
from mrtd.errors import ControlError, UserError

log = logging.getLogger("mrtd.serve")


def _operator_file(name: str) -> tuple[Path, int]:
    """A file the operator named on the command line or in the config file (any folder;
    replaced if it exists, never written through a symbolic link): (path, descriptor)."""
    path = Path(name).expanduser().absolute()
    try:
        fd, path = OPERATOR.create("recordings", str(path), overwrite=True)
    except PathRefused as e:
        raise UserError(str(e)) from None
    return path, fd


class Daemon:
    """Everything `mrtd serve` runs, wired once; :meth:`run` blocks until a signal."""

    def __init__(self, args: argparse.Namespace, config: dict[str, Any]):
        self.args, self.config = args, config
        self.stop_event = threading.Event()
        self.jackd: subprocess.Popen | None = None
        self.net = None
        self.osc = None
        self.oscquery = None
        self.started = time.monotonic()
        self.ready = False  # "ready" said: the summary and "stopped" lines only then
        self.token: str | None = getattr(args, "token", None)

    def say(self, msg: str) -> None:
        print(f"mrtd: {msg}", flush=True)

    def build(self) -> None:
        import torch

        from mrtd.audio.jack_host import JackHost
        from mrtd.audio.jackd import start_jackd
        from mrtd.audio.tap import Tap
        from mrtd.controls.events import EventWriter
        from mrtd.engine.build import load_engine
        from mrtd.remote.hub import Hub
        from mrtd.remote.midi import CCMap, MidiRouter

        a = self.args
        if a.threads:
            torch.set_num_threads(a.threads)
        ccmap = CCMap(self.config.get("midi", {}).get("cc"))  # config errors before any loading
        if a.jack_start:
            self.jackd, a.jack_server = start_jackd(a.jack_start)
            self.say(f"started a private jackd -d {a.jack_start} named '{a.jack_server}'")
        self.files = DataDir(a.data_dir, overrides={"banks": a.bank_dir, "captures": a.capture_dir})
        for kind in FOLDERS:
            self.files.folder(kind)  # made now, so a bad --data-dir fails before anything starts
        sink = None
        if a.record_events:  # the operator's own path: any folder, replaced if it exists
            sink = EventWriter(*_operator_file(a.record_events))
        self.engine = load_engine(a.checkpoint, a.manifest, a.demo, a.seed, a.encoder, event_sink=sink,
                                  bank_dir=self.files.folder("banks"), files=self.files, latency_ms=a.latency_ms,
                                  size=a.size, weights=a.weights, codec=getattr(a, "codec", None),
                                  device=a.device, dtype=a.dtype, graph=a.graph)
        e = self.engine
        if a.demo:
            self.say("DEMO MODEL: untrained weights, the output is noise-like, not music")
        self.say(f"model {e.cfg.name} ({sum(p.numel() for p in e.model.parameters()) / 1e6:.1f}M parameters, "
                 f"{e.describe()}, {torch.get_num_threads()} thread(s)) from {e.source}")
        m = e.style.musiccoca
        if m is None:
            self.say("style prompts: raw tokens only (MusicCoCa files not found; 'mrtd weights list' shows "
                     "where mrtd looks, 'mrtd weights download' gets them)")
        else:
            kinds = [k for k, ok in (("text", m.can_text), ("audio", m.can_audio)) if ok]
            self.say(f"style prompts: MusicCoCa from {m.directory} ({', '.join(kinds) or 'no'} prompts"
                     f"{', text→audio mapper' if m.has_mapper else ''})")
        self.hub = Hub(e, device=str(e.device))
        self.host = JackHost(e, a.jack_name, servername=a.jack_server, connect=a.connect,
                             on_event=self.say)
        self.hub.clock = self.host
        # ---- musical time: tempo: the transport and Link, polled on the generation thread
        from mrtd.audio.transport import JackTransport
        from mrtd.remote.link import link_source

        e.tempo.jack = JackTransport(self.host)
        e.tempo.link_factory = link_source
        e.tempo.sample_now = lambda: self.host.stream_sample_at(time.time())
        self.hub.add_listener(lambda address, _: address == "/mrtd/latency_ms" and self.host.report_latency())
        self.tap = Tap(self.host.tap)
        self.tap.on_error = lambda reason: self.hub.notify("/mrtd/error", ("/mrtd/record/start", reason))
        if sink is not None:
            sink.on_error = lambda reason: self.hub.notify("/mrtd/error", ("/mrtd/record/events/start", reason))
        self.hub.levels = lambda: self.tap.levels
        self.hub.register("/mrtd/spectrum", getter=lambda: (self.tap.spectrum,))
        self.midi = MidiRouter(self.hub, self.host.midi, ccmap)
        self._register_daemon_controls()
        self.hub.token = self.token
        for address, value in self.config.get("controls", {}).items():
            values = value if isinstance(value, list) else [value]
            try:
                self.hub.handle(address, values, 0)
            except UserError as err:
                if "MusicCoCa" in str(err) or "encoder" in str(err):  # needs files that are not here (yet)
                    self.say(f"warning: config [controls] entry not applied: {err}")
                    continue
                raise UserError(f"config [controls]: {err}") from None

    def _register_daemon_controls(self) -> None:
        h = self.hub
        h.register("/mrtd/record/start", self._record_start)
        h.register("/mrtd/record/stop", lambda v: self.tap.record_stop())
        h.register("/mrtd/record/events/start", self._events_start)
        h.register("/mrtd/record/events/stop", lambda v: self._set_event_sink(None))
        h.register("/mrtd/prefill/input", self._prefill_input, with_sender=True)
        # ---- musical time: MIDI files
        from mrtd.engine.midifile import MidiPlayer
        from mrtd.engine.midifile import register as register_midi_files

        self.midi_files = MidiPlayer(self.engine)
        register_midi_files(h, self.midi_files)

    def _new_file(self, address: str, v: tuple, stem: str, suffix: str) -> tuple[int, Path]:
        """A new file in recordings/ for ``address``: the name sent (kept unless the
        message says overwrite), or a free timestamped one."""
        name = v[0] if v and v[0] else self.files.free_name("recordings", datetime.now().strftime(stem), suffix)
        try:
            return self.files.create("recordings", name, overwrite=len(v) > 1 and bool(v[1]))
        except PathRefused as e:
            raise ControlError(address, f"{e}") from None

    def _record_start(self, v: tuple) -> None:
        fd, path = self._new_file("/mrtd/record/start", v, "mrtd-%Y%m%d-%H%M%S", ".wav")
        self.tap.record_start(fd, path)

    def _events_start(self, v: tuple) -> None:
        from mrtd.controls.events import EventWriter

        fd, path = self._new_file("/mrtd/record/events/start", v, "mrtd-%Y%m%d-%H%M%S", ".events.jsonl")
        sink = EventWriter(path, fd=fd)
        sink.on_error = lambda reason: self.hub.notify("/mrtd/error", ("/mrtd/record/events/start", reason))
        self._set_event_sink(sink)
        self.say(f"writing the event log to {path}")

    def _set_event_sink(self, sink) -> None:
        old, self.engine.event_sink = self.engine.event_sink, sink
        if old is not None:
            old.close()

    def _prefill_input(self, v: tuple, sender) -> None:
        """The last seconds of the JACK inputs → prefill: saved to captures/ (so the event
        log replays it) and encoded on the engine's file thread, never on this one."""
        if self.engine.encoder is None:
            raise ControlError("/mrtd/prefill/input", "needs the SpectroStream encoder (encoder.safetensors), none is loaded")
        n = int(round(v[0] * SAMPLE_RATE))
        wave = self.host.capture.last(n)
        if wave.shape[0] < 1920:
            raise ControlError("/mrtd/prefill/input", "less than 40 ms of input captured so far")
        self.engine.post_capture(wave, reply=sender.reply if sender is not None else None)

    def start(self) -> None:
        a = self.args
        gc.collect()
        gc.freeze()  # the loaded model is never garbage: keep full collections (tens of ms) off the frame path
        self.host.open()
        self.engine.start()
        self.midi.start()
        self.tap.start()
        if a.record:
            path, fd = _operator_file(a.record)
            self.tap.record_start(fd, path)
        sup = threading.Thread(target=self.host.supervise, args=(self.stop_event,), name="mrtd-jack-supervisor",
                               daemon=True)
        sup.start()
        self._start_network()
        server = a.jack_server or os.environ.get("JACK_DEFAULT_SERVER") or "default"
        self.say(f"JACK client '{self.host.full_name}' on server '{server}': "
                 + " ".join(self.host.port_names()))
        if a.connect is not None:
            self.say(f"connected out_L/out_R to {' '.join(a.connect) or 'system playback'}")
        self.say(f"latency budget {self.engine.output.latency_ms:g} ms; MIDI and timed OSC land "
                 f"{self.engine.lead_frames()} frames after the frame playing")
        if self.engine.chunk_frames > 1:
            st = self.engine.status()
            self.say(f"{self.engine.generator.name} makes {st['chunk_frames'] * 40 / 1000:g} s chunks: prompts, "
                     f"guidance, temperature and top-k land at the next chunk boundary (up to "
                     f"{st['control_latency_ms'] / 1000:.1f} s); notes and drums are MRT2 controls and are refused")
        self.started = time.monotonic()
        self.ready = True
        self.say("ready")

    def _start_network(self) -> None:
        from mrtd.remote.loop import LoopThread
        from mrtd.remote.osc.server import OscServer

        a = self.args
        self.net = LoopThread()
        self.osc = OscServer(self.hub, a.host, a.osc_port, meter_hz=a.meter_hz,
                             allow_remote_subscribe=a.allow_remote_subscribe)
        try:
            self.net.run(self.osc.start())
        except OSError as e:
            raise UserError(f"cannot listen for OSC on {a.host}:{a.osc_port}: {e.strerror}") from None
        self.say(f"OSC on udp://{a.host}:{self.osc.port} and tcp://{a.host}:{self.osc.port}")
        if a.oscquery_port >= 0:
            from mrtd.remote.oscquery import OscQueryServer

            self.oscquery = OscQueryServer(self.hub, a.host, a.oscquery_port, osc_port=self.osc.port,
                                           name=a.jack_name, zeroconf=a.zeroconf, files=self.files,
                                           active_files=self._files_being_written)
            self.net.run(self.oscquery.start())  # a taken port is a UserError saying so
            self.say(f"OSCQuery on http://{a.host}:{self.oscquery.port}/")
            self.say(f"control surface on {self.surface_url()}")
        self.say(f"data folder {self.files.root} (recordings, banks, captures, prompts, midi: every file name sent "
                 "over OSC stays in these)")
        if self.token is not None:
            self.say(f"WARNING: listening on {a.host}, beyond this machine: anyone who can reach these ports can "
                     "play and steer mrtd. Recording, banks, prefill and audio prompts from another host need "
                     f"the token first: /mrtd/auth {self.token}")

    def surface_url(self) -> str:
        """The browser control surface's address to print: reachable from this machine
        (127.0.0.1 for a wildcard host), with the token when one is needed."""
        host = self.args.host
        if host in ("", "0.0.0.0", "::"):
            host = "127.0.0.1"
        elif ":" in host and not host.startswith("["):
            host = f"[{host}]"
        url = f"http://{host}:{self.oscquery.port}/ui/"
        return url + (f"?token={quote(self.token, safe='')}" if self.token is not None else "")

    def _files_being_written(self) -> list[Path | None]:
        """The take and the event log being written now: the surface neither lists nor
        serves them (a half-written WAV has no valid header yet)."""
        sink = self.engine.event_sink
        return [self.tap.path if self.tap.recording else None, getattr(sink, "path", None)]

    def run(self) -> int:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stop_event.set())
        try:
            self.build()
            self.start()
            while not self.stop_event.wait(0.5):
                pass
        finally:
            self.shutdown()
        return 0

    def summary(self) -> str:
        """One line of health figures for the log and for benchmarks (JSON)."""
        import json

        st = self.hub.status()
        keys = ("frame", "fps", "frame_ms", "underruns", "starved_samples", "xruns", "max_queued_ms",
                "latency_ms", "callback_errors", "midi_dropped", "record_dropped")
        d = {k: st.get(k) for k in keys}
        d["seconds"] = round(time.monotonic() - self.started, 3)
        return json.dumps(d)

    def shutdown(self) -> None:
        """Fade out, save if asked, stop everything; well under a second. After a failed
        start it stops what did start (threads, a private jackd) and says nothing, so the
        one error line stays the only output."""
        e = getattr(self, "engine", None)
        if e is not None and self.ready:
            self.say(f"summary {self.summary()}")
        if e is not None:
            e.output.gain_target = 0.0
            if self.ready and self.host.client is not None and not self.host.lost.is_set():
                time.sleep(0.05)  # 5 time constants of the output gain: silent, no click
            if self.args.save_bank_on_exit and self.ready:
                try:
                    path = e.save_bank(self.args.save_bank_on_exit)
                    self.say(f"saved bank {self.args.save_bank_on_exit} to {path}")
                except UserError as err:
                    self.say(f"could not save the bank: {err}")
            _quietly(e.stop)
        self.stop_event.set()
        for name in ("midi", "tap"):
            part = getattr(self, name, None)
            if part is not None:
                _quietly(part.stop)
        if self.net is not None:
            for server in (self.oscquery, self.osc):
                if server is not None:
                    _quietly(lambda: self.net.run(server.stop(), timeout=1.0))
            _quietly(lambda: self.net.stop(1.0))
        if getattr(self, "host", None) is not None:
            _quietly(self.host.close)
        if e is not None and e.event_sink is not None:
            _quietly(e.event_sink.close)
        if self.jackd is not None:
            self.jackd.terminate()
            try:
                self.jackd.wait(2)
            except subprocess.TimeoutExpired:
                self.jackd.kill()
        if self.ready:
            self.say("stopped")


def _quietly(fn) -> None:
    """Run a shutdown step; a failure is logged, never raised over the real error."""
    try:
        fn()
    except Exception as err:  # noqa: BLE001
        log.debug("shutdown step failed: %s", err)

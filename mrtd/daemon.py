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
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mrtd.constants import SAMPLE_RATE
from mrtd.datadir import FOLDERS, OPERATOR, DataDir, PathRefused
from mrtd.errors import ControlError, UserError

log = logging.getLogger("mrtd.serve")
MAX_VOICES = 16


def _operator_file(name: str) -> tuple[Path, int]:
    """A file the operator named on the command line or in the config file (any folder;
    replaced if it exists, never written through a symbolic link): (path, descriptor)."""
    path = Path(name).expanduser().absolute()
    try:
        fd, path = OPERATOR.create("recordings", str(path), overwrite=True)
    except PathRefused as e:
        raise UserError(str(e)) from None
    return path, fd


def voice_path(path: str, n: int, voices: int) -> str:
    """The file of voice ``n``: ``take.wav`` itself with one voice, ``take-2.wav`` for
    voice 2 of several (as its JACK client is ``mrtd-2``)."""
    if voices == 1:
        return path
    p = Path(path)
    return str(p.with_name(f"{p.stem}-{n}{p.suffix}"))


@dataclass
class Voice:
    """One voice's pipeline: engine → its own JACK client, tap, MIDI in and hub. With
    ``--voices N`` there are N of these over one batched model step; one is today's daemon."""

    n: int
    engine: Any
    hub: Any
    host: Any
    tap: Any
    midi: Any
    midi_files: Any = None
    osc: Any = None


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
        self.voices: list[Voice] = []
        self.rtf: float | None = None  # measured at start-up (engine.speed)

    def say(self, msg: str) -> None:
        print(f"mrtd: {msg}", flush=True)

    def build(self) -> None:
        import torch

        from mrtd.controls.events import EventWriter
        from mrtd.engine.build import load_engine, load_voices
        from mrtd.remote.midi import CCMap

        a = self.args
        if a.threads:
            torch.set_num_threads(a.threads)
        self.ccmap = CCMap(self.config.get("midi", {}).get("cc"))  # config errors before any loading
        n_voices = a.voices  # checked by the command line (1..MAX_VOICES)
        if a.jack_start:
            self.jackd, a.jack_server = self._start_jackd(n_voices)
            self.say(f"started a private jackd -d {a.jack_start} named '{a.jack_server}'")
        self.files = DataDir(a.data_dir, overrides={"banks": a.bank_dir, "captures": a.capture_dir})
        for kind in FOLDERS:
            self.files.folder(kind)  # made now, so a bad --data-dir fails before anything starts
        sinks = {}
        if a.record_events:  # the operator's own path: any folder, replaced if it exists
            for n in range(1, n_voices + 1):
                sinks[n] = EventWriter(*_operator_file(voice_path(a.record_events, n, n_voices)))
        common: dict[str, Any] = {
            "bank_dir": self.files.folder("banks"), "files": self.files, "latency_ms": a.latency_ms,
            "size": a.size, "weights": a.weights, "codec": getattr(a, "codec", None), "device": a.device,
            "dtype": a.dtype, "graph": a.graph, "codec_dtype": a.codec_dtype, "two_stage": a.two_stage,
            "threads": a.threads, "compile": a.compile}
        demo = "random" if getattr(a, "demo_random", False) else a.demo
        if n_voices == 1:
            engines = [load_engine(a.checkpoint, a.manifest, demo, a.seed, a.encoder, event_sink=sinks.get(1),
                                   **common)]
        else:
            def per_voice(n: int) -> dict[str, Any]:
                # voice 1 keeps the banks folder; voice n its own banks/voice-n (a bank is a slot per voice)
                banks = self.files.folder("banks") if n == 1 else self.files.folder("banks") / f"voice-{n}"
                banks.mkdir(mode=0o755, exist_ok=True)
                return {"event_sink": sinks.get(n), "bank_dir": banks}
            engines = load_voices(n_voices, a.checkpoint, a.manifest, demo, a.seed, a.encoder,
                                  per_voice=per_voice, **common)
        e = engines[0]
        from mrtd.model.mrt2.quant import weight_count

        if demo:
            from mrtd.engine.demo import demo_notice

            self.say(demo_notice(demo))
        self.say(f"model {e.cfg.name} ({weight_count(e.model) / 1e6:.1f}M parameters, "
                 f"{e.describe()}, {torch.get_num_threads()} thread(s)) from {e.source}")
        if n_voices > 1:
            self.say(f"{n_voices} voices in one batched step, seeds {a.seed}..{a.seed + n_voices - 1}; voice n "
                     f"is JACK client {a.jack_name}-n and OSC port {a.osc_port or 'any'}"
                     f"{' + n - 1' if a.osc_port else ''}, and /mrtd/voice/<n>/... on the main port")
        m = e.style.musiccoca
        if m is None:
            self.say("style prompts: raw tokens only (MusicCoCa files not found; 'mrtd weights list' shows "
                     "where mrtd looks, 'mrtd weights download' gets them)")
        else:
            kinds = [k for k, ok in (("text", m.can_text), ("audio", m.can_audio)) if ok]
            self.say(f"style prompts: MusicCoCa from {m.directory} ({', '.join(kinds) or 'no'} prompts"
                     f"{', text→audio mapper' if m.has_mapper else ''})")
        self.voices = [self._build_voice(n + 1, engine, n_voices) for n, engine in enumerate(engines)]
        v1 = self.voices[0]
        self.engine, self.hub, self.host, self.tap, self.midi = v1.engine, v1.hub, v1.host, v1.tap, v1.midi
        self.hub.token = self.token
        for v in self.voices[1:]:
            v.hub.share_auth(self.hub)  # one token and one set of authorised hosts for every voice
        for v in self.voices:
            for address, value in self.config.get("controls", {}).items():  # every voice starts from them
                values = value if isinstance(value, list) else [value]
                try:
                    v.hub.handle(address, values, 0)
                except UserError as err:
                    if "MusicCoCa" in str(err) or "encoder" in str(err):  # needs files that are not here (yet)
                        if v.n == 1:
                            self.say(f"warning: config [controls] entry not applied: {err}")
                        continue
                    raise UserError(f"config [controls]: {err}") from None

    def _build_voice(self, n: int, e: Any, voices: int) -> Voice:
        """One voice's JACK client, tap, MIDI input and hub around its engine."""
        from mrtd.audio.jack_host import JackHost
        from mrtd.audio.tap import Tap
        from mrtd.audio.transport import JackTransport
        from mrtd.remote.hub import Hub
        from mrtd.remote.link import link_source
        from mrtd.remote.midi import MidiRouter

        a = self.args
        hub = Hub(e, device=str(e.device))
        name = a.jack_name if voices == 1 else f"{a.jack_name}-{n}"
        host = JackHost(e, name, servername=a.jack_server, connect=a.connect,
                        on_event=self.say if voices == 1 else (lambda msg: self.say(f"voice {n}: {msg}")))
        hub.clock = host
        # musical time: tempo: the transport and Link, polled on the generation thread
        e.tempo.jack = JackTransport(host)
        e.tempo.link_factory = link_source
        e.tempo.sample_now = lambda: host.stream_sample_at(time.time())
        hub.add_listener(lambda address, _: address == "/mrtd/latency_ms" and host.report_latency())
        tap = Tap(host.tap)
        tap.on_error = lambda reason: hub.notify("/mrtd/error", ("/mrtd/record/start", reason))
        if e.event_sink is not None:
            e.event_sink.on_error = lambda reason: hub.notify("/mrtd/error", ("/mrtd/record/events/start", reason))
        hub.levels = lambda: tap.levels
        hub.register("/mrtd/spectrum", getter=lambda: (tap.spectrum,))
        midi = MidiRouter(hub, host.midi, self.ccmap)
        v = Voice(n, e, hub, host, tap, midi)
        self._register_daemon_controls(v)
        return v

    def _register_daemon_controls(self, v: Voice) -> None:
        h = v.hub
        h.register("/mrtd/record/start", lambda values: self._record_start(v, values))
        h.register("/mrtd/record/stop", lambda values: v.tap.record_stop())
        h.register("/mrtd/record/events/start", lambda values: self._events_start(v, values))
        h.register("/mrtd/record/events/stop", lambda values: self._set_event_sink(v, None))
        h.register("/mrtd/prefill/input", lambda values, sender: self._prefill_input(v, values, sender),
                   with_sender=True)
        # ---- musical time: MIDI files
        from mrtd.engine.midifile import MidiPlayer
        from mrtd.engine.midifile import register as register_midi_files

        v.midi_files = MidiPlayer(v.engine)
        register_midi_files(h, v.midi_files)

    def _new_file(self, address: str, values: tuple, stem: str, suffix: str) -> tuple[int, Path]:
        """A new file in recordings/ for ``address``: the name sent (kept unless the
        message says overwrite), or a free timestamped one."""
        name = values[0] if values and values[0] else self.files.free_name("recordings", datetime.now().strftime(stem),
                                                                           suffix)
        try:
            return self.files.create("recordings", name, overwrite=len(values) > 1 and bool(values[1]))
        except PathRefused as e:
            raise ControlError(address, f"{e}") from None

    def _stem(self, v: Voice) -> str:
        return "mrtd-%Y%m%d-%H%M%S" + (f"-{v.n}" if len(self.voices) > 1 else "")

    def _record_start(self, v: Voice, values: tuple) -> None:
        fd, path = self._new_file("/mrtd/record/start", values, self._stem(v), ".wav")
        v.tap.record_start(fd, path)

    def _events_start(self, v: Voice, values: tuple) -> None:
        from mrtd.controls.events import EventWriter

        fd, path = self._new_file("/mrtd/record/events/start", values, self._stem(v), ".events.jsonl")
        sink = EventWriter(path, fd=fd)
        sink.on_error = lambda reason: v.hub.notify("/mrtd/error", ("/mrtd/record/events/start", reason))
        self._set_event_sink(v, sink)
        self.say(f"writing the event log{self._of(v)} to {path}")

    def _of(self, v: Voice) -> str:
        return f" of voice {v.n}" if len(self.voices) > 1 else ""

    def _set_event_sink(self, v: Voice, sink) -> None:
        old, v.engine.event_sink = v.engine.event_sink, sink
        if old is not None:
            old.close()

    def _prefill_input(self, v: Voice, values: tuple, sender) -> None:
        """The last seconds of the voice's JACK inputs → prefill: saved to captures/ (so
        the event log replays it) and encoded on the engine's file thread, never on this one."""
        if v.engine.encoder is None:
            raise ControlError("/mrtd/prefill/input", "needs the SpectroStream encoder (encoder.safetensors), none is loaded")
        n = int(round(values[0] * SAMPLE_RATE))
        wave = v.host.capture.last(n)
        if wave.shape[0] < 1920:
            raise ControlError("/mrtd/prefill/input", "less than 40 ms of input captured so far")
        v.engine.post_capture(wave, reply=sender.reply if sender is not None else None)

    def start(self) -> None:
        a = self.args
        gc.collect()
        gc.freeze()  # the loaded model is never garbage: keep full collections (tens of ms) off the frame path
        self._say_speed()
        if getattr(a, "adapt_threads", False):
            import torch

            from mrtd.engine.threads import ThreadGovernor

            self.engine.governor = ThreadGovernor(torch.get_num_threads())
            self.say(f"CPU threads adapt to the load, up to {torch.get_num_threads()}")
        for v in self.voices:
            v.host.open()
        for v in self.voices:
            v.engine.start()
            v.midi.start()
            v.tap.start()
            if a.record:
                path, fd = _operator_file(voice_path(a.record, v.n, len(self.voices)))
                v.tap.record_start(fd, path)
            sup = threading.Thread(target=v.host.supervise, args=(self.stop_event,),
                                   name=f"mrtd-jack-supervisor-{v.n}", daemon=True)
            sup.start()
        self._start_network()
        if self.jackd is not None:
            threading.Thread(target=self._keep_jackd, name="mrtd-jackd-keeper", daemon=True).start()
        server = a.jack_server or os.environ.get("JACK_DEFAULT_SERVER") or "default"
        for v in self.voices:
            self.say(f"JACK client '{v.host.full_name}' on server '{server}': " + " ".join(v.host.port_names()))
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

    def _start_jackd(self, voices: int) -> tuple[subprocess.Popen, str]:
        """The private jackd of ``--jack-start`` (named for this process, so a restart
        brings back the same server)."""
        from mrtd.audio.jackd import start_jackd

        a = self.args
        return start_jackd(a.jack_start, net_master=getattr(a, "net_master", None), voices=voices,
                           jack_name=a.jack_name)

    def _keep_jackd(self) -> None:
        """The private jackd (--jack-start) died: start it again under the same name, so
        the JACK hosts' supervisors reconnect as they do after any server loss."""
        while not self.stop_event.wait(1.0):
            if self.jackd is None or self.jackd.poll() is None:
                continue
            self.say(f"the private jackd exited ({self.jackd.returncode}); starting it again")
            try:
                self.jackd, _ = self._start_jackd(len(self.voices))
            except UserError as e:
                self.say(f"cannot restart the private jackd: {e}")

    def _say_speed(self) -> None:
        """The real-time factor of this machine, measured on the loaded model before the
        first frame is heard; a clear warning when it cannot keep up."""
        from mrtd.engine.speed import TIMED_FRAMES, expected_rtf, speed_tips

        self.rtf = expected_rtf(self.engine)
        if self.rtf is None:
            return
        each = " per voice" if len(self.voices) > 1 else ""
        self.say(f"speed: {self.rtf:.2f}x real time{each} on this machine ({TIMED_FRAMES} frames measured now)")
        if self.rtf < 1.0:
            self.say(f"WARNING: this machine makes frames slower than they play ({self.rtf:.2f}x real time): the "
                     "audio will break up, and a larger --latency-ms only delays it. Try "
                     + "; ".join(speed_tips(self.engine)))

    def _start_network(self) -> None:
        from mrtd.remote.loop import LoopThread
        from mrtd.remote.osc.server import OscServer

        a = self.args
        self.net = LoopThread()
        for v in self.voices:
            port = a.osc_port + v.n - 1 if a.osc_port and v.n > 1 else a.osc_port
            if v.n > 1 and not a.osc_port:
                port = 0
            v.osc = OscServer(v.hub, a.host, port, meter_hz=a.meter_hz,
                              allow_remote_subscribe=a.allow_remote_subscribe)
            try:
                self.net.run(v.osc.start())
            except OSError as e:
                raise UserError(f"cannot listen for OSC{self._of(v)} on {a.host}:{port}: {e.strerror}") from None
        self.osc = self.voices[0].osc
        if len(self.voices) > 1:
            self.osc.voices = {v.n: v.osc for v in self.voices}
        self.say(f"OSC on udp://{a.host}:{self.osc.port} and tcp://{a.host}:{self.osc.port}")
        if len(self.voices) > 1:
            self.say("OSC per voice: " + " ".join(f"{v.n}:{v.osc.port}" for v in self.voices)
                     + f" (and /mrtd/voice/<n>/... on {self.osc.port})")
        if a.oscquery_port >= 0:
            from mrtd.remote.oscquery import OscQueryServer

            kw: dict[str, Any] = {"voices": [v.hub for v in self.voices],
                                  "voice_osc_ports": [v.osc.port for v in self.voices]} if len(self.voices) > 1 else {}
            self.oscquery = OscQueryServer(self.hub, a.host, a.oscquery_port, osc_port=self.osc.port,
                                           name=a.jack_name, zeroconf=a.zeroconf, files=self.files,
                                           active_files=self._files_being_written, **kw)
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
        """The takes and event logs being written now: the surface neither lists nor
        serves them (a half-written WAV has no valid header yet)."""
        out: list[Path | None] = []
        for v in getattr(self, "voices", []):
            out += [v.tap.path if v.tap.recording else None, getattr(v.engine.event_sink, "path", None)]
        return out

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
        """One line of health figures for the log and for benchmarks (JSON): voice 1's,
        and with several voices each voice's under ``voices``."""
        import json

        keys = ("frame", "fps", "frame_ms", "underruns", "starved_samples", "xruns", "max_queued_ms",
                "latency_ms", "callback_errors", "midi_dropped", "record_dropped")
        per = []
        for v in self.voices:
            st = v.hub.status()
            per.append({k: st.get(k) for k in keys})
        d = dict(per[0])
        d["seconds"] = round(time.monotonic() - self.started, 3)
        d["expected_rtf"] = round(self.rtf, 3) if self.rtf is not None else None
        g = self.voices[0].engine.governor
        if g is not None:
            d["threads"], d["thread_changes"] = g.n, g.changes
        if len(per) > 1:
            d["voices"] = per
            d["batched_steps"] = self.voices[0].engine.generator.batch.rounds
        return json.dumps(d)

    def shutdown(self) -> None:
        """Fade out, save if asked, stop everything; well under a second. After a failed
        start it stops what did start (threads, a private jackd) and says nothing, so the
        one error line stays the only output."""
        voices: list[Voice] = getattr(self, "voices", [])
        if voices and self.ready:
            self.say(f"summary {self.summary()}")
        for v in voices:
            v.engine.output.gain_target = 0.0
        if voices and self.ready and any(v.host.client is not None and not v.host.lost.is_set() for v in voices):
            time.sleep(0.05)  # 5 time constants of the output gain: silent, no click
        if voices and self.args.save_bank_on_exit and self.ready:
            for v in voices:
                try:
                    path = v.engine.save_bank(self.args.save_bank_on_exit)
                    self.say(f"saved bank {self.args.save_bank_on_exit}{self._of(v)} to {path}")
                except UserError as err:
                    self.say(f"could not save the bank{self._of(v)}: {err}")
        for v in voices:
            _quietly(v.engine.stop)
        self.stop_event.set()
        for v in voices:
            for part in (v.midi, v.tap):
                _quietly(part.stop)
        if self.net is not None:
            servers = [self.oscquery] + [v.osc for v in voices]
            for server in servers:
                if server is not None:
                    _quietly(lambda server=server: self.net.run(server.stop(), timeout=1.0))
            _quietly(lambda: self.net.stop(1.0))
        for v in voices:
            _quietly(v.host.close)
            if v.engine.event_sink is not None:
                _quietly(v.engine.event_sink.close)
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

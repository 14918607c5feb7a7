"""``mrtd serve``: the live daemon, as a pipeline you can read top to bottom.

schema → hub (OSC, MIDI, config controls) → engine (model, codec, effects) → output
queue → JACK process callback → ports; the callback's tap feeds recording and meters.

Threads: generation (engine), JACK (callback, only copies), MIDI router, tap
(recording and meters), supervisor (JACK loss and reconnection), and one asyncio loop
for the OSC and OSCQuery servers. SIGINT/SIGTERM fade the output out, stop everything
and exit 0 (saving a bank first if ``--save-bank-on-exit`` asks).
"""

from __future__ import annotations

import argparse
import gc
import ipaddress
import logging
import math
import secrets
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from mrtd.datadir import FOLDERS, DataDir, PathRefused
from mrtd.errors import UserError

log = logging.getLogger("mrtd.serve")

DEFAULT_OSC_PORT = 9000
DEFAULT_OSCQUERY_PORT = 9001
SAMPLE_RATE = 48000


# ---- recording and meters: the tap thread --------------------------------------------------

class Tap:
    """Drains the JACK callback's output tap: meters, and the WAV recorder when armed."""

    def __init__(self, ring, meter_window_s: float = 0.05):
        self.ring = ring
        self.window = int(meter_window_s * SAMPLE_RATE)
        self.levels = (0.0, 0.0, 0.0, 0.0)
        self._block = np.zeros((4096, 2), np.float32)
        self._acc = np.zeros((self.window, 2), np.float32)
        self._fill = 0
        self._file: Any = None
        self.path: Path | None = None
        self._lock = threading.Lock()  # recorder open/close vs the drain (not the JACK thread)
        self.on_error: Any = None  # (reason) -> None: a recording stopped by an OS error
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mrtd-tap", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2)
        self.record_stop()

    def record_start(self, fd: int, path: Path) -> Path:
        """Record from now on into the new file open on ``fd`` (the daemon made it in
        recordings/, or the operator named it); closes a recording already running."""
        import soundfile as sf

        try:
            f = sf.SoundFile(fd, "w", SAMPLE_RATE, 2, subtype="PCM_24", format="WAV", closefd=True)
        except (RuntimeError, OSError) as e:
            os.close(fd)
            raise UserError(f"/mrtd/record/start: cannot record to {path.name}: {e}") from None
        with self._lock:
            old, self._file, self.path = self._file, f, path
            self.ring.read = self.ring.written  # record from now on
        if old is not None:
            old.close()
        log.warning("recording to %s", path)
        return path

    def record_stop(self) -> None:
        with self._lock:
            f, self._file = self._file, None
            if f is not None:
                self._drain()
        if f is not None:
            f.close()
            log.warning("recording stopped: %s", self.path)

    def _drain(self) -> int:
        total = 0
        while (n := self.ring.read_into(self._block)) > 0:
            block = self._block[:n]
            if self._file is not None:
                try:
                    self._file.write(np.clip(block, -1.0, 1.0))
                except (RuntimeError, OSError) as e:  # disk full, drive gone: stop, say so, play on
                    f, self._file = self._file, None
                    _quietly(f.close)
                    reason = f"recording {self.path.name if self.path else ''} stopped: {e}"
                    log.error("%s", reason)
                    if self.on_error is not None:
                        self.on_error(reason)
            self._meter(block)
            total += n
        return total

    def _meter(self, block: np.ndarray) -> None:
        pos = 0
        while pos < len(block):
            take = min(len(block) - pos, self.window - self._fill)
            self._acc[self._fill:self._fill + take] = block[pos:pos + take]
            self._fill += take
            pos += take
            if self._fill == self.window:
                peak = np.abs(self._acc).max(axis=0)
                rms = np.sqrt(np.mean(np.square(self._acc), axis=0))
                self.levels = (float(peak[0]), float(peak[1]), float(rms[0]), float(rms[1]))
                self._fill = 0

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                n = self._drain()
            if not n:
                time.sleep(0.01)


def _operator_file(name: str) -> tuple[Path, int]:
    """A file the operator named on the command line or in the config file (any folder;
    replaced if it exists, never written through a symbolic link): (path, descriptor)."""
    path = Path(name).expanduser().absolute()
    try:
        fd, path = DataDir(trusted=True).create("recordings", str(path), overwrite=True)
    except PathRefused as e:
        raise UserError(str(e)) from None
    return path, fd


# ---- a private jackd (--jack-start) ----------------------------------------------------------

def start_jackd(backend: str, period: int = 256) -> tuple[subprocess.Popen, str]:
    """Start a private jackd (dummy or alsa) named for this process; wait until it answers."""
    if shutil.which("jackd") is None:
        raise UserError("--jack-start needs jackd: apt install jackd2 (or run ./setup.sh)")
    name = f"mrtd-{os.getpid()}"
    cmd = ["jackd", "-n", name, "--no-realtime", "-d", backend, "-r", str(SAMPLE_RATE), "-p", str(period)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = (proc.stderr.read() if proc.stderr else "").strip().splitlines()[-3:]
            raise UserError(f"jackd -d {backend} failed: {' / '.join(err) or 'exit ' + str(proc.returncode)}")
        ok = subprocess.run(["jack_lsp", "-s", name], capture_output=True, env={**os.environ, "JACK_NO_START_SERVER": "1"})
        if ok.returncode == 0:
            return proc, name
        time.sleep(0.05)
    proc.kill()
    raise UserError(f"jackd -d {backend} did not start within 10 s")


# ---- the daemon ---------------------------------------------------------------------------

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

        from mrtd.daemon.events import EventWriter
        from mrtd.daemon.hub import Hub
        from mrtd.daemon.jack_host import JackHost
        from mrtd.daemon.midi import CCMap, MidiRouter
        from mrtd.daemon.render import load_engine

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
                                  size=a.size, weights=a.weights, device=a.device, dtype=a.dtype, graph=a.graph)
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
        self.hub.add_listener(lambda address, _: address == "/mrtd/latency_ms" and self.host.report_latency())
        self.tap = Tap(self.host.tap)
        self.tap.on_error = lambda reason: self.hub.notify("/mrtd/error", ("/mrtd/record/start", reason))
        if sink is not None:
            sink.on_error = lambda reason: self.hub.notify("/mrtd/error", ("/mrtd/record/events/start", reason))
        self.hub.levels = lambda: self.tap.levels
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

    def _new_file(self, address: str, v: tuple, stem: str, suffix: str) -> tuple[int, Path]:
        """A new file in recordings/ for ``address``: the name sent (kept unless the
        message says overwrite), or a free timestamped one."""
        from mrtd.datadir import PathRefused

        name = v[0] if v and v[0] else self.files.free_name("recordings", datetime.now().strftime(stem), suffix)
        try:
            return self.files.create("recordings", name, overwrite=len(v) > 1 and bool(v[1]))
        except PathRefused as e:
            raise UserError(f"{address}: {e}") from None

    def _record_start(self, v: tuple) -> None:
        fd, path = self._new_file("/mrtd/record/start", v, "mrtd-%Y%m%d-%H%M%S", ".wav")
        self.tap.record_start(fd, path)

    def _events_start(self, v: tuple) -> None:
        from mrtd.daemon.events import EventWriter

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
            raise UserError("/mrtd/prefill/input: needs the SpectroStream encoder (encoder.safetensors), none is loaded")
        n = int(round(v[0] * SAMPLE_RATE))
        wave = self.host.capture.last(n)
        if wave.shape[0] < 1920:
            raise UserError("/mrtd/prefill/input: less than 40 ms of input captured so far")
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
        self.started = time.monotonic()
        self.ready = True
        self.say("ready")

    def _start_network(self) -> None:
        from mrtd.daemon.loop import LoopThread
        from mrtd.daemon.osc_server import OscServer

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
            from mrtd.daemon.oscquery import OscQueryServer

            self.oscquery = OscQueryServer(self.hub, a.host, a.oscquery_port, osc_port=self.osc.port,
                                           name=a.jack_name, zeroconf=a.zeroconf)
            self.net.run(self.oscquery.start())  # a taken port is a UserError saying so
            self.say(f"OSCQuery on http://{a.host}:{self.oscquery.port}/")
        self.say(f"data folder {self.files.root} (recordings, banks, captures, prompts: every file name sent "
                 "over OSC stays in these)")
        if self.token is not None:
            self.say(f"WARNING: listening on {a.host}, beyond this machine: anyone who can reach these ports can "
                     "play and steer mrtd. Recording, banks, prefill and audio prompts from another host need "
                     f"the token first: /mrtd/auth {self.token}")

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


# ---- command line and config file ---------------------------------------------------------

def add_serve(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "serve", help="run the real-time JACK daemon (audio out, OSC and MIDI in)",
        description="Run MRT2 live: a JACK client (out_L/out_R post-effects, dry_L/dry_R, in_L/in_R, "
        "midi_in) steered over OSC (UDP and TCP on one port), OSCQuery and JACK MIDI. Every option "
        "can also be set in a TOML file (--config); the command line wins.")
    from mrtd.daemon.render import add_model_args  # argparse only at import time

    p.add_argument("--config", metavar="FILE.toml", help="daemon config file: any option below, plus "
                   "[controls] (initial OSC values) and [midi.cc] (controller → control)")
    add_model_args(p, manifest_flag="--manifest", required=False)
    p.add_argument("--latency-ms", type=float, default=None, help="latency budget in ms (default: 80)")
    g = p.add_argument_group("JACK")
    g.add_argument("--jack-name", default="mrtd", help="JACK client name (default: mrtd)")
    g.add_argument("--jack-server", metavar="NAME", default=None, help="JACK server name (default: $JACK_DEFAULT_SERVER or 'default')")
    g.add_argument("--jack-start", choices=["dummy", "alsa"], help="start a private jackd with this backend")
    g.add_argument("--connect", nargs="*", metavar="PORT", default=None,
                   help="connect out_L/out_R to these ports (no PORT: the system playback ports)")
    g = p.add_argument_group("network")
    g.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    g.add_argument("--osc-port", type=int, default=DEFAULT_OSC_PORT, help=f"OSC UDP and TCP port (default: {DEFAULT_OSC_PORT}; 0 = any)")
    g.add_argument("--oscquery-port", type=int, default=DEFAULT_OSCQUERY_PORT,
                   help=f"OSCQuery HTTP/WebSocket port (default: {DEFAULT_OSCQUERY_PORT}; 0 = any, -1 = off)")
    g.add_argument("--zeroconf", action="store_true", help="advertise OSCQuery with zeroconf (needs the zeroconf package)")
    g.add_argument("--meter-hz", type=float, default=20.0, help="meter rate to OSC subscribers (default: 20)")
    g.add_argument("--token", metavar="TOKEN", default=None,
                   help="with --host beyond this machine: the shared secret another host sends once "
                   "(/mrtd/auth TOKEN) before it may record, save/load banks, prefill or use audio prompts "
                   "(default: a random one, printed at start-up)")
    g.add_argument("--allow-remote-subscribe", action="store_true",
                   help="let /mrtd/subscribe HOST PORT name a host other than the sender's own "
                   "(off: feedback only goes back to where requests come from)")
    g = p.add_argument_group("recording and state")
    g.add_argument("--data-dir", metavar="DIR", default=None,
                   help="the data folder: recordings/, banks/, captures/, prompts/; every file name sent over "
                   "OSC or in [controls] is a name inside one of these (default: $XDG_DATA_HOME/mrtd, "
                   "i.e. ~/.local/share/mrtd)")
    g.add_argument("--record", metavar="FILE.wav", help="record the output (24-bit WAV) from start-up (any path)")
    g.add_argument("--record-events", metavar="FILE", help="write the event log (replay with 'mrtd render --events')")
    g.add_argument("--bank-dir", metavar="DIR", default=None, help="directory of state banks (default: DATA_DIR/banks)")
    g.add_argument("--save-bank-on-exit", type=int, metavar="N", default=0, help="save the state to bank N when stopping")
    g.add_argument("--capture-dir", metavar="DIR", default=None,
                   help="where /mrtd/prefill/input keeps its captured audio (default: DATA_DIR/captures)")
    p.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    p.set_defaults(run=run_serve)
    return p


def load_config(path: str | None, parser_defaults: dict[str, Any]) -> dict[str, Any]:
    """The TOML file: top-level keys are option names (dashes or underscores)."""
    if not path:
        return {}
    try:
        with open(path, "rb") as f:
            raw = f.read(1 << 20)
    except OSError as e:
        raise UserError(f"cannot read config {path}: {e.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise UserError(f"config {path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"config {path}: {e}") from None
    for key, value in data.items():
        if isinstance(value, dict):
            if key not in ("controls", "midi"):
                raise UserError(f"config {path}: unknown table [{key}] (known: [controls], [midi.cc])")
            continue
        if key.replace("-", "_") not in parser_defaults or key in ("config", "run"):
            raise UserError(f"config {path}: unknown option {key!r}")
    return data


def _serve_parser(suppress: bool = False) -> argparse.ArgumentParser:
    """The serve options alone (for config merging): with ``suppress`` only the options
    actually given on the command line end up in the namespace."""
    sp = add_serve(argparse.ArgumentParser(prog="mrtd", add_help=False).add_subparsers())
    if suppress:
        for action in sp._actions:
            action.default = argparse.SUPPRESS
    return sp


def _config_value(action: argparse.Action, key: str, value: Any) -> Any:
    """A config value checked like the command line would check it."""
    if action.nargs == "*":
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise UserError(f"config: {key} must be a list of port names")
        return value
    if isinstance(action, (argparse._StoreTrueAction, argparse.BooleanOptionalAction)):
        if not isinstance(value, bool):
            raise UserError(f"config: {key} must be true or false")
        return value
    kind = action.type or str
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise UserError(f"config: {key} must be a {getattr(kind, '__name__', 'value')}")
    try:
        value = kind(value)
    except (TypeError, ValueError):
        raise UserError(f"config: {key} = {value!r} is not a valid {getattr(kind, '__name__', 'value')}") from None
    if action.choices and value not in action.choices:
        raise UserError(f"config: {key} must be one of {', '.join(map(str, action.choices))}")
    return value


def _loopback(host: str) -> bool:
    """Does listening on ``host`` keep the daemon on this machine?"""
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_serve(args: argparse.Namespace) -> int:
    actions = {a.dest: a for a in _serve_parser()._actions}
    config = load_config(args.config, {d: a.default for d, a in actions.items()})
    argv = getattr(args, "argv", None) or []
    given = set(vars(_serve_parser(suppress=True).parse_known_args(argv[1:])[0])) if argv else set()
    for key, value in config.items():
        dest = key.replace("-", "_")
        if not isinstance(value, dict) and dest not in given:
            setattr(args, dest, _config_value(actions[dest], key, value))
    chosen = [flag for flag, on in (("--size", args.size), ("--checkpoint", args.checkpoint), ("--demo", args.demo)) if on]
    if not chosen:
        raise UserError("give --size NAME, --checkpoint CKPT or --demo (or set one in --config)")
    if len(chosen) > 1:
        raise UserError(f"{' and '.join(chosen)} exclude each other")
    from mrtd.daemon.render import resolve_device

    resolve_device(args.device, args.dtype)  # no CUDA here: say so before starting anything
    if not math.isfinite(args.meter_hz) or not 10 <= args.meter_hz <= 100:
        raise UserError("--meter-hz must be within 10..100")
    if not _loopback(args.host):
        args.token = args.token or secrets.token_urlsafe(16)  # remote file access needs it
    elif args.token is not None and not args.token:
        raise UserError("--token must not be empty")
    logging.basicConfig(level=args.log_level.upper(), format="mrtd: %(name)s: %(message)s", stream=sys.stderr)
    return Daemon(args, config).run()

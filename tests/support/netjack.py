"""A netjack2 master on loopback for the tests: a private ``jackd -d dummy`` with the
``netmanager`` internal client listening on 127.0.0.1 and a free UDP port, and a JACK
client on it that plays the stage machine's part (records the slave's returns, sends
MIDI and test clicks to the slave).

Stopping a jackd with netmanager loaded was seen to hang on SIGTERM (its engine waits
seconds for the netmanager client), and a killed jackd leaves its slot in JACK's shared
registry of servers, which holds only eight: :meth:`NetMaster.stop` unloads netmanager
first (then SIGTERM ends jackd at once), kills only as a fallback, and then gives the
slot back by starting and cleanly stopping a server of the same name.
"""

from __future__ import annotations

import subprocess
import time
import uuid

import numpy as np

from support.jack import JackServer, start_jackd, stop_jackd
from support.ports import free_port


def has_net_backend() -> bool:
    """Whether this jackd has the netjack2 slave backend (``-d net``)."""
    r = subprocess.run(["jackd", "-d", "net", "--help"], capture_output=True, text=True, timeout=10)
    return "multicast" in (r.stdout + r.stderr).lower()


class NetMaster:
    """``jackd -d dummy -r 48000 -p 256`` + ``jack_load netmanager -i "-a 127.0.0.1 -p PORT"``."""

    def __init__(self, sample_rate: int = 48000) -> None:
        self.port = free_port()
        self.sample_rate = sample_rate
        self.loaded = False
        self._start(f"netmaster-{uuid.uuid4().hex[:6]}")

    def _start(self, name: str) -> None:
        # (what jackd says goes to a file: a netjack2 master says a lot, every slave's
        # parameters and every late cycle, and a full pipe nobody reads would stop it)
        self.server: JackServer = start_jackd(name, self.sample_rate)
        try:
            self.load()
        except Exception:
            self.stop()
            raise

    def crash(self) -> None:
        """The stage machine goes (power, cable, reboot: to the slave all the same)."""
        self.server.proc.kill()
        self.server.proc.wait(5)
        self.loaded = False

    def restart(self) -> None:
        """The stage machine is back: the same server, netmanager on the same port (a server
        of the killed one's name also takes back its slot in JACK's registry)."""
        self._start(self.name)

    @property
    def name(self) -> str:
        return self.server.name

    def load(self) -> None:
        r = subprocess.run(["jack_load", "-s", self.name, "netmanager", "-i", f"-a 127.0.0.1 -p {self.port}"],
                           capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            raise RuntimeError(f"jack_load netmanager failed: {r.stdout} {r.stderr}")
        self.loaded = True

    def unload(self, timeout: float = 10) -> None:
        """Unload netmanager: slaves lose their link (``jack_unload`` of netmanager was seen
        to hang now and then: :meth:`crash` drops a link for certain)."""
        self.loaded = False
        subprocess.run(["jack_unload", "netmanager", self.name], capture_output=True, timeout=timeout)

    def wait_for_port(self, port: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while port not in self.server.ports():
            assert time.monotonic() < deadline, f"no {port} on the master: {self.server.ports()}"
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop the master, whatever state the test left it in; never leave it running."""
        try:
            if self.loaded:
                self.unload(3)  # then SIGTERM ends jackd at once
        except subprocess.TimeoutExpired:  # seen after a reload: jackd is killed below
            pass
        finally:
            if self.server.proc.poll() is None:
                stop_jackd(self.server)  # SIGTERM, SIGKILL after 5 s
        if self.server.proc.returncode == -9:  # killed: its registry slot is still taken; free it
            stop_jackd(start_jackd(self.name))


class Stage:
    """A JACK client on the master: records ``inputs`` (real time: a net master cannot
    freewheel with its slave), plays ``plan`` events on its MIDI and audio outputs."""

    def __init__(self, server: str, inputs: list[str], midi_to: str | None = None, audio_to: str | None = None):
        import jack

        self.client = jack.Client(f"stage-{uuid.uuid4().hex[:6]}", servername=server, no_start_server=True)
        self.ins = [self.client.inports.register(f"in{i}") for i in range(len(inputs))]
        self.mo = self.client.midi_outports.register("midi")
        self.ao = self.client.outports.register("click")
        self.plan: dict[int, list[tuple[int, bytes]]] = {}  # cycle (of recording) -> MIDI events
        self.clicks: set[int] = set()  # cycles (of recording) whose first sample is 1.0
        self.blocks: list[np.ndarray] = []
        self.recording = False
        self.client.set_process_callback(self._process)
        self.client.activate()
        for port, src in zip(self.ins, inputs):
            self.client.connect(src, port)
        if midi_to:
            self.client.connect(self.mo, midi_to)
        if audio_to:
            self.client.connect(self.ao, audio_to)

    def _process(self, frames: int) -> None:
        self.mo.clear_buffer()
        click = self.ao.get_array()
        click.fill(0.0)
        if not self.recording:
            return
        cycle = len(self.blocks)
        for offset, msg in self.plan.get(cycle, []):
            self.mo.write_midi_event(offset, msg)
        if cycle in self.clicks:
            click[0] = 1.0
        self.blocks.append(np.stack([p.get_array().copy() for p in self.ins], axis=1) if self.ins
                           else np.zeros((frames, 0), np.float32))

    def record(self, seconds: float, rate: int = 48000) -> np.ndarray:
        """Record ``seconds`` in real time (playing the plan); returns ``[n, inputs]``."""
        self.blocks = []
        self.recording = True
        deadline = time.monotonic() + seconds * 4 + 10
        try:
            while sum(len(b) for b in self.blocks) < seconds * rate:
                assert time.monotonic() < deadline, "recording on the master timed out"
                time.sleep(0.02)
        finally:
            self.recording = False
        time.sleep(0.05)
        return np.concatenate(self.blocks)

    def close(self) -> None:
        if self.client is not None:  # once: a test may close it in a finally of its own too
            client, self.client = self.client, None
            client.deactivate()
            client.close()


class Locator:
    """Finds where pieces of a take sit in a reference recording (mono), by FFT
    cross-correlation against the reference's spectrum, computed once."""

    def __init__(self, ref: np.ndarray, longest: int):
        self.ref = ref
        self.size = 1 << (len(ref) + longest - 1).bit_length()
        self.spectrum = np.fft.rfft(ref, self.size)

    def find(self, piece: np.ndarray) -> tuple[int, float]:
        """The offset of ``piece`` in the reference and the normalised correlation there
        (1.0: the same samples)."""
        xc = np.fft.irfft(self.spectrum * np.conj(np.fft.rfft(piece, self.size)), self.size)
        lag = int(np.argmax(xc[:len(self.ref) - len(piece) + 1]))
        seg = self.ref[lag:lag + len(piece)]
        return lag, float(np.dot(seg, piece) / (np.linalg.norm(seg) * np.linalg.norm(piece) + 1e-12))

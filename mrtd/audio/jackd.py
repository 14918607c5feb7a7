"""A private ``jackd`` for ``mrtd serve --jack-start``: a server of mrtd's own, named
for its process, so mrtd runs where no JACK server (or PipeWire) is running.

``--jack-start net`` makes that server a netjack2 *slave*: it has no sound card, its
``system`` ports are network channels to and from another machine's JACK (the stage
machine, running its sound card's jackd with the ``netmanager`` internal client). The
slave takes its sample rate and period from that master, so the rate check lives here,
where the master can be named in the message. Its ``system`` ports are wired to
mrtd's ports by :class:`NetWiring`, so nothing has to be connected by hand on the GPU
box, and wired again when a dropped link comes back (see docs/network.md).
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import threading
import time
from collections import deque

from mrtd.constants import SAMPLE_RATE
from mrtd.errors import UserError

log = logging.getLogger(__name__)

NET_PORT = 19000  # netjack2's default UDP port (jackd -d net -p, netmanager -p)
NET_LATENCY = 2  # network cycles of buffering: a 3-period round trip (16 ms at -p 256), for a wired LAN
NET_WAIT_S = 20.0  # how long to look for the master before saying what to check
# the slave's network channels; the master sees them as <name>:from_slave_N / to_slave_N
NET_AUDIO_TO_MASTER = 2  # out_L, out_R (of each voice, with voices=N)
NET_AUDIO_FROM_MASTER = 2  # in_L, in_R (the stage's inputs, for prefill and capture)
NET_MIDI_FROM_MASTER = 1  # midi_in (of each voice, with voices=N)


def net_routes(client: str, n: int = 1) -> list[tuple[str, str]]:
    """The slave-side connections of mrtd client ``client``, the ``n``-th voice: its
    outputs on the n-th pair of network channels to the master, its MIDI on the n-th MIDI
    channel from it, every voice's inputs on the master's first two."""
    return [(f"{client}:out_L", f"system:playback_{2 * n - 1}"), (f"{client}:out_R", f"system:playback_{2 * n}"),
            ("system:capture_1", f"{client}:in_L"), ("system:capture_2", f"{client}:in_R"),
            (f"system:midi_capture_{n}", f"{client}:midi_in")]


def start_jackd(backend: str, period: int = 256, net_master: str | None = None, *,
                wait_s: float = NET_WAIT_S, net_latency: int = NET_LATENCY, voices: int = 1,
                jack_name: str = "mrtd") -> tuple[subprocess.Popen, str]:
    """Start a private jackd (dummy, alsa or a netjack2 slave) named for this process;
    wait until it answers (a net slave: until its master is found). A net slave takes
    ``period`` (and the rate) from its master; ``net_latency`` is its ``-l``. With
    ``voices`` > 1 (clients ``jack_name``-1 …) each voice gets network channels of its
    own; with the default 1, every mrtd client on the slave shares the first (summed)."""
    if shutil.which("jackd") is None:
        raise UserError("--jack-start needs jackd: apt install jackd2 (or run ./setup.sh)")
    if net_master is not None and backend != "net":
        raise UserError("--net-master needs --jack-start net")
    name = f"mrtd-{os.getpid()}"
    if backend == "net":
        return _start_net_slave(name, net_master, wait_s, net_latency, voices, jack_name), name
    cmd = ["jackd", "-n", name, "--no-realtime", "-d", backend, "-r", str(SAMPLE_RATE), "-p", str(period)]
    proc = Jackd(cmd)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise UserError(f"jackd -d {backend} failed: {proc.last_lines()}")
        if _answers(name):
            return proc, name
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    raise UserError(f"jackd -d {backend} did not start within 10 s")


def parse_net_master(value: str | None) -> tuple[str | None, int]:
    """``HOST`` or ``HOST:PORT`` (the master's IPv4 address, netmanager's UDP port)."""
    if not value:
        return None, NET_PORT
    host, sep, port = value.rpartition(":")
    if not sep:
        return value, NET_PORT
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UserError(f"--net-master {value!r}: give HOST or HOST:PORT (the stage machine's IP address)")
    return host, int(port)


def net_client_name() -> str:
    """The name the master shows the slave under: stable across restarts (the master's
    connections, and netmanager's ``-s``, are kept by name), distinct per GPU box."""
    return f"mrtd-{socket.gethostname().split('.')[0]}"


def _start_net_slave(name: str, net_master: str | None, wait_s: float, latency: int, voices: int,
                     jack_name: str) -> Jackd:
    host, port = parse_net_master(net_master)
    where = f"the netjack2 master at {host}:{port}" if host else f"a netjack2 master (multicast, UDP port {port})"
    cmd = ["jackd", "-n", name, "--no-realtime", "-d", "net", "-p", str(port),
           "-C", str(NET_AUDIO_FROM_MASTER), "-P", str(NET_AUDIO_TO_MASTER * voices),
           "-i", str(NET_MIDI_FROM_MASTER * voices), "-o", "0", "-l", str(latency),
           "-n", net_client_name(), "-s"]
    if host:
        cmd[cmd.index("-p"):cmd.index("-p")] = ["-a", host]
    proc = Jackd(cmd)
    # the slave server answers at once but has no system ports until a master took it on
    start = time.monotonic()
    deadline, told = start + wait_s, False
    while True:
        if proc.poll() is not None:
            raise UserError(f"jackd -d net failed: {proc.last_lines()}")
        if "system:playback_1" in _answers(name):
            break
        if not told and time.monotonic() > start + 1.0:  # a master on the LAN answers at once
            log.warning("waiting for %s (up to %.0f s)", where, wait_s)
            told = True
        if time.monotonic() > deadline:
            stop_jackd(proc)
            load = "jack_load netmanager" + (f' -i "-p {port}"' if port != NET_PORT else "")
            raise UserError(f"no answer from {where} within {wait_s:.0f} s: on the stage machine, is jackd "
                            f"running at -r {SAMPLE_RATE} with '{load}', and is UDP port {port} open in its firewall?")
        time.sleep(0.1)
    try:
        wiring = NetWiring(name, voices={f"{jack_name}-{n}": n for n in range(1, voices + 1)} if voices > 1 else {})
    except Exception as e:
        stop_jackd(proc)
        raise UserError(f"the netjack2 slave server did not take a client: {e}") from None
    proc.wiring = wiring  # lives as long as the server it wires
    if wiring.client.samplerate != SAMPLE_RATE:  # the slave runs at its master's rate
        rate = wiring.client.samplerate
        stop_jackd(proc)
        raise UserError(f"{where} runs at {rate} Hz; MRT2 is a {SAMPLE_RATE // 1000} kHz model: restart the "
                        f"stage machine's jackd with '-r {SAMPLE_RATE}'")
    wiring.start()
    return proc


class NetWiring:
    """Wires mrtd's ports to the net slave's ``system`` ports (:func:`net_routes`) as they
    appear: mrtd's client when it registers (a voice named in ``voices`` on its own
    channels, any other on the first: several such clients sum there), the system ports
    when the link to the master comes back after a drop (the slave's driver re-registers
    them). A route is made once while both its ports exist, so a connection the user
    removes on purpose stays removed. It polls from a thread of its own: a JACK
    notification callback may not itself connect ports."""

    def __init__(self, server: str, interval: float = 0.25, voices: dict[str, int] | None = None):
        import jack

        self.client = jack.Client(f"mrtd-wiring-{os.getpid()}", servername=server, no_start_server=True)
        self.interval = interval
        self.voices = voices or {}  # client name -> voice number (its network channels)
        self._done: set[tuple[str, str]] = set()  # routes made while both ports exist
        self.linked = True  # the master was found before this was made
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # the server itself went (the daemon says so, and stops it): nothing left to wire
        self.client.set_shutdown_callback(lambda *_: self._stop.set())

    def start(self) -> None:
        self.client.activate()
        self._thread = threading.Thread(target=self._run, name="net-wiring", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.wire()
            except Exception as e:  # the server is going away (the shutdown callback stops this)
                log.debug("net wiring: %s", e)

    def wire(self) -> None:
        """Connect every route not made yet since both its ports appeared."""
        names = {p.name for p in self.client.get_ports()}
        self._done = {pair for pair in self._done if pair[0] in names and pair[1] in names}
        linked = "system:playback_1" in names  # the slave's driver ports exist only while linked
        if linked != self.linked and names:  # none at all: the server itself is going
            self.linked = linked
            log.warning("netjack2 link to the master is back: playing again" if linked else
                        "netjack2 link to the master lost: generation is held, state kept; waiting for it")
        for client in {n.split(":", 1)[0] for n in names if n.endswith(":midi_in")}:  # mrtd's
            for pair in net_routes(client, self.voices.get(client, 1)):
                if pair in self._done or not (pair[0] in names and pair[1] in names):
                    continue
                try:
                    self.client.connect(*pair)
                except Exception as e:  # already made (the slave's -s restored it), or not yet possible
                    log.debug("net wiring %s -> %s: %s", *pair, e)
                    if pair[1] not in {p.name for p in self.client.get_all_connections(pair[0])}:
                        continue  # try again at the next poll
                self._done.add(pair)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)  # never close the client under a poll
        try:
            self.client.close()
        except Exception as e:
            log.debug("closing the net wiring client: %s", e)


class Jackd(subprocess.Popen):
    """The private jackd's process: its stderr read on a thread, the last lines kept (a net
    slave says something on every dropped link, and an unread pipe would stall it after a
    few hours), and the net slave's wiring client closed before the server is stopped (a
    client outliving its server leaves its semaphore file behind in /dev/shm)."""

    def __init__(self, cmd: list[str]):
        super().__init__(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.wiring: NetWiring | None = None
        self.tail: deque[str] = deque(maxlen=3)
        self.reader = threading.Thread(target=self._drain, name="jackd-stderr", daemon=True)
        self.reader.start()

    def _drain(self) -> None:
        assert self.stderr is not None
        for line in self.stderr:
            if line.strip():
                self.tail.append(line.strip())

    def send_signal(self, sig: int) -> None:  # terminate() and kill() come here
        if self.wiring is not None:
            self.wiring.close()
            self.wiring = None
        super().send_signal(sig)

    def last_lines(self) -> str:
        self.reader.join(1.0)
        return " / ".join(self.tail) or f"exit {self.returncode}"


def stop_jackd(proc: subprocess.Popen, timeout: float = 2.0) -> None:
    """Terminate a jackd, killing it if it does not exit in time (one with netmanager loaded
    was seen to take seconds)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait()


def _answers(name: str) -> str:
    """``jack_lsp``'s output when server ``name`` answers, else ``""``."""
    r = subprocess.run(["jack_lsp", "-s", name], capture_output=True, text=True, check=False,
                       env={**os.environ, "JACK_NO_START_SERVER": "1"})
    return (r.stdout or "\n") if r.returncode == 0 else ""

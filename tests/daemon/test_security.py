"""`mrtd serve` under attack, as the hostile run tried it: a real daemon on a real
`jackd -d dummy`, liblo's `oscsend` and plain UDP sockets as the senders.

No OSC sender can touch a file outside the data folder; every refusal is answered to
the sender itself (no subscription needed); the stream keeps playing through FIFO and
oversized-file attempts; start-up failures are one line and exit 1.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf
from support.inproc import UdpClient
from support.jack import start_jackd, stop_jackd
from support.liblo import oscsend
from support.serve import Serve

from mrtd.remote.osc.packet import encode_message

pytestmark = [pytest.mark.jack, pytest.mark.slow]
pytest.importorskip("jack")

FIX = Path(__file__).parents[1] / "fixtures"
TINY = ("--checkpoint", str(FIX / "mrt2_tiny.safetensors"), "--manifest", str(FIX / "mrt2_tiny.manifest.json"),
        "--encoder", str(FIX / "mrt2_tiny_encoder.safetensors"), "--weights", str(FIX / "musiccoca"))


class Peer(UdpClient):
    """A plain OSC sender (like Max's [udpsend]+[udpreceive] on one port): sends from one
    socket and reads what comes back to it; it never subscribes."""

    def ask(self, address: str, *args: object, want: str = "/mrtd/error", timeout: float = 3.0) -> tuple:
        """Send one message; the args of the first reply at ``want``."""
        self.send(encode_message(address, args))
        return self.recv_until(want, timeout)[-1][1]

    def frame(self) -> int:
        return int(self.ask("/mrtd/status", want="/mrtd/status")[-1])


def snapshot(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every entry under ``folder`` (links not followed): mode, mtime, content."""
    out = {}
    for p in sorted(folder.rglob("*")):
        st = p.lstat()
        data = p.read_bytes() if stat.S_ISREG(st.st_mode) else b""
        out[str(p.relative_to(folder))] = (st.st_mode, st.st_mtime_ns, data)
    return out


@pytest.fixture
def attacked(jack_server, tmp_path):
    """A daemon with every file feature on (encoder for prefill, stand-in MusicCoCa for audio
    prompts), a data folder seeded with traps, and a folder outside that must not change."""
    out = tmp_path / "outside"
    out.mkdir()
    (out / "precious.txt").write_text("precious data\n")
    (out / ".bashrc").write_text('echo "this is my bashrc"\n')
    data = tmp_path / "mrtd"  # Serve sets XDG_DATA_HOME to tmp_path
    prompts, rec = data / "prompts", data / "recordings"
    prompts.mkdir(parents=True)
    rec.mkdir(parents=True)
    t = [0.2 * ((i * 37) % 11 - 5) / 5 for i in range(48000)]
    sf.write(prompts / "riff.wav", [[x, -x] for x in t], 48000)
    (prompts / "out.wav").symlink_to(out / "precious.txt")
    (prompts / "dev.wav").symlink_to("/dev/zero")
    os.mkfifo(prompts / "fifo.wav")
    (prompts / "dir.wav").mkdir()
    with open(prompts / "huge.wav", "wb") as f:
        f.truncate(600 << 20)  # sparse: over the 512 MiB cap, no disk used
    (rec / "existing.wav").write_bytes(b"keep me")
    (rec / "link.wav").symlink_to(out / "new.wav")
    (rec / "rc.jsonl").symlink_to(out / ".bashrc")
    s = Serve(jack_server, *TINY, tmp=tmp_path)
    peer = Peer(s.osc_port)
    yield s, peer, data, out
    peer.close()
    s.stop()


def test_no_file_outside_the_data_folder_can_be_touched(attacked, tmp_path):
    s, peer, data, out = attacked
    before_out = snapshot(out)
    before_rec = snapshot(data / "recordings")
    writes = ["/etc/mrtd-pwned.wav", str(out / "precious.txt"), "../outside/precious.txt",
              "../../outside/x.wav", "link.wav", "rc.jsonl", "existing.wav", "bad\x01name"]
    for address in ("/mrtd/record/start", "/mrtd/record/events/start"):
        for name in writes:
            reason = peer.ask(address, name)
            assert reason[0] == address, reason
        reason = peer.ask(address, "link.wav", 1)  # overwrite never goes through a link
        assert "not a regular file" in reason[1]
    reads = {"/etc/passwd": "absolute", str(out / "precious.txt"): "absolute", "../outside/precious.txt": "'..'",
             "out.wav": "leads out", "dev.wav": "leads out", "fifo.wav": "not a regular file",
             "dir.wav": "not a regular file", "huge.wav": "too large", "missing.wav": "no such file"}
    for address in ("/mrtd/prompt/1/audio", "/mrtd/prefill/audio"):
        for name, why in reads.items():
            reason = peer.ask(address, name)
            assert reason[0] == address and why in reason[1], (address, name, reason)
            assert str(out) not in reason[1]  # nothing said about what lies outside
    assert snapshot(out) == before_out
    assert snapshot(data / "recordings") == before_rec
    assert peer.ask("/mrtd/ping", want="/mrtd/pong") == ()


def test_the_stream_plays_on_through_fifo_and_huge_file_attempts(attacked):
    s, peer, data, out = attacked
    f0 = peer.frame()
    t0 = time.monotonic()
    for _ in range(5):
        for name in ("fifo.wav", "huge.wav"):
            peer.ask("/mrtd/prefill/audio", name)
            peer.ask("/mrtd/prompt/2/audio", name)
    time.sleep(1.0)
    f1 = peer.frame()
    elapsed = time.monotonic() - t0
    assert f1 - f0 >= 0.5 * 25 * elapsed, (f0, f1, elapsed)  # at least half real time throughout


def test_good_names_work_inside_the_folders(attacked):
    s, peer, data, out = attacked
    rec = data / "recordings"
    oscsend(s.osc_port, "/mrtd/record/events/start", "s", "take.jsonl")
    oscsend(s.osc_port, "/mrtd/prompt/1/text", "s", "$(touch ./pwned) `id`")
    oscsend(s.osc_port, "/mrtd/record/start", "s", "gig/take1.wav")
    oscsend(s.osc_port, "/mrtd/prompt/2/audio", "s", "riff.wav")
    oscsend(s.osc_port, "/mrtd/prefill/audio", "s", "riff.wav")
    deadline = time.monotonic() + 30
    log = rec / "take.jsonl"
    while "/mrtd/prefill/audio" not in (log.read_text() if log.exists() else ""):
        assert time.monotonic() < deadline, "\n".join(s.lines[-10:])
        time.sleep(0.1)
    oscsend(s.osc_port, "/mrtd/record/stop")
    oscsend(s.osc_port, "/mrtd/record/events/stop")
    time.sleep(0.3)
    wav = rec / "gig" / "take1.wav"
    assert wav.is_file() and stat.S_IMODE(wav.stat().st_mode) == 0o644
    assert sf.info(str(wav)).samplerate == 48000
    text = log.read_text()
    assert "$(" not in text and "`" not in text  # inert even where a shell reads it
    lines = [json.loads(line) for line in text.splitlines()]
    assert {"frame": lines[0]["frame"], "address": "/mrtd/prompt/1/text",
            "args": ["$(touch ./pwned) `id`"]} in lines
    prefill, = [e for e in lines if e["address"] == "/mrtd/prefill/audio"]
    assert prefill["args"] == [str((data / "prompts" / "riff.wav").resolve())]
    assert not Path("pwned").exists()
    reason = peer.ask("/mrtd/record/start", "gig/take1.wav")  # kept: not overwritten
    assert "exists" in reason[1]
    peer.send(encode_message("/mrtd/record/start", ("gig/take1.wav", 1)))
    time.sleep(0.3)
    oscsend(s.osc_port, "/mrtd/record/stop")


def test_errors_found_on_the_frame_reach_a_plain_sender(attacked):
    s, peer, data, out = attacked
    reason = peer.ask("/mrtd/bank/load", 7)  # checked when it arrives
    assert "bank 7 is empty" in reason[1]
    banks = data / "banks"
    (banks / "bank_008.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}garbage")
    reason = peer.ask("/mrtd/bank/load", 8, timeout=5)  # found on the file thread, after arrival
    assert reason[0] == "/mrtd/bank/load" and "not a readable bank" in reason[1], reason
    peer.send(encode_message("/mrtd/bank/save", (4,)))
    deadline = time.monotonic() + 5
    while not (banks / "bank_004.safetensors").exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert stat.S_IMODE((banks / "bank_004.safetensors").stat().st_mode) == 0o644


# ---- start-up failures: one line, exit 1, nothing left running ------------------------------

def _serve(*args: str, env: dict | None = None, timeout: float = 90) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "mrtd", "serve", "--osc-port", "0", "--oscquery-port", "-1", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


def _one_error(r: subprocess.CompletedProcess, *words: str) -> str:
    assert r.returncode == 1, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    assert "Traceback" not in r.stdout + r.stderr, r.stdout + r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("mrtd: error: "), r.stderr
    assert "mrtd: stopped" not in r.stdout and "summary" not in r.stdout
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def test_start_up_failures_are_one_line(jack_server, tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path)}
    _one_error(_serve("--demo", "--jack-server", "mrtd-nothere", env=env), "no JACK server 'mrtd-nothere'")
    slow = start_jackd(f"mrtd-44k-{os.getpid()}", sample_rate=44100)
    try:
        _one_error(_serve("--demo", "--jack-server", slow.name, env=env), "44100")
    finally:
        stop_jackd(slow)
    cfg = tmp_path / "bad.toml"
    for text, words in (('[controls]\n"/mrtd/temperature" = 99\n', ("temperature", "out of range")),
                        ('[controls]\n"/mrtd/nope" = 1\n', ("/mrtd/nope", "unknown address")),
                        ('[controls]\n"/mrtd/record/start" = "/etc/x.wav"\n', ("absolute",))):
        cfg.write_text(text)
        _one_error(_serve("--demo", "--jack-server", jack_server.name, "--config", str(cfg), env=env), *words)
    cfg.write_bytes(b"\xff\xfe garbage")
    _one_error(_serve("--demo", "--config", str(cfg), env=env), "not UTF-8")
    _one_error(_serve("--checkpoint", str(FIX / "mrt2_tiny.safetensors"), "--jack-server", jack_server.name, env=env),
               "--manifest")
    _one_error(_serve("--checkpoint", str(tmp_path), env=env), "is a folder")


def test_a_failed_start_leaves_no_private_jackd_behind(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[controls]\n"/mrtd/temperature" = 99\n')
    cmd = [sys.executable, "-m", "mrtd", "serve", "--demo", "--jack-start", "dummy", "--osc-port", "0",
           "--oscquery-port", "-1", "--config", str(cfg)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, "XDG_DATA_HOME": str(tmp_path)})
    out, err = p.communicate(timeout=90)
    _one_error(subprocess.CompletedProcess(cmd, p.returncode, out, err), "temperature")
    left = subprocess.run(["pgrep", "-f", f"jackd -n mrtd-{p.pid} "], capture_output=True, text=True)
    assert left.stdout.strip() == "", left.stdout


def test_readme_text_prompt_without_musiccoca_is_a_warning(serve, tmp_path):
    cfg = tmp_path / "readme.toml"
    cfg.write_text('[controls]\n"/mrtd/temperature" = 1.1\n"/mrtd/prompt/1/text" = "disco funk"\n'
                   '"/mrtd/prompt/1/tokens" = [12, 40, 7, 300, 5, 18, 99, 2, 64, 1, 8, 512]\n')
    (tmp_path / "none").mkdir()
    s = serve("--config", str(cfg), "--weights", str(tmp_path / "none"))
    assert any("warning: config [controls] entry not applied" in line and "MusicCoCa" in line for line in s.lines)
    peer = Peer(s.osc_port)
    try:
        assert peer.ask("/mrtd/get", "/mrtd/temperature", want="/mrtd/temperature")[0] == pytest.approx(1.1)
        assert list(peer.ask("/mrtd/get", "/mrtd/style/tokens", want="/mrtd/style/tokens"))[:3] == [12, 40, 7]
    finally:
        peer.close()


def test_listening_beyond_loopback_warns_and_prints_a_token(serve):
    s = serve("--host", "0.0.0.0", "--token", "tok-123")
    warn = s.wait_for("WARNING: listening on 0.0.0.0")
    assert "/mrtd/auth tok-123" in warn
    peer = Peer(s.osc_port)  # this machine: no token needed
    try:
        assert peer.ask("/mrtd/ping", want="/mrtd/pong") == ()
        assert "wrong token" in peer.ask("/mrtd/auth", "nope")[1]
    finally:
        peer.close()

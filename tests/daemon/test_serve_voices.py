"""`mrtd serve --voices 2` as users run it, on a real `jackd -d dummy`: a JACK client per
voice, an OSC port per voice and the /mrtd/voice/<n>/ form on the main one, MIDI per
voice, and each voice's audio exactly its own offline stream."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest
from support.liblo import oscsend

pytestmark = pytest.mark.jack
jack = pytest.importorskip("jack")
from support.peer import Peer, align  # noqa: E402  (needs jack)


def two_free_ports() -> int:
    """P with P and P + 1 both free for UDP and TCP (voice n listens on P + n - 1)."""
    from support.ports import free_udp_tcp_port

    for _ in range(50):
        p = free_udp_tcp_port()
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t, socket.socket(socket.AF_INET,
                                                                                         socket.SOCK_DGRAM) as u:
                t.bind(("127.0.0.1", p + 1))
                u.bind(("127.0.0.1", p + 1))
            return p
        except OSError:
            continue
    raise RuntimeError("no two consecutive free ports")


def test_two_voices_clients_ports_midi_and_audio(serve, jack_server, tmp_path):
    from mrtd.controls.events import read_events
    from mrtd.engine.demo import build_random_demo
    from mrtd.engine.voices import render_voices, voice_engines

    p = two_free_ports()
    log = tmp_path / "take.events.jsonl"
    s = serve("--voices", "2", "--osc-port", str(p), "--record-events", str(log))
    v = [f"{s.name}-{n}" for n in (1, 2)]
    ports = jack_server.ports()
    for name in v:
        for port in ("out_L", "out_R", "dry_L", "dry_R", "in_L", "in_R", "midi_in"):
            assert f"{name}:{port}" in ports
    assert not [q for q in ports if q.startswith(f"{s.name}:")]  # no client under the bare name
    assert f"OSC per voice: 1:{p} 2:{p + 1}" in "\n".join(s.lines)

    # each voice's audio is its own stream (seeds 0 and 1), exactly as rendered offline
    peer = Peer(jack_server.name, [f"{v[0]}:out_L", f"{v[1]}:out_L"], midi_to=f"{v[1]}:midi_in")
    try:
        audio = peer.record(2.5)
        ref = render_voices(voice_engines(*build_random_demo(), [0, 1], max_wait_s=None), 6.0)
        for i in (0, 1):
            rec = audio[:, i:i + 1]
            s0 = align(rec, ref[i][:, :1])
            assert np.array_equal(rec[8192:8192 + 48000, 0], ref[i][s0 + 8192:s0 + 8192 + 48000, 0])
        assert np.abs(audio[8192:, 0] - audio[8192:, 1]).max() > 1e-3

        # a control on each voice's own port, and on the main port in the voice form
        oscsend(p + 1, "/mrtd/temperature", "f", 0.5)
        oscsend(p, "/mrtd/topk", "i", 7)
        oscsend(p, "/mrtd/voice/2/guidance/notes", "f", 2.5)
        # a note on voice 2's MIDI input only
        peer.midi_plan = {len(peer.times) + 5: [(3, bytes([0x90, 60, 100]))]}
        peer.record(0.5)
        assert peer.sent, "the note was not played"
        # it lands a constant latency after it is heard: wait until voice 2 applied it
        deadline = time.monotonic() + 15
        while '"/mrtd/note/on"' not in (tmp_path / "take.events-2.jsonl").read_text():
            assert time.monotonic() < deadline, "voice 2 never applied the MIDI note"
            time.sleep(0.05)
        time.sleep(0.2)  # the OSC controls sent before it are applied by now too
    finally:
        peer.close()
    assert s.stop() == 0
    one = [(e.address, e.args) for e in read_events(tmp_path / "take.events-1.jsonl")]
    two = [(e.address, e.args) for e in read_events(tmp_path / "take.events-2.jsonl")]
    assert ("/mrtd/topk", (7,)) in one and not [a for a, _ in one if a in ("/mrtd/temperature", "/mrtd/note/on")]
    assert ("/mrtd/temperature", (0.5,)) in two and ("/mrtd/note/on", (60, 100)) in two
    assert ("/mrtd/guidance/notes", (2.5,)) in two and "/mrtd/guidance/notes" not in [a for a, _ in one]
    assert "/mrtd/topk" not in [a for a, _ in two]


def test_voice_form_subscription_and_the_oscquery_tree(serve, osc_dump):
    """Three voices, ports chosen by the system: the main port answers and feeds back in
    the voice form; OSCQuery lists every voice's tree with its own OSC port."""
    import json
    import re
    import urllib.request

    from support.ports import free_udp_tcp_port

    s = serve("--voices", "3", "--oscquery-port", "0")
    out = "\n".join(s.lines)
    ports = [int(x) for x in re.search(r"OSC per voice: 1:(\d+) 2:(\d+) 3:(\d+)", out).groups()]
    assert ports[0] == s.osc_port
    http = int(re.search(r"OSCQuery on http://127\.0\.0\.1:(\d+)/", out).group(1))
    dump = osc_dump(free_udp_tcp_port())
    oscsend(s.osc_port, "/mrtd/voice/3/subscribe", "i", dump.port)
    dump.wait_for(lambda m: m.address == "/mrtd/voice/3/subscribed")
    oscsend(s.osc_port, "/mrtd/voice/3/temperature", "f", 0.75)
    dump.wait_for(lambda m: m.address == "/mrtd/voice/3/temperature" and m.args[0].startswith("0.75"))
    oscsend(ports[1], "/mrtd/temperature", "f", 0.5)  # voice 2's own port: not voice 3's feedback
    oscsend(s.osc_port, "/mrtd/voice/3/ping")
    dump.wait_for(lambda m: m.address == "/mrtd/voice/3/pong")
    assert not [m for m in dump.received if m.address.endswith("/temperature") and m.args[0].startswith("0.5")]

    def get(path: str) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{http}{path}", timeout=10) as r:
            return json.loads(r.read())

    assert get("/?HOST_INFO")["MRTD_VOICE_OSC_PORTS"] == ports
    assert get("/mrtd/voice/3/temperature?VALUE")["VALUE"][0] == pytest.approx(0.75)
    # voice 2's port is its own socket: nothing orders it after the main port's pong, so wait
    deadline = time.monotonic() + 10
    while get("/mrtd/voice/2/temperature?VALUE")["VALUE"][0] != pytest.approx(0.5):
        assert time.monotonic() < deadline, "voice 2 never took the temperature sent to its port"
        time.sleep(0.05)
    assert get("/mrtd/temperature?VALUE")["VALUE"][0] != pytest.approx(0.5)  # voice 1, untouched

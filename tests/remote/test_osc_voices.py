"""Voices over OSC: ``/mrtd/voice/<n>/...`` on the main port, and each voice's own port.

Three real in-process voices (each its own demo engine, hub, paced reader and OSC
server, all servers on one loop as in the daemon), the main server routing to the
others through ``voices``. liblo's ``oscsend``/``oscdump`` and python-osc's builders
are the independent peers.
"""

from __future__ import annotations

import random
import socket
import struct
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from pythonosc.osc_message import OscMessage as PyOscMessage
from pythonosc.tcp_client import SimpleTCPClient
from support.inproc import Daemon, PacedReader, UdpClient, drain, pyosc, same, values_of
from support.liblo import OscDump, oscsend
from support.ports import free_port

from mrtd.controls.banks import bank_name
from mrtd.engine.demo import build_random_demo
from mrtd.engine.engine import Engine
from mrtd.remote.hub import Hub
from mrtd.remote.loop import LoopThread
from mrtd.remote.osc.packet import decode_packet, encode_message
from mrtd.remote.osc.server import OscServer
from mrtd.remote.osc.voices import split_voice, voice_packet

N = 3


@contextmanager
def voice_daemons(tmp: Path, n: int = N, route: bool = True) -> Iterator[list[Daemon]]:
    """``n`` voices: engines, hubs and readers of their own, their OSC servers on one
    loop; the first server routes ``/mrtd/voice/<k>/...`` to all (``route``)."""
    loop = LoopThread("osc-voices-test")
    daemons: list[Daemon] = []
    with ExitStack() as stack:
        stack.callback(loop.stop)
        for k in range(1, n + 1):
            engine = Engine(*build_random_demo(), bank_dir=tmp / f"banks{k}")  # type: ignore[arg-type]
            hub = Hub(engine)
            reader = PacedReader(engine)
            hub.clock = reader
            server = OscServer(hub)
            d = Daemon(engine, hub, server, loop, reader, tmp / f"banks{k}")
            engine.start()
            stack.callback(engine.stop)
            reader.start()
            stack.callback(reader.stop)
            loop.run(server.start())
            stack.callback(lambda s=server: loop.run(s.stop()))
            daemons.append(d)
        if route:
            daemons[0].server.voices = {k + 1: d.server for k, d in enumerate(daemons)}
        yield daemons


@pytest.fixture(scope="module")
def voices(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Daemon]]:
    with voice_daemons(tmp_path_factory.mktemp("voices")) as ds:
        yield ds


@pytest.fixture
def main(voices: list[Daemon]) -> Daemon:
    return voices[0]


@pytest.fixture(autouse=True)
def _defaults(voices: list[Daemon]) -> Iterator[None]:
    yield
    for d in voices:
        d.restore_defaults()


def _has(d: Daemon, address: str, want: tuple) -> bool:
    return same(d.wait_value(address, want) or (), want)


def _temps(voices: list[Daemon]) -> list[float]:
    return [round(d.hub.value("/mrtd/temperature")[0], 4) for d in voices]  # type: ignore[index]


def _settle(voices: list[Daemon]) -> None:
    """Every voice has applied what was queued before now (one ping round trip each)."""
    for d in voices:
        c = UdpClient(d.port)
        try:
            c.send(pyosc("/mrtd/ping"))
            c.recv_until("/mrtd/pong")
        finally:
            c.close()
    time.sleep(0.1)  # two frames: anything queued is applied


def _subscribed_dump(main: Daemon, address: str = "/mrtd/voice/2/subscribe") -> OscDump:
    d = OscDump(free_port())
    main.send(address, "i", d.port)
    d.wait_for(lambda m: m.address.endswith("/subscribed") and m.args[-1] == str(d.port))
    return d


# --------------------------------------------------------------------------- address forms


@pytest.mark.timeout(30)
def test_both_address_forms_reach_their_voice_and_only_it(voices: list[Daemon]) -> None:
    main, v2, v3 = voices
    base = _temps(voices)
    oscsend(main.port, "/mrtd/voice/2/temperature", "f", 1.7)  # voice form, main port, UDP
    assert _has(v2, "/mrtd/temperature", (1.7,))
    oscsend(main.port, "/mrtd/voice/3/temperature", "f", 0.6, tcp=True)  # voice form over TCP
    assert _has(v3, "/mrtd/temperature", (0.6,))
    oscsend(main.port, "/mrtd/voice/1/temperature", "f", 2.1)  # voice 1 in voice form
    assert _has(main, "/mrtd/temperature", (2.1,))
    assert _temps(voices) == [2.1, 1.7, 0.6]
    oscsend(main.port, "/mrtd/temperature", "f", 0.9)  # plain on the main port: voice 1
    oscsend(v3.port, "/mrtd/temperature", "f", 3.3)  # plain on voice 3's own port
    assert _has(main, "/mrtd/temperature", (0.9,))
    assert _has(v3, "/mrtd/temperature", (3.3,))
    _settle(voices)
    assert _temps(voices) == [0.9, 1.7, 3.3]
    assert base != _temps(voices)


@pytest.mark.timeout(30)
def test_patterns_work_inside_a_voice(voices: list[Daemon]) -> None:
    main, v2, v3 = voices
    oscsend(main.port, "/mrtd/voice/2/prompt/[2-4]/weight", "f", 0.25)
    for k in (2, 3, 4):
        assert _has(v2, f"/mrtd/prompt/{k}/weight", (0.25,))
    _settle(voices)
    assert main.hub.value("/mrtd/prompt/3/weight") != (0.25,) and v3.hub.value("/mrtd/prompt/3/weight") != (0.25,)


# --------------------------------------------------------------------------- replies


@pytest.mark.timeout(30)
def test_ping_status_get_answer_in_voice_form(voices: list[Daemon]) -> None:
    main, v2, _ = voices
    v2.hub.handle("/mrtd/topk", [77])
    assert _has(v2, "/mrtd/topk", (77,))
    c = UdpClient(main.port)
    try:
        c.send(pyosc("/mrtd/voice/2/ping"))
        assert c.recv_until("/mrtd/voice/2/pong")[-1] == ("/mrtd/voice/2/pong", ())
        c.send(pyosc("/mrtd/voice/2/get", ("s", "/mrtd/topk")))
        assert c.recv_until("/mrtd/voice/2/topk")[-1] == ("/mrtd/voice/2/topk", (77,))
        c.send(pyosc("/mrtd/get", ("s", "/mrtd/topk")))  # the plain form is still voice 1
        assert c.recv_until("/mrtd/topk")[-1] == ("/mrtd/topk", main.hub.value("/mrtd/topk"))
        c.send(pyosc("/mrtd/voice/2/status"))
        _, status = c.recv_until("/mrtd/voice/2/status")[-1]
        assert [type(v) for v in status] == [str, str, float, float, int, int, float, int]
    finally:
        c.close()


@pytest.mark.timeout(30)
def test_refusals_are_in_voice_form_and_change_nothing(voices: list[Daemon]) -> None:
    main = voices[0]
    before = _temps(voices)
    c = UdpClient(main.port)
    try:
        c.send(pyosc("/mrtd/voice/2/temperature", ("f", 99.0)))
        _, args = c.recv_until("/mrtd/voice/2/error")[-1]
        assert args[0] == "/mrtd/voice/2/temperature" and "out of range" in args[1]
        c.send(pyosc("/mrtd/voice/2/get", ("s", "/mrtd/nope")))
        assert c.recv_until("/mrtd/voice/2/error")[-1][1][0] == "/mrtd/voice/2/get"
        c.send(pyosc("/mrtd/voice/2/fx/*/nope", ("i", 1)))
        assert c.recv_until("/mrtd/voice/2/error")[-1][1][0] == "/mrtd/voice/2/fx/*/nope"
        # the engine's own check (the bank does not exist): still voice form
        c.send(pyosc("/mrtd/voice/2/bank/load", ("i", 41)))
        _, args = c.recv_until("/mrtd/voice/2/error", timeout=5)[-1]
        assert args[0] == "/mrtd/voice/2/bank/load" and "41" in args[1]
        # found only when applied on voice 2's frame (a damaged bank), off the loop: still voice form
        v2 = voices[1]
        v2.bank_dir.mkdir(parents=True, exist_ok=True)
        (v2.bank_dir / bank_name(43)).write_bytes(b"not a bank" * 10)
        c.send(pyosc("/mrtd/voice/2/bank/load", ("i", 43)))
        _, args = c.recv_until("/mrtd/voice/2/error", timeout=5)[-1]
        assert args[0] == "/mrtd/voice/2/bank/load" and "bank 43" in args[1]
    finally:
        c.close()
    _settle(voices)
    assert _temps(voices) == before


@pytest.mark.timeout(30)
@pytest.mark.parametrize("address", ["/mrtd/voice/0/temperature", "/mrtd/voice/4/temperature",
                                     "/mrtd/voice/two/temperature", "/mrtd/voice/02/temperature",
                                     "/mrtd/voice/*/temperature", "/mrtd/voice/2", "/mrtd/voice"])
def test_unknown_voice_is_refused_naming_the_range(voices: list[Daemon], address: str) -> None:
    main = voices[0]
    before = _temps(voices)
    c = UdpClient(main.port)
    try:
        c.send(pyosc(address, ("f", 1.9)))
        got = c.recv_until("/mrtd/error")
        assert not any(a.startswith("/mrtd/voice/") for a, _ in got)
        _, (where, reason) = got[-1]
        assert where == address
        assert "1..3" in reason or "must follow the voice" in reason
        c.send(pyosc("/mrtd/voice/9/error", ("s", "/x"), ("s", "y")))  # an error is never answered
        c.send(pyosc("/mrtd/ping"))
        assert [a for a, _ in c.recv_until("/mrtd/pong")] == ["/mrtd/pong"]
    finally:
        c.close()
    _settle(voices)
    assert _temps(voices) == before


# --------------------------------------------------------------------------- feedback


@pytest.mark.timeout(30)
def test_voice_subscription_gets_that_voice_in_voice_form(voices: list[Daemon]) -> None:
    main, v2, v3 = voices
    dump = _subscribed_dump(main)
    try:
        got = dump.wait_for(lambda m: m.address == "/mrtd/voice/2/temperature")  # the snapshot
        assert got.types == "f"
        dump.wait_for(lambda m: m.address == "/mrtd/voice/2/meters")
        dump.wait_for(lambda m: m.address == "/mrtd/voice/2/frame")
        v3.hub.handle("/mrtd/guidance/notes", [1.1])  # other voices are not sent
        main.hub.handle("/mrtd/guidance/notes", [1.2])
        v2.hub.handle("/mrtd/guidance/notes", [2.2])  # as MIDI on voice 2 would
        m = dump.wait_for(lambda m: m.address == "/mrtd/voice/2/guidance/notes")
        assert same(values_of(m), (2.2,))
        main.send("/mrtd/voice/2/bank/load", "i", 42)  # oscsend hangs up: its host's voice-2 subscriber hears
        m = dump.wait_for(lambda m: m.address == "/mrtd/voice/2/error")
        assert m.args[0].strip('"') == "/mrtd/voice/2/bank/load"
        assert all(m.address.startswith("/mrtd/voice/2/") for m in dump.received), \
            {m.address for m in dump.received if not m.address.startswith("/mrtd/voice/2/")}
        main.send("/mrtd/voice/2/unsubscribe", "i", dump.port)
        _settle(voices)
        time.sleep(0.2)  # what was sent before the unsubscribe is printed by now
        drain(dump)
        dump.received.clear()
        time.sleep(0.3)
        drain(dump)
        assert not dump.received
        assert v2.server.subscribers() == []
    finally:
        dump.close()


@pytest.mark.timeout(30)
def test_plain_and_voice_subscriptions_to_one_port_stay_apart(voices: list[Daemon]) -> None:
    main, v2, _ = voices
    dump = _subscribed_dump(main)
    try:
        v2.send("/mrtd/subscribe", "i", dump.port)  # the same port, plainly, on voice 2's own port
        dump.wait_for(lambda m: m.address == "/mrtd/subscribed")
        assert len(v2.server.subscribers()) == 2
        drain(dump)
        v2.hub.handle("/mrtd/guidance/notes", [2.7])
        want = {"/mrtd/guidance/notes", "/mrtd/voice/2/guidance/notes"}  # the one change, once in each form
        seen: set[str] = set()
        dump.wait_for(lambda m: seen.add(m.address) or want <= seen)
    finally:
        v2.send("/mrtd/unsubscribe", "i", dump.port)
        main.send("/mrtd/voice/2/unsubscribe", "i", dump.port)
        _settle(voices)
        dump.close()
    assert v2.server.subscribers() == []


@pytest.mark.timeout(30)
def test_a_subscription_may_not_point_at_a_voice_port(voices: list[Daemon]) -> None:
    main, v2, v3 = voices
    c = UdpClient(main.port)
    try:
        c.send(pyosc("/mrtd/voice/2/subscribe", ("i", v3.port)))
        _, (where, reason) = c.recv_until("/mrtd/voice/2/error")[-1]
        assert where == "/mrtd/voice/2/subscribe" and "voice port" in reason
        c.send(pyosc("/mrtd/subscribe", ("i", v2.port)))  # plain, from voice 1 to voice 2's port
        assert "voice port" in c.recv_until("/mrtd/error")[-1][1][1]
    finally:
        c.close()
    c = UdpClient(v3.port)
    try:
        c.send(pyosc("/mrtd/subscribe", ("i", main.port)))  # voice 3's feedback would steer voice 1
        assert "voice port" in c.recv_until("/mrtd/error")[-1][1][1]
    finally:
        c.close()
    assert all(d.server.subscribers() == [] for d in voices)


@pytest.mark.timeout(30)
def test_tcp_connection_subscribes_itself_to_a_voice_and_closing_ends_it(voices: list[Daemon]) -> None:
    main, v2, _ = voices
    client = SimpleTCPClient("127.0.0.1", main.port, mode="1.1")
    try:
        client.send_message("/mrtd/voice/2/subscribe", [])
        v2.hub.handle("/mrtd/guidance/style", [6.5])
        seen: set[str] = set()
        deadline = time.monotonic() + 5
        while "/mrtd/voice/2/guidance/style" not in seen:
            assert time.monotonic() < deadline, seen
            for raw in client.receive(timeout=0.5):
                if raw:
                    seen.add(PyOscMessage(raw).address)
        assert "/mrtd/voice/2/subscribed" in seen and not any(a.startswith("/mrtd/guidance") for a in seen)
        assert len(v2.server.subscribers()) == 1
    finally:
        client.close()
    deadline = time.monotonic() + 3
    while v2.server.subscribers():
        assert time.monotonic() < deadline, "the voice subscription outlived its connection"
        time.sleep(0.02)


# --------------------------------------------------------------------------- bundles


def _bundle(*msgs: bytes) -> bytes:
    out = b"#bundle\0" + struct.pack(">Q", 1)
    for m in msgs:
        out += struct.pack(">i", len(m)) + m
    return out


@pytest.mark.timeout(30)
def test_a_bundle_across_voices_lands_on_one_frame_per_voice(voices: list[Daemon]) -> None:
    main, v2, v3 = voices
    starts = [d.engine.frame for d in voices]
    sent2 = [("/mrtd/topk", (101,)), ("/mrtd/seed/rotation", (21,)), ("/mrtd/prompt/2/weight", (0.5,))]
    sent3 = [("/mrtd/topk", (102,)), ("/mrtd/seed/rotation", (22,))]
    sent1 = [("/mrtd/topk", (103,))]

    def enc(prefix: str, a: str, v: tuple) -> bytes:
        return pyosc(prefix + a[5:], ("i" if isinstance(v[0], int) else "f", v[0]))

    packet = _bundle(*[enc("/mrtd/voice/2", a, v) for a, v in sent2], *[enc("/mrtd/voice/3", a, v) for a, v in sent3],
                     *[enc("/mrtd", a, v) for a, v in sent1], pyosc("/mrtd/voice/7/topk", ("i", 5)))
    c = UdpClient(main.port)
    try:
        c.send(packet)
        assert c.recv_until("/mrtd/error")[-1][1][0] == "/mrtd/voice/7/topk"  # the rest still applies
    finally:
        c.close()
    for d, sent in ((v2, sent2), (v3, sent3), (main, sent1)):
        for a, v in sent:
            assert same(d.wait_value(a, v) or (), v), a
    for d, sent, start in ((v2, sent2, starts[1]), (v3, sent3, starts[2])):
        applied = [e for e in list(d.engine.applied) if (e.address, e.args) in set(sent) and e.frame >= start]
        assert len(applied) == len(sent) and len({e.frame for e in applied}) == 1, applied


# --------------------------------------------------------------------------- hostile input


@pytest.mark.timeout(60)
def test_hostile_voice_addresses_cost_little_and_break_nothing(voices: list[Daemon]) -> None:
    main = voices[0]
    before = _temps(voices)
    rng = random.Random(21)
    junk = ["/mrtd/voice/", "/mrtd/voice/1/voice/2/temperature", "/mrtd/voice/999999/x",
            "/mrtd/voice/1" * 18, "/mrtd/voice/2/" + "a" * 230, "/mrtd/voice/-1/x", "/mrtd/voice/1e3/x",
            "/mrtd/voice/2/subscribe", "/mrtd/voice/2/auth"]
    for _ in range(200):
        parts = [rng.choice(["mrtd", "voice", str(rng.randint(-2, 12)), "*", "temperature", "", "{1,2}", "[1-3]"])
                 for _ in range(rng.randint(1, 6))]
        junk.append(("/" + "/".join(parts))[:250])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
        s.bind(("127.0.0.1", 0))
        big = b"#bundle\0" + struct.pack(">Q", 1)
        for a in junk:
            m = encode_message(a, (float("nan"),), "f")  # applies nowhere: NaN is refused everywhere
            big += struct.pack(">i", len(m)) + m
            s.sendto(m, ("127.0.0.1", main.port))
        for _ in range(20):
            s.sendto(big[:65536 - 65536 % 4] if len(big) > 65536 else big, ("127.0.0.1", main.port))
    _settle(voices)
    c = UdpClient(main.port)
    try:
        for k in (1, 2, 3):
            c.send(pyosc(f"/mrtd/voice/{k}/ping"))
            c.recv_until(f"/mrtd/voice/{k}/pong")
    finally:
        c.close()
    assert _temps(voices) == before
    assert all(d.server.subscribers() == [] for d in voices)


def test_voice_form_rewrite_rules() -> None:
    """The pure rules: parsing the voice form and rewriting replies to it."""
    assert split_voice("/mrtd/voice/2/fx/*/on", {1, 2}) == (2, "/mrtd/fx/*/on")
    assert split_voice("/mrtd/voices/2/x", {1, 2}) is None and split_voice("/mrtd/temperature", {1, 2}) is None
    [m] = decode_packet(voice_packet(encode_message("/mrtd/error", ("/mrtd/topk", "why"), "ss"), "/mrtd/voice/2"))
    assert (m.address, m.args) == ("/mrtd/voice/2/error", ("/mrtd/voice/2/topk", "why"))
    [m] = decode_packet(voice_packet(encode_message("/mrtd/error", ("", "closed"), "ss"), "/mrtd/voice/12"))
    assert (m.address, m.args) == ("/mrtd/voice/12/error", ("", "closed"))
    [m] = decode_packet(voice_packet(encode_message("/mrtd/meters", (0.5,) * 6, "ffffff"), "/mrtd/voice/3"))
    assert m.address == "/mrtd/voice/3/meters" and len(m.args) == 6


# --------------------------------------------------------------------------- one voice


@pytest.mark.timeout(30)
@pytest.mark.parametrize("route", [False, True])
def test_one_voice_is_unchanged(tmp_path: Path, route: bool) -> None:
    """With one voice (``voices`` empty, or holding only the main server) a voice address
    is an unknown address, refused as before."""
    with voice_daemons(tmp_path, n=1, route=route) as (solo,):
        assert solo.server.voices == ({1: solo.server} if route else {})
        c = UdpClient(solo.port)
        try:
            c.send(pyosc("/mrtd/voice/1/temperature", ("f", 1.5)))
            _, (where, reason) = c.recv_until("/mrtd/error")[-1]
            assert where == "/mrtd/voice/1/temperature" and "1..3" not in reason
            c.send(pyosc("/mrtd/temperature", ("f", 1.5)))
            assert _has(solo, "/mrtd/temperature", (1.5,))
            c.send(pyosc("/mrtd/get", ("s", "/mrtd/temperature")))
            assert same(c.recv_until("/mrtd/temperature")[-1][1], (1.5,))
        finally:
            c.close()


def test_voices_must_map_numbers_to_servers(main: Daemon) -> None:
    with pytest.raises(ValueError):
        OscServer(main.hub).voices = {0: main.server}
    with pytest.raises(ValueError):
        OscServer(main.hub).voices = {1: "server"}  # type: ignore[dict-item]


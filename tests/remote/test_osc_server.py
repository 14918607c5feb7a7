"""The OSC server end to end, against a real in-process daemon (demo engine, hub, loop).

liblo's ``oscsend``/``oscsendfile``/``oscdump`` and python-osc's builders and TCP client
are the independent peers; no JACK is needed: a paced reader thread drains the engine
like a 48 kHz sound card and is the hub's clock, so frames keep coming.
"""

from __future__ import annotations

import re
import socket
import struct
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage as PyOscMessage
from pythonosc.tcp_client import SimpleTCPClient
from support.inproc import (
    LOCAL,
    NOISE,
    SR,
    Daemon,
    UdpClient,
    drain,
    error_text,
    errors_in,
    exchange,
    pyosc,
    running_daemon,
    same,
    udp_send,
    values_of,
)
from support.liblo import OscDump, oscsendfile
from support.ports import free_port

from mrtd.errors import UserError
from mrtd.osc_schema import NAMESPACE
from mrtd.osc_schema.schema import Param
from mrtd.remote.osc.packet import decode_packet, encode_message
from mrtd.remote.osc.server import OscServer


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    with running_daemon(tmp_path_factory.mktemp("osc")) as d:
        yield d


def _wav(path: Path, seconds: float = 0.2) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(b"\0" * int(seconds * SR) * 4)
    return path


def valid_message(p: Param, tmp: Path, spare_port: int) -> tuple[str, list[object]]:
    """OSC types and values of a valid message for ``p``: mid-range numbers that differ
    from the default, the first other enum choice, every repeat filled."""
    overrides: dict[str, tuple[str, list[object]]] = {
        "/mrtd/latency_ms": ("f", [120.0]),  # mid-range (1 s) would only make the test slow
        "/mrtd/prefill/silence": ("f", [0.2]),  # the default 22 s costs seconds of CPU
        "/mrtd/prefill/audio": ("s", [str(_wav(tmp / "prefill.wav"))]),
        "/mrtd/subscribe": ("i", [spare_port]),
        "/mrtd/unsubscribe": ("i", [spare_port]),
        "/mrtd/get": ("s", ["/mrtd/temperature"]),
        "/mrtd/bank/save": ("i", [7]),
        "/mrtd/bank/load": ("i", [7]),
    }
    if p.address in overrides:
        return overrides[p.address]
    specs = list(p.args)
    if p.repeats:
        fixed = specs[:-1]
        specs = fixed + [specs[-1]] * p.max_count  # type: ignore[operator]
    default = list(p.default) if p.default is not None else [None] * len(specs)
    default += [None] * (len(specs) - len(default))
    types, values = "", []
    for spec, d in zip(specs, default):
        types += spec.osc_type
        if spec.kind in ("float", "int"):
            lo, hi = spec.min, spec.max
            v = lo + (hi - lo) / 4 if d == lo + (hi - lo) / 2 else lo + (hi - lo) / 2  # type: ignore[operator]
            values.append(round(v, 3) if spec.kind == "float" else int(v))
        elif spec.kind == "bool":
            values.append(0 if d else 1)
        elif spec.kind == "enum":
            values.append(next(c for c in spec.choices if c != d))
        elif spec.kind == "string":
            values.append("")  # text/audio prompts: "" clears (accepted without MusicCoCa)
        else:
            values.append(b"\0" * spec.max_bytes)
    return types, values


HUB_ONLY = {"/mrtd/auth"}  # handled by the hub itself (a loopback daemon has no token: accepted)
# refused when received or when applied (a loop/rewind needs that much history: a reset or
# bank load earlier in this test clears it, so they may be refused by then)
APPLY_ERRORS_TODAY = {"/mrtd/prefill/audio": "encoder", "/mrtd/loop": "history", "/mrtd/rewind": "history"}


def _effect_ok(daemon: Daemon, address: str, values: tuple, resets_before: int) -> None:
    """A visible effect of the 'w'/'event' messages that have one."""
    m = re.match(r"/mrtd/prompt/(\d)/(tokens|clear)$", address)
    if m:
        n, what = m.groups()
        want = "ready" if what == "tokens" else "empty"
        assert daemon.wait_value(f"/mrtd/prompt/{n}/status", (want,)) == (want,)
    elif address == "/mrtd/notes/pitch":
        assert daemon.wait_value("/mrtd/notes/frame", ()) is not None
        deadline = time.monotonic() + 3
        while daemon.hub.value("/mrtd/notes/frame")[values[0]] != values[1]:  # type: ignore[index]
            assert time.monotonic() < deadline, address
            time.sleep(0.005)
    elif address == "/mrtd/reset":
        deadline = time.monotonic() + 3
        while daemon.engine.resets == resets_before:
            assert time.monotonic() < deadline, "reset not applied"
            time.sleep(0.005)
    elif address == "/mrtd/bank/save":
        deadline = time.monotonic() + 3
        while not any(daemon.bank_dir.glob("*")):
            assert time.monotonic() < deadline, "bank not written"
            time.sleep(0.005)


@pytest.mark.timeout(120)
def test_every_schema_address_end_to_end(daemon: Daemon, dump: OscDump, tmp_path: Path) -> None:
    """Each address of NAMESPACE (new ones included automatically), sent by liblo's
    oscsend (python-osc for blobs): state takes and reads back through /mrtd/get,
    read-only and not-yet-supported addresses answer a clear /mrtd/error."""
    spare = free_port()
    # (/mrtd/ping needs no entry: every exchange ends with a ping answered)
    replies_expected = {"/mrtd/status": "/mrtd/status",
                        "/mrtd/get": "/mrtd/temperature", "/mrtd/subscribe": "/mrtd/subscribed"}
    seen_kinds: set[str] = set()
    try:
        for p in NAMESPACE:
            types, args = valid_message(p, tmp_path, spare)
            values = p.validate(args) if p.access != "r" else tuple(args)
            if p.access == "r":
                refusal: str | None = "read-only"
            elif p.address in LOCAL or p.address in HUB_ONLY:
                refusal = None
            else:
                try:
                    daemon.engine.controls.check(p.address, values)
                    refusal = None
                except UserError as e:
                    refusal = str(e).removeprefix(p.address + ": ")
            errors_before = list(daemon.engine.errors)
            resets_before = daemon.engine.resets
            t_sent = time.time()

            def send() -> None:
                if "b" in types:
                    udp_send(daemon.port, pyosc(p.address, *zip(types, args)))
                else:
                    daemon.send(p.address, types, *args)

            got = exchange(daemon, dump, send, pongs=2 if p.address == "/mrtd/ping" else 1)
            errs = errors_in(got, p.address)
            if p.address == "/mrtd/error":
                assert not errs, "an /mrtd/error is never answered"
                continue
            if refusal is not None:
                assert errs and refusal in errs[0], (p.address, refusal, errs)
                seen_kinds.add("refused")
                continue
            if p.address in APPLY_ERRORS_TODAY and errs:  # refused at once, or found at its frame and sent back
                assert APPLY_ERRORS_TODAY[p.address] in errs[0], (p.address, errs)
                seen_kinds.add("refused")
                continue
            else:
                assert not errs, (p.address, errs)
            if p.address in HUB_ONLY:
                continue  # nothing to see: accepted, and changes no control
            if p.address in LOCAL:
                if p.address in replies_expected:
                    assert any(m.address == replies_expected[p.address] for m in got), (p.address, got)
                seen_kinds.add("local")
                continue
            # accepted by the engine: wait until it is applied (or refused when applied)
            deadline = time.monotonic() + 5
            while not any(t >= t_sent and a == p.address for t, a, _ in list(daemon.changes)):
                new_errors = [e for e in daemon.engine.errors if e not in errors_before]
                if new_errors:
                    assert p.address in APPLY_ERRORS_TODAY and APPLY_ERRORS_TODAY[p.address] in new_errors[-1], \
                        (p.address, new_errors)
                    break
                assert time.monotonic() < deadline, f"{p.address} never applied"
                time.sleep(0.005)
            if p.access == "rw":
                assert same(daemon.wait_value(p.address, values) or (), values), (p.address, daemon.hub.value(p.address))
                drain(dump)
                daemon.send("/mrtd/get", "s", p.address)
                reply = dump.wait_for(lambda m: m.address == p.address)
                assert same(values_of(reply), values), (p.address, reply)
                seen_kinds.add("rw")
            else:
                _effect_ok(daemon, p.address, values, resets_before)
                seen_kinds.add(p.access)
        assert seen_kinds >= {"refused", "local", "rw", "w", "event"}
    finally:
        daemon.restore_defaults()


# --------------------------------------------------------------------------- refusals


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "address, types, args, reason",
    [
        ("/mrtd/temperature", "f", ["nan"], "not a finite number"),
        ("/mrtd/temperature", "d", ["inf"], "not a finite number"),
        ("/mrtd/temperature", "s", ["hot"], "expected a number"),
        ("/mrtd/topk", "i", [0], "out of range"),
        ("/mrtd/topk", "ii", [5, 6], "expected 1 argument"),
        ("/mrtd/drums", "s", ["loud"], "not one of"),
        ("/mrtd/mute", "f", [0.5], "expected 0/1"),
        ("/mrtd/notes/frame", "i" * 127, [0] * 127, "expected 128 arguments"),
        ("/mrtd/nope", "f", [1.0], "unknown address"),
        ("/mrtd/get", "s", ["/mrtd/nope"], "unknown address"),
        ("/mrtd/get", "s", ["/mrtd/reset"], "no value"),
    ],
)
def test_bad_values_are_refused_with_a_reason_and_change_nothing(daemon, dump, address, types, args, reason):
    watched = address if NAMESPACE.get(address) and NAMESPACE[address].access == "rw" else "/mrtd/temperature"
    before = daemon.hub.value(watched)
    got = exchange(daemon, dump, lambda: daemon.send(address, types, *args))
    errs = errors_in(got, address)
    assert errs and reason in errs[0], got
    time.sleep(0.1)  # a frame boundary passes
    assert daemon.hub.value(watched) == before


@pytest.mark.timeout(30)
def test_malformed_packets_answer_an_error_naming_the_address(daemon, dump):
    good = pyosc("/mrtd/temperature", ("f", 0.5))
    before = daemon.hub.value("/mrtd/temperature")
    # a float cut short (python-osc would pad it into a number) is refused
    got = exchange(daemon, dump, lambda: udp_send(daemon.port, good[:-2]))
    assert any("not a multiple of 4" in e for e in errors_in(got)), got
    got = exchange(daemon, dump, lambda: udp_send(daemon.port, good[:-4]))
    assert any("truncated" in e for e in errors_in(got, "/mrtd/temperature")), got
    got = exchange(daemon, dump, lambda: udp_send(daemon.port, b"mrtd/temperature\0\0\0\0,f\0\0\0\0\0\0"))
    assert any("'/'" in e for e in errors_in(got)), got
    assert daemon.hub.value("/mrtd/temperature") == before


@pytest.mark.timeout(30)
def test_liblo_and_touchosc_types_are_accepted(daemon, dump):
    """Controllers send what they like: d and h from liblo, S symbols, floats for ints."""
    try:
        exchange(daemon, dump, lambda: (daemon.send("/mrtd/temperature", "d", 0.75),
                                        daemon.send("/mrtd/topk", "f", 12.0),
                                        daemon.send("/mrtd/seed", "h", 123456),
                                        daemon.send("/mrtd/drums", "S", "off"),
                                        daemon.send("/mrtd/mute", "T")))
        assert daemon.wait_value("/mrtd/temperature", (0.75,)) == (0.75,)
        assert daemon.wait_value("/mrtd/topk", (12,)) == (12,)
        assert daemon.wait_value("/mrtd/seed", (123456,)) == (123456,)
        assert daemon.wait_value("/mrtd/drums", ("off",)) == ("off",)
        assert daemon.wait_value("/mrtd/mute", (True,)) == (True,)
    finally:
        daemon.restore_defaults()


# --------------------------------------------------------------------------- replies


@pytest.mark.timeout(30)
def test_ping_status_and_get_reply_to_the_sender(daemon):
    """No subscription needed when the sender listens on its own source port."""
    c = UdpClient(daemon.port)
    try:
        c.send(pyosc("/mrtd/ping"))
        t0 = time.monotonic()
        assert c.recv_until("/mrtd/pong")[-1] == ("/mrtd/pong", ())
        assert time.monotonic() - t0 < 1.0
        c.send(pyosc("/mrtd/status"))
        _, status = c.recv_until("/mrtd/status")[-1]
        assert [type(v) for v in status] == [str, str, float, float, int, int, float, int]
        model, device, fps, queue_ms, underruns, xruns, latency_ms, frame = status
        assert model == "mrt2_demo_untrained" and device == "cpu" and latency_ms == 80.0
        assert fps > 0 and frame > 0 and queue_ms >= 0 and xruns == 0
        c.send(pyosc("/mrtd/get", ("s", "/mrtd/topk")))
        assert c.recv_until("/mrtd/topk")[-1] == ("/mrtd/topk", daemon.hub.value("/mrtd/topk"))
        c.send(pyosc("/mrtd/get", ("s", "/mrtd/notes/frame")))
        _, frame_states = c.recv_until("/mrtd/notes/frame")[-1]
        assert len(frame_states) == 128
        c.send(pyosc("/mrtd/topk", ("i", 0)))
        assert c.recv_until("/mrtd/error")[-1][1][0] == "/mrtd/topk"
    finally:
        c.close()


@pytest.mark.timeout(30)
def test_status_through_oscdump(daemon, dump):
    got = exchange(daemon, dump, lambda: daemon.send("/mrtd/status"))
    st = [m for m in got if m.address == "/mrtd/status"]
    assert st and st[0].types == "ssffiifi"


# --------------------------------------------------------------------------- feedback


@pytest.mark.timeout(30)
def test_subscriber_sees_changes_made_by_another_sender(daemon, dump):
    try:
        daemon.hub.handle("/mrtd/guidance/notes", [2.2])  # as the MIDI thread would
        m = dump.wait_for(lambda m: m.address == "/mrtd/guidance/notes" and same(values_of(m), (2.2,)))
        assert m.types == "f"
        daemon.hub.handle("/mrtd/notes/pitch", [60, 2])  # a derived state is fed back too
        dump.wait_for(lambda m: m.address == "/mrtd/notes/frame" and values_of(m)[60] == 2)
    finally:
        daemon.hub.handle("/mrtd/notes/clear", [])
        daemon.restore_defaults()


@pytest.mark.timeout(30)
def test_meters_and_frames_arrive_at_10_hz_or_more(daemon, dump):
    drain(dump)
    t_end = time.monotonic() + 1.0
    meters, frames = [], []
    while time.monotonic() < t_end:
        m = dump.wait_for(lambda m: m.address in NOISE, timeout=1.0)
        (meters if m.address == "/mrtd/meters" else frames).append(values_of(m))
    assert len(meters) >= 10 and len(frames) >= 10
    assert all(len(v) == 6 for v in meters) and frames[-1][0] > frames[0][0]


@pytest.mark.timeout(30)
def test_unsubscribe_stops_feedback(daemon, dump):
    other = OscDump(free_port())
    try:
        daemon.send("/mrtd/subscribe", "si", "127.0.0.1", other.port)
        other.wait_for(lambda m: m.address == "/mrtd/subscribed")
        assert ("127.0.0.1", other.port) in daemon.server.subscribers()
        exchange(daemon, dump, lambda: daemon.send("/mrtd/unsubscribe", "si", "127.0.0.1", other.port))
        assert ("127.0.0.1", other.port) not in daemon.server.subscribers()
        time.sleep(0.1)  # a meter tick already on its way
        drain(other)
        n = len(other.received)
        daemon.hub.handle("/mrtd/guidance/drums", [4.0])
        dump.wait_for(lambda m: m.address == "/mrtd/guidance/drums" and same(values_of(m), (4.0,)))
        time.sleep(0.3)
        drain(other)
        assert other.received[n:] == []
    finally:
        other.close()
        daemon.restore_defaults()


@pytest.mark.timeout(30)
def test_subscribe_by_host_name(daemon, dump):
    other = OscDump(free_port())
    try:
        daemon.send("/mrtd/subscribe", "si", "localhost", other.port)  # looked up off the loop
        m = other.wait_for(lambda m: m.address == "/mrtd/subscribed")
        assert values_of(m) == ("127.0.0.1", other.port)
        other.wait_for(lambda m: m.address == "/mrtd/temperature")  # the state snapshot follows
    finally:
        daemon.send("/mrtd/unsubscribe", "si", "localhost", other.port)
        other.close()


@pytest.mark.timeout(30)
def test_feedback_never_blocks_the_engine_thread(daemon, dump):
    """A burst of 20,000 changes from another thread costs little there and is coalesced:
    the subscriber ends up with the last value."""
    def burst() -> None:
        for k in range(20_000):
            daemon.server.feedback.on_change("/mrtd/topk", (k % 1000 + 1,))
        daemon.server.feedback.on_change("/mrtd/topk", (999,))

    t = threading.Thread(target=burst)
    t0 = time.monotonic()
    t.start()
    t.join(10)
    assert time.monotonic() - t0 < 2.0
    dump.wait_for(lambda m: m.address == "/mrtd/topk" and values_of(m) == (999,))


@pytest.mark.timeout(30)
def test_vanished_subscriber_is_dropped_without_harm(daemon, dump):
    gone = free_port()  # nobody listens: sends are refused (ECONNREFUSED)
    got = exchange(daemon, dump, lambda: daemon.send("/mrtd/subscribe", "i", gone))
    assert any(m.address == "/mrtd/subscribed" and m.args[-1] == str(gone) for m in got)
    deadline = time.monotonic() + 3
    while ("127.0.0.1", gone) in daemon.server.subscribers():
        assert time.monotonic() < deadline, "vanished subscriber still there"
        time.sleep(0.02)
    exchange(daemon, dump, lambda: None)  # still answers pings
    dump.wait_for(lambda m: m.address == "/mrtd/meters")  # the live subscriber still gets meters


@pytest.mark.timeout(30)
def test_subscriptions_are_capped_by_eviction_and_self_subscription_refused(daemon, dump):
    """A full table takes a new subscriber: the least recently heard-from one makes room
    and is told so, once."""
    got = exchange(daemon, dump, lambda: daemon.send("/mrtd/subscribe", "i", daemon.port))
    assert any("own port" in e for e in errors_in(got, "/mrtd/subscribe")), got
    small = OscServer(daemon.hub, max_subscribers=1)
    daemon.loop.run(small.start())
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        ports = [s.getsockname()[1] for s in socks]
        c = UdpClient(small.port)
        c.send(pyosc("/mrtd/subscribe", ("i", ports[0])))
        assert c.recv_until("/mrtd/subscribed")[-1][1] == ("127.0.0.1", ports[0])
        c.send(pyosc("/mrtd/subscribe", ("i", ports[1])))
        got = c.recv_until("/mrtd/subscribed")
        assert got[-1][1] == ("127.0.0.1", ports[1]) and not [v for a, v in got if a == "/mrtd/error"], got
        assert small.subscribers() == [("127.0.0.1", ports[1])]
        socks[0].settimeout(2)
        last = []
        while not last or last[-1].address != "/mrtd/error":
            last = decode_packet(socks[0].recv(65536))
        assert last[-1].args[0] == "/mrtd/subscribe" and "subscription ended" in last[-1].args[1]
        time.sleep(0.2)  # a few meter ticks: none reach the evicted subscriber
        socks[0].setblocking(False)
        with pytest.raises(BlockingIOError):
            socks[0].recv(65536)
        c.close()
    finally:
        for s in socks:
            s.close()
        daemon.loop.run(small.stop())


# --------------------------------------------------------------------------- bundles and time


@pytest.mark.timeout(30)
def test_oscsendfile_bundle_is_applied(daemon, dump, tmp_path):
    try:
        exchange(daemon, dump, lambda: oscsendfile(daemon.port, [
            "/mrtd/guidance/style f 4.4", "/mrtd/topk i 77", "/mrtd/drums s on"], tmp=tmp_path))
        assert same(daemon.wait_value("/mrtd/guidance/style", (4.4,)) or (), (4.4,))
        assert daemon.wait_value("/mrtd/topk", (77,)) == (77,)
        assert daemon.wait_value("/mrtd/drums", ("on",)) == ("on",)
    finally:
        daemon.restore_defaults()


def test_immediate_bundle_lands_on_one_frame(daemon, dump):
    """An untimed bundle of many controls is queued atomically: one frame for all."""
    try:
        sent = [("/mrtd/topk", (100 + i,)) for i in range(1)] + [
            (f"/mrtd/prompt/{n}/weight", (0.5,)) for n in range(2, 9)] + [("/mrtd/seed/rotation", (31,))]
        msgs = [pyosc(a, ("i" if isinstance(v[0], int) else "f", v[0])) for a, v in sent]
        start = daemon.engine.frame
        for _ in range(5):  # several tries: a split would need the frame boundary mid-bundle
            udp_send(daemon.port, _bundle(0, *msgs))
            time.sleep(0.06)
        assert daemon.wait_value("/mrtd/seed/rotation", (31,)) == (31,)
        applied = [e for e in list(daemon.engine.applied) if (e.address, e.args) in set(sent) and e.frame >= start]
        by_bundle = [applied[i:i + len(sent)] for i in range(0, len(applied), len(sent))]
        assert by_bundle and all(len({e.frame for e in b}) == 1 for b in by_bundle), applied
    finally:
        daemon.restore_defaults()


def test_touchosc_buttons_trigger_on_press_only(daemon, dump):
    """TouchOSC and Max buttons send 1 on press and 0 on release to trigger addresses."""
    resets = daemon.engine.resets
    got = exchange(daemon, dump, lambda: (daemon.send("/mrtd/reset", "f", 1.0), daemon.send("/mrtd/reset", "f", 0.0)))
    assert not errors_in(got, "/mrtd/reset"), got
    deadline = time.monotonic() + 3
    while daemon.engine.resets == resets and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    assert daemon.engine.resets == resets + 1  # press resets, release is ignored
    got = exchange(daemon, dump, lambda: daemon.send("/mrtd/reset", "s", "now"))
    assert errors_in(got, "/mrtd/reset"), got


def test_a_missing_bank_is_refused_to_subscribers_of_the_senders_host(daemon, dump):
    """oscsend hangs up at once; the subscriber on its host hears why (an error found
    only at the frame: tests/test_osc_limits.py)."""
    daemon.send("/mrtd/bank/load", "i", 117)
    m = dump.wait_for(lambda m: m.address == "/mrtd/error" and m.args and "bank/load" in m.args[0])
    assert "117" in " ".join(m.args[1:])  # the reason names the missing bank


def _bundle(t: float, *messages: bytes) -> bytes:
    b = OscBundleBuilder(t)
    for m in messages:
        b.add_content(PyOscMessage(m))
    return b.build().dgram


@pytest.mark.timeout(30)
def test_future_bundle_lands_later_and_on_one_frame(daemon, dump):
    """A bundle 1 s ahead: nothing before its time, then all of it on the same frame;
    the server answers pings meanwhile (it never sleeps)."""
    try:
        t_sent = time.time()
        t = t_sent + 1.0
        bundle = _bundle(t, pyosc("/mrtd/seed/rotation", ("i", 4242)),
                         pyosc("/mrtd/guidance/drums", ("f", 5.0)),
                         pyosc("/mrtd/unmask_width", ("i", 3)),  # unknown: refused at once
                         pyosc("/mrtd/notes/unmask_width", ("i", 3)))
        # sent inside the exchange: it drains the dump first, which could swallow a quick refusal
        got = exchange(daemon, dump, lambda: udp_send(daemon.port, bundle))
        assert errors_in(got, "/mrtd/unmask_width"), got
        assert time.time() < t and daemon.hub.value("/mrtd/seed/rotation") == (0,)
        assert daemon.wait_value("/mrtd/seed/rotation", (4242,)) == (4242,)
        assert daemon.wait_value("/mrtd/notes/unmask_width", (3,)) == (3,)
        ours = {"/mrtd/seed/rotation", "/mrtd/guidance/drums", "/mrtd/notes/unmask_width"}
        times = [tc for tc, a, _ in list(daemon.changes) if a in ours and tc >= t_sent]
        assert len(times) == 3 and min(times) >= t - 0.002, (times, t)
        sent = {("/mrtd/seed/rotation", (4242,)), ("/mrtd/guidance/drums", (5.0,)), ("/mrtd/notes/unmask_width", (3,))}
        frames = {e.frame for e in list(daemon.engine.applied) if (e.address, e.args) in sent}
        assert len(frames) == 1, frames
    finally:
        daemon.restore_defaults()


@pytest.mark.timeout(30)
def test_far_future_bundle_is_refused_and_nothing_applied(daemon, dump):
    before = daemon.hub.value("/mrtd/seed/rotation")
    got = exchange(daemon, dump, lambda: udp_send(
        daemon.port, _bundle(time.time() + 3600, pyosc("/mrtd/seed/rotation", ("i", 99)))))
    assert any("ahead" in e for e in errors_in(got, "/mrtd/seed/rotation")), got
    assert daemon.hub.value("/mrtd/seed/rotation") == before


@pytest.mark.timeout(30)
def test_large_udp_datagram_is_accepted(daemon, dump):
    """A 9,000+ byte bundle (python-osc's socketserver would drop it): the last of 14
    full /mrtd/notes/frame messages wins."""
    frames = [[(k + p) % 5 - 1 for p in range(128)] for k in range(14)]
    msgs = [pyosc("/mrtd/notes/frame", *[("i", v) for v in f]) for f in frames]
    packet = _bundle(IMMEDIATELY, *msgs)
    assert len(packet) > 9000 and packet[8:16] == struct.pack(">Q", 1)
    try:
        got = exchange(daemon, dump, lambda: udp_send(daemon.port, packet))
        assert not errors_in(got), got
        assert daemon.wait_value("/mrtd/notes/frame", tuple(frames[-1])) == tuple(frames[-1])
    finally:
        daemon.hub.handle("/mrtd/notes/clear", [])


# --------------------------------------------------------------------------- TCP


@pytest.mark.timeout(30)
def test_tcp_size_prefixed_from_liblo(daemon, dump):
    try:
        drain(dump)
        daemon.send("/mrtd/topk", "i", 33, tcp=True)
        daemon.send("/mrtd/topk", "i", 0, tcp=True)
        # oscsend hangs up at once; its host's subscribers still hear the refusal
        err = dump.wait_for(lambda m: m.address == "/mrtd/error")
        assert "/mrtd/topk" in err.args[0] and "out of range" in error_text(err)
        assert daemon.wait_value("/mrtd/topk", (33,)) == (33,)
    finally:
        daemon.restore_defaults()


def _tcp_replies(client: SimpleTCPClient, address: str, timeout: float = 3.0) -> list[PyOscMessage]:
    out: list[PyOscMessage] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for raw in client.receive(timeout=0.5):
            if raw:
                out.append(PyOscMessage(raw))
        if any(m.address == address for m in out):
            return out
    raise TimeoutError(f"no {address} on the TCP connection; got {[m.address for m in out]}")


@pytest.mark.timeout(30)
@pytest.mark.parametrize("mode", ["1.1", "1.0"])
def test_tcp_python_osc_both_framings_reply_on_the_connection(daemon, mode):
    client = SimpleTCPClient("127.0.0.1", daemon.port, mode=mode)
    try:
        client.send_message("/mrtd/ping", [])
        assert _tcp_replies(client, "/mrtd/pong")[-1].params == []
        client.send_message("/mrtd/get", "/mrtd/temperature")
        reply = _tcp_replies(client, "/mrtd/temperature")[-1]
        assert same(reply.params, daemon.hub.value("/mrtd/temperature"))
        client.send_message("/mrtd/temperature", float("nan"))
        err = [m for m in _tcp_replies(client, "/mrtd/error") if m.address == "/mrtd/error"][-1]
        assert err.params[0] == "/mrtd/temperature" and "finite" in err.params[1]
        client.send_message("/mrtd/ping", [])  # the connection survived the refusal
        _tcp_replies(client, "/mrtd/pong")
    finally:
        client.close()


@pytest.mark.timeout(30)
def test_tcp_connection_can_subscribe_itself(daemon):
    client = SimpleTCPClient("127.0.0.1", daemon.port, mode="1.1")
    try:
        client.send_message("/mrtd/subscribe", [])
        _tcp_replies(client, "/mrtd/subscribed")
        daemon.hub.handle("/mrtd/guidance/style", [6.0])
        deadline = time.monotonic() + 3
        while True:
            got = _tcp_replies(client, "/mrtd/guidance/style")
            if any(m.address == "/mrtd/guidance/style" and same(m.params, (6.0,)) for m in got):
                break
            assert time.monotonic() < deadline
        _tcp_replies(client, "/mrtd/meters")
    finally:
        client.close()
        daemon.restore_defaults()


def _tcp_raw(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    return s


def _recv_frames_slip(s: socket.socket, timeout: float = 2.0) -> list[bytes]:
    s.settimeout(timeout)
    data = b""
    while data.count(b"\xc0") < 2:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return [f.replace(b"\xdb\xdc", b"\xc0").replace(b"\xdb\xdd", b"\xdb") for f in data.split(b"\xc0") if f]


@pytest.mark.timeout(30)
def test_tcp_bad_frames_keep_or_close_the_connection(daemon):
    # a bad SLIP escape: error reply, the connection stays in sync
    s = _tcp_raw(daemon.port)
    try:
        s.sendall(b"\xc0/mrtd/ping\xdb\x01\xc0")
        err = decode_packet(_recv_frames_slip(s)[0])[0]
        assert err.address == "/mrtd/error" and "SLIP" in err.args[1]
        s.sendall(b"\xc0" + encode_message("/mrtd/ping") + b"\xc0")
        assert decode_packet(_recv_frames_slip(s)[0])[0].address == "/mrtd/pong"
    finally:
        s.close()
    # an impossible size prefix: error reply, then the server closes the connection
    s = _tcp_raw(daemon.port)
    try:
        s.sendall(struct.pack(">i", -8) + b"\0" * 8)
        s.settimeout(3)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        (size,) = struct.unpack(">i", data[:4])
        assert decode_packet(data[4:4 + size])[0].address == "/mrtd/error"
    finally:
        s.close()
    # garbage framing: closed; a stalled half frame blocks nobody
    stalled = _tcp_raw(daemon.port)
    stalled.sendall(struct.pack(">i", 1000) + b"/mrt")
    g = _tcp_raw(daemon.port)
    try:
        g.sendall(b"\xff\xfe garbage")
        g.settimeout(3)
        while g.recv(65536):
            pass
        c = UdpClient(daemon.port)
        c.send(pyosc("/mrtd/ping"))
        t0 = time.monotonic()
        c.recv_until("/mrtd/pong")
        assert time.monotonic() - t0 < 1.0
        c.close()
    finally:
        g.close()
        stalled.close()

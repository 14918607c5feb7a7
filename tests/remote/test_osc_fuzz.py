"""Hostile OSC input: the decoder on every known hang case, and 100,000 malformed packets
fired at a live daemon over UDP, TCP (both framings) and OSCQuery WebSocket binary
frames, after which it still answers at once and no control has changed."""

from __future__ import annotations

import asyncio
import math
import random
import socket
import struct
import subprocess
import time
from collections.abc import Callable, Iterator

import pytest
from pythonosc.osc_message import OscMessage as PyOscMessage
from pythonosc.osc_message_builder import OscMessageBuilder
from support.inproc import Daemon, UdpClient, running_daemon

from mrtd.errors import UserError
from mrtd.osc_schema import NAMESPACE, SchemaError, is_pattern
from mrtd.remote.hub import Hub
from mrtd.remote.osc.packet import (
    IMMEDIATE,
    IMPULSE,
    MAX_ARGS,
    MAX_DEPTH,
    MAX_MESSAGES,
    Midi,
    PacketError,
    Rgba,
    StreamDeframer,
    TimeTag,
    decode_packet,
    encode_bundle,
    encode_message,
    frame_size_prefixed,
    frame_slip,
    ntp_to_unix,
    unix_to_ntp,
)
from mrtd.remote.oscquery import OscQueryServer

I32 = struct.Struct(">i")
U64 = struct.Struct(">Q")


def msg(address: str, types: str = "", *values: object) -> bytes:
    return encode_message(address, values, types)


def bundle_raw(tt: int, *sized: tuple[int, bytes]) -> bytes:
    """A bundle whose element sizes are given explicitly (they may lie)."""
    return b"#bundle\0" + U64.pack(tt) + b"".join(I32.pack(n) + body for n, body in sized)


def refused(data: bytes, match: str = "") -> str:
    t0 = time.perf_counter()
    with pytest.raises(PacketError) as e:
        decode_packet(data)
    assert time.perf_counter() - t0 < 0.05, "decoding must be quick whatever the input"
    assert match in str(e.value), str(e.value)
    return str(e.value)


# --------------------------------------------------------------------------- the decoder on its own

PING = msg("/ping")
TEMP = msg("/mrtd/temperature", "f", 0.5)


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "name, data, match",
    [
        # docs/research ecosystem.md 2.3: cases that python-osc drops, pads, or hangs on
        ("empty", b"", "empty"),
        ("truncated type tag", b"/a\0\0,ff", "multiple of 4"),
        ("aligned type tag without NUL", b"/a\0\0,fff", "not NUL-terminated"),
        ("type tag without NUL", b"/a\0\0,fff" + b"ffff", "not NUL-terminated"),
        ("string without NUL", b"/a\0\0,s\0\0abcd", "not NUL-terminated"),
        ("blob length 2^30", b"/a\0\0,b\0\0" + I32.pack(2**30) + b"abcd", "blob size"),
        ("negative blob length", b"/a\0\0,b\0\0" + I32.pack(-4) + b"abcd", "blob size"),
        ("#bundle only", b"#bundle\0", "too short"),
        ("bundle element size 0", bundle_raw(1, (0, b"")), "not positive"),
        ("bundle element size -4 (python-osc loops forever)", bundle_raw(1, (-4, PING)), "not positive"),
        ("bundle element size -2^31", bundle_raw(1, (-(2**31), PING)), "not positive"),
        ("bundle element size 100000 > rest", bundle_raw(1, (100000, PING)), "exceeds"),
        ("bundle element size not aligned", bundle_raw(1, (6, PING)), "multiple of 4"),
        ("truncated bundle", bundle_raw(1, (len(PING), PING))[:-4], "exceeds"),
        ("non-UTF-8 address", b"/\xff\xfe\0,\0\0\0", "printable ASCII"),
        ("address with a space", b"/a b\0\0\0\0,\0\0\0", "printable ASCII"),
        ("address without /", b"mrtd\0\0\0\0,\0\0\0", "'/'"),
        ("float with 2 bytes cut (python-osc reads 0.5)", TEMP[:-2], "multiple of 4"),
        ("float cut on a word boundary", TEMP[:-4], "truncated"),
        ("unknown type tag Q (python-osc drops the args)", b"/a\0\0,Q\0\0\0\0\0\0", "unknown type tag"),
        ("array tags", b"/a\0\0,[i]\0\0\0\0\0\0\0\0", "array"),
        ("bytes after the arguments", TEMP + b"\0\0\0\0", "unexpected bytes"),
        ("type tag string without ,", b"/a\0\0ii\0\0\0\0\0\0\0\0\0\0", "','"),
        ("non-UTF-8 string", b"/a\0\0,s\0\0\xff\xfe\0\0", "UTF-8"),
        ("surrogate char", b"/a\0\0,c\0\0" + I32.pack(0xD800), "not a character"),
        ("random first byte", b"\x01abc", "must start with '/'"),
        ("address too long", b"/" + b"a" * 300 + b"\0" * 3 + b",\0\0\0", "longer than"),
        ("too many arguments", msg("/a", "i" * (MAX_ARGS + 1), *range(MAX_ARGS + 1)), "more than"),
    ],
)
def test_decoder_refuses_malformed_packets(name, data, match):
    refused(data, match)


@pytest.mark.timeout(10)
def test_decoder_limits_depth_messages_and_size():
    inner = PING
    for _ in range(MAX_DEPTH):
        inner = encode_bundle(IMMEDIATE, [inner])
    assert decode_packet(inner)[0].address == "/ping"
    refused(encode_bundle(IMMEDIATE, [inner]), "nested deeper")
    refused(encode_bundle(IMMEDIATE, [PING] * (MAX_MESSAGES + 1)), "more than")
    refused(b"/a\0\0,s\0\0" + b"a" * 70000 + b"\0\0\0\0", "larger than")
    # worst cases for time: a packet full of tiny elements, of deep nesting, of a long string
    t0 = time.perf_counter()
    decode_packet(encode_bundle(IMMEDIATE, [b"/a\0\0"] * MAX_MESSAGES))
    decode_packet(b"/a\0\0,s\0\0" + b"a" * 60000 + b"\0\0\0\0")
    with pytest.raises(PacketError):
        decode_packet(bundle_raw(1, *[(4, b"/a\0\0")] * 4000))
    assert time.perf_counter() - t0 < 0.5


@pytest.mark.timeout(10)
def test_decoder_bundles_keep_their_time_tags():
    now = unix_to_ntp(time.time() + 3600)  # an hour ahead decodes fine; the server refuses it
    nested = encode_bundle(now, [PING, encode_bundle(IMMEDIATE, [TEMP]), encode_bundle(now + 2**32, [PING])])
    m = decode_packet(nested)
    assert [x.address for x in m] == ["/ping", "/mrtd/temperature", "/ping"]
    # an enclosed bundle may not be earlier than its enclosing one: it inherits the later tag
    assert [x.timetag for x in m] == [now, now, now + 2**32]
    assert abs(ntp_to_unix(now) - (time.time() + 3600)) < 1
    assert decode_packet(PING)[0].timetag is None
    assert decode_packet(b"/a\0\0") == decode_packet(b"/a\0\0,\0\0\0")  # OSC 1.0: no type tags = no args


@pytest.mark.timeout(10)
def test_decoder_reads_what_python_osc_builds():
    b = OscMessageBuilder("/all")
    for t, v in [("i", -7), ("f", 0.25), ("d", 1e300), ("h", 2**40), ("s", "héllo"), ("b", b"\xc0\xdb\0x"),
                 ("r", 0x11223344), ("m", (1, 0x90, 60, 100)), ("T", True), ("F", False), ("N", None)]:
        b.add_arg(v, t)
    (m,) = decode_packet(b.build().dgram)
    assert m.args == (-7, 0.25, 1e300, 2**40, "héllo", b"\xc0\xdb\0x", Rgba(0x11223344),
                      Midi(bytes([1, 0x90, 60, 100])), True, False, None)
    nan = decode_packet(msg("/x", "f", math.nan))[0].args[0]
    assert math.isnan(nan)  # NaN decodes; the schema refuses it with a reason
    with pytest.raises(SchemaError, match="finite"):
        NAMESPACE.check("/mrtd/temperature", [nan])
    assert decode_packet(b"/a\0\0,Ic\0" + I32.pack(0x263A))[0].args == (IMPULSE, "\u263a")
    assert decode_packet(b"/a\0\0,t\0\0" + U64.pack(5))[0].args == (TimeTag(5),)


@pytest.mark.timeout(10)
def test_decoder_reads_what_liblo_sends():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(5)
        subprocess.run(["oscsend", "127.0.0.1", str(s.getsockname()[1]), "/liblo", "ifsdhSTFNcm",
                        "3", "0.5", "hi there", "2.25", "12345678901", "sym", "x", "00904064"],
                       check=True, timeout=10, capture_output=True)
        (m,) = decode_packet(s.recv(65536))
    assert m.address == "/liblo"
    assert m.args == (3, 0.5, "hi there", 2.25, 12345678901, "sym", True, False, None, "x", Midi(bytes.fromhex("00904064")))


@pytest.mark.timeout(10)
def test_replies_are_read_by_python_osc():
    """Our encoder's choices: bool as i 0/1, ints beyond int32 as h, floats f (d if too big)."""
    m = PyOscMessage(encode_message("/mrtd/x", (True, 2**40, 1e300, "s", b"bb", 3)))
    assert m.params == [1, 2**40, 1e300, "s", b"bb", 3]
    assert PyOscMessage(encode_message("/mrtd/guidance/style", (3,))).params == [3.0]  # schema: a float
    assert decode_packet(encode_message("/mrtd/notes/frame", [0] * 128))[0].args == (0,) * 128


@pytest.mark.timeout(10)
def test_deframer_both_framings_byte_by_byte():
    packets = [PING, TEMP, msg("/b", "b", b"\xc0\xdb\xc0")]
    for frame in (frame_size_prefixed, frame_slip):
        d = StreamDeframer()
        out: list[object] = []
        for byte in b"".join(frame(p) for p in packets):
            d.feed(bytes([byte]))
            while (x := d.pop()) is not None:
                out.append(x)
        assert out == packets and d.fatal is None
    d = StreamDeframer()  # SLIP without the leading END (single-END senders)
    d.feed(PING + b"\xc0" + TEMP + b"\xc0")
    assert [d.pop(), d.pop(), d.pop()] == [PING, TEMP, None]


@pytest.mark.timeout(10)
def test_deframer_errors_resync_or_close():
    d = StreamDeframer()
    d.feed(b"\xc0/a\xdb\x01\0\xc0" + frame_slip(PING))
    first = d.pop()
    assert isinstance(first, PacketError) and "escape" in str(first)
    assert d.pop() == PING and d.fatal is None  # in sync again
    d = StreamDeframer(max_frame=1024)
    d.feed(b"\xc0" + b"a" * 5000)
    assert "larger than" in str(d.pop())
    d.feed(b"b" * 5000 + b"\xc0" + frame_slip(PING))  # the rest of the big frame is skipped
    assert d.pop() == PING
    for stream, why in [(I32.pack(-8), "unrecognised"), (frame_size_prefixed(PING) + I32.pack(-8), "outside"),
                        (I32.pack(70000), "outside"), (b"\x7fabc", "unrecognised")]:
        d = StreamDeframer()
        d.feed(stream)
        if stream.startswith(frame_size_prefixed(PING)):
            assert d.pop() == PING
        assert why in str(d.pop()) and d.fatal is not None
        d.feed(frame_size_prefixed(PING))
        assert d.pop() is None  # a closed stream yields nothing more
    d = StreamDeframer()
    d.feed(I32.pack(0) + frame_size_prefixed(PING))
    assert isinstance(d.pop(), PacketError) and d.pop() == PING


@pytest.mark.timeout(10)
def test_deframer_slow_sender_costs_linear_time():
    d = StreamDeframer()
    t0 = time.perf_counter()
    d.feed(b"\xc0")
    for _ in range(60000):
        d.feed(b"ab")
        assert d.pop() is None
    assert time.perf_counter() - t0 < 2.0


# --------------------------------------------------------------------------- fuzzing a live daemon

N_UDP = 60_000
N_TCP = 10_000  # per framing
N_WS = 20_000
BATCH = 500  # packets sent before a ping is awaited, so no transport's buffer overflows


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    with running_daemon(tmp_path_factory.mktemp("fuzz")) as d:
        yield d


def _seeds() -> list[bytes]:
    """Valid packets to mutate: every rw address at a non-default value, events, bundles."""
    out = []
    for p in NAMESPACE:
        if p.default is not None and p.access == "rw":
            out.append(encode_message(p.address, p.default))
    out += [msg("/mrtd/note/on", "ii", 60, 100), msg("/mrtd/reset"), msg("/mrtd/subscribe", "si", "127.0.0.1", 9),
            msg("/mrtd/prompt/1/embedding", "b", b"\0" * 3072), msg("/mrtd/get", "s", "/mrtd/topk"),
            msg("/mrtd/prompt/2/tokens", "i" * 12, *range(12))]
    out.append(encode_bundle(IMMEDIATE, out[:5]))
    out.append(encode_bundle(unix_to_ntp(time.time() + 1), [encode_bundle(IMMEDIATE, out[5:8]), out[9]]))
    return out


def _generators(rng: random.Random, seeds: list[bytes]) -> list[Callable[[], bytes]]:
    def seed() -> bytes:
        return rng.choice(seeds)

    def rand_bytes() -> bytes:
        return rng.randbytes(rng.choice([0, 1, 3, 4, 8, 16, 64, 256, rng.randrange(1, 1024)]))

    def rand_osc_like() -> bytes:
        head = rng.choice([b"/", b"/mrtd/", b"#bundle\0", b"/mrtd/temperature\0\0\0,"])
        body = head + rng.randbytes(rng.randrange(0, 128))
        return body + b"\0" * (-len(body) % 4)

    def bit_flips() -> bytes:
        b = bytearray(seed())
        for _ in range(rng.randrange(1, 9)):
            i = rng.randrange(len(b) * 8)
            b[i // 8] ^= 1 << (i % 8)
        return bytes(b)

    def truncated() -> bytes:
        b = seed()
        cut = rng.randrange(0, len(b))
        return b[:cut - cut % 4] if rng.random() < 0.5 else b[:cut]

    def extended() -> bytes:
        return seed() + rng.randbytes(rng.choice([1, 2, 4, 8, 12]))

    def lying_bundle() -> bytes:
        el = seed()
        size = rng.choice([0, -4, -1, -(2**31), 2**31 - 1, len(el) + 4, len(el) - 4, len(el) + 2, 3, 100000])
        return bundle_raw(rng.choice([IMMEDIATE, 0, 2**64 - 1]), (len(el), el), (size, el))

    def deep_bundle() -> bytes:
        inner = seed()
        for _ in range(rng.randrange(MAX_DEPTH + 1, 30)):
            inner = encode_bundle(IMMEDIATE, [inner])
        return inner

    def far_future() -> bytes:
        ahead = rng.choice([61.0, 3600.0, 86400.0 * 365, 1e9])
        tt = rng.choice([unix_to_ntp(time.time() + ahead), 2**64 - 1, 0xFFFFFFFF << 32])
        return encode_bundle(tt, [seed() if rng.random() < 0.5 else msg("/mrtd/seed", "i", 1)])

    def huge_blob() -> bytes:
        n = rng.choice([2**31 - 1, 2**30, 65536, -1, -(2**31), 3073])
        return b"/mrtd/prompt/1/embedding\0\0\0\0,b\0\0" + I32.pack(n) + rng.randbytes(4 * rng.randrange(0, 8))

    def no_slash() -> bytes:
        return seed().replace(b"/", rng.choice([b"\\", b"a", b" ", b"\0"]), 1)

    def non_utf8() -> bytes:
        bad = rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80\x80"])
        return msg("/mrtd/prompt/1/text", "s", "ab").replace(b"ab", bad[:2].ljust(2, b"\x80"))

    def nan_args() -> bytes:
        p = rng.choice([p for p in NAMESPACE if p.access == "rw" and p.args[0].kind == "float"])
        x = rng.choice([math.nan, math.inf, -math.inf, 1e39, -1e39])
        tag = "d" if abs(x) == 1e39 or rng.random() < 0.3 else "f"
        return msg(p.address, tag, x)

    def unknown_tags() -> bytes:
        tags = "".join(rng.choice("QqXxZ[]{}#\x01\x7f\xe9") for _ in range(rng.randrange(1, 5)))
        b = b"/mrtd/temperature\0\0\0," + tags.encode("latin-1")
        b += b"\0" * (4 - len(b) % 4)
        return b + rng.randbytes(4 * rng.randrange(0, 4))

    def many_messages() -> bytes:
        return encode_bundle(IMMEDIATE, [b"/x\0\0"] * (MAX_MESSAGES + 1))

    def wrong_types() -> bytes:
        a = rng.choice([p.address for p in NAMESPACE if p.access == "rw"])
        head = a.encode() + b"\0" * (4 - len(a) % 4)
        return rng.choice([
            lambda: msg(a, "s", "x"), lambda: msg(a, "N", None), lambda: head + b",T\0\0", lambda: msg(a, "b", b"\0\0"),
            lambda: msg(a), lambda: msg(a, "ii", 1, 2), lambda: msg(a, "h", 2**40), lambda: msg(a, "c", "q"),
            lambda: head + b",m\0\0\x00\x90\x40\x40", lambda: head + b",I\0\0", lambda: head + b",t\0\0" + U64.pack(1),
        ])()

    def patterns() -> bytes:  # OSC address patterns (the hub expands them), mostly with bad args
        parts = rng.choice([p.address for p in NAMESPACE]).split("/")
        k = rng.randrange(1, len(parts))
        parts[k] = rng.choice(["*", "?" * len(parts[k]), "[!a]*", "{on,off,x}", "[", "{", "*]", "[z-a]", "**",
                               parts[k][:1] + "*", "{" + ",".join(["a"] * 40) + "}"])
        a = "/".join(parts)
        return rng.choice([lambda: msg(a, "s", "x"), lambda: msg(a, "f", math.nan), lambda: msg(a, "ii", 1, 2),
                           lambda: msg(a, "f", 1e9), lambda: msg(a, "N", None)])()

    return [rand_bytes, rand_osc_like, bit_flips, bit_flips, truncated, extended, lying_bundle, deep_bundle,
            far_future, huge_blob, no_slash, non_utf8, nan_args, unknown_tags, many_messages, wrong_types, patterns]


def _valid(hub: Hub, address: str, args: tuple) -> bool:
    """Whether the server would take any part of it: the address itself, or any address
    a pattern matches (the hub applies a pattern to each match that takes the args)."""
    try:
        NAMESPACE.check(address, list(args))
        return True
    except SchemaError:
        pass
    try:
        targets = [p.address for p in NAMESPACE.match(address)] if is_pattern(address) else [address]
    except SchemaError:
        return False
    for target in targets:
        try:
            hub.check(target, args)
            return True
        except UserError:
            pass
    return False


def _would_change_something(packet: bytes, max_ahead_s: float | None, hub: Hub) -> bool:
    """True if the server would accept any message of ``packet`` (then it is not sent:
    a mutation that happens to be valid would change the state on purpose).
    ``max_ahead_s``: the server refuses valid bundles further ahead (None: it does not)."""
    try:
        messages = decode_packet(packet)
    except PacketError:
        return False
    now = time.time()
    for m in messages:
        if not _valid(hub, m.address, m.args):
            continue
        if m.timetag is None or m.timetag <= IMMEDIATE or max_ahead_s is None:
            return True
        ahead = ntp_to_unix(m.timetag) - now
        if ahead < max_ahead_s + 5:  # near the limit: too close to call, do not send
            return True
    return False


def _fuzz_packets(rng: random.Random, n: int, max_ahead_s: float | None, hub: Hub) -> Iterator[bytes]:
    gens = _generators(rng, _seeds())
    sent = 0
    while sent < n:
        p = rng.choice(gens)()
        if len(p) <= 65507 and not _would_change_something(p, max_ahead_s, hub):
            sent += 1
            yield p


def _batches(packets: Iterator[bytes], size: int = BATCH) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    for p in packets:
        batch.append(p)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _state(d: Daemon) -> dict[str, tuple | None]:
    return {p.address: d.hub.value(p.address) for p in NAMESPACE if p.access in ("rw", "r")
            and p.address not in ("/mrtd/meters", "/mrtd/frame", "/mrtd/tempo/position")}  # these move with time


def _ping_ok(port: int, limit_s: float = 1.0) -> None:
    c = UdpClient(port)
    try:
        t0 = time.monotonic()
        c.send(msg("/mrtd/ping"))
        c.recv_until("/mrtd/pong", timeout=limit_s)
        assert time.monotonic() - t0 < limit_s
    finally:
        c.close()


def _tcp_ping_ok(port: int, frame: Callable[[bytes], bytes], limit_s: float = 1.0) -> None:
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(frame(msg("/mrtd/ping")))
        _read_until_pong(s, limit_s)
    assert time.monotonic() - t0 < limit_s


async def _ws_flood(port: int, packets: Iterator[bytes]) -> float:
    """Binary frames over one OSCQuery websocket, a ping after each batch (its pong
    read); then the seconds a last ping took to be answered."""
    import aiohttp

    async def until_pong(ws: aiohttp.ClientWebSocketResponse) -> None:
        while True:
            m = await asyncio.wait_for(ws.receive(), 5)
            assert m.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT), m
            if m.type == aiohttp.WSMsgType.BINARY and decode_packet(m.data)[0].address == "/mrtd/pong":
                return

    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"http://127.0.0.1:{port}/", max_msg_size=1 << 20) as ws:
            for batch in _batches(packets):
                for p in batch:
                    await ws.send_bytes(p)
                await ws.send_bytes(msg("/mrtd/ping"))
                await until_pong(ws)
            t0 = time.monotonic()
            await ws.send_bytes(msg("/mrtd/ping"))
            await until_pong(ws)
            return time.monotonic() - t0


def _udp_ping(c: UdpClient, tries: int = 5) -> None:
    """Ping until a pong comes back: the refusals of a batch (up to the server's 500 a
    second) can fill the client's socket buffer, and the kernel then drops the pong."""
    for _ in range(tries):
        c.send(msg("/mrtd/ping"))
        try:
            c.recv_until("/mrtd/pong", timeout=1.5)
            return
        except TimeoutError:
            continue
    raise TimeoutError(f"no /mrtd/pong after {tries} pings")


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_fuzz_udp_tcp_websocket_changes_nothing_and_server_stays_responsive(daemon: Daemon) -> None:
    """100,000 malformed or refused packets: UDP, TCP size-prefixed and SLIP, OSCQuery
    websocket binary frames. Afterwards pings are answered at once over UDP and TCP,
    the subscriber is still there, and no control has changed."""
    assert N_UDP + 2 * N_TCP + N_WS == 100_000
    rng = random.Random(20260101)
    hub = daemon.hub
    before, n_changes, n_errors = _state(daemon), len(daemon.changes), list(daemon.engine.errors)
    oq = OscQueryServer(hub, "127.0.0.1", 0, osc_port=daemon.port)
    daemon.loop.run(oq.start())
    # a subscriber, so that every refusal is also sent out (and must not hurt)
    sub = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sub.bind(("127.0.0.1", 0))
    sub.setblocking(False)
    _ping_ok(daemon.port)
    c = UdpClient(daemon.port)
    c.send(msg("/mrtd/subscribe", "i", sub.getsockname()[1]))
    c.recv_until("/mrtd/subscribed")
    seen = [0]  # packets the OSC server took in (UDP and TCP)
    on_packet = daemon.server.on_packet

    def counting(data: bytes, peer: object) -> None:
        seen[0] += 1
        on_packet(data, peer)

    daemon.server.on_packet = counting  # type: ignore[method-assign]
    t0 = time.monotonic()
    sent = empty = 0
    try:
        # UDP: batches, each closed by a ping so nothing is lost to a full socket buffer
        for batch in _batches(_fuzz_packets(rng, N_UDP, daemon.server.max_ahead_s, hub)):
            for packet in batch:
                c.send(packet)
            sent += len(batch)
            _udp_ping(c)
            with pytest.raises(BlockingIOError):
                while True:
                    sub.recv(65536)
        t_udp = time.monotonic() - t0
        # TCP: fuzz inside well-formed frames of both framings; the connection must survive
        for frame in (frame_size_prefixed, frame_slip):
            with socket.create_connection(("127.0.0.1", daemon.port), timeout=5) as s:
                for batch in _batches(_fuzz_packets(rng, N_TCP, daemon.server.max_ahead_s, hub)):
                    s.sendall(b"".join(frame(p) for p in batch) + frame(msg("/mrtd/ping")))
                    _read_until_pong(s)
                    sent += len(batch)
                    empty += batch.count(b"")  # an empty frame is refused by the deframer
        t_tcp = time.monotonic() - t0 - t_udp
        # OSCQuery websocket binary frames (no time-tag limit there: nothing valid is sent)
        ws_ping_s = asyncio.run(_ws_flood(oq.port, _fuzz_packets(rng, N_WS, None, hub)))
        sent += N_WS
        t_ws = time.monotonic() - t0 - t_udp - t_tcp
        # TCP: garbage streams and impossible frames; each connection is closed or ignored
        for _ in range(40):
            with socket.create_connection(("127.0.0.1", daemon.port), timeout=5) as s:
                junk = rng.choice([rng.randbytes(rng.randrange(1, 4096)), I32.pack(-rng.randrange(1, 2**31)),
                                   I32.pack(10**6) + b"\0" * 64, b"\xc0" + b"a" * 200_000,
                                   b"\xc0" + rng.randbytes(3000).replace(b"\xc0", b"") + b"\xdb\xc0"])
                try:
                    s.sendall(junk)
                except OSError:
                    pass  # closed on us mid-send: fine
        elapsed = time.monotonic() - t0
        assert sent == N_UDP + 2 * N_TCP + N_WS
        assert seen[0] >= N_UDP + 2 * N_TCP - empty  # nothing was lost on the way
        _ping_ok(daemon.port)
        for frame in (frame_size_prefixed, frame_slip):
            _tcp_ping_ok(daemon.port, frame)
        assert ws_ping_s < 1.0
        time.sleep(0.2)  # a few frame boundaries: anything queued would have landed
        assert _state(daemon) == before
        moved = [c for c in list(daemon.changes)[n_changes:] if c[1] != "/mrtd/tempo/position"]  # the clock ticks
        assert not moved, moved[:5]
        assert list(daemon.engine.errors) == n_errors
        assert ("127.0.0.1", sub.getsockname()[1]) in daemon.server.subscribers()
        assert elapsed < 60, (elapsed, t_udp, t_tcp, t_ws)
        print(f"fuzz: {sent} packets in {elapsed:.1f} s (UDP {t_udp:.1f}, TCP {t_tcp:.1f}, websocket {t_ws:.1f})")
    finally:
        del daemon.server.on_packet
        c.send(msg("/mrtd/unsubscribe", "i", sub.getsockname()[1]))
        c.close()
        sub.close()
        daemon.loop.run(oq.stop())


def _read_until_pong(s: socket.socket, timeout: float = 5.0) -> None:
    d = StreamDeframer()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = s.recv(65536)
        assert chunk, "the server closed a well-framed connection"
        d.feed(chunk)
        while (p := d.pop()) is not None:
            assert isinstance(p, bytes)
            if decode_packet(p)[0].address == "/mrtd/pong":
                return
    raise TimeoutError("no /mrtd/pong on the TCP connection")


@pytest.mark.timeout(30)
def test_flood_of_future_bundles_is_bounded(daemon: Daemon) -> None:
    """Valid bundles 50 s ahead, more than may wait: the excess is refused, pings stay
    prompt, and stopping the server cancels what waits (nothing lands later)."""
    from mrtd.remote.osc.server import MAX_SCHEDULED, OscServer

    server = OscServer(daemon.hub)
    daemon.loop.run(server.start())
    c = UdpClient(server.port)
    try:
        tt = unix_to_ntp(time.time() + 50)
        packet = encode_bundle(tt, [msg("/mrtd/seed/rotation", "i", 77)])
        for _ in range(MAX_SCHEDULED + 50):
            c.send(packet)
        c.send(msg("/mrtd/ping"))
        got = c.recv_until("/mrtd/pong", timeout=5)
        assert any(a == "/mrtd/error" and "waiting" in v[1] for a, v in got)
        assert len(server._scheduled) == MAX_SCHEDULED
    finally:
        c.close()
        daemon.loop.run(server.stop())
    assert not server._scheduled
    assert daemon.hub.value("/mrtd/seed/rotation") == (0,)
    _ping_ok(daemon.port)

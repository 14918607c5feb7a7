"""The OSC server's bounds, against a real in-process daemon: held, idle and trickling
TCP connections cannot lock a controller out, a full subscriber table still takes a new
subscriber, subscriptions point only at the sender's own host, and an error found when
a message is applied reaches its plain (unsubscribed) sender.

Real sockets on 127.0.0.1 only; servers with short timeouts are started on the module
daemon's hub and loop, so each test is quick.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator

import pytest
from support.inproc import Daemon, UdpClient, pyosc, running_daemon

from mrtd.osc_schema import SchemaError
from mrtd.remote.osc.connections import UdpPeer
from mrtd.remote.osc.packet import (
    StreamDeframer,
    decode_packet,
    encode_message,
    frame_size_prefixed,
    frame_slip,
)
from mrtd.remote.osc.server import OscServer
from mrtd.remote.osc.subscriptions import Subscriber

PING = encode_message("/mrtd/ping")


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    with running_daemon(tmp_path_factory.mktemp("limits")) as d:
        yield d


class Server:
    """An extra OscServer on the daemon's hub and loop, stopped when the block ends."""

    def __init__(self, daemon: Daemon, **kw: object):
        self.daemon = daemon
        self.server = OscServer(daemon.hub, **kw)  # type: ignore[arg-type]

    def __enter__(self) -> OscServer:
        self.daemon.loop.run(self.server.start())
        return self.server

    def __exit__(self, *exc: object) -> None:
        self.daemon.loop.run(self.server.stop())


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def read_frames(s: socket.socket, until: str | None, timeout: float = 3.0) -> tuple[list, bool]:
    """Messages read from ``s`` up to one at ``until`` (None: up to end of stream);
    and whether the server closed the connection."""
    d = StreamDeframer()
    out: list = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no {until or 'end of stream'} within {timeout} s; got {[m.address for m in out]}")
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            return out, True
        if not chunk:
            return out, True
        d.feed(chunk)
        while (p := d.pop()) is not None:
            assert isinstance(p, bytes), p
            out += decode_packet(p)
            if until is not None and out[-1].address == until:
                return out, False


def tcp_ping(port: int, frame=frame_size_prefixed, limit_s: float = 2.0) -> float:
    """Seconds from connect to /mrtd/pong for a new TCP client."""
    t0 = time.monotonic()
    with connect(port) as s:
        s.sendall(frame(PING))
        read_frames(s, "/mrtd/pong", timeout=limit_s)
    return time.monotonic() - t0


def udp_ping(port: int, limit_s: float = 1.0) -> None:
    c = UdpClient(port)
    try:
        c.send(PING)
        c.recv_until("/mrtd/pong", timeout=limit_s)
    finally:
        c.close()


def closed_after(s: socket.socket, limit_s: float, trickle: bytes = b"") -> tuple[float, list]:
    """Seconds until the server closes ``s`` (sending ``trickle`` a byte each 0.1 s
    meanwhile), and what it said before closing."""
    t0 = time.monotonic()
    d = StreamDeframer()
    said: list = []
    k = 0
    while time.monotonic() - t0 < limit_s:
        if k < len(trickle):
            try:
                s.sendall(trickle[k:k + 1])
            except OSError:
                return time.monotonic() - t0, said
            k += 1
        s.settimeout(0.1)
        try:
            chunk = s.recv(65536)
        except (TimeoutError, socket.timeout):
            continue
        except OSError:
            return time.monotonic() - t0, said
        if not chunk:
            return time.monotonic() - t0, said
        d.feed(chunk)
        while (p := d.pop()) is not None:
            said += decode_packet(p)  # type: ignore[arg-type]
    raise AssertionError(f"the connection was still open after {limit_s} s")


# --------------------------------------------------------------------------- TCP connections


@pytest.mark.timeout(60)
def test_held_tcp_connections_never_lock_out_a_new_client(daemon: Daemon) -> None:
    """200 idle connections plus slowloris ones (a size prefix or a SLIP frame begun,
    never finished) are held open; a new client still gets /mrtd/pong within 2 s, over
    both framings, with default limits and timeouts: the oldest idle ones are evicted."""
    held: list[socket.socket] = []
    with Server(daemon) as server:
        try:
            for _ in range(200):
                held.append(connect(server.port))
            for k in range(40):
                s = connect(server.port)
                s.sendall(struct.pack(">i", 60000) + b"/mrt" if k % 2 else b"\xc0/mrtd/te")
                held.append(s)
            for frame in (frame_size_prefixed, frame_slip):
                assert tcp_ping(server.port, frame) < 2.0
            assert len(server.connections) <= server.max_connections
            udp_ping(server.port)
            # those evicted were told why before their connection ended
            closed = 0
            for s in held[:50]:
                said, eof = read_frames(s, None, timeout=3)
                closed += eof
                assert eof and said and "evicted" in said[-1].args[1], said
            assert closed == 50
        finally:
            for s in held:
                s.close()


@pytest.mark.timeout(30)
def test_the_least_recently_active_connection_is_evicted(daemon: Daemon) -> None:
    with Server(daemon, max_connections=3) as server:
        a, b, c = connect(server.port), connect(server.port), connect(server.port)
        try:
            time.sleep(0.05)
            a.sendall(frame_slip(PING))  # a is now the most recently active
            read_frames(a, "/mrtd/pong")
            with connect(server.port) as d:
                said, eof = read_frames(b, None)
                assert eof and "evicted" in said[-1].args[1]
                for s in (a, c, d):
                    s.sendall(frame_size_prefixed(PING) if s is not a else frame_slip(PING))
                    read_frames(s, "/mrtd/pong")
                assert len(server.connections) == 3
        finally:
            for s in (a, b, c):
                s.close()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("start, trickle", [
    (struct.pack(">i", 1000) + b"/mr", b""),  # a size prefix, then nothing
    (b"\xc0/mrtd/", b""),  # a SLIP frame begun
    (b"\xc0/", b"mrtd/pingpingpingpingpingpingping"),  # SLIP trickled a byte each 0.1 s
    (struct.pack(">i", 1000), b"/mrtd/pingpingpingpingpingpingping"),  # size prefix, trickled
], ids=["size-prefix", "slip", "slip-trickle", "size-trickle"])
def test_a_partial_frame_is_closed_after_its_timeout(daemon: Daemon, start: bytes, trickle: bytes) -> None:
    with Server(daemon, partial_frame_timeout_s=0.5, idle_timeout_s=30) as server:
        with connect(server.port) as s:
            s.sendall(start)
            elapsed, said = closed_after(s, 3.0, trickle)
            assert 0.45 < elapsed < 2.0, elapsed
            assert said and said[-1].address == "/mrtd/error" and "not completed" in said[-1].args[1], said
        udp_ping(server.port)


@pytest.mark.timeout(30)
def test_pauses_between_whole_frames_are_not_partial_frames(daemon: Daemon) -> None:
    with Server(daemon, partial_frame_timeout_s=0.4, idle_timeout_s=30) as server:
        with connect(server.port) as s:
            for _ in range(3):
                s.sendall(frame_size_prefixed(PING))
                read_frames(s, "/mrtd/pong")
                time.sleep(0.7)
            s.sendall(frame_size_prefixed(PING))
            _, eof = read_frames(s, "/mrtd/pong")
            assert not eof


@pytest.mark.timeout(30)
def test_idle_connections_close_but_a_reading_subscriber_stays(daemon: Daemon) -> None:
    """With a 0.6 s idle timeout: a silent connection is closed (told why); one sending
    a frame every 0.3 s stays; a subscriber that sends nothing but reads its feedback
    stays."""
    with Server(daemon, idle_timeout_s=0.6, partial_frame_timeout_s=5) as server:
        idle, sub = connect(server.port), connect(server.port)
        stop = threading.Event()
        heard: list[int] = []
        pongs: list[int] = []

        def read_feedback() -> None:  # a controller that reads its feedback and sends nothing
            while not stop.is_set():
                got, eof = read_frames(sub, "/mrtd/meters")
                heard.append(0 if eof else len(got))

        def chat() -> None:  # a controller that sends a frame every 0.3 s
            with connect(server.port) as chatty:
                for _ in range(8):
                    chatty.sendall(frame_size_prefixed(PING))
                    _, eof = read_frames(chatty, "/mrtd/pong")
                    pongs.append(not eof)
                    time.sleep(0.3)

        threads = [threading.Thread(target=read_feedback, daemon=True), threading.Thread(target=chat, daemon=True)]
        try:
            sub.sendall(frame_slip(encode_message("/mrtd/subscribe")))
            read_frames(sub, "/mrtd/subscribed")
            idle.sendall(frame_slip(PING))
            read_frames(idle, "/mrtd/pong")
            t_last = time.monotonic()
            for t in threads:
                t.start()
            _, said = closed_after(idle, 3.0)
            assert said and "no complete frame" in said[-1].args[1], said
            assert 0.55 < time.monotonic() - t_last < 2.0
            threads[1].join(10)
            assert pongs == [True] * 8
            stop.set()
            threads[0].join(5)
            assert len(heard) > 20 and all(heard), heard  # meters kept coming for 2.4 s
            sub.sendall(frame_slip(PING))
            _, eof = read_frames(sub, "/mrtd/pong")
            assert not eof and len(server.connections) == 1
        finally:
            stop.set()
            idle.close()
            sub.close()


# --------------------------------------------------------------------------- subscribers


@pytest.mark.timeout(30)
def test_a_full_table_of_idle_subscribers_still_takes_a_new_one(daemon: Daemon) -> None:
    """32 UDP subscribers that never read fill the table; a new one gets /mrtd/subscribed,
    its state snapshot and then feedback; the one heard from least recently is dropped
    with a last /mrtd/error."""
    with Server(daemon) as server:
        idle = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(server.max_subscribers)]
        c = UdpClient(server.port)
        new = UdpClient(server.port)
        try:
            for s in idle:
                s.bind(("127.0.0.1", 0))
                c.send(pyosc("/mrtd/subscribe", ("i", s.getsockname()[1])))
                c.recv_until("/mrtd/subscribed")
            assert len(server.subscribers()) == server.max_subscribers
            new.send(pyosc("/mrtd/subscribe"))  # the sender itself
            got = new.recv_until("/mrtd/subscribed")
            assert got[-1][1] == ("127.0.0.1", new.sock.getsockname()[1])
            new.recv_until("/mrtd/temperature")  # the snapshot
            new.recv_until("/mrtd/meters")  # and feedback
            subs = server.subscribers()
            assert len(subs) == server.max_subscribers and ("127.0.0.1", new.sock.getsockname()[1]) in subs
            gone = idle[0]  # all heard from together (one host): the first subscribed goes
            assert ("127.0.0.1", gone.getsockname()[1]) not in subs
            gone.settimeout(2)
            last: list = []
            while not last or last[-1].address != "/mrtd/error":
                last = decode_packet(gone.recv(65536))
            assert "subscription ended" in last[-1].args[1]
        finally:
            for s in idle:
                s.close()
            c.close()
            new.close()


class _FakeSub(Subscriber):
    def __init__(self, host: str, port: int):
        self.key, self.owner, self.target = ("udp", host, port), host, (host, port)
        self.sent: list[bytes] = []

    def send(self, packet: bytes) -> None:
        self.sent.append(packet)


@pytest.mark.timeout(10)
def test_eviction_spares_subscribers_heard_from(daemon: Daemon) -> None:
    """Heard from: a (re)subscription, a packet from the subscriber's own endpoint, or one
    from the host that subscribed it. No socket is opened: the server is not started."""
    server = OscServer(daemon.hub, max_subscribers=3)
    a, b, c = _FakeSub("10.0.0.1", 1), _FakeSub("10.0.0.2", 2), _FakeSub("10.0.0.3", 3)
    for sub in (a, b, c):
        server.subscriptions.add(sub, UdpPeer(server, sub.owner, 5000))
    server.subscriptions.heard_from(UdpPeer(server, "10.0.0.1", 1))  # a's own endpoint
    server.subscriptions.heard_from(UdpPeer(server, "10.0.0.3", 7777))  # c's host
    d = _FakeSub("10.0.0.4", 4)
    server.subscriptions.add(d, UdpPeer(server, "10.0.0.4", 5000))
    assert server.subscriptions.keys() == {a.key, c.key, d.key}
    assert decode_packet(b.sent[-1])[0].args[1].startswith("subscription ended")
    server.subscriptions.add(a, UdpPeer(server, "10.0.0.1", 5000))  # a re-subscribes: not new
    e = _FakeSub("10.0.0.5", 5)
    server.subscriptions.add(e, UdpPeer(server, "10.0.0.5", 5000))
    assert server.subscriptions.keys() == {a.key, d.key, e.key}  # c was heard from before d subscribed


@pytest.mark.timeout(10)
def test_subscription_targets_rule(daemon: Daemon) -> None:
    """Only the sender's own host, or loopback from loopback; anything with
    allow_remote_subscribe. Checked without sending anything."""
    strict, free = OscServer(daemon.hub), OscServer(daemon.hub, allow_remote_subscribe=True)
    ok = [("127.0.0.1", "127.0.0.1"), ("127.0.0.2", "127.0.0.1"), ("::1", "127.0.0.1"),
          ("127.0.0.1", "::ffff:127.0.0.1"), ("10.1.2.3", "10.1.2.3"), ("10.1.2.3", "::ffff:10.1.2.3")]
    refused = [("192.0.2.1", "127.0.0.1"), ("10.1.2.4", "10.1.2.3"), ("127.0.0.1", "10.1.2.3"),
               ("0.0.0.0", "10.1.2.3")]
    for target, sender in ok:
        strict.subscriptions.check_target(target, UdpPeer(strict, sender, 9))
    for target, sender in refused:
        with pytest.raises(SchemaError, match="--allow-remote-subscribe"):
            strict.subscriptions.check_target(target, UdpPeer(strict, sender, 9))
        free.subscriptions.check_target(target, UdpPeer(free, sender, 9))


@pytest.mark.timeout(30)
def test_subscribing_another_host_is_refused_before_anything_is_sent(daemon: Daemon, monkeypatch) -> None:
    sockets: list = []
    real = socket.socket

    def spy(*a: object, **kw: object) -> socket.socket:
        s = real(*a, **kw)  # type: ignore[arg-type]
        sockets.append(s)
        return s

    with Server(daemon) as server:
        c = UdpClient(server.port)
        try:
            monkeypatch.setattr("mrtd.remote.osc.subscriptions.socket.socket", spy)
            for args in ((("s", "192.0.2.1"), ("i", 9000)), (("s", "::ffff:192.0.2.1"), ("i", 9000))):
                c.send(pyosc("/mrtd/subscribe", *args))
                err = [v for a, v in c.recv_until("/mrtd/error") if a == "/mrtd/error"][-1]
                assert err[0] == "/mrtd/subscribe" and "--allow-remote-subscribe" in err[1], err
            c.send(pyosc("/mrtd/unsubscribe", ("s", "192.0.2.1"), ("i", 9000)))
            assert "--allow-remote-subscribe" in c.recv_until("/mrtd/error")[-1][1][1]
            monkeypatch.undo()
            assert server.subscribers() == [] and sockets == []
        finally:
            monkeypatch.undo()
            c.close()
    # allowed when the server says so (a loopback target here: nothing leaves the machine)
    with Server(daemon, allow_remote_subscribe=True) as server, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as r:
        r.bind(("127.0.0.1", 0))
        c = UdpClient(server.port)
        try:
            c.send(pyosc("/mrtd/subscribe", ("s", "127.0.0.1"), ("i", r.getsockname()[1])))
            assert c.recv_until("/mrtd/subscribed")[-1][1] == ("127.0.0.1", r.getsockname()[1])
            assert server.subscribers() == [("127.0.0.1", r.getsockname()[1])]
        finally:
            c.close()


# --------------------------------------------------------------------------- late errors


def _drain_udp(s: socket.socket, wait: float = 0.3) -> list:
    """Everything ``s`` receives within ``wait`` seconds."""
    out: list = []
    deadline = time.monotonic() + wait
    while (left := deadline - time.monotonic()) > 0:
        s.settimeout(left)
        try:
            out += decode_packet(s.recv(65536))
        except (TimeoutError, socket.timeout):
            break
    return out


@pytest.mark.timeout(30)
def test_late_errors_reach_the_sender_once(daemon: Daemon) -> None:
    """``Sender.reply`` called from another thread (as the generation thread does): a
    plain sender gets /mrtd/error; a sender that is a subscriber gets exactly one copy,
    the hub's feedback, not a second direct one; an error reply is never answered."""
    with Server(daemon) as server:
        plain, subscribed = UdpClient(server.port), UdpClient(server.port)
        try:
            subscribed.send(pyosc("/mrtd/subscribe"))
            subscribed.recv_until("/mrtd/subscribed")
            peers = {c: UdpPeer(server, "127.0.0.1", c.sock.getsockname()[1]) for c in (plain, subscribed)}
            _drain_udp(subscribed.sock, 0.3)

            def generation_thread() -> None:
                for c in (plain, subscribed):
                    peers[c].sender.reply("/mrtd/bank/load", "cannot read bank 7: no such bank")
                    peers[c].sender.reply("/mrtd/error", "never answered")
                daemon.hub.notify("/mrtd/error", ("/mrtd/bank/load", "cannot read bank 7: no such bank"))

            t = threading.Thread(target=generation_thread)
            t.start()
            t.join(5)
            for c in (plain, subscribed):
                errs = [m for m in _drain_udp(c.sock, 0.5) if m.address == "/mrtd/error"]
                assert [m.args for m in errs] == [("/mrtd/bank/load", "cannot read bank 7: no such bank")], errs
        finally:
            plain.close()
            subscribed.close()


def _errors_for(c: UdpClient, address: str, wait: float) -> list[tuple]:
    return [m.args for m in _drain_udp(c.sock, wait) if m.address == "/mrtd/error" and m.args[0] == address]


@pytest.mark.timeout(30)
def test_an_error_found_at_the_frame_reaches_a_plain_sender(daemon: Daemon) -> None:
    """A damaged bank file exists, so ``/mrtd/bank/load`` is taken when received and
    fails only when its frame reads the file: the plain sender (never subscribed, as
    oscsend or Max's [udpsend]) hears why, once; a subscriber hears it once too."""
    from mrtd.controls.banks import bank_name

    daemon.bank_dir.mkdir(parents=True, exist_ok=True)
    (daemon.bank_dir / bank_name(7)).write_bytes(b"not a bank" * 10)
    plain, sub = UdpClient(daemon.port), UdpClient(daemon.port)
    load = pyosc("/mrtd/bank/load", ("i", 7))
    try:
        plain.send(load)
        got = plain.recv_until("/mrtd/error", timeout=5)
        assert got[-1][1][0] == "/mrtd/bank/load" and "7" in got[-1][1][1], got
        assert _errors_for(plain, "/mrtd/bank/load", 0.5) == []  # once
        sub.send(pyosc("/mrtd/subscribe"))
        sub.recv_until("/mrtd/subscribed")
        _drain_udp(sub.sock, 0.2)
        for sender, other in ((plain, sub), (sub, plain)):
            sender.send(load)
            errs = _errors_for(sender, "/mrtd/bank/load", 1.5)
            assert len(errs) == 1, (sender is sub, errs)
            assert len(_errors_for(other, "/mrtd/bank/load", 0.1)) == (1 if other is sub else 0)
    finally:
        sub.send(pyosc("/mrtd/unsubscribe"))
        plain.close()
        sub.close()

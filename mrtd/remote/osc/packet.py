"""OSC 1.0/1.1 packets: a strict, bounded decoder for untrusted bytes, and reply encoders.

The daemon's OSC port faces the network, so every byte is checked before it is
trusted: 4-byte alignment, NUL-terminated strings, a leading ``/`` on addresses, a
``,`` type tag string with known tags only, argument and blob sizes within the packet,
bundle element sizes positive, 4-aligned and within their bundle, nesting depth, and
packet, message and argument counts. Each check costs O(1) or one bounded scan, and
every loop advances by at least 4 bytes, so no packet can hang or blow up the parser
(python-osc's parser loops forever on a negative bundle element size and pads
truncated floats; see docs/research). A bad packet is refused whole — a
:class:`PacketError` whose text is the reason — so nothing of it is applied.

NaN and infinite floats decode fine here; the OSC schema refuses them with a reason.

Replies use the types every controller handles (Max ``udpreceive``, Pd ``oscparse``,
TouchOSC mk2, liblo): ``i`` int32 (``h`` beyond int32), ``f`` float32, ``s`` string,
``b`` blob, and booleans as ``i`` 0/1 (Max and Pd have no boolean type; ``T``/``F``
are dropped or ignored by several of them). Where the schema knows an address, its
argument kinds decide the tags (a float control is always ``f``, even if it holds 3).

TCP streams carry packets framed either by an int32 size prefix (OSC 1.0, liblo's
``osc.tcp``) or by SLIP (OSC 1.1, python-osc's default, double-END style);
:class:`StreamDeframer` detects which from the first byte and bounds every frame.
"""

from __future__ import annotations

import math
import numbers
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mrtd.osc_schema import NAMESPACE

MAX_PACKET = 65536  # bytes; UDP datagrams over 8 KiB are fine (socketserver's limit is not ours)
MAX_DEPTH = 8  # bundles within bundles
MAX_MESSAGES = 1024  # messages in one packet, all bundles together
MAX_ARGS = 512  # arguments of one message (/mrtd/notes/list needs 129)
MAX_ADDRESS = 255  # bytes of an address

IMMEDIATE = 1  # the OSC timetag meaning "now"
NTP_UNIX_OFFSET = 2208988800  # seconds from 1900-01-01 (NTP) to 1970-01-01 (Unix)

BUNDLE_TAG = b"#bundle\0"
_PRINTABLE = bytes(range(0x21, 0x7F))
_I32 = struct.Struct(">i")
_U32 = struct.Struct(">I")
_I64 = struct.Struct(">q")
_U64 = struct.Struct(">Q")
_F32 = struct.Struct(">f")
_F64 = struct.Struct(">d")


class PacketError(ValueError):
    """A packet that is not well-formed OSC; the text is the reason, ``address`` the
    address of the message at fault when it got that far ("" otherwise)."""

    def __init__(self, reason: str, address: str = ""):
        super().__init__(reason)
        self.address = address


# --------------------------------------------------------------------------- decoded values


class Impulse:
    """The ``I`` argument (OSC 1.1 impulse, "bang"); it carries no value."""

    _instance: Impulse | None = None

    def __new__(cls) -> Impulse:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "impulse"


IMPULSE = Impulse()


@dataclass(frozen=True)
class TimeTag:
    """A ``t`` argument: a raw 64-bit NTP time (not a number, so no control takes it)."""

    raw: int

    def __repr__(self) -> str:
        return f"timetag {self.raw:#018x}"


@dataclass(frozen=True)
class Midi:
    """An ``m`` argument: port id, status byte and two data bytes."""

    data: bytes

    def __repr__(self) -> str:
        return f"midi {self.data.hex()}"


@dataclass(frozen=True)
class Rgba:
    """An ``r`` argument: a 32-bit RGBA colour."""

    value: int

    def __repr__(self) -> str:
        return f"rgba {self.value:#010x}"


@dataclass(frozen=True)
class Message:
    """One decoded message; ``timetag`` is its bundle's raw NTP time, None outside bundles."""

    address: str
    args: tuple[Any, ...]
    timetag: int | None = None


# --------------------------------------------------------------------------- time tags


def ntp_to_unix(tt: int) -> float:
    return (tt >> 32) - NTP_UNIX_OFFSET + (tt & 0xFFFFFFFF) / 2**32


def unix_to_ntp(t: float) -> int:
    secs = math.floor(t)
    frac = min(int((t - secs) * 2**32), 0xFFFFFFFF)
    return ((secs + NTP_UNIX_OFFSET) & 0xFFFFFFFF) << 32 | frac


# --------------------------------------------------------------------------- decoding


def decode_packet(data: bytes) -> list[Message]:
    """All messages of one packet (a message or a bundle), in order; PacketError if
    anything in it is malformed or over a limit."""
    n = len(data)
    if n == 0:
        raise PacketError("empty packet")
    if n > MAX_PACKET:
        raise PacketError(f"packet of {n} bytes is larger than {MAX_PACKET}")
    if n % 4:
        raise PacketError(f"packet length {n} is not a multiple of 4")
    data = bytes(data)
    out: list[Message] = []
    _element(data, 0, n, None, 0, out)
    return out


def _element(data: bytes, start: int, end: int, timetag: int | None, depth: int, out: list[Message]) -> None:
    if data.startswith(BUNDLE_TAG, start):
        _bundle(data, start, end, timetag, depth + 1, out)
    elif data[start] == 0x2F:  # '/'
        if len(out) >= MAX_MESSAGES:
            raise PacketError(f"more than {MAX_MESSAGES} messages in one packet")
        out.append(_message(data, start, end, timetag))
    else:
        raise PacketError("not an OSC message or bundle (an address must start with '/')")


def _bundle(data: bytes, start: int, end: int, outer: int | None, depth: int, out: list[Message]) -> None:
    if depth > MAX_DEPTH:
        raise PacketError(f"bundles nested deeper than {MAX_DEPTH}")
    if end - start < 16:
        raise PacketError("bundle too short for its time tag")
    tt = _U64.unpack_from(data, start + 8)[0]
    # an enclosed bundle may not be earlier than its enclosing one (OSC 1.0)
    timetag = tt if outer is None else max(tt, outer)
    # walk this level's sizes first: a lie or too many elements is refused before any decoding
    spans: list[int] = []
    pos = start + 16
    while pos < end:
        if end - pos < 4:
            raise PacketError("bundle element size truncated")
        size = _I32.unpack_from(data, pos)[0]
        pos += 4
        if size <= 0:
            raise PacketError(f"bundle element size {size} is not positive")
        if size % 4:
            raise PacketError(f"bundle element size {size} is not a multiple of 4")
        if size > end - pos:
            raise PacketError(f"bundle element size {size} exceeds the {end - pos} bytes left")
        spans.append(pos)
        pos += size  # size > 0: the loop always advances
        if len(out) + len(spans) > MAX_MESSAGES:
            raise PacketError(f"more than {MAX_MESSAGES} messages in one packet")
    for pos in spans:
        size = _I32.unpack_from(data, pos - 4)[0]
        _element(data, pos, pos + size, timetag, depth, out)


def _string(data: bytes, pos: int, end: int, what: str, address: str = "") -> tuple[bytes, int]:
    """A NUL-terminated, 4-byte-padded string at ``pos``: its bytes and the next offset."""
    nul = data.find(b"\0", pos, end)
    if nul < 0:
        raise PacketError(f"{what} is not NUL-terminated", address)
    nxt = pos + ((nul - pos) // 4 + 1) * 4
    if nxt > end:
        raise PacketError(f"{what} padding is truncated", address)
    return data[pos:nul], nxt


def _address(raw: bytes) -> str:
    if len(raw) > MAX_ADDRESS:
        raise PacketError(f"address longer than {MAX_ADDRESS} bytes")
    if not raw.startswith(b"/"):
        raise PacketError("address does not start with '/'")
    if raw.translate(None, _PRINTABLE):  # anything left is not printable ASCII
        raise PacketError("address has a character that is not printable ASCII")
    return raw.decode("ascii")


def _message(data: bytes, start: int, end: int, timetag: int | None) -> Message:
    raw, pos = _string(data, start, end, "address")
    address = _address(raw)
    if pos == end:  # no type tag string: OSC 1.0 says treat as no arguments
        return Message(address, (), timetag)
    tags_raw, pos = _string(data, pos, end, "type tag string", address)
    if not tags_raw.startswith(b","):
        raise PacketError("type tag string does not start with ','", address)
    tags = tags_raw[1:]
    if len(tags) > MAX_ARGS:
        raise PacketError(f"more than {MAX_ARGS} arguments", address)
    args: list[Any] = []
    for k, tag in enumerate(tags.decode("latin-1"), 1):
        value, pos = _arg(data, pos, end, tag, k, address)
        args.append(value)
    if pos != end:
        raise PacketError(f"{end - pos} unexpected bytes after the arguments", address)
    return Message(address, tuple(args), timetag)


_FIXED = {"i": 4, "f": 4, "c": 4, "r": 4, "m": 4, "h": 8, "d": 8, "t": 8}
_NO_DATA = {"T": True, "F": False, "N": None}


def _arg(data: bytes, pos: int, end: int, tag: str, k: int, address: str) -> tuple[Any, int]:
    if tag in _NO_DATA:
        return _NO_DATA[tag], pos
    if tag == "I":
        return IMPULSE, pos
    size = _FIXED.get(tag)
    if size is not None:
        if end - pos < size:
            raise PacketError(f"argument {k} ('{tag}') is truncated", address)
        return _fixed(data, pos, tag, k, address), pos + size
    if tag in "sS":
        raw, nxt = _string(data, pos, end, f"argument {k} (string)", address)
        try:
            return raw.decode("utf-8"), nxt
        except UnicodeDecodeError:
            raise PacketError(f"argument {k}: string is not valid UTF-8", address) from None
    if tag == "b":
        if end - pos < 4:
            raise PacketError(f"argument {k} (blob) size is truncated", address)
        n = _I32.unpack_from(data, pos)[0]
        if n < 0 or n > end - pos - 4:
            raise PacketError(f"argument {k}: blob size {n} does not fit the {end - pos - 4} bytes left", address)
        nxt = pos + 4 + n + (-n % 4)
        if nxt > end:
            raise PacketError(f"argument {k} (blob) padding is truncated", address)
        return data[pos + 4:pos + 4 + n], nxt
    if tag in "[]":
        raise PacketError("array arguments are not supported", address)
    shown = tag if tag.isprintable() else f"\\x{ord(tag):02x}"
    raise PacketError(f"argument {k}: unknown type tag '{shown}'", address)


def _fixed(data: bytes, pos: int, tag: str, k: int, address: str) -> Any:
    if tag == "i":
        return _I32.unpack_from(data, pos)[0]
    if tag == "f":
        return _F32.unpack_from(data, pos)[0]
    if tag == "h":
        return _I64.unpack_from(data, pos)[0]
    if tag == "d":
        return _F64.unpack_from(data, pos)[0]
    if tag == "t":
        return TimeTag(_U64.unpack_from(data, pos)[0])
    if tag == "r":
        return Rgba(_U32.unpack_from(data, pos)[0])
    if tag == "m":
        return Midi(data[pos:pos + 4])
    code = _U32.unpack_from(data, pos)[0]  # 'c': a character in 32 bits
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise PacketError(f"argument {k}: {code} is not a character", address)
    return chr(code)


# --------------------------------------------------------------------------- encoding


def _pad_string(s: str) -> bytes:
    b = s.encode("utf-8")
    return b + b"\0" * (4 - len(b) % 4)


_KIND_TAG = {"float": "f", "int": "i", "bool": "i", "enum": "s", "string": "s", "blob": "b"}


def reply_types(address: str, values: tuple | list) -> str:
    """Type tags mrtd sends for ``values`` at ``address``: the schema's argument kinds
    where it knows the address and the count fits, else one tag per Python type."""
    p = NAMESPACE.get(address)
    if p is not None and p.args:
        kinds = [a.kind for a in p.args]
        if p.repeats:
            fixed = kinds[:-1]
            kinds = fixed + [kinds[-1]] * max(0, len(values) - len(fixed))
        if len(kinds) == len(values):
            return "".join(_KIND_TAG[k] for k in kinds)
    return "".join(_infer_tag(v) for v in values)


def _infer_tag(v: Any) -> str:
    if v is None:
        return "N"
    if isinstance(v, str):
        return "s"
    if getattr(getattr(v, "dtype", None), "kind", "") == "b":  # numpy bool
        return "i"
    if isinstance(v, numbers.Integral):  # bool included: 0/1
        return "i" if -(2**31) <= int(v) < 2**31 else "h"
    if isinstance(v, numbers.Real):
        return "f"
    if isinstance(v, (bytes, bytearray, memoryview)):
        return "b"
    return "s"


def _encode_arg(tag: str, v: Any) -> tuple[str, bytes]:
    """One argument as ``tag`` (falling back to a wider type when it does not fit)."""
    if tag == "i":
        n = int(v)
        if -(2**31) <= n < 2**31:
            return "i", _I32.pack(n)
        return "h", _I64.pack(n)
    if tag == "h":
        return "h", _I64.pack(int(v))
    if tag == "f":
        x = float(v)
        try:
            return "f", _F32.pack(x)
        except OverflowError:
            return "d", _F64.pack(x)
    if tag == "d":
        return "d", _F64.pack(float(v))
    if tag == "b":
        b = bytes(v)
        return "b", _I32.pack(len(b)) + b + b"\0" * (-len(b) % 4)
    if tag == "N":
        return "N", b""
    return "s", _pad_string(str(v))


def encode_message(address: str, values: Iterable[Any] = (), types: str | None = None) -> bytes:
    """One OSC message; ``types`` defaults to :func:`reply_types`."""
    values = tuple(values)
    if types is None:
        types = reply_types(address, values)
    if len(types) != len(values):
        raise ValueError(f"{len(types)} type tags for {len(values)} values")
    tags, body = [","], []
    for tag, v in zip(types, values):
        t, b = _encode_arg(tag, v)
        tags.append(t)
        body.append(b)
    return _pad_string(address) + _pad_string("".join(tags)) + b"".join(body)


def encode_bundle(timetag: int, elements: Iterable[bytes]) -> bytes:
    """A bundle of already encoded messages or bundles (``timetag`` raw NTP; 1 = now)."""
    parts = [BUNDLE_TAG, _U64.pack(timetag)]
    for e in elements:
        parts += [_I32.pack(len(e)), e]
    return b"".join(parts)


# --------------------------------------------------------------------------- TCP framing

SLIP_END, SLIP_ESC, SLIP_ESC_END, SLIP_ESC_ESC = 0xC0, 0xDB, 0xDC, 0xDD


def frame_size_prefixed(packet: bytes) -> bytes:
    return _I32.pack(len(packet)) + packet


def frame_slip(packet: bytes) -> bytes:
    """SLIP, double-END style (an END before and after), as OSC 1.1 and python-osc do."""
    body = packet.replace(b"\xdb", b"\xdb\xdd").replace(b"\xc0", b"\xdb\xdc")
    return b"\xc0" + body + b"\xc0"


class StreamDeframer:
    """Splits one TCP connection's bytes into OSC packets, whichever framing it uses.

    The first byte decides: 0x00 (the high byte of an int32 size of at most
    ``max_frame``) means size prefixes; 0xC0 (END), '/' or '#' mean SLIP (with or
    without a leading END). Feed bytes with :meth:`feed`, take results with :meth:`pop`:
    a packet (bytes), a :class:`PacketError` for a bad frame while the stream stays in
    sync, or None when more bytes are needed. When the stream cannot be trusted any
    more (an impossible size, unknown framing) :attr:`fatal` is set: close it.
    Buffers stay within about two frames plus one read, and each byte is scanned once.
    """

    def __init__(self, max_frame: int = MAX_PACKET):
        self.max_frame = max_frame
        self.mode: str | None = None  # "size" or "slip"
        self.fatal: str | None = None
        self._buf = bytearray()
        self._scanned = 0  # SLIP: bytes of _buf already known to hold no END
        self._skipping = False  # SLIP: dropping an oversized frame up to its END

    def feed(self, data: bytes) -> None:
        if self.fatal is None:
            self._buf += data

    def pop(self) -> bytes | PacketError | None:
        if self.fatal is not None or not self._buf:
            return None
        if self.mode is None:
            first = self._buf[0]
            if first == 0x00:
                self.mode = "size"
            elif first in (SLIP_END, 0x2F, 0x23):
                self.mode = "slip"
            else:
                return self._fail("unrecognised TCP framing (expected an int32 size prefix or SLIP)")
        return self._pop_size() if self.mode == "size" else self._pop_slip()

    @property
    def in_frame(self) -> bool:
        """A frame has started and is not complete (bytes wait for the rest, or an
        oversized SLIP frame is being skipped): what a partial-frame timeout watches."""
        return bool(self._buf) or self._skipping

    def frame(self, packet: bytes) -> bytes:
        """``packet`` framed the way this connection frames its own."""
        return frame_slip(packet) if self.mode == "slip" else frame_size_prefixed(packet)

    def _fail(self, reason: str) -> PacketError:
        self.fatal = reason
        self._buf.clear()
        return PacketError(reason)

    def _pop_size(self) -> bytes | PacketError | None:
        buf = self._buf
        if len(buf) < 4:
            return None
        size = _I32.unpack_from(buf, 0)[0]
        if size < 0 or size > self.max_frame:
            return self._fail(f"TCP frame size {size} is outside 0..{self.max_frame}")
        if len(buf) < 4 + size:
            return None
        packet = bytes(buf[4:4 + size])
        del buf[:4 + size]
        if size == 0:
            return PacketError("empty packet")
        return packet

    def _pop_slip(self) -> bytes | PacketError | None:
        buf = self._buf
        while True:
            end = buf.find(b"\xc0", self._scanned)
            if end < 0:
                self._scanned = len(buf)
                if len(buf) > 2 * self.max_frame + 2:  # escaped bytes can double the size
                    buf.clear()
                    self._scanned = 0
                    if not self._skipping:
                        self._skipping = True
                        return PacketError(f"SLIP frame larger than {self.max_frame} bytes")
                return None
            raw = bytes(buf[:end])
            del buf[:end + 1]
            self._scanned = 0
            if self._skipping:  # the tail of an oversized frame
                self._skipping = False
                continue
            if raw:
                return _unslip(raw, self.max_frame)


def _unslip(raw: bytes, max_frame: int) -> bytes | PacketError:
    if b"\xdb" in raw:
        parts = raw.split(b"\xdb")
        out = [parts[0]]
        for p in parts[1:]:
            if not p or p[0] not in (SLIP_ESC_END, SLIP_ESC_ESC):
                return PacketError("bad SLIP escape")
            out.append(b"\xc0" if p[0] == SLIP_ESC_END else b"\xdb")
            out.append(p[1:])
        raw = b"".join(out)
    if len(raw) > max_frame:
        return PacketError(f"SLIP frame larger than {max_frame} bytes")
    return raw

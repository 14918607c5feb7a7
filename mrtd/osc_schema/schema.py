"""Types of the OSC schema: an address, its arguments, and how incoming values are checked.

Controllers disagree on types: Max sends ``i`` for whole numbers, TouchOSC sends
``f`` for everything, some send ``d``/``h``, booleans arrive as ``T``/``F`` or 0/1.
Each argument therefore names a *kind* (float, int, bool, enum, string, blob) and
accepts every OSC type a musician's controller plausibly sends for it, converting
to one Python value. Anything else — wrong type, out of range, NaN, wrong count —
is a :class:`SchemaError` with a reason fit for an ``/mrtd/error`` reply.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["float", "int", "bool", "enum", "string", "blob"]
Access = Literal["rw", "r", "w", "event"]
Route = Literal["engine", "effects", "daemon", "server"]
Role = Literal["", "output", "playing", "action"]

# OSC type tags accepted for each kind (python-osc decodes i/h as int, f/d as float).
_NUMERIC = (int, float)


class SchemaError(ValueError):
    """An OSC message that does not fit its address's schema; the text is the reply reason."""


@dataclass(frozen=True)
class Arg:
    """One argument of an OSC message."""

    name: str
    kind: Kind
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()  # enum values, in index order
    unit: str = ""
    max_bytes: int = 0  # blobs and strings: 0 = no limit beyond the packet's

    @property
    def osc_type(self) -> str:
        """The type tag mrtd itself sends for this argument (and documents)."""
        return {"float": "f", "int": "i", "bool": "i", "enum": "s", "string": "s", "blob": "b"}[self.kind]

    def coerce(self, value: Any) -> Any:
        """Check one incoming value and convert it to this argument's Python type."""
        k = self.kind
        if k in ("float", "int"):
            if isinstance(value, bool) or not isinstance(value, _NUMERIC):
                raise SchemaError(f"{self.name}: expected a number, got {_describe(value)}")
            if isinstance(value, float) and not math.isfinite(value):
                raise SchemaError(f"{self.name}: {value} is not a finite number")
            v: float | int = float(value) if k == "float" else int(round(value))
            if k == "float":
                v = self._snap(v)
            if self.min is not None and v < self.min or self.max is not None and v > self.max:
                raise SchemaError(f"{self.name}: {value} is out of range [{_num(self.min)}, {_num(self.max)}]")
            return v
        if k == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, _NUMERIC) and math.isfinite(value) and value in (0, 1):
                return bool(value)
            raise SchemaError(f"{self.name}: expected 0/1 or T/F, got {_describe(value)}")
        if k == "enum":
            if isinstance(value, str):
                if value in self.choices:
                    return value
                raise SchemaError(f"{self.name}: {value!r} is not one of {', '.join(self.choices)}")
            if isinstance(value, _NUMERIC) and not isinstance(value, bool) and math.isfinite(value):
                i = int(round(value))
                if i == value and 0 <= i < len(self.choices):
                    return self.choices[i]
            raise SchemaError(f"{self.name}: expected one of {', '.join(self.choices)} (or its index), got {_describe(value)}")
        if k == "string":
            if not isinstance(value, str):
                raise SchemaError(f"{self.name}: expected a string, got {_describe(value)}")
            if self.max_bytes and len(value.encode()) > self.max_bytes:
                raise SchemaError(f"{self.name}: string longer than {self.max_bytes} bytes")
            return value
        if k == "blob":
            if not isinstance(value, (bytes, bytearray)):
                raise SchemaError(f"{self.name}: expected a blob, got {_describe(value)}")
            if self.max_bytes and len(value) > self.max_bytes:
                raise SchemaError(f"{self.name}: blob larger than {self.max_bytes} bytes")
            return bytes(value)
        raise AssertionError(k)

    def _snap(self, v: float) -> float:
        """OSC floats are 32-bit: a fader at 0.01 sends 0.0099999998. A value within float32
        rounding of a bound is that bound, not out of range."""
        for bound in (self.min, self.max):
            if bound is not None and abs(v - bound) <= 1e-6 * max(1.0, abs(bound)):
                return float(bound)
        return v

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "kind": self.kind, "type": self.osc_type}
        if self.min is not None:
            d["min"] = self.min
        if self.max is not None:
            d["max"] = self.max
        if self.choices:
            d["choices"] = list(self.choices)
        if self.unit:
            d["unit"] = self.unit
        if self.max_bytes:
            d["max_bytes"] = self.max_bytes
        return d


@dataclass(frozen=True)
class Param:
    """One OSC address: what it takes, its default, and whether it is state or an event.

    ``access``: ``rw`` state that can be set and queried; ``r`` state that only the
    daemon changes (status, meters); ``w`` a setting that cannot be read back;
    ``event`` an action (note on, reset) with no stored value.
    ``repeat`` lets the last argument repeat: ``min_count``..``max_count`` values in all
    (a list of pitches, 128 note states, 12 tokens).
    """

    address: str
    args: tuple[Arg, ...]
    access: Access
    doc: str
    group: str
    default: tuple[Any, ...] | None = None
    min_count: int | None = None
    max_count: int | None = None
    reply: str = ""  # address of the reply this message causes, if any
    alt_args: tuple[tuple[Arg, ...], ...] = ()  # other accepted argument lists (optional args)
    # touches the daemon's files (recording, banks, prefill, audio prompts): a sender on
    # another machine needs the daemon's token first (/mrtd/auth) when it listens beyond loopback
    guarded: bool = False
    # where a message goes: "engine" (controls applied on a frame), "effects" (the engine's
    # effects chain), "daemon" (recording, MIDI channel, input capture) or "server" (the
    # network servers and the hub answer it: ping, status, subscriptions, auth, meters)
    route: Route = "engine"
    # the engine state a plain control sets and reads back: an attribute of the controls
    # ("temperature"), or an item of a list attribute ("guidance.0"); "" when handled by code
    field: str = ""
    # how an engine control behaves: "" generation state (a responsive cut, saved in banks),
    # "output" (volume, latency: neither), "playing" (note gestures: no cut, not banked),
    # "action" (reset, prefill, banks: the engine runs it)
    role: Role = ""
    # readable addresses whose values change as a side effect; subscribers are told them
    # too ("*": all readable state, as after a bank load)
    echoes: tuple[str, ...] = ()

    @property
    def banked(self) -> bool:
        """Saved in a state bank: generation state the engine holds in a field."""
        return self.route == "engine" and self.role == "" and bool(self.field) and self.access == "rw"

    @property
    def repeats(self) -> bool:
        return self.max_count is not None

    @property
    def typetag(self) -> str:
        tags = "".join(a.osc_type for a in self.args)
        return tags + "*" if self.repeats else tags

    def validate(self, values: list[Any] | tuple[Any, ...]) -> tuple[Any, ...]:
        """Check and convert a message's arguments; raise SchemaError saying what is wrong."""
        for alt in self.alt_args:
            if len(alt) == len(values):
                return tuple(spec.coerce(v) for spec, v in zip(alt, values))
        n = len(values)
        fixed = len(self.args) - (1 if self.repeats else 0)
        if self.repeats:
            lo = fixed + (self.min_count or 0)
            hi = fixed + self.max_count  # type: ignore[operator]
            if not lo <= n <= hi:
                want = f"{lo}" if lo == hi else f"{lo} to {hi}"
                raise SchemaError(f"expected {want} arguments, got {n}")
            specs = list(self.args[:fixed]) + [self.args[-1]] * (n - fixed)
        else:
            if n != len(self.args):
                raise SchemaError(f"expected {len(self.args)} argument{'s' if len(self.args) != 1 else ''} ({self.typetag or 'none'}), got {n}")
            specs = list(self.args)
        return tuple(spec.coerce(v) for spec, v in zip(specs, values))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "address": self.address,
            "typetag": self.typetag,
            "args": [a.to_dict() for a in self.args],
            "access": self.access,
            "group": self.group,
            "doc": self.doc,
        }
        if self.default is not None:
            d["default"] = list(self.default)
        if self.repeats:
            d["count"] = [self.min_count or 0, self.max_count]
        if self.reply:
            d["reply"] = self.reply
        if self.alt_args:
            d["alt_args"] = [[a.to_dict() for a in alt] for alt in self.alt_args]
        if self.guarded:
            d["guarded"] = True
        d["route"] = self.route
        if self.field:
            d["field"] = self.field
        if self.role:
            d["role"] = self.role
        if self.echoes:
            d["echoes"] = list(self.echoes)
        return d


@dataclass
class Namespace:
    """All addresses, in documentation order, with lookup by address."""

    params: list[Param] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_address = {}
        for p in self.params:
            if p.address in self._by_address:
                raise ValueError(f"duplicate OSC address {p.address}")
            self._by_address[p.address] = p

    def __iter__(self):
        return iter(self.params)

    def __len__(self) -> int:
        return len(self.params)

    def __contains__(self, address: str) -> bool:
        return address in self._by_address

    def get(self, address: str) -> Param | None:
        return self._by_address.get(address)

    def __getitem__(self, address: str) -> Param:
        try:
            return self._by_address[address]
        except KeyError:
            raise SchemaError(f"unknown address {address}") from None

    def check(self, address: str, values: list[Any] | tuple[Any, ...]) -> tuple[Any, ...]:
        """Validate an incoming message (one that sets or triggers something); the
        SchemaError's text does not repeat the address, callers prefix it."""
        param = self._by_address.get(address)
        if param is None:
            raise SchemaError("unknown address")
        if param.access == "r":
            raise SchemaError("read-only")
        return param.validate(values)

    def match(self, pattern: str) -> list[Param]:
        """The addresses an OSC 1.0 address pattern (``*``, ``?``, ``[a-z]``, ``[!0-9]``,
        ``{a,b}``) matches among those a client may send (not read-only ones), in
        namespace order. SchemaError for a malformed pattern."""
        rx = pattern_regex(pattern)
        return [p for p in self.params if p.access != "r" and rx.fullmatch(p.address)]

    def groups(self) -> list[str]:
        seen: dict[str, None] = {}
        for p in self.params:
            seen.setdefault(p.group, None)
        return list(seen)

    def to_dict(self) -> dict[str, Any]:
        return {"prefix": "/mrtd", "params": [p.to_dict() for p in self.params]}


PATTERN_CHARS = frozenset("*?[]{}")


def is_pattern(address: str) -> bool:
    """True when ``address`` is an OSC address pattern rather than a plain address."""
    return not PATTERN_CHARS.isdisjoint(address)


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """An OSC 1.0 address pattern as a regular expression. No wildcard crosses a ``/``;
    ``[!…]`` negates a class, ``-`` in a class is a range, ``{a,b}`` is a choice of
    literal strings."""
    if len(pattern) > 255 or not pattern.startswith("/"):
        raise SchemaError("an address pattern starts with / and is at most 255 characters")
    out, i, n = [], 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                raise SchemaError("unclosed [ in the address pattern")
            body = pattern[i + 1:end]
            neg = body.startswith("!")
            body = body[1:] if neg else body
            if not body or "/" in body:
                raise SchemaError("empty or invalid [] in the address pattern")
            parts, j = [], 0
            while j < len(body):
                if j + 2 < len(body) and body[j + 1] == "-":
                    lo, hi = body[j], body[j + 2]
                    if lo > hi:
                        raise SchemaError(f"range {lo}-{hi} runs backwards in the address pattern")
                    parts.append(f"{re.escape(lo)}-{re.escape(hi)}")
                    j += 3
                else:
                    parts.append(re.escape(body[j]))
                    j += 1
            out.append(f"[{'^/' if neg else ''}{''.join(parts)}]")
            i = end
        elif c == "{":
            end = pattern.find("}", i + 1)
            if end < 0:
                raise SchemaError("unclosed { in the address pattern")
            choices = pattern[i + 1:end].split(",")
            if any("/" in x for x in choices):
                raise SchemaError("a {} choice cannot hold /")
            out.append("(?:" + "|".join(re.escape(x) for x in choices) + ")")
            i = end
        elif c in "]}":
            raise SchemaError(f"unmatched {c} in the address pattern")
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out))


def _num(x: float | None) -> str:
    if x is None:
        return "-inf"
    return f"{x:g}"


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, (bytes, bytearray)):
        return f"a {len(value)}-byte blob"
    if isinstance(value, str):
        return f"string {value[:40]!r}"
    if value is None:
        return "nil"
    return f"{type(value).__name__} {value!r}"

"""Event files: frame-stamped OSC messages as JSON lines, shared by live takes and replay.

One line per applied control change: ``{"frame": F, "address": "/mrtd/...", "args": [...]}``.
A change an LFO or a scene morph made adds ``"via": "/mrtd/lfo/1"`` (what made it): it is
there for the record and the subscribers, and a replay skips it, since the replayed LFO or
morph makes it again on the same frame (scenes and LFOs, S).
``mrtd serve --record-events`` writes the engine's log in this format and
``mrtd render --events`` replays it, so live control and offline rendering speak one
vocabulary (the OSC schema) and a take re-renders bit for bit.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mrtd.errors import UserError
from mrtd.osc_schema import NAMESPACE, SchemaError


@dataclass(frozen=True)
class Event:
    frame: int
    address: str
    args: tuple[Any, ...] = ()
    # (scenes and LFOs, S) a derived change: the address of what made it (an LFO, a scene
    # morph), written as ``"via"``; a replay re-derives it from that control's own events,
    # so readers that replay leave it out (read_events(..., derived=False))
    via: str = ""

    def to_json(self) -> str:
        """One line of JSON. Strings are escaped beyond JSON's needs: non-ASCII, ``$`` and
        backquotes as ``\\uXXXX``, so the line is inert even where a shell reads it."""
        args = [a.hex() if isinstance(a, bytes) else str(a) if isinstance(a, os.PathLike) else a for a in self.args]
        d: dict[str, Any] = {"frame": self.frame, "address": self.address, "args": args}
        if self.via:
            d["via"] = self.via
        text = json.dumps(d, separators=(",", ":"), ensure_ascii=True)
        return text.replace("$", "\\u0024").replace("`", "\\u0060")


def _blob_args(address: str, args: list[Any]) -> list[Any]:
    """Blobs travel as hex strings in JSON; turn them back into bytes for validation."""
    param = NAMESPACE.get(address)
    if param is None:
        return args
    out = list(args)
    for i, spec in enumerate(param.args):
        if spec.kind == "blob" and i < len(out) and isinstance(out[i], str):
            try:
                out[i] = bytes.fromhex(out[i])
            except ValueError:
                pass  # validation reports the wrong type
    return out


def parse_event(line: str, where: str = "") -> Event:
    """One JSON line -> a validated Event; UserError naming ``where`` on any problem."""
    try:
        d = json.loads(line)
    except json.JSONDecodeError as e:
        raise UserError(f"{where}: not JSON: {e.msg}") from None
    if not isinstance(d, dict) or set(d) - {"frame", "address", "args", "via"} or "address" not in d or "frame" not in d:
        raise UserError(f"{where}: expected an object with frame, address and args")
    frame, address, args = d["frame"], d["address"], d.get("args", [])
    via = d.get("via", "")
    if not isinstance(via, str) or len(via) > 255:
        raise UserError(f"{where}: via must be an address")
    if not isinstance(frame, int) or isinstance(frame, bool) or frame < 0:
        raise UserError(f"{where}: frame must be a whole number >= 0, got {frame!r}")
    if not isinstance(args, list):
        raise UserError(f"{where}: args must be a list")
    if not isinstance(address, str):
        raise UserError(f"{where}: address must be a string")
    try:
        values = NAMESPACE.check(address, _blob_args(address, args))
    except SchemaError as e:
        raise UserError(f"{where}: {address}: {e}") from None
    return Event(frame, address, values, via)


def read_events(path: str | os.PathLike, derived: bool = False) -> list[Event]:
    """All events of a file, in frame order (file order within a frame). Derived changes
    (an LFO's or a scene morph's steps, marked ``via``) only with ``derived``: a replay
    leaves them out, the LFO or morph they came from makes them again."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise UserError(f"cannot read event file {path}: {e.strerror}") from None
    events = [
        parse_event(line, f"{path}:{n}")
        for n, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    events = [e for e in events if derived or not e.via]
    return sorted(events, key=lambda e: e.frame)  # stable: file order kept within a frame


class EventWriter:
    """Appends events as JSON lines; flushed per write so a crash loses at most one line.
    Thread-safe: the engine writes while the daemon may close it (``/mrtd/record/events/stop``)."""

    def __init__(self, path: str | os.PathLike, fd: int | None = None):
        """Write to ``path``, or to the descriptor ``fd`` already opened for it (the
        daemon creates files in its recordings folder itself, see :mod:`mrtd.datadir`)."""
        self.path = Path(path)
        try:
            if fd is not None:
                self._f: IO[str] | None = os.fdopen(fd, "w", encoding="utf-8")
            else:
                self._f = open(self.path, "w", encoding="utf-8")
        except OSError as e:
            raise UserError(f"cannot write event log {self.path.name}: {e.strerror}") from None
        self._lock = threading.Lock()
        self.on_error: Callable[[str], None] | None = None  # told once when a write fails

    def write(self, events: Iterable[Event]) -> None:
        """Append; an OS error (disk full, a removed drive) stops the log and is passed to
        :attr:`on_error` once, never raised into the generation thread."""
        reason = ""
        with self._lock:
            if self._f is None:
                return
            try:
                for e in events:
                    self._f.write(e.to_json() + "\n")
                self._f.flush()
            except OSError as err:
                f, self._f = self._f, None
                try:
                    f.close()
                except OSError:
                    pass
                reason = f"event log {self.path.name} stopped: {err.strerror or err}"
        if reason and self.on_error is not None:
            self.on_error(reason)

    def close(self) -> None:
        with self._lock:
            if self._f is not None:
                self._f.close()
                self._f = None

    def __enter__(self) -> "EventWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

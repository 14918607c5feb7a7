"""MIDI in: JACK MIDI messages become the same controls OSC sends.

Mapping (what a keyboard player expects):

* note on / note off (note on with velocity 0 is a note off) → ``/mrtd/note/on|off``;
* channel 10 note on → ``/mrtd/drums/hit`` (drum pads), whatever the channel filter;
* CC 64 (sustain, ≥ 64 = down) → ``/mrtd/notes/sustain``;
* CC 120 (all sound off) and CC 123 (all notes off) → ``/mrtd/notes/all_off``;
* any other CC listed in the config's ``[midi.cc]`` table → that numeric control,
  0..127 spread over the control's range (logarithmically for Hz and for ranges
  spanning more than two decades, so a filter knob feels right).

``/mrtd/midi/channel`` filters notes and CCs to one channel (1..16, 0 = all).
Each message is stamped on the JACK thread with the output stream sample it arrived
at, and lands on the frame :meth:`Engine.frame_for_sample` gives: a constant latency,
no jitter from when this thread happens to wake up.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Mapping
from typing import Any

from mrtd.audio.rings import MidiRing
from mrtd.errors import UserError
from mrtd.osc_schema import NAMESPACE
from mrtd.remote.hub import Hub

log = logging.getLogger("mrtd.midi")

DRUM_CHANNEL = 10


class CCMap:
    """Controller number → numeric control, from the config's ``[midi.cc]`` table."""

    def __init__(self, table: Mapping[str | int, str] | None = None):
        self.map: dict[int, tuple[str, Any]] = {}
        for cc, address in (table or {}).items():
            try:
                n = int(cc)
            except ValueError:
                raise UserError(f"[midi.cc]: {cc!r} is not a controller number") from None
            if not 0 <= n <= 127 or n in (64, 120, 123):
                raise UserError(f"[midi.cc]: controller {n} is out of 0..127 or reserved (64, 120, 123)")
            param = NAMESPACE.get(address)
            if param is None or param.access != "rw" or len(param.args) != 1 or param.repeats:
                raise UserError(f"[midi.cc] {n}: {address!r} is not a single-value control")
            arg = param.args[0]
            if arg.kind not in ("float", "int", "bool", "enum"):
                raise UserError(f"[midi.cc] {n}: {address} takes a {arg.kind}, not a number")
            self.map[n] = (address, arg)

    def value(self, cc: int, v: int) -> tuple[str, Any] | None:
        entry = self.map.get(cc)
        if entry is None:
            return None
        address, arg = entry
        x = v / 127.0
        if arg.kind == "bool":
            return address, v >= 64
        if arg.kind == "enum":
            return address, arg.choices[min(int(x * len(arg.choices)), len(arg.choices) - 1)]
        lo, hi = float(arg.min), float(arg.max)
        if lo > 0 and (arg.unit == "Hz" or hi / lo >= 100):
            y = lo * math.exp(x * math.log(hi / lo))
        else:
            y = lo + x * (hi - lo)
        y = min(max(y, lo), hi)
        return address, int(round(y)) if arg.kind == "int" else y


def translate(message: bytes, channel: int, ccmap: CCMap) -> list[tuple[str, tuple]]:
    """One MIDI message → the controls it means (empty for what mrtd ignores)."""
    if len(message) < 2:
        return []
    status, kind, ch = message[0], message[0] & 0xF0, (message[0] & 0x0F) + 1
    if status >= 0xF0:
        return []
    if kind == 0x90 and ch == DRUM_CHANNEL and len(message) == 3 and message[2] > 0:
        return [("/mrtd/drums/hit", ())]
    if channel and ch != channel or ch == DRUM_CHANNEL:
        return []
    if kind == 0x90 and len(message) == 3:
        return [("/mrtd/note/on", (message[1], message[2])) if message[2] else ("/mrtd/note/off", (message[1],))]
    if kind == 0x80:
        return [("/mrtd/note/off", (message[1],))]
    if kind == 0xB0 and len(message) == 3:
        cc, v = message[1], message[2]
        if cc == 64:
            return [("/mrtd/notes/sustain", (v >= 64,))]
        if cc in (120, 123):
            return [("/mrtd/notes/all_off", ())]
        mapped = ccmap.value(cc, v)
        return [(mapped[0], (mapped[1],))] if mapped else []
    return []


class MidiRouter:
    """Drains the JACK thread's MIDI ring into the hub, on frames stamped by arrival."""

    def __init__(self, hub: Hub, ring: MidiRing, ccmap: CCMap | None = None):
        self.hub, self.ring = hub, ring
        self.ccmap = ccmap or CCMap()
        self.channel = int(NAMESPACE["/mrtd/midi/channel"].default[0])  # type: ignore[index]
        self.received = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        hub.register("/mrtd/midi/channel", self._set_channel, lambda: (self.channel,))

    def _set_channel(self, values: tuple) -> None:
        self.channel = int(values[0])

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="mrtd-midi", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)

    def drain(self) -> int:
        """Route every waiting message; returns how many there were."""
        n = 0
        while (item := self.ring.pop()) is not None:
            stamp, message = item
            n += 1
            frame = self.hub.engine.frame_for_sample(stamp)
            for address, args in translate(message, self.channel, self.ccmap):
                try:
                    self.hub.handle(address, args, frame)
                except UserError as e:
                    log.warning("MIDI %s: %s", message.hex(" "), e)
        self.received += n
        return n

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.drain():
                time.sleep(0.001)

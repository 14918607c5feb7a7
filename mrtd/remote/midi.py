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

The JACK thread only copies each event's bytes into a ring (no parsing, no objects on
the real-time thread); this module's router thread pops them and parses them with
``mido``, which checks lengths and data bytes, so a malformed message is dropped whole
rather than half-read. :func:`translate` also takes a ``mido.Message`` as it is, so MIDI
read from a file maps the same way as MIDI played live.

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

import mido

from mrtd.audio.rings import MidiRing
from mrtd.controls.midimap import ALL_OFF, SUSTAIN, message_controls
from mrtd.errors import UserError
from mrtd.osc_schema import NAMESPACE
from mrtd.remote.hub import Hub

log = logging.getLogger("mrtd.midi")



class CCMap:
    """Controller number → numeric control, from the config's ``[midi.cc]`` table."""

    def __init__(self, table: Mapping[str | int, str] | None = None):
        self.map: dict[int, tuple[str, Any]] = {}
        for cc, address in (table or {}).items():
            try:
                n = int(cc)
            except ValueError:
                raise UserError(f"[midi.cc]: {cc!r} is not a controller number") from None
            if not 0 <= n <= 127 or n in (SUSTAIN, *ALL_OFF):
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


def parse(raw: bytes) -> mido.Message | None:
    """JACK MIDI bytes as a :class:`mido.Message`; None for what is not one whole valid
    message (a short or over-long message, a data byte above 127). JACK delivers whole
    messages, never running status, so one event is one message."""
    try:
        return mido.Message.from_bytes(raw)
    except (ValueError, TypeError):
        return None


def translate(message: bytes | mido.Message, channel: int, ccmap: CCMap) -> list[tuple[str, tuple]]:
    """One MIDI message (JACK bytes, or a parsed one: a MIDI file's) → the controls it
    means (empty for what mrtd ignores). ``channel``: 1..16 to take notes and CCs from
    that channel only, 0 for all; channel 10 drums pass whatever it is."""
    msg = parse(message) if isinstance(message, (bytes, bytearray)) else message
    if msg is None:  # invalid bytes
        return []
    return message_controls(msg, channel, ccmap.value)


class MidiRouter:
    """Drains the JACK thread's MIDI ring into the hub, on frames stamped by arrival."""

    def __init__(self, hub: Hub, ring: MidiRing, ccmap: CCMap | None = None):
        self.hub, self.ring = hub, ring
        self.ccmap = ccmap or CCMap()
        self.channel = int(NAMESPACE["/mrtd/midi/channel"].default[0])  # type: ignore[index]
        self.received = 0
        self._refused: set[str] = set()  # addresses whose refusal was logged
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
                    if address not in self._refused:  # once per address: a keyboard under v1 would flood the log
                        self._refused.add(address)
                        log.warning("MIDI %s: %s (further refusals of %s are not logged)",
                                    message.hex(" "), e, address)
        self.received += n
        return n

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.drain():
                time.sleep(0.001)

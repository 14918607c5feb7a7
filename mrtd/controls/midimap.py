"""What a MIDI message means to mrtd: one mapping for live MIDI and for MIDI files.

Live MIDI (``mrtd.remote.midi``, from JACK) and a file played by
``mrtd.engine.midifile`` must turn the same message into the same controls, or a file
would not sound like the keyboard that recorded it. The message is any object with
mido's fields (``type``, ``channel`` from 0, ``note``, ``velocity``, ``control``,
``value``): no MIDI library is imported here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

DRUM_CHANNEL = 10  # General MIDI percussion, counted from 1
SUSTAIN = 64  # damper pedal: >= 64 is down
ALL_OFF = (120, 123)  # all sound off, all notes off

CCLookup = Callable[[int, int], "tuple[str, Any] | None"]  # (controller, value) -> (address, value)


def message_controls(msg: Any, channel: int = 0, cc: CCLookup | None = None) -> list[tuple[str, tuple]]:
    """The controls one channel message means (empty for what mrtd ignores).
    ``channel``: 1..16 to take notes and CCs from that channel only, 0 for all; channel 10
    drums pass whatever it is. ``cc``: the controller table for other CCs (none: ignored)."""
    if not hasattr(msg, "channel"):  # system messages (clock, sysex, meta events in a file)
        return []
    ch = msg.channel + 1  # mido counts channels from 0, musicians and the schema from 1
    if ch == DRUM_CHANNEL:
        return [("/mrtd/drums/hit", ())] if msg.type == "note_on" and msg.velocity > 0 else []
    if channel and ch != channel:
        return []
    if msg.type == "note_on":
        return [("/mrtd/note/on", (msg.note, msg.velocity)) if msg.velocity else ("/mrtd/note/off", (msg.note,))]
    if msg.type == "note_off":
        return [("/mrtd/note/off", (msg.note,))]
    if msg.type == "control_change":
        n, v = msg.control, msg.value
        if n == SUSTAIN:
            return [("/mrtd/notes/sustain", (v >= 64,))]
        if n in ALL_OFF:
            return [("/mrtd/notes/all_off", ())]
        mapped = cc(n, v) if cc is not None else None
        return [(mapped[0], (mapped[1],))] if mapped else []
    return []

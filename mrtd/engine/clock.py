"""The musical clock: which frame plays which beat, so changes can land on the grid.

mrtd makes audio in 40 ms frames (25 a second); musicians count bars and beats. The clock
maps one to the other with a piecewise-linear beat line: a tempo is a slope (beats per
frame) from an anchor ``(frame, beat)``. A tempo change at frame F re-anchors there, so
the beat count never jumps; an external source (JACK transport, Ableton Link) re-anchors
on every position it reports. With the internal source frame 0 is the start of bar 1: at
120 BPM in 4/4 a beat is 12.5 frames and a bar exactly 50.

A beat boundary that falls between two frames belongs to the frame that plays at that
moment, rounded to the nearest frame (half a frame at most, 20 ms), so a change quantised
to a bar starts on the frame whose audio starts nearest the downbeat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mrtd.constants import FRAME_RATE

UNITS = ("beat", "bar")
TICKS_PER_BEAT = 1920  # the resolution positions are reported in (a common MIDI/JACK choice)


@dataclass(frozen=True)
class Position:
    """What an external tempo source (JACK transport, Ableton Link) reports, mapped to
    output stream samples. ``beats``: beats since bar 1 beat 1 at output sample
    ``sample``; ``rolling``: the beat advances with time (a stopped transport does not)."""

    sample: int
    beats: float
    bpm: float
    beats_per_bar: int
    beat_unit: int
    rolling: bool = True


@dataclass
class MusicalClock:
    """Tempo, meter and the anchor of the beat line (all changed only on the generation
    thread, at frame boundaries)."""

    bpm: float = 120.0
    beats_per_bar: int = 4
    beat_unit: int = 4
    anchor_frame: int = 0  # the frame whose start is at beat ``anchor_beat``
    anchor_beat: float = 0.0  # beats since the start (0 = bar 1, beat 1)
    bar_beat: float = 0.0  # a beat where a bar starts (the meter holds from here)
    bar_index: int = 0  # bars before ``bar_beat`` (bar numbers run on across a meter change)
    # a meter change waiting for its bar line (``bar_beat`` ahead): the grid before it
    prev_beats_per_bar: int = 0  # 0: none waiting
    prev_bar_beat: float = 0.0
    prev_bar_index: int = 0

    # ---- the beat line ---------------------------------------------------------------
    def frames_per_beat(self) -> float:
        return FRAME_RATE * 60.0 / self.bpm

    def beat_at(self, frame: float) -> float:
        """Beats since the start at the start of ``frame``."""
        return self.anchor_beat + (frame - self.anchor_frame) / self.frames_per_beat()

    def frame_of_beat(self, beat: float) -> int:
        """The frame that plays at ``beat`` (nearest frame start; halves round up)."""
        return math.floor(self.anchor_frame + (beat - self.anchor_beat) * self.frames_per_beat() + 0.5)

    def unit_beats(self, unit: str) -> int:
        if unit == "beat":
            return 1
        if unit == "bar":
            return self.beats_per_bar
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, got {unit!r}")

    def _pending(self, frame: float) -> bool:
        """``frame`` is before the bar line where a waiting meter change starts."""
        return self.prev_beats_per_bar > 0 and frame < self.frame_of_beat(self.bar_beat)

    def _bar_grid(self, frame: float) -> tuple[float, int, int]:
        """(a bar line's beat, beats per bar, bars before it) of the meter at ``frame``."""
        if self._pending(frame):
            return self.prev_bar_beat, self.prev_beats_per_bar, self.prev_bar_index
        return self.bar_beat, self.beats_per_bar, self.bar_index

    def boundary_beat(self, frame: int, unit: str) -> float:
        """The exact beat of the first ``unit`` boundary played at or after ``frame``."""
        self.unit_beats(unit)  # checks the unit
        origin, n = (self._bar_grid(frame)[:2]) if unit == "bar" else (0.0, 1)
        k = math.floor((self.beat_at(frame) - origin) / n)
        while True:
            b = origin + k * n
            if self.frame_of_beat(b) >= frame:
                return b
            k += 1

    def next_boundary(self, frame: int, unit: str) -> int:
        """The first frame at or after ``frame`` that plays a ``unit`` boundary (``frame``
        itself when it is one: a change posted on a boundary applies at once)."""
        return self.frame_of_beat(self.boundary_beat(frame, unit))

    def position(self, frame: int) -> tuple[int, int, int]:
        """(bar, beat, tick) at the start of ``frame``: bar and beat count from 1."""
        origin, bpb, before = self._bar_grid(frame)
        rel = self.beat_at(frame) - origin
        bar = math.floor(rel / bpb)
        in_bar = rel - bar * bpb
        beat = math.floor(in_bar)
        tick = min(int((in_bar - beat) * TICKS_PER_BEAT), TICKS_PER_BEAT - 1)
        return before + bar + 1, beat + 1, tick

    def bars_to_frames(self, bars: float) -> int:
        """The length of ``bars`` bars at the current tempo, in whole frames."""
        return max(1, round(bars * self.beats_per_bar * self.frames_per_beat()))

    def beats_to_frames(self, beats: float) -> int:
        return max(0, round(beats * self.frames_per_beat()))

    # ---- changes (generation thread, at a frame boundary) ------------------------------
    def set_tempo(self, frame: int, bpm: float) -> None:
        """A new tempo from ``frame`` on; the beat count is continuous there."""
        if not (bpm > 0 and math.isfinite(bpm)):
            raise ValueError(f"tempo must be a positive number of BPM, got {bpm!r}")
        self.anchor_beat, self.anchor_frame, self.bpm = self.beat_at(frame), int(frame), float(bpm)

    def set_meter(self, frame: int, beats_per_bar: int, beat_unit: int = 4) -> None:
        """A new meter from the next bar line at or after ``frame`` (bars stay whole)."""
        if beats_per_bar < 1 or beat_unit < 1:
            raise ValueError(f"meter must be positive, got {beats_per_bar}/{beat_unit}")
        origin, bpb, before = self._bar_grid(frame)
        line = self.boundary_beat(frame, "bar")  # an exact bar line of the meter playing now
        if not self._pending(frame):  # the grid up to that line (a change still waiting keeps its own)
            self.prev_bar_beat, self.prev_beats_per_bar, self.prev_bar_index = origin, bpb, before
        self.bar_index = before + round((line - origin) / bpb)
        self.bar_beat = line
        self.beats_per_bar, self.beat_unit = int(beats_per_bar), int(beat_unit)

    def follow(self, frame: int, bar: int, beat: int, tick: float, bpm: float, beats_per_bar: int,
               beat_unit: int = 4, ticks_per_beat: float = TICKS_PER_BEAT) -> None:
        """Re-anchor on a position an external source reports for the start of ``frame``
        (bar and beat from 1, as JACK's BBT and Link's phase give them)."""
        self.bpm = float(bpm)
        self.beats_per_bar, self.beat_unit = int(beats_per_bar), int(beat_unit)
        beats = (bar - 1) * self.beats_per_bar + (beat - 1) + tick / ticks_per_beat
        self.anchor_frame, self.anchor_beat, self.bar_beat = int(frame), float(beats), 0.0
        self.bar_index, self.prev_beats_per_bar = 0, 0

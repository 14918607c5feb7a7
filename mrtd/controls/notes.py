"""Note tracker: MIDI-style note on/off in, MRT2's 128 per-pitch states out, once per frame.

MRT2 is conditioned per 40 ms frame on one state per MIDI pitch: -1 masked (model
free), 0 off, 1 sustain, 2 onset, 3 on (model decides onset or continuation). Players
press keys between frames, so the tracker latches: a note pressed and released within
one frame still produces its onset on the next frame, and it is never lost.

Only the generation thread touches a tracker (the engine applies queued events at the
frame boundary), so there is no locking here.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

PITCHES = 128
MASKED, OFF, SUSTAIN, ONSET, ON = -1, 0, 1, 2, 3
OnsetMode = Literal["auto_strum", "unmask"]


class NoteTracker:
    """Held keys, the sustain pedal and latched onsets; :meth:`frame` turns them into states."""

    def __init__(self) -> None:
        self.held = np.zeros(PITCHES, dtype=bool)  # key is down
        self.pedalled = np.zeros(PITCHES, dtype=bool)  # key released while the pedal is down
        self.onset = np.zeros(PITCHES, dtype=bool)  # pressed since the last frame
        self.pedal = False

    def note_on(self, pitch: int) -> None:
        self.held[pitch] = True
        self.onset[pitch] = True  # a re-press of a held note is a new onset

    def note_off(self, pitch: int) -> None:
        if self.held[pitch] and self.pedal:
            self.pedalled[pitch] = True
        self.held[pitch] = False

    def sustain(self, down: bool) -> None:
        self.pedal = bool(down)
        if not self.pedal:
            self.pedalled[:] = False

    def all_off(self) -> None:
        """Panic: release every key and the pedal; latched onsets are dropped too."""
        self.held[:] = False
        self.pedalled[:] = False
        self.onset[:] = False
        self.pedal = False

    @property
    def active(self) -> np.ndarray:
        """Pitches sounding in the coming frame (held, pedalled, or pressed since the last frame)."""
        return self.held | self.pedalled | self.onset

    def frame(
        self,
        raw: np.ndarray | None = None,
        onset_mode: OnsetMode = "auto_strum",
        unmask_width: int = 0,
    ) -> np.ndarray:
        """The 128 states for the next frame, then clear the onset latches.

        ``raw`` is the base layer (explicit per-pitch states, default all masked).
        Around each sounding note, still-masked pitches within ``unmask_width``
        semitones are set off (127 or more: every masked pitch is off, i.e. "solo").
        Sounding notes then get 2/1 (``unmask``) or 3 (``auto_strum``).
        """
        states = np.full(PITCHES, MASKED, dtype=np.int8) if raw is None else np.array(raw, dtype=np.int8)
        active = self.active
        if active.any() and unmask_width > 0:
            if unmask_width >= PITCHES - 1:
                near = np.ones(PITCHES, dtype=bool)
            else:
                # dilate the active set by unmask_width semitones either side
                idx = np.flatnonzero(active)
                offsets = np.arange(-unmask_width, unmask_width + 1)
                hits = (idx[:, None] + offsets[None, :]).ravel()
                near = np.zeros(PITCHES, dtype=bool)
                near[hits[(hits >= 0) & (hits < PITCHES)]] = True
            states[near & (states == MASKED)] = OFF
        if onset_mode == "unmask":
            states[active] = np.where(self.onset[active], ONSET, SUSTAIN)
        else:
            states[active] = ON
        self.onset[:] = False
        return states

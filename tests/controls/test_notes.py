"""Note tracker semantics: latched onsets, onset modes, unmask width, sustain pedal, panic."""

from __future__ import annotations

import numpy as np

from mrtd.controls.notes import MASKED, OFF, ON, ONSET, SUSTAIN, NoteTracker


def test_idle_frame_is_all_masked():
    assert (NoteTracker().frame() == MASKED).all()


def test_unmask_mode_gives_onset_then_sustain_then_nothing():
    t = NoteTracker()
    t.note_on(60)
    assert t.frame(onset_mode="unmask")[60] == ONSET
    assert t.frame(onset_mode="unmask")[60] == SUSTAIN
    t.note_off(60)
    assert t.frame(onset_mode="unmask")[60] == MASKED


def test_onset_released_within_one_frame_is_not_lost():
    t = NoteTracker()
    t.note_on(64)
    t.note_off(64)  # released before the frame boundary
    s = t.frame(onset_mode="unmask")
    assert s[64] == ONSET
    assert t.frame(onset_mode="unmask")[64] == MASKED  # and only once


def test_auto_strum_lets_the_model_decide():
    t = NoteTracker()
    t.note_on(48)
    assert t.frame()[48] == ON
    assert t.frame()[48] == ON


def test_repress_of_held_note_is_a_new_onset():
    t = NoteTracker()
    t.note_on(60)
    t.frame(onset_mode="unmask")
    t.note_on(60)
    assert t.frame(onset_mode="unmask")[60] == ONSET


def test_unmask_width_sets_neighbours_off_and_leaves_the_rest_free():
    t = NoteTracker()
    t.note_on(60)
    s = t.frame(unmask_width=2)
    assert s[60] == ON
    assert list(s[58:60]) == [OFF, OFF] and list(s[61:63]) == [OFF, OFF]
    assert s[57] == MASKED and s[63] == MASKED


def test_width_127_is_solo():
    t = NoteTracker()
    t.note_on(0)
    s = t.frame(unmask_width=127)
    assert s[0] == ON and (s[1:] == OFF).all()


def test_raw_layer_is_kept_and_width_only_touches_masked_pitches():
    raw = np.full(128, MASKED, dtype=np.int8)
    raw[59] = ON
    raw[70] = SUSTAIN
    t = NoteTracker()
    t.note_on(60)
    s = t.frame(raw, unmask_width=1)
    assert s[59] == ON and s[61] == OFF and s[70] == SUSTAIN and s[60] == ON
    assert raw[61] == MASKED  # the caller's array is not modified


def test_sustain_pedal_holds_released_notes_until_lifted():
    t = NoteTracker()
    t.sustain(True)
    t.note_on(60)
    t.note_off(60)
    t.frame(onset_mode="unmask")
    assert t.frame(onset_mode="unmask")[60] == SUSTAIN
    t.sustain(False)
    assert t.frame(onset_mode="unmask")[60] == MASKED


def test_all_off_releases_everything_including_the_pedal():
    t = NoteTracker()
    t.sustain(True)
    for p in (60, 64, 67):
        t.note_on(p)
    t.all_off()
    assert (t.frame() == MASKED).all()
    assert not t.pedal

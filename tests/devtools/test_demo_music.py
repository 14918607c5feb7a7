"""The trained demo makes music (issue 23): measured on renders of the shipped model
through a real engine. Figures for every check: ``python -m mrtd.devtools.demo_checks``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mrtd.devtools import demo_checks as dc

pytestmark = pytest.mark.slow


def test_held_notes_are_the_pitches_heard():
    """MIDI 57, 64 and 69 held 2 s each: the dominant pitch of each is within a semitone
    of 220, 329.6 and 440 Hz."""
    for seg in dc.pitch_check(seed=0):
        assert not math.isnan(seg["semitones"]) and abs(seg["semitones"]) < 1.0, seg


def test_the_codec_carries_the_pitch():
    """The codec alone (encoder, 12 RVQ levels, decoder; no sampling): MIDI 57, 64 and 69
    held in the sustained families come out within a semitone of the pitch asked."""
    for family, rows in dc.codec_pitch_check(("organ", "brass", "pad")).items():
        for r in rows:
            assert not math.isnan(r["semitones"]) and abs(r["semitones"]) < 1.0, (family, r)


def test_drums_on_are_onsets_and_drums_off_are_not():
    d = dc.drums_check()
    assert d["onset_ratio_on"] > 3.0 * d["onset_ratio_off"], d
    assert d["onset_ratio_drums_alone"] > 3.0 * d["onset_ratio_off"], d


def test_two_styles_sound_different():
    t = dc.timbre_check("brass", "pad")
    assert t["centroid_ratio"] > 1.3, t


def test_nothing_asked_is_near_silence():
    """At the demo's own default temperature (0.8, its manifest's ``defaults``)."""
    s = dc.silence_check()
    assert s["level_dbfs"] < -50, s
    assert s["level_after_a_note_dbfs"] < -50, s


def test_render_demo_says_what_it_is(tmp_path):
    import subprocess
    import sys

    import soundfile as sf

    out = tmp_path / "d.wav"
    r = subprocess.run([sys.executable, "-m", "mrtd", "render", "--demo", "--seconds", "2", "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "trained on synthetic notes" in r.stdout + r.stderr
    audio, rate = sf.read(out)
    assert rate == 48000 and audio.shape == (96000, 2) and np.isfinite(audio).all()
    both = subprocess.run([sys.executable, "-m", "mrtd", "render", "--demo", "--demo-random", "--out", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert both.returncode != 0 and "not allowed with" in both.stderr

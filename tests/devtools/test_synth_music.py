"""The demo model's training data (issue 23): seeded synthetic music whose conditioning is
exactly what the engine gives for the same playing, and the measurements that will check
the trained demo (pitch, onsets, centroid, level) checked on it. Real engine, numpy."""

from __future__ import annotations

import numpy as np
import pytest

from mrtd.constants import FRAME, SAMPLE_RATE
from mrtd.devtools import music_checks as mc
from mrtd.devtools.synth_music import (
    FAMILIES,
    family_tokens,
    grid_hz,
    midi_hz,
    render_piece,
)


def test_pieces_are_seeded():
    a, b, c = render_piece(11, 4.0), render_piece(11, 4.0), render_piece(12, 4.0)
    assert np.array_equal(a.audio, b.audio) and np.array_equal(a.cond, b.cond)
    assert not np.array_equal(a.audio, c.audio)
    assert a.audio.shape == (100 * FRAME, 2) and a.audio.dtype == np.float32 and a.cond.shape == (100, 144)
    assert np.isfinite(a.audio).all() and np.abs(a.audio).max() <= 0.9 + 1e-6
    assert -40 < mc.level_dbfs(a.audio) < -6


@pytest.mark.parametrize("seed,kwargs", [
    (3, dict(kind="song", drums=True, onset_mode="auto_strum", unmask_width=0, mask_style=False, mask_drums=False)),
    (4, dict(kind="solo", drums=False, onset_mode="unmask", unmask_width=127, mask_style=True, mask_drums=False)),
    (5, dict(kind="chords", drums=True, onset_mode="auto_strum", unmask_width=0, mask_style=False, mask_drums=True)),
])
def test_conditioning_is_what_the_engine_gives(seed, kwargs):
    """The same playing posted to a real engine (notes, drums, the family's tokens in a
    prompt slot, the tracker's settings) conditions every frame with the same 144 ids."""
    from mrtd.engine.demo import build_random_demo
    from mrtd.engine.engine import Engine
    from mrtd.engine.render import render

    p = render_piece(seed, 6.0, **kwargs)
    e = Engine(*build_random_demo(), seed=0)
    e.post("/mrtd/notes/onset_mode", kwargs["onset_mode"], frame=0)
    e.post("/mrtd/notes/unmask_width", kwargs["unmask_width"], frame=0)
    for f in range(p.frames):  # the drums as asked, switched where the piece switches them
        if f == 0 or p.drums[f] != p.drums[f - 1]:
            e.post("/mrtd/drums", {-1: "auto", 0: "off", 1: "on"}[int(p.drums[f])], frame=f)
    if p.family >= 0:
        e.post("/mrtd/prompt/1/tokens", *[int(t) for t in family_tokens(p.family)], frame=0)
    for n in p.events:
        e.post("/mrtd/note/on", n.pitch, frame=n.start)
        if n.end < p.frames:
            e.post("/mrtd/note/off", n.pitch, frame=n.end)
    render(e, p.frames / 25)  # the engine makes (at least) every frame of the piece
    made = np.stack([e.looper.history[f].controls.cond for f in range(p.frames)])  # what each frame was made with
    assert np.array_equal(made, p.cond)


def test_held_notes_are_the_pitch_heard():
    p = render_piece(21, 12.0, kind="solo", family=1, drums=False)
    checked = 0
    for n in p.events:
        if n.end - n.start >= 15:  # 0.6 s and more: the first 0.5 s of it
            seg = p.audio[n.start * FRAME:n.start * FRAME + SAMPLE_RATE // 2]
            heard = mc.dominant_pitch_hz(seg)
            # tuned to the 25 Hz grid: partials move by up to 12.5 Hz, the pitch heard less
            assert abs(mc.semitones(heard, grid_hz(midi_hz(n.pitch)))) < 1.0, n
            if n.pitch >= 57:  # from A3 up the grid is within a semitone of the true pitch
                assert abs(mc.semitones(heard, midi_hz(n.pitch))) < 1.0, n
            checked += 1
    assert checked >= 3


def test_silence_asked_is_silence_heard():
    p = render_piece(9, 12.0, kind="song", drums=False)
    sounding = (p.notes >= 1).any(1)
    quiet = 0
    for f in range(30, p.frames):
        if not sounding[f - 30:f + 1].any() and not p.drums_playing[f - 30:f + 1].any():
            assert mc.level_dbfs(p.audio[f * FRAME:(f + 1) * FRAME]) < -60, f
            quiet += 1
    assert quiet >= 20


def test_drums_are_onsets_and_timbres_differ():
    on = render_piece(8, 8.0, kind="chords", family=0, drums=True)  # a seed that never switches them
    off = render_piece(8, 8.0, kind="chords", family=0, drums=False)
    assert (on.drums == 1).all() and (off.drums == 0).all()
    assert mc.onset_ratio(on.audio) > 5 * mc.onset_ratio(off.audio)
    cent = {f: mc.spectral_centroid_hz(render_piece(5, 8.0, kind="chords", family=k, drums=False).audio)
            for k, f in enumerate(FAMILIES)}
    assert cent["brass"] > 1.3 * cent["pad"]
    assert len(set(map(tuple, (family_tokens(k) for k in range(4))))) == 4


def test_drums_play_where_asked_notes_or_not():
    """Drums follow their own switch, not the notes: pieces switch them on and off on the
    way (what teaches the model to start and stop on ``/mrtd/drums``), and they play in
    the gaps between notes too."""
    switched = 0
    for seed in range(12):
        p = render_piece(seed, 8.0, mask_drums=False)
        hits = np.flatnonzero(p.drums_playing)
        assert (p.drums[hits] == 1).all()  # never a hit where they are off
        switched += int((np.diff(p.drums) != 0).any())
    assert switched >= 3
    p = render_piece(3, 12.0, kind="solo", drums=True, mask_drums=False)
    silent_keys = ~(p.notes >= 1).any(1)
    assert (p.drums_playing & silent_keys).any()


def test_music_checks_on_known_signals():
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    sine = np.sin(2 * np.pi * 261.63 * t)
    assert abs(mc.semitones(mc.dominant_pitch_hz(sine), 261.63)) < 0.05
    assert mc.level_dbfs(sine) == pytest.approx(-3.01, abs=0.01)
    assert np.isnan(mc.dominant_pitch_hz(np.zeros(SAMPLE_RATE)))
    assert mc.spectral_centroid_hz(sine) == pytest.approx(261.63, rel=0.05)

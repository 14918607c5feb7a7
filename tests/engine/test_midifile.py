"""MIDI files through the note tracker: `mrtd render --midi` and live /mrtd/midi/play.

The files are written here with mido: a tempo change in the middle, notes on channel 1
and drums on channel 10, so each onset's frame can be worked out by hand."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mido
import numpy as np
import pytest
from support.render_cli import render_demo, write_events

from mrtd.controls.events import EventWriter, read_events
from mrtd.controls.notes import MASKED, ON
from mrtd.datadir import DataDir
from mrtd.engine.demo import build_random_demo
from mrtd.engine.engine import Engine
from mrtd.engine.midifile import (
    RELEASE_TAIL_S,
    MidiPlayer,
    controls_for,
    parse_song,
    register,
)
from mrtd.errors import ControlError
from mrtd.remote.hub import Hub, Sender
from mrtd.remote.midi import CCMap, translate

TPB = 480


def write_song(path: Path) -> Path:
    """Type 1, 480 ticks a quarter: 120 BPM, then 60 BPM from tick 960 (second 1.0).

    channel 1: C4 at 0 s (off 0.5 s), E4 at 1.0 s (off 2.0 s), G4 tick 1200 = 1.5 s
    (off tick 1400 = 1.917 s), D4 tick 100 = 0.104 s (off tick 200 = 0.208 s);
    channel 10: kick at 0 s and at tick 1680 = 2.5 s; the end of the file is tick 1920 = 3.0 s."""
    m = mido.MidiFile(type=1, ticks_per_beat=TPB)
    tempo = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500000, time=0),
                            mido.MetaMessage("set_tempo", tempo=1000000, time=960),
                            mido.MetaMessage("end_of_track", time=960)])
    notes = [(0, "note_on", 60), (100, "note_on", 62), (200, "note_off", 62), (480, "note_off", 60),
             (960, "note_on", 64), (1200, "note_on", 67), (1400, "note_off", 67), (1440, "note_off", 64)]
    keys, now = mido.MidiTrack(), 0
    for tick, kind, note in notes:
        keys.append(mido.Message(kind, note=note, velocity=100 if kind == "note_on" else 0, channel=0,
                                 time=tick - now))
        now = tick
    drums = mido.MidiTrack([mido.Message("note_on", note=36, velocity=110, channel=9, time=0),
                            mido.Message("note_off", note=36, channel=9, time=240),
                            mido.Message("note_on", note=36, velocity=110, channel=9, time=1440),
                            mido.Message("note_off", note=36, channel=9, time=120)])
    m.tracks += [tempo, keys, drums]
    m.save(str(path))
    return path


# frame = nearest frame start to the time (25 frames a second, halves up)
ONSETS = {60: 0, 62: 3, 64: 25, 67: 38}  # 0 s, 0.104 s (2.6), 1.0 s, 1.5 s (37.5)
OFFS = {62: 5, 60: 13, 67: 48, 64: 50}  # 0.208 s (5.2), 0.5 s (12.5), 1.917 s (47.9), 2.0 s
DRUMS = [0, 63]  # 0 s, 2.5 s (62.5)


@pytest.fixture(scope="module")
def demo():
    return build_random_demo()


@pytest.fixture
def song_file(tmp_path):
    return write_song(tmp_path / "song.mid")


def step(e: Engine):
    """One frame, its audio read out as the JACK callback would (the queue never fills)."""
    tokens = e.step_frame()
    e.read_into(np.zeros((e.output.frame, 4), np.float32))
    return tokens


def frames_of(events, address, pitch=None):
    return [e.frame for e in events if e.address == address and (pitch is None or e.args[0] == pitch)]


def note_states(e: Engine, n: int) -> dict[int, np.ndarray]:
    """Run ``n`` frames, keeping the 128 note states each frame was conditioned on."""
    seen: dict[int, np.ndarray] = {}
    frame = e.controls.tracker.frame

    def spy(*a, **k):
        s = frame(*a, **k)
        seen[e.frame] = s.copy()
        return s

    e.controls.tracker.frame = spy
    for _ in range(n):
        step(e)
    return seen


def test_the_file_maps_as_live_midi_does():
    msgs = [mido.Message("note_on", note=60, velocity=90, channel=2), mido.Message("note_on", note=60, velocity=0),
            mido.Message("note_off", note=61, channel=15), mido.Message("note_on", note=36, velocity=1, channel=9),
            mido.Message("note_off", note=36, channel=9), mido.Message("control_change", control=64, value=64),
            mido.Message("control_change", control=64, value=10), mido.Message("control_change", control=123),
            mido.Message("control_change", control=120), mido.Message("control_change", control=7, value=3),
            mido.Message("program_change", program=5), mido.Message("pitchwheel", pitch=100)]
    for m in msgs:
        assert controls_for(m) == translate(m, 0, CCMap()), m


def test_parse_honours_the_tempo_map(song_file):
    song = parse_song(song_file.read_bytes(), "song.mid")
    assert song.seconds == pytest.approx(3.0) and song.beats == pytest.approx(4.0)
    times = {(a, v[0] if v else None): s.seconds for s in song.steps for a, v in s.controls if a == "/mrtd/note/on"}
    assert times[("/mrtd/note/on", 67)] == pytest.approx(1.5)
    assert times[("/mrtd/note/on", 62)] == pytest.approx(100 / 960)


def test_render_puts_each_onset_on_its_frame(demo, song_file):
    e = Engine(*demo, seed=1)
    MidiPlayer(e).play_song(parse_song(song_file.read_bytes()))
    states = note_states(e, 80)
    ev = list(e.applied)
    for pitch, f in ONSETS.items():
        assert frames_of(ev, "/mrtd/note/on", pitch) == [f], pitch
        assert states[f][pitch] == ON and (f == 0 or states[f - 1][pitch] == MASKED), pitch
    for pitch, f in OFFS.items():
        assert frames_of(ev, "/mrtd/note/off", pitch) == [f], pitch
        assert states[f - 1][pitch] == ON and states[f][pitch] == MASKED, pitch
    assert frames_of(ev, "/mrtd/drums/hit") == DRUMS
    assert not e.controls.tracker.held.any()


def test_a_midi_render_replays_from_its_event_log(demo, song_file, tmp_path):
    log = tmp_path / "take.jsonl"
    e = Engine(*demo, seed=4, event_sink=EventWriter(log))
    MidiPlayer(e).play_song(parse_song(song_file.read_bytes()))
    a = [step(e).clone() for _ in range(60)]
    e.event_sink.close()
    again = Engine(*demo, seed=4)
    again.post_events(read_events(log))
    b = [step(again).clone() for _ in range(60)]
    assert all(bool((x == y).all()) for x, y in zip(a, b))


def test_render_cli_midi_with_events_and_default_length(song_file, tmp_path):
    events = tmp_path / "ev.jsonl"
    write_events(events, [(7, "/mrtd/temperature", [0.9])])
    out, log = tmp_path / "out.wav", tmp_path / "log.jsonl"
    render_demo("--midi", song_file, "--events", events, "--log-events", log, "--out", out)
    import soundfile as sf

    assert sf.info(str(out)).frames == round((3.0 + RELEASE_TAIL_S) * 48000)
    ev = read_events(log)
    for pitch, f in ONSETS.items():
        assert frames_of(ev, "/mrtd/note/on", pitch) == [f]
    assert frames_of(ev, "/mrtd/drums/hit") == DRUMS
    assert frames_of(ev, "/mrtd/temperature") == [7]
    # the take's log alone re-renders it bit for bit
    again = tmp_path / "again.wav"
    render_demo("--events", log, "--seconds", 3.0 + RELEASE_TAIL_S, "--out", again)
    assert np.array_equal(sf.read(str(out))[0], sf.read(str(again))[0])


def test_render_cli_refuses_a_missing_or_broken_file(tmp_path):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not a midi file at all")
    for path, words in ((tmp_path / "none.mid", "no such file"), (bad, "not a readable MIDI file")):
        r = subprocess.run([sys.executable, "-m", "mrtd", "render", "--demo", "--midi", str(path), "--out",
                            str(tmp_path / "o.wav"), "--quiet"], capture_output=True, text=True, timeout=120)
        assert r.returncode != 0 and words in r.stderr + r.stdout, r.stderr
        assert not (tmp_path / "o.wav").exists()


# ---- live: /mrtd/midi/play from the data folder ---------------------------------------------

@pytest.fixture
def live(demo, tmp_path):
    """An engine on a confined data folder (as the daemon's), its player wired into a hub."""
    files = DataDir(tmp_path / "data")
    write_song(files.folder("midi") / "song.mid")
    e = Engine(*demo, seed=2, files=files)
    player = MidiPlayer(e)
    hub = Hub(e)
    register(hub, player)
    told: list[tuple[str, tuple]] = []
    hub.add_listener(lambda a, v: told.append((a, v)))
    return e, player, hub, told, files


def test_live_play_starts_on_the_next_frame(live):
    e, player, hub, told, _ = live
    for _ in range(5):
        step(e)
    hub.handle("/mrtd/midi/play", ["song.mid"])
    for _ in range(76):  # the file ends at 3 s: frame 5 + 75
        step(e)
    ev = list(e.applied)
    for pitch, f in ONSETS.items():
        assert frames_of(ev, "/mrtd/note/on", pitch) == [5 + f]
    assert frames_of(ev, "/mrtd/drums/hit") == [5 + f for f in DRUMS]
    assert ("/mrtd/midi/playing", ("song.mid",)) in told
    assert told[-1] == ("/mrtd/midi/playing", ("",))  # ended at the file's end (3 s)
    assert hub.value("/mrtd/midi/playing") == ("",)


def test_missing_file_and_escapes_are_refused_and_change_nothing(live, tmp_path):
    e, player, hub, told, files = live
    (tmp_path / "outside.mid").write_bytes((files.folder("midi") / "song.mid").read_bytes())
    os.symlink(tmp_path / "outside.mid", files.folder("midi") / "link.mid")
    for name, words in (("nope.mid", "no such file"), ("../outside.mid", "'..' is refused"),
                        (str(tmp_path / "outside.mid"), "absolute paths are refused"),
                        ("link.mid", "leads out of the midi folder")):
        with pytest.raises(ControlError) as err:
            hub.handle("/mrtd/midi/play", [name])
        assert err.value.address == "/mrtd/midi/play" and words in str(err.value), (name, err.value)
    for _ in range(5):
        step(e)
    assert player.playing is None and not list(e.applied)
    assert not [a for a, _ in told if a.startswith(("/mrtd/midi", "/mrtd/note", "/mrtd/drums", "/mrtd/error"))]


def test_a_broken_file_is_an_error_to_its_sender(live):
    e, player, hub, told, files = live
    (files.folder("midi") / "bad.mid").write_bytes(b"MThd garbage")
    replies = []
    hub.handle("/mrtd/midi/play", ["bad.mid"], sender=Sender(reply=lambda a, r: replies.append((a, r))))
    step(e)
    assert replies and replies[0][0] == "/mrtd/midi/play" and "not a readable MIDI file" in replies[0][1]
    assert ("/mrtd/error", replies[0]) in told and player.playing is None


def test_stop_releases_the_held_notes(live):
    e, player, hub, told, _ = live
    hub.handle("/mrtd/midi/play", ["song.mid"])
    for _ in range(30):  # E4 sounding (on at 25, off at 50)
        step(e)
    assert e.controls.tracker.held[64]
    hub.handle("/mrtd/midi/stop", [])
    step(e)
    assert frames_of(e.applied, "/mrtd/note/off", 64) == [30]
    assert not e.controls.tracker.held.any() and player.playing is None
    for _ in range(40):
        step(e)
    assert frames_of(e.applied, "/mrtd/note/on", 67) == []  # nothing more after the stop


def test_loop_restarts_at_the_files_end(live):
    e, player, hub, told, _ = live
    hub.handle("/mrtd/midi/play", ["song.mid", 1])
    for _ in range(160):
        step(e)
    assert frames_of(e.applied, "/mrtd/note/on", 67) == [38, 113]  # every 3 s = 75 frames
    assert frames_of(e.applied, "/mrtd/drums/hit") == [0, 63, 75, 138, 150]
    assert player.name == "song.mid"


def test_synced_play_starts_on_the_next_bar_at_the_clocks_tempo(live):
    e, player, hub, told, _ = live
    hub.handle("/mrtd/midi/sync", [1])
    for _ in range(7):
        step(e)
    hub.handle("/mrtd/midi/play", ["song.mid", 1])
    for _ in range(160):
        step(e)
    # 120 BPM 4/4 on the clock: a quarter is 12.5 frames whatever the file's tempo; the next bar
    # starts at frame 50; the file is 4 quarters = 1 bar, so the loop is 50 frames
    assert frames_of(e.applied, "/mrtd/note/on", 60) == [50, 100, 150]
    assert frames_of(e.applied, "/mrtd/note/on", 64) == [75, 125]  # quarter 2 = beat 2 of the bar
    assert frames_of(e.applied, "/mrtd/note/on", 67) == [81, 131]  # quarter 2.5: 50 + 31.25


def test_v1_refuses_midi_files(live):
    e, player, hub, _, _ = live
    e.controls.family = "v1"
    with pytest.raises(ControlError, match="no note input"):
        hub.handle("/mrtd/midi/play", ["song.mid"])


def test_synced_play_follows_a_tempo_change_of_the_clock(live):
    e, player, hub, _, _ = live
    player.sync = True
    hub.handle("/mrtd/midi/play", ["song.mid", 1])  # frame 0 is a bar line: it starts at once
    e.post("/mrtd/tempo/bpm", 60.0, frame=60)
    for _ in range(150):
        step(e)
    # the second pass starts at beat 4 (frame 50); from frame 60 (beat 4.8) a beat is 25 frames:
    # beat 6 (E4) at 90, beat 8 (the third pass) at 140
    assert frames_of(e.applied, "/mrtd/note/on", 60) == [0, 50, 140]
    assert frames_of(e.applied, "/mrtd/note/on", 64) == [25, 90]


def test_render_needs_a_length_or_a_midi_file(tmp_path):
    r = subprocess.run([sys.executable, "-m", "mrtd", "render", "--demo", "--out", str(tmp_path / "o.wav")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "--seconds is needed" in r.stderr + r.stdout

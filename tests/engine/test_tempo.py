"""Tempo and quantised changes (internal source, in process): the grid, bad input, replay."""

from __future__ import annotations

import numpy as np
import pytest
from support.render_cli import render_demo, write_events

from mrtd.controls.events import Event, EventWriter, read_events
from mrtd.engine.demo import build_random_demo
from mrtd.engine.engine import Engine
from mrtd.engine.render import render
from mrtd.engine.tempo import QUANTISED
from mrtd.errors import UserError


@pytest.fixture(scope="module")
def demo():
    return build_random_demo()


def applied(e: Engine, address: str) -> list[int]:
    return [ev.frame for ev in e.applied if ev.address == address]


def step(e: Engine) -> None:
    """One frame, its audio taken (as the JACK callback would)."""
    e.step_frame()
    e.read_into(np.zeros((e.output.frame, 4), np.float32))


def run_to(e: Engine, frame: int) -> None:
    while e.frame < frame:
        step(e)


def test_quantize_bar_lands_on_multiples_of_50(demo):
    e = Engine(*demo)
    e.post("/mrtd/quantize", "bar")
    for at in (3, 49, 50, 77, 130):
        run_to(e, at)
        e.post("/mrtd/temperature", 1.0 + at / 1000)
    run_to(e, 201)
    assert applied(e, "/mrtd/temperature") == [50, 50, 50, 100, 150]
    assert e.controls.temperature == pytest.approx(1.13)


def test_quantize_beat_lands_on_the_12_5_frame_grid(demo):
    e = Engine(*demo)
    e.post("/mrtd/quantize", "beat")
    frames = []
    for at in (1, 20, 26, 50, 62, 75):
        run_to(e, at)
        n = len(applied(e, "/mrtd/topk"))
        e.post("/mrtd/topk", 10 + at)
        while len(applied(e, "/mrtd/topk")) == n:
            step(e)
        frames.append(applied(e, "/mrtd/topk")[-1])
    # beats at 0, 12.5, 25, 37.5, 50 frames: a boundary between frames goes to the nearer
    # frame (halves up), a change posted on a boundary frame applies at once
    assert frames == [13, 25, 38, 50, 63, 75]


def test_unquantised_and_timed_controls_keep_their_frame(demo):
    e = Engine(*demo)
    e.post("/mrtd/quantize", "bar")
    step(e)
    e.post("/mrtd/volume", -3.0)  # output: never waits
    e.post("/mrtd/note/on", 60)  # played: never waits
    e.post("/mrtd/temperature", 0.9, frame=7)  # timed: its own frame
    run_to(e, 10)
    assert applied(e, "/mrtd/volume") == [1] and applied(e, "/mrtd/note/on") == [1]
    assert applied(e, "/mrtd/temperature") == [7]
    assert "/mrtd/temperature" in QUANTISED and "/mrtd/volume" not in QUANTISED
    assert "/mrtd/tempo/bpm" not in QUANTISED and "/mrtd/quantize" not in QUANTISED


def test_quantize_next_in_a_bundle_and_alone(demo):
    e = Engine(*demo)
    step(e)
    # a bundle: its own unit for the bundle's other messages (global mode off)
    e.post_many([("/mrtd/quantize/next", ("bar",)), ("/mrtd/temperature", (1.0,)), ("/mrtd/topk", (30,))])
    # alone: the next quantised change to arrive
    e.post("/mrtd/quantize/next", "beat")
    e.post("/mrtd/volume", -2.0)  # not quantised: does not take it
    e.post("/mrtd/guidance/style", 2.0)
    e.post("/mrtd/guidance/notes", 2.0)  # the one after: at once
    run_to(e, 60)
    assert applied(e, "/mrtd/temperature") == [50] and applied(e, "/mrtd/topk") == [50]
    assert applied(e, "/mrtd/guidance/style") == [13] and applied(e, "/mrtd/guidance/notes") == [1]
    # each change applied with its own unit is preceded in the log by that unit
    assert [(ev.frame, ev.args) for ev in e.applied if ev.address == "/mrtd/quantize/next"] == \
        [(13, ("beat",)), (50, ("bar",)), (50, ("bar",))]


def test_tempo_and_meter_move_the_grid(demo):
    e = Engine(*demo)
    e.post("/mrtd/tempo/bpm", 60.0)  # a beat is 25 frames, a 4/4 bar 100
    e.post("/mrtd/quantize", "bar")
    step(e)
    e.post("/mrtd/temperature", 1.0)
    run_to(e, 101)
    assert applied(e, "/mrtd/temperature") == [100]
    e.post("/mrtd/tempo/meter", 3, 4)  # from the next bar line: bars of 75 frames from 200
    e.post("/mrtd/temperature", 1.1)
    run_to(e, 202)
    e.post("/mrtd/temperature", 1.2)
    run_to(e, 280)
    assert applied(e, "/mrtd/temperature") == [100, 200, 275]  # 4/4 up to 200, then 3/4
    assert e.value("/mrtd/tempo/meter") == (3, 4) and e.value("/mrtd/tempo/bpm") == (60.0,)
    assert e.value("/mrtd/tempo/position") == (4, 1)  # bars: 0, 100, 200 (3/4 from here), 275


def test_position_is_told_once_a_beat(demo):
    e = Engine(*demo)
    told = []
    e.listeners.append(lambda ev: ev.address == "/mrtd/tempo/position" and told.append((ev.frame, ev.args)))
    run_to(e, 51)
    assert told == [(13, (1, 2)), (25, (1, 3)), (38, (1, 4)), (50, (2, 1))]  # bar 1 beat 1: the start state


@pytest.mark.parametrize("address,args", [
    ("/mrtd/tempo/bpm", (0.0,)), ("/mrtd/tempo/source", ("midi",)), ("/mrtd/tempo/meter", (0, 4)),
    ("/mrtd/tempo/meter", (4, 0)), ("/mrtd/quantize", ("half",)), ("/mrtd/quantize/next", ("two",)),
])
def test_bad_tempo_input_is_refused_and_changes_nothing(demo, address, args):
    e = Engine(*demo)
    before = (e.clock.bpm, e.clock.beats_per_bar, e.clock.beat_unit, e.tempo.source, e.tempo.quantize)
    with pytest.raises(UserError, match=address):
        e.post(address, *args)
    run_to(e, 3)
    assert (e.clock.bpm, e.clock.beats_per_bar, e.clock.beat_unit, e.tempo.source, e.tempo.quantize) == before


def test_jack_source_without_a_transport_and_bpm_under_jack(demo):
    """Offline (no transport wired) the jack source keeps the grid the log gives; live, with
    a transport, the tempo is the timebase master's and /mrtd/tempo/bpm is refused."""
    e = Engine(*demo)
    errors = []
    e.listeners.append(lambda ev: ev.address == "/mrtd/error" and errors.append(ev.args))
    e.tempo.jack = type("NoMaster", (), {"query": lambda self, now: None})()
    e.post("/mrtd/tempo/source", "jack")
    step(e)
    e.post("/mrtd/tempo/bpm", 90.0)
    step(e)
    assert e.clock.bpm == 120.0 and errors and errors[0][0] == "/mrtd/tempo/bpm"
    assert "timebase master" in errors[0][1]


def test_link_source_without_the_binding_is_refused(demo, monkeypatch):
    import sys

    from mrtd.remote.link import link_source

    monkeypatch.setitem(sys.modules, "link", None)  # as if LinkPython-extern were not installed
    e = Engine(*demo)
    errors = []
    e.listeners.append(lambda ev: ev.address == "/mrtd/error" and errors.append(ev.args))
    e.tempo.link_factory = link_source
    e.post("/mrtd/tempo/source", "link")
    step(e)
    assert e.tempo.source == "internal" and "LinkPython-extern" in errors[0][1]


def test_sync_moves_the_grid(demo):
    e = Engine(*demo)
    e.post("/mrtd/quantize", "bar")
    run_to(e, 10)
    e.post("/mrtd/tempo/sync", 5, 3.0, 120.0, 4, 4)  # frame 10 plays bar 5, beat 3: bar 6 at frame 35
    e.post("/mrtd/temperature", 1.0)
    run_to(e, 40)
    assert applied(e, "/mrtd/temperature") == [35] and e.value("/mrtd/tempo/position") == (6, 1)


def test_rerender_with_quantize_reproduces_the_take(demo, tmp_path):
    log = tmp_path / "take.jsonl"
    e = Engine(*demo, seed=3, event_sink=EventWriter(log))
    live = {  # what a performer sends (untimed), by the frame being made when it arrives
        0: [("/mrtd/quantize", ("beat",)), ("/mrtd/tempo/bpm", (100.0,))],  # a beat is 15 frames
        8: [("/mrtd/temperature", (0.7,))],
        10: [("/mrtd/quantize/next", ("bar",)), ("/mrtd/prompt/1/tokens", tuple(range(100, 112)))],
        20: [("/mrtd/quantize/next", ("off",))],
        21: [("/mrtd/reset",)],
        22: [("/mrtd/tempo/sync", (9, 2.5, 130.0, 3, 4)), ("/mrtd/drums", ("off",))],
    }
    e.frame_hooks.append(lambda f: f in live and e.post_many([(m[0], m[1] if len(m) > 1 else ()) for m in live.pop(f)]))
    take = render(e, 2.8)
    e.event_sink.close()
    events = read_events(log)
    frames = {ev.address: ev.frame for ev in events}
    # the bar the prompt waited for is the synced grid's (bar 10 of 3/4 at 130 BPM: 1.5 beats after frame 22)
    assert frames["/mrtd/temperature"] == 15 and frames["/mrtd/reset"] == 21 and frames["/mrtd/drums"] == 28
    assert frames["/mrtd/prompt/1/tokens"] == 39
    again = Engine(*demo, seed=3)
    again.post_events(events)
    assert np.array_equal(take, render(again, 2.8))
    assert [(ev.frame, ev.address, ev.args) for ev in again.applied] == \
        [(ev.frame, ev.address, ev.args) for ev in events]
    # a hand-written event file: quantisation applies to its changes as to live ones
    hand = Engine(*demo, seed=3)
    hand.post_events([Event(0, "/mrtd/quantize", ("bar",)), Event(7, "/mrtd/temperature", (0.5,))])
    render(hand, 2.2)
    assert applied(hand, "/mrtd/temperature") == [50]


def test_cli_render_events_quantises_and_its_log_reproduces(tmp_path):
    """`mrtd render --events`: a hand-written file's untimed changes land on the grid; the
    log written then re-renders to the same audio and the same log."""

    import soundfile as sf

    ev = tmp_path / "ev.jsonl"
    lines = [(0, "/mrtd/quantize", ["bar"]), (0, "/mrtd/tempo/bpm", [150.0]),  # a bar is 40 frames
             (3, "/mrtd/temperature", [0.6]), (5, "/mrtd/quantize/next", ["beat"]), (5, "/mrtd/topk", [7]),
             (6, "/mrtd/volume", [-3.0])]
    write_events(ev, lines)

    def cli(events, out, log) -> None:
        render_demo("--seconds", "2.0", "--seed", "3", "--events", events, "--log-events", log, "--out", out)

    cli(ev, tmp_path / "a.wav", tmp_path / "a.jsonl")
    cli(tmp_path / "a.jsonl", tmp_path / "b.wav", tmp_path / "b.jsonl")
    logged = [(e.frame, e.address, e.args) for e in read_events(tmp_path / "a.jsonl")]
    assert (40, "/mrtd/temperature", (0.6,)) in logged and (10, "/mrtd/topk", (7,)) in logged
    assert (6, "/mrtd/volume", (-3.0,)) in logged
    assert logged == [(e.frame, e.address, e.args) for e in read_events(tmp_path / "b.jsonl")]
    a, _ = sf.read(str(tmp_path / "a.wav"), dtype="float32")
    b, _ = sf.read(str(tmp_path / "b.wav"), dtype="float32")
    assert np.array_equal(a, b)


def test_a_timed_change_under_quantize_replays_on_its_frame(demo, tmp_path):
    """A quantised control that came timed (a bundle timetag, MIDI) kept its frame; the log
    says so (/mrtd/quantize/next off before it), so the untimed replay keeps it too."""
    log = tmp_path / "take.jsonl"
    e = Engine(*demo, seed=5, event_sink=EventWriter(log))
    e.post("/mrtd/quantize", "bar")
    e.post("/mrtd/temperature", 0.6, frame=7)
    e.post("/mrtd/topk", 9)  # untimed, posted on a bar line (frame 0): at once
    e.post("/mrtd/guidance/style", 2.0, frame=9)
    take = render(e, 2.4)
    e.event_sink.close()
    events = read_events(log)
    assert [(ev.frame, ev.address, ev.args) for ev in events][1:] == [
        (0, "/mrtd/topk", (9,)), (7, "/mrtd/quantize/next", ("off",)), (7, "/mrtd/temperature", (0.6,)),
        (9, "/mrtd/quantize/next", ("off",)), (9, "/mrtd/guidance/style", (2.0,))]
    again = Engine(*demo, seed=5)
    again.post_events(events)
    assert np.array_equal(take, render(again, 2.4))
    assert [(ev.frame, ev.address) for ev in again.applied] == [(ev.frame, ev.address) for ev in events]

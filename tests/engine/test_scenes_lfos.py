"""Scenes that morph and LFOs: frame-exact steps in the event log, replay, bad input, banks."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from support.render_cli import render_demo, write_events

from mrtd.controls.events import EventWriter, read_events
from mrtd.engine.demo import build_random_demo
from mrtd.engine.engine import Engine
from mrtd.engine.render import render
from mrtd.errors import ControlError, UserError

STYLE = list(range(100, 112))


@pytest.fixture(scope="module")
def demo():
    return build_random_demo()


def run(e: Engine, n: int) -> None:
    sink = np.empty((e.output.frame, 4), np.float32)
    for _ in range(n):
        e.step_frame()
        e.read_into(sink)  # played out, so the queue never fills


def derived(events, address):
    return [(ev.frame, ev.args) for ev in events if ev.address == address and ev.via]


# --------------------------------------------------------------------------- scenes


def test_a_morph_over_4_beats_writes_monotone_steps_to_the_log_and_lands(demo, tmp_path):
    log = tmp_path / "morph.jsonl"
    e = Engine(*demo, seed=4, event_sink=EventWriter(log))
    e.post("/mrtd/prompt/1/tokens", *STYLE, frame=0)
    e.post("/mrtd/scene/save", 1, frame=0)  # temperature 1.3, top-k 40, cutoff 2000 Hz, weight 1
    e.post("/mrtd/temperature", 0.5, frame=1)
    e.post("/mrtd/topk", 200, frame=1)
    e.post("/mrtd/fx/filter/cutoff_hz", 500.0, frame=1)
    e.post("/mrtd/drums", "off", frame=1)
    e.post("/mrtd/prompt/1/weight", 0.2, frame=1)
    e.post("/mrtd/prompt/1/tokens", *[7] * 12, frame=1)
    e.post("/mrtd/scene/recall", 1, 4.0, frame=10)  # 4 beats at 120 BPM = 50 frames: lands on frame 60
    run(e, 70)
    e.event_sink.close()
    events = read_events(log, derived=True)
    assert not [ev for ev in read_events(log) if ev.via]  # a replay reads none of the steps
    for address, lo, hi in (("/mrtd/temperature", 0.5, 1.3), ("/mrtd/topk", 40, 200),
                            ("/mrtd/fx/filter/cutoff_hz", 500.0, 2000.0)):
        steps = derived(events, address)
        frames = [f for f, _ in steps]
        values = [v[0] for _, v in steps]
        assert frames[0] == 11 and frames[-1] == 60, (address, frames)
        assert all(b > a for a, b in itertools.pairwise(frames))
        d = np.diff(values)
        assert (d > 0).all() if address != "/mrtd/topk" else (d < 0).all(), (address, values)
        assert values[-1] == (lo if address == "/mrtd/topk" else hi)
        assert lo <= min(values) and max(values) <= hi
    assert len(derived(events, "/mrtd/temperature")) == 50  # one step a frame
    weights = [v[0] for _, v in derived(events, "/mrtd/prompt/weights")]
    assert np.all(np.diff(weights) > 0) and weights[-1] == 1.0
    # switches and prompt sources change once, at the midpoint (beat 2 = frame 35)
    assert derived(events, "/mrtd/drums") == [(35, ("auto",))]
    assert derived(events, "/mrtd/prompt/1/tokens") == [(35, tuple(STYLE))]
    assert e.controls.temperature == 1.3 and e.controls.top_k == 40 and e.controls.drums == "auto"
    assert e.effects.value("/mrtd/fx/filter/cutoff_hz") == (2000.0,)
    assert e.scenes.morph is None


def test_a_morph_replays_bit_identically_from_its_log(demo, tmp_path):
    log = tmp_path / "take.jsonl"
    e = Engine(*demo, seed=9, event_sink=EventWriter(log))
    e.post("/mrtd/scene/save", 3, frame=0)
    e.post("/mrtd/temperature", 0.2, frame=0)
    e.post("/mrtd/guidance/style", 6.0, frame=0)
    e.post("/mrtd/scene/morph", 3, 2.0, frame=4)
    first = render(e, 1.2)
    e.event_sink.close()
    again_log = tmp_path / "again.jsonl"
    again = Engine(*demo, seed=9, event_sink=EventWriter(again_log))
    again.post_events(read_events(log))
    assert np.array_equal(first, render(again, 1.2))
    again.event_sink.close()
    assert read_events(again_log, derived=True) == read_events(log, derived=True)


def test_recall_now_applies_only_what_differs_on_its_frame(demo):
    e = Engine(*demo)
    e.post("/mrtd/scene/save", 2, frame=0)
    e.post("/mrtd/temperature", 0.7, frame=1)
    e.post("/mrtd/fx/reverb/on", True, frame=1)
    run(e, 2)
    e.post("/mrtd/scene/recall", 2)  # untimed: the same path as any control (quantised when that is on)
    run(e, 1)
    steps = [(ev.frame, ev.address, ev.args, ev.via) for ev in e.applied if ev.via]
    assert sorted(steps) == [(2, "/mrtd/fx/reverb/on", (False,), "/mrtd/scene/recall"),
                             (2, "/mrtd/temperature", (1.3,), "/mrtd/scene/recall")]
    e.post("/mrtd/scene/clear", 2)
    run(e, 1)
    assert e.value("/mrtd/scene/list") == ()
    with pytest.raises(ControlError, match="scene 2 is empty"):
        e.post("/mrtd/scene/recall", 2)


def test_bad_scene_input_is_refused_and_changes_nothing(demo):
    e = Engine(*demo)
    e.post("/mrtd/scene/save", 1, frame=0)
    e.post("/mrtd/temperature", 0.5, frame=0)
    run(e, 1)
    n = len(e.applied)
    for address, args, why in (("/mrtd/scene/recall", (5,), "scene 5 is empty"),
                               ("/mrtd/scene/morph", (5, 4.0), "scene 5 is empty"),
                               ("/mrtd/scene/clear", (9,), "scene 9 is empty"),
                               ("/mrtd/scene/morph", (1, -2.0), "out of range"),
                               ("/mrtd/scene/recall", (1, -0.5), "out of range"),
                               ("/mrtd/scene/save", (17,), "out of range")):
        with pytest.raises(ControlError, match=why):
            e.post(address, *args)
    run(e, 3)
    assert len(e.applied) == n and e.controls.temperature == 0.5 and e.scenes.morph is None
    assert e.value("/mrtd/scene/list") == (1,)


def test_banks_round_trip_the_scenes(demo, tmp_path):
    e = Engine(*demo, bank_dir=tmp_path, seed=2)
    e.post("/mrtd/prompt/1/tokens", *STYLE, frame=0)
    e.post("/mrtd/fx/filter/mode", "highpass12", frame=0)
    e.post("/mrtd/scene/save", 16, frame=0)
    e.post("/mrtd/temperature", 0.9, frame=1)
    run(e, 2)
    # an embedding slot (no MusicCoCa here to blend it, so the scene is taken without a frame)
    e.controls.apply("/mrtd/prompt/2/embedding", (np.linspace(-1, 1, 768, dtype="<f4").tobytes(),))
    e.scenes.apply("/mrtd/scene/save", (4,))
    e.save_bank(1)
    other = Engine(*demo, bank_dir=tmp_path, seed=2)
    other.post("/mrtd/scene/save", 8, frame=0)  # replaced by the bank's
    run(other, 1)
    other.load_bank(1)
    assert other.value("/mrtd/scene/list") == (4, 16)
    assert other.scenes.saved == e.scenes.saved
    assert other.scenes.saved[4]["/mrtd/prompt/2"][1][0] == np.linspace(-1, 1, 768, dtype="<f4").tobytes()
    # a bank without scenes (written before them) keeps the scenes there are
    from mrtd.controls.banks import bank_path, load_bank, save_bank

    tensors, meta = load_bank(bank_path(tmp_path, 1))
    del meta["scenes"], meta["format"]
    save_bank(bank_path(tmp_path, 2), tensors, meta)
    other.post("/mrtd/scene/clear", 16)
    run(other, 1)
    other.load_bank(2)
    assert other.value("/mrtd/scene/list") == (4,)
    # damaged scenes: the load is refused before anything changes
    meta["scenes"] = json.dumps({"1": [["/mrtd/temperature", "/mrtd/temperature", [99.0]]]})
    save_bank(bank_path(tmp_path, 3), tensors, meta)
    with pytest.raises(UserError, match="scenes"):
        other.load_bank(3)
    assert other.value("/mrtd/scene/list") == (4,)


# --------------------------------------------------------------------------- LFOs


def two_lfos(e: Engine) -> None:
    e.post("/mrtd/lfo/1/target", "/mrtd/temperature", frame=0)
    e.post("/mrtd/lfo/1/depth", 0.1, frame=0)
    e.post("/mrtd/lfo/1/hz", 3.0, frame=0)
    e.post("/mrtd/lfo/2/target", "/mrtd/fx/filter/cutoff_hz", frame=2)
    e.post("/mrtd/lfo/2/shape", "random_hold", frame=2)
    e.post("/mrtd/lfo/2/beats", 1.0, frame=2)
    e.post("/mrtd/lfo/2/depth", 0.3, frame=2)
    e.post("/mrtd/fx/filter/on", True, frame=2)
    e.post("/mrtd/lfo/1/shape", "triangle", frame=20)


def test_a_render_with_two_lfos_replays_bit_identically_from_its_log(demo, tmp_path):
    log = tmp_path / "lfo.jsonl"
    e = Engine(*demo, seed=6, event_sink=EventWriter(log))
    two_lfos(e)
    first = render(e, 1.6)
    e.event_sink.close()
    events = read_events(log, derived=True)
    temps = derived(events, "/mrtd/temperature")
    cuts = derived(events, "/mrtd/fx/filter/cutoff_hz")
    assert len(temps) > 30 and len({v for _, v in temps}) > 20
    assert all(0.0 <= v[0] <= 4.0 for _, v in temps) and all(ev.via == "/mrtd/lfo/1" for ev in events
                                                              if ev.address == "/mrtd/temperature")
    # random_hold on the beat (12.5 frames): one new value per beat at most
    assert 2 <= len(cuts) <= 4 and all(20.0 <= v[0] <= 20000.0 for _, v in cuts)
    again_log = tmp_path / "again.jsonl"
    again = Engine(*demo, seed=6, event_sink=EventWriter(again_log))
    again.post_events(read_events(log))
    assert np.array_equal(first, render(again, 1.6))
    again.event_sink.close()
    assert read_events(again_log, derived=True) == events
    # without its LFOs the take sounds different (the steps are not replayed on their own)
    plain = Engine(*demo, seed=6)
    plain.post_events([ev for ev in read_events(log) if not ev.address.startswith("/mrtd/lfo/")])
    assert not np.array_equal(first, render(plain, 1.6))


def test_random_hold_follows_the_seed(demo):
    def values(seed: int) -> list:
        e = Engine(*demo, seed=seed)
        e.post("/mrtd/lfo/3/target", "/mrtd/guidance/style", frame=0)
        e.post("/mrtd/lfo/3/shape", "random_hold", frame=0)
        e.post("/mrtd/lfo/3/hz", 5.0, frame=0)
        e.post("/mrtd/lfo/3/depth", 0.5, frame=0)
        e.lfos.hook(0)
        for f in range(1, 40):
            e.frame = f
            e.lfos.hook(f)
            e.apply_due()
        return derived(e.applied, "/mrtd/guidance/style")

    assert values(1) == values(1) and values(1) != values(2)


def test_lfo_shapes_rates_and_the_beat_grid(demo):
    e = Engine(*demo)
    e.post("/mrtd/lfo/1/target", "/mrtd/prompt/3/weight", frame=0)  # weight 0..1, bound at 0
    e.post("/mrtd/lfo/1/offset", 0.5, frame=0)
    e.post("/mrtd/lfo/1/depth", 0.5, frame=0)
    e.post("/mrtd/lfo/1/shape", "saw", frame=0)
    e.post("/mrtd/lfo/1/beats", 4.0, frame=0)  # a bar: 50 frames at 120 BPM, locked to the grid
    e.post("/mrtd/lfo/2/target", "/mrtd/topk", frame=0)
    e.post("/mrtd/lfo/2/shape", "square", frame=0)
    e.post("/mrtd/lfo/2/depth", 1.0, frame=0)
    e.post("/mrtd/lfo/2/hz", 1.0, frame=0)  # 25 frames a cycle, from where it started
    run(e, 101)
    w = dict(derived(e.applied, "/mrtd/prompt/3/weight"))
    assert w[1][0] == pytest.approx(1 / 50) and w[25][0] == pytest.approx(0.5) and w[50] == (0.0,)
    assert w[75][0] == pytest.approx(0.5)
    k = {f: v[0] for f, v in derived(e.applied, "/mrtd/topk")}
    assert k == {1: 1024, 13: 1, 25: 1024, 38: 1, 50: 1024, 63: 1, 75: 1024, 88: 1, 100: 1024}  # 12.5 frames a half
    assert e.value("/mrtd/lfo/2/offset")[0] == pytest.approx((40 - 1) / 1023)  # centred where top-k was
    # switched off: the control goes back to the centre, and stays
    e.post("/mrtd/lfo/2/on", False)
    run(e, 10)
    assert e.controls.top_k == 40 and derived(e.applied, "/mrtd/topk")[-1] == (101, (40,))


def test_bad_lfo_input_is_refused_and_changes_nothing(demo):
    e = Engine(*demo)
    e.post("/mrtd/lfo/1/target", "/mrtd/temperature", frame=0)
    run(e, 1)
    n = len(e.applied)
    for target, why in (("/mrtd/prompt/1/text", "not a numeric"), ("/mrtd/drums", "not a numeric"),
                        ("/mrtd/fx/filter/on", "not a numeric"), ("/mrtd/prompt/weights", "not a numeric"),
                        ("/mrtd/seed", "not a numeric"), ("/mrtd/lfo/2/depth", "not a numeric"),
                        ("/mrtd/nope", "not an mrtd address"), ("/mrtd/reset", "not a numeric")):
        with pytest.raises(ControlError, match=why):
            e.post("/mrtd/lfo/1/target", target)
    with pytest.raises(ControlError, match="out of range"):
        e.post("/mrtd/lfo/1/hz", -1.0)
    with pytest.raises(ControlError, match="not one of"):
        e.post("/mrtd/lfo/1/shape", "wobble")
    run(e, 2)
    assert len(e.applied) == n and e.value("/mrtd/lfo/1/target") == ("/mrtd/temperature",)


@pytest.mark.timeout(120)
def test_render_cli_replays_two_lfos_and_a_morph(tmp_path):
    """The real ``mrtd render --events`` path: render, log, re-render the log, same samples."""
    import soundfile as sf

    ev = tmp_path / "ev.jsonl"
    lines = [(0, "/mrtd/lfo/1/target", ["/mrtd/guidance/style"]), (0, "/mrtd/lfo/1/depth", [0.4]),
             (0, "/mrtd/lfo/1/hz", [2.0]), (0, "/mrtd/lfo/2/target", ["/mrtd/temperature"]),
             (0, "/mrtd/lfo/2/shape", ["random_hold"]), (0, "/mrtd/lfo/2/beats", [0.5]),
             (0, "/mrtd/lfo/2/depth", [0.2]), (0, "/mrtd/scene/save", [1]), (1, "/mrtd/topk", [3]),
             (2, "/mrtd/scene/morph", [1, 1.0])]
    write_events(ev, lines)

    def cli(events: Path, out: Path, log: Path) -> None:
        render_demo("--seconds", "0.8", "--seed", "3", "--events", events, "--log-events", log, "--out", out)

    cli(ev, tmp_path / "a.wav", tmp_path / "a.jsonl")
    cli(tmp_path / "a.jsonl", tmp_path / "b.wav", tmp_path / "b.jsonl")
    a, _ = sf.read(str(tmp_path / "a.wav"), dtype="float32")
    b, _ = sf.read(str(tmp_path / "b.wav"), dtype="float32")
    assert np.array_equal(a, b)
    logged = read_events(tmp_path / "a.jsonl", derived=True)
    assert {ev.via for ev in logged} == {"", "/mrtd/lfo/1", "/mrtd/lfo/2", "/mrtd/scene/morph"}
    assert logged == read_events(tmp_path / "b.jsonl", derived=True)


@pytest.mark.timeout(60)
def test_bad_input_over_osc_gets_an_error_and_changes_nothing(tmp_path):
    from support.inproc import UdpClient, pyosc, running_daemon

    with running_daemon(tmp_path) as d:
        c = UdpClient(d.port)
        try:
            for packet, address in ((pyosc("/mrtd/lfo/1/target", ("s", "/mrtd/drums")), "/mrtd/lfo/1/target"),
                                    (pyosc("/mrtd/scene/morph", ("i", 1), ("f", 4.0)), "/mrtd/scene/morph"),
                                    (pyosc("/mrtd/scene/recall", ("i", 1), ("f", -1.0)), "/mrtd/scene/recall")):
                c.send(packet)
                got = c.recv_until("/mrtd/error", timeout=5)
                assert got[-1][1][0] == address, got
        finally:
            c.close()
        assert d.hub.value("/mrtd/lfo/1/target") == ("",) and d.hub.value("/mrtd/scene/list") == ()
        assert not [ev for ev in d.engine.applied if ev.address.startswith(("/mrtd/lfo/", "/mrtd/scene/"))]


def test_an_untimed_recall_is_quantised_like_any_control(demo):
    """With /mrtd/quantize bar, a recall posted mid-bar lands on the next bar start (frame 50
    at 120 BPM 4/4) and its 4-beat morph ends exactly one bar later."""
    e = Engine(*demo)
    e.post("/mrtd/quantize", "bar", frame=0)
    e.post("/mrtd/scene/save", 1, frame=0)
    e.post("/mrtd/temperature", 0.5, frame=0)
    run(e, 7)
    e.post("/mrtd/scene/recall", 1, 4.0)
    run(e, 104)
    (recall,) = [ev.frame for ev in e.applied if ev.address == "/mrtd/scene/recall"]
    steps = derived(e.applied, "/mrtd/temperature")
    assert recall == 50 and steps[0][0] == 51 and steps[-1] == (100, (1.3,))


def test_under_a_chunk_model_generation_steps_land_on_chunk_boundaries(tmp_path):
    """Magenta RT v1 reads its controls once a 50-frame chunk: an LFO on the temperature
    posts one step a chunk (at its boundary), an LFO on an effect one a frame, and the
    take replays from its log."""
    from test_v1_engine import CODEC, V1_CKPT, FakeTokens, frames
    from test_v1_engine import engine as v1_engine

    from mrtd.model.mrt2.codec_decoder import load_decoder
    from mrtd.model.v1.checkpoint import load_v1

    model = (load_v1(V1_CKPT), load_decoder(CODEC))
    log = tmp_path / "v1.jsonl"

    def take(events=None, sink=None):
        e = v1_engine(model, FakeTokens(), seed=3, event_sink=sink)
        if events is None:
            e.post("/mrtd/lfo/1/target", "/mrtd/temperature", frame=0)
            e.post("/mrtd/lfo/1/depth", 0.2, frame=0)
            e.post("/mrtd/lfo/1/hz", 0.7, frame=0)
            e.post("/mrtd/lfo/2/target", "/mrtd/volume", frame=0)
            e.post("/mrtd/lfo/2/depth", 0.1, frame=0)
            e.post("/mrtd/lfo/2/hz", 2.0, frame=0)
            with pytest.raises(ControlError, match="MRT2 control"):
                e.post("/mrtd/lfo/3/target", "/mrtd/guidance/notes")
        else:
            e.post_events(events)
        return e, frames(e, 160)

    e, first = take(sink=EventWriter(log))
    e.event_sink.close()
    logged = read_events(log, derived=True)
    assert sorted({f for f, _ in derived(logged, "/mrtd/temperature")}) == [50, 100, 150]
    assert len(derived(logged, "/mrtd/volume")) > 100
    _, again = take(read_events(log))
    assert np.array_equal(first, again)


def test_a_control_moved_by_hand_re_centres_its_lfo(demo, tmp_path):
    """The LFO swings around the fader: a change of its control from anything but an LFO
    (here a timed /mrtd/temperature, then a scene morph) becomes the new offset, shown as a
    derived /mrtd/lfo/N/offset; the take still replays from its log."""
    log = tmp_path / "moved.jsonl"

    def take(events=None, sink=None):
        e = Engine(*demo, seed=1, event_sink=sink)
        if events is None:
            e.post("/mrtd/lfo/1/target", "/mrtd/temperature", frame=0)  # centred on 1.3 (offset 0.325)
            e.post("/mrtd/lfo/1/depth", 0.05, frame=0)
            e.post("/mrtd/lfo/1/hz", 1.0, frame=0)
            e.post("/mrtd/scene/save", 1, frame=0)
            e.post("/mrtd/temperature", 0.4, frame=20)
            e.post("/mrtd/lfo/1/target", "/mrtd/temperature", frame=22)  # bound already: nothing changes
            e.post("/mrtd/scene/morph", 1, 1.0, frame=40)
        else:
            e.post_events(events)
        run(e, 60)
        return e

    e = take(sink=EventWriter(log))
    e.event_sink.close()
    offsets = derived(e.applied, "/mrtd/lfo/1/offset")
    assert offsets[0] == (21, (0.1,))  # 0.4 of 0..4
    assert len(offsets) > 5 and offsets[-1][1][0] > 0.3  # followed the morph back up towards 1.3
    temps = [v[0] for f, v in derived(e.applied, "/mrtd/temperature") if 21 <= f < 40]
    assert temps and all(abs(t - 0.4) <= 0.2 + 1e-9 for t in temps)
    again = take(read_events(log))
    assert list(again.applied) == list(e.applied)

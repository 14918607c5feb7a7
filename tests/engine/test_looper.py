"""Exact loops, vary, rewind and release through the engine (demo model, CPU float32).

The audio each test compares is the pre-effects audio the engine queues per frame
(``frame_id`` = the frame of the output stream it plays at), and for the 120 BPM loop
the post-effects output read through the real-time reader by ``render``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mrtd.constants import FRAME
from mrtd.controls.events import Event
from mrtd.engine import looper as looper_mod
from mrtd.engine.demo import build_random_demo
from mrtd.engine.engine import Engine
from mrtd.engine.generator import Block
from mrtd.engine.looper import SEAM
from mrtd.engine.render import render
from mrtd.errors import UserError

FAST = 600.0  # BPM: a bar is 10 frames, so the short tests stay short


@pytest.fixture(scope="module")
def demo():
    return build_random_demo()


def engine(demo, bpm: float = 120.0, **kw) -> Engine:
    e = Engine(*demo, seed=5, **kw)
    e.clock.set_tempo(0, bpm)
    return e


def played(e: Engine, until: int, told: list | None = None) -> dict[int, np.ndarray]:
    """Step until the output stream holds frames 0..until-1; {frame: pre-effects audio}."""
    got: dict[int, np.ndarray] = {}
    write = e.output.write

    def take(buf, frame_id=-1):
        got[frame_id] = buf[:, 2:].copy()
        e.output.read = e.output.written  # a reader that keeps up
        write(buf, frame_id)

    e.output.write = take  # type: ignore[method-assign]
    if told is not None:
        e.listeners.append(told.append)
    while until - 1 not in got:
        e.step_frame()
    return got


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(a, b)


def test_loop_2_bars_at_120_bpm_repeats_bit_identically(demo):
    bar = 50  # 120 BPM 4/4
    f, length = 150, 2 * bar
    base = render(engine(demo), (f + 4) / 25)
    e = engine(demo)
    e.post("/mrtd/loop", 2, frame=f)
    out = render(e, (f + 2 * length + 4) / 25)
    assert np.array_equal(out[:f * FRAME], base[:f * FRAME])  # before the loop: untouched
    orig = base[(f - length) * FRAME:f * FRAME]
    passes = [out[(f + k * length) * FRAME:(f + (k + 1) * length) * FRAME] for k in range(2)]
    for p in passes:
        assert np.array_equal(p[SEAM:], orig[SEAM:])  # sample for sample, outside the 20 ms seam
        assert not np.array_equal(p[:SEAM], orig[:SEAM])  # the seam crossfades from what followed
    assert np.array_equal(passes[0], passes[1])
    st = e.status()["loop"]
    assert st["active"] and st["bars"] == 2.0 and st["pass"] >= 2 and not st["vary"]
    assert [(ev.frame, ev.address) for ev in e.applied] == [(f, "/mrtd/loop")]


def test_vary_makes_passes_differ_and_exact_comes_back(demo):
    f, length = 40, 20  # 2 bars at 600 BPM
    base = played(engine(demo, FAST), f)
    e = engine(demo, FAST)
    e.post("/mrtd/loop/vary", 1, frame=0)
    e.post("/mrtd/loop", 2, frame=f)
    e.post("/mrtd/loop/vary", 0, frame=f + 2 * length + 1)  # from the third pass on: exact again
    told: list[Event] = []
    got = played(e, f + 4 * length, told)
    orig = np.concatenate([base[k] for k in range(f - length, f)])
    passes = [np.concatenate([got[k] for k in range(f + p * length, f + (p + 1) * length)]) for p in range(4)]
    assert not np.array_equal(passes[0][SEAM:], orig[SEAM:])
    assert not np.array_equal(passes[0][SEAM:], passes[1][SEAM:])
    assert np.array_equal(passes[2][SEAM:], orig[SEAM:]) and np.array_equal(passes[3][SEAM:], orig[SEAM:])
    states = [ev.args for ev in told if ev.address == "/mrtd/loop/state"]
    assert (True, 2.0, 1, True) in states and (True, 2.0, 3, False) in states


def test_vary_replays_from_its_event_log(demo):
    e = engine(demo, FAST)
    e.post("/mrtd/loop/vary", 1, frame=3)
    e.post("/mrtd/loop", 1, frame=30)
    e.post("/mrtd/loop/off", frame=55)
    a = played(e, 70)
    again = engine(demo, FAST)
    again.post_events(list(e.applied))
    b = played(again, 70)
    assert all(same(a[k], b[k]) for k in range(70))


def test_rewind_goes_on_with_the_original_frames(demo):
    f, length = 60, 10
    base = played(engine(demo, FAST), f + 30)
    e = engine(demo, FAST)
    e.post("/mrtd/rewind", 1, frame=f)
    got = played(e, f + 30)
    assert all(same(got[k], base[k]) for k in range(f))
    assert not np.array_equal(got[f][:SEAM], base[f - length][:SEAM])  # the seam
    assert same(got[f][SEAM:], base[f - length][SEAM:])
    assert all(same(got[f + j], base[f - length + j]) for j in range(1, 30))
    assert not e.status()["loop"]["active"]


def test_rewind_to_a_frame_between_snapshots_makes_the_frames_again(demo, monkeypatch):
    """A target that is not a snapshot: the nearest one before it plus the frames in between."""
    base = played(engine(demo, FAST), 80)
    one = looper_mod.nbytes(Engine(*demo).generator.history_snapshot())
    monkeypatch.setattr(looper_mod, "SNAPSHOT_BUDGET", one * looper_mod.HISTORY_FRAMES // 4)  # every 4th frame
    e = engine(demo, FAST)
    e.post("/mrtd/rewind", 0.3, frame=57)  # 3 frames: back to 54 (not a bar start, not a 4th)
    got = played(e, 80)
    assert e.looper.history.every == 4
    assert same(got[57][SEAM:], base[54][SEAM:])
    assert all(same(got[57 + j], base[54 + j]) for j in range(1, 20))


def test_loop_off_on_a_pass_boundary_goes_on_as_if_no_loop(demo):
    f, length = 40, 10
    base = played(engine(demo, FAST), f + 20)
    e = engine(demo, FAST)
    e.post("/mrtd/responsive", 1, frame=0)  # no cut during an exact loop: nothing new to hear sooner
    e.post("/mrtd/loop", 1, frame=f)
    e.post("/mrtd/temperature", 0.5, frame=f + 3)  # during the loop: state only
    e.post("/mrtd/temperature", e.controls.temperature, frame=f + 5)  # and back
    e.post("/mrtd/loop/off", frame=f + 2 * length)
    got = played(e, f + 2 * length + 20)
    assert all(same(got[f + k], got[f + length + k]) for k in range(SEAM // FRAME + 1, length))
    # released where a pass ends: the frames that followed the loop, no seam at all
    assert all(same(got[f + 2 * length + j], base[f + j]) for j in range(20))
    assert not e.status()["loop"]["active"] and e.output.cut_seq == 0


def test_loop_off_mid_pass_crossfades_into_what_followed(demo):
    f = 40
    base = played(engine(demo, FAST), f + 10)
    e = engine(demo, FAST)
    e.post("/mrtd/loop", 1, frame=f)
    e.post("/mrtd/loop/off", frame=f + 14)
    got = played(e, f + 24)
    assert same(got[f + 13], base[f - 10 + 3])
    assert not same(got[f + 14], base[f])
    assert same(got[f + 14][SEAM:], base[f][SEAM:])
    assert all(same(got[f + 14 + j], base[f + j]) for j in range(1, 10))


@pytest.mark.parametrize("address,bars,why", [
    ("/mrtd/loop", 0, "positive number of bars"),
    ("/mrtd/rewind", 0, "positive number of bars"),
    ("/mrtd/loop", 3, "the history holds"),  # 30 frames at 600 BPM, 20 made
    ("/mrtd/rewind", 2.5, "the history holds"),
])
def test_bad_bars_are_refused_and_change_nothing(demo, address, bars, why):
    told: list[Event] = []
    base = played(engine(demo, FAST), 30)
    e = engine(demo, FAST)
    e.post(address, bars, frame=20)
    got = played(e, 30, told)
    errors = [ev.args for ev in told if ev.address == "/mrtd/error"]
    assert len(errors) == 1 and errors[0][0] == address and why in errors[0][1]
    assert all(same(got[k], base[k]) for k in range(30))
    assert not e.status()["loop"]["active"]
    assert not any(ev.address == address for ev in e.applied)


def test_negative_bars_are_refused_at_once(demo):
    e = engine(demo)
    with pytest.raises(UserError):
        e.post("/mrtd/loop", -1)


def test_history_is_bounded_and_reported(demo):
    e = engine(demo, FAST)
    e.looper.history.capacity = 24
    played(e, 40)
    st = e.status()["loop"]
    assert st["history_frames"] == 24 and st["history_capacity"] == 24
    assert st["audio_bytes"] == 24 * FRAME * 2 * 4
    assert st["snapshot_size"] > 0 and st["snapshot_bytes"] == st["snapshots"] * st["snapshot_size"]
    assert st["memory_bytes"] >= st["audio_bytes"] + st["snapshot_bytes"]
    told: list[Event] = []
    e.listeners.append(told.append)
    e.post("/mrtd/loop", 3)  # 30 frames: more than 24
    e.step_frame()
    assert any(ev.address == "/mrtd/error" and "at most 23" in ev.args[1] for ev in told)


def test_a_reset_clears_the_history_and_the_loop(demo):
    e = engine(demo, FAST)
    e.post("/mrtd/loop", 1, frame=20)
    e.post("/mrtd/reset", frame=30)
    played(e, 36)
    assert not e.status()["loop"]["active"]
    assert e.status()["loop"]["history_frames"] <= 7


class _Chunks:
    """A chunk model stub (Magenta RT v1's shape: 50 frames a step, no per-frame state)."""

    name, family, chunk_frames, lag, encoder, graphed = "v1-stub", "v1", 50, 0, None, False
    device = torch.device("cpu")

    def step(self, controls):
        return Block(torch.zeros(50, 4, dtype=torch.long), np.zeros((50, FRAME, 2), np.float32), np.ones(50, bool))

    def snapshot(self):
        return None

    def restore(self, snap, seed):
        pass


def test_loops_are_refused_under_v1():
    e = Engine(generator=_Chunks())
    told: list[Event] = []
    e.listeners.append(told.append)
    e.post("/mrtd/loop", 1)
    e.step_frame()
    assert [ev.args[0] for ev in told if ev.address == "/mrtd/error"] == ["/mrtd/loop"]
    assert "Magenta RT v1" in next(ev.args[1] for ev in told if ev.address == "/mrtd/error")
    assert e.status()["loop"] == {"active": False, "bars": 0.0, "pass": 0, "vary": False, "supported": False}


def test_an_untimed_loop_waits_for_the_bar_when_quantised(demo):
    e = engine(demo, FAST)
    e.post("/mrtd/quantize", "bar", frame=0)
    e.frame_hooks.append(lambda frame: frame == 13 and e.post("/mrtd/loop", 1))  # untimed, at frame 13
    got = played(e, 45)
    assert [ev.frame for ev in e.applied if ev.address == "/mrtd/loop"] == [20]
    assert same(got[20][SEAM:], got[10][SEAM:])
    assert all(same(got[20 + k], got[10 + k]) for k in range(1, 10))
    assert all(same(got[30 + k], got[20 + k]) for k in range(1, 10))


def test_through_the_hub_errors_reach_the_sender_and_the_state_the_subscribers(demo):
    from mrtd.remote.hub import Hub, Sender

    hub = Hub(engine(demo, FAST))
    told: list[tuple[str, tuple]] = []
    hub.add_listener(lambda a, v: told.append((a, v)))
    got: list[tuple[str, str]] = []
    hub.handle("/mrtd/loop", [1], sender=Sender("127.0.0.1", lambda a, r: got.append((a, r))))  # nothing made yet
    hub.engine.step_frame()
    assert got and got[0][0] == "/mrtd/loop" and "the history holds" in got[0][1]
    for _ in range(15):
        hub.engine.step_frame()
    hub.handle("/mrtd/loop", [1])
    for _ in range(3):
        hub.engine.step_frame()
    assert ("/mrtd/loop/state", (True, 1.0, 1, False)) in told
    assert hub.value("/mrtd/loop/state") == (True, 1.0, 1, False) and hub.value("/mrtd/loop/vary") == (False,)
    hub.handle("/mrtd/loop/off", [])
    hub.engine.step_frame()  # applied here; the audio of this frame is the loop's till the next step
    hub.engine.step_frame()
    assert hub.value("/mrtd/loop/state") == (False, 0.0, 0, False)

"""Several voices on one batched step (:mod:`mrtd.engine.voices`), rendered offline in
lockstep: independent streams, and what one voice does never touches another's audio."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from mrtd.engine.demo import build_random_demo
from mrtd.engine.engine import Engine
from mrtd.engine.render import render
from mrtd.engine.voices import render_voices, voice_engines

STYLE = list(range(100, 112))
SECONDS = 1.6  # 40 frames


@pytest.fixture(scope="module")
def demo():
    return build_random_demo()


def voices(demo, seeds=(0, 1), tmp=None):
    kw = {"per_voice": (lambda n: {"bank_dir": tmp / f"banks-{n}"})} if tmp is not None else {}
    return voice_engines(*demo, list(seeds), max_wait_s=None, **kw)


def prompt(e: Engine) -> None:
    e.post("/mrtd/prompt/1/tokens", *STYLE)
    e.post("/mrtd/prompt/1/weight", 1.0)


def test_voices_with_their_own_seed_and_prompt_differ(demo):
    a, b = voices(demo, seeds=(0, 1))
    prompt(b)
    one, two = render_voices([a, b], SECONDS)
    assert one.shape == two.shape == (int(SECONDS * 48000), 2)
    assert np.abs(one - two).max() > 1e-3
    assert b.frame == a.frame >= 40
    assert a.generator.batch.rounds == a.frame  # every frame of both voices in one batched step


def test_a_voice_matches_the_same_stream_made_alone(demo):
    """Same tokens as a one-voice engine; audio equal to float32 rounding (a batched
    matrix product rounds differently from a single row's)."""
    a, b = voices(demo, seeds=(5, 6))
    prompt(b)
    one, _ = render_voices([a, b], SECONDS)
    alone = render(Engine(*demo, seed=5), SECONDS)
    assert np.abs(one - alone).max() <= 1e-6


@pytest.mark.parametrize("action", ["reset", "prefill", "pause"])
def test_what_voice_2_does_leaves_voice_1_bit_identical(demo, action):
    ref = render_voices(voices(demo), SECONDS)
    a, b = voices(demo)
    if action == "reset":
        b.post("/mrtd/reset", frame=15)
    elif action == "prefill":
        b.post("/mrtd/prefill/silence", 2.0, frame=15)
    else:
        b.post("/mrtd/pause", True, frame=15)
    one, two = render_voices([a, b], SECONDS)
    assert np.array_equal(one, ref[0])  # bit for bit
    # voice 2 plays what it played until its change landed (the queue runs a few frames
    # ahead of what is heard), and something else after it
    assert np.array_equal(two[:10 * 1920], ref[1][:10 * 1920])
    assert np.abs(two[16 * 1920:] - ref[1][16 * 1920:]).max() > 1e-4


def test_a_reset_voice_replays_like_a_fresh_one(demo):
    """After its reset, voice 2 is the same stream as a voice 2 started then with the
    seed it was re-seeded with."""
    a, b = voices(demo, seeds=(0, 1))
    b.post("/mrtd/seed", 9)
    b.post("/mrtd/reset")
    _, two = render_voices([a, b], SECONDS)
    fresh = voices(demo, seeds=(0, 9))
    _, ref = render_voices(fresh, SECONDS)
    assert np.array_equal(two[4000:], ref[4000:])


def step_tokens(engines: list[Engine], n: int) -> list[np.ndarray]:
    """``n`` frames of each voice's tokens, the voices stepping in lockstep (a thread each)."""
    out: list = [None] * len(engines)

    def run(i: int) -> None:
        out[i] = np.stack([engines[i].step_frame().numpy() for _ in range(n)])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(engines))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_banks_move_between_voices_and_a_single_voice(demo, tmp_path):
    a, b = voices(demo, tmp=tmp_path)
    prompt(a)
    render_voices([a, b], 0.4)
    a.save_bank(3)
    (tmp_path / "banks-2").mkdir()
    (tmp_path / "banks-2" / "bank_003.safetensors").write_bytes((tmp_path / "banks-1" / "bank_003.safetensors").read_bytes())
    b.load_bank(3)  # voice 1's stream and controls (its seed too), now voice 2's reset target
    single = Engine(*demo, bank_dir=tmp_path / "banks-1")
    single.load_bank(3)
    assert np.array_equal(step_tokens([a, b], 12)[1], step_tokens([single], 12)[0])


def test_live_a_paused_voice_holds_its_stream_while_the_other_plays_on(demo):
    """Live (generation pulled by real-time readers): voice 2 pauses for half a second;
    voice 1 keeps making frames meanwhile, and both voices' frames are exactly those of
    an offline render (the paused voice's rows are held, not advanced)."""
    from support.inproc import PacedReader

    def recording(engines: list[Engine]) -> list[list[np.ndarray]]:
        frames: list[list[np.ndarray]] = [[] for _ in engines]
        for e, kept in zip(engines, frames):
            write = e.output.write

            def wrapped(audio, frame_id=-1, write=write, kept=kept):
                kept.append(audio[:, 2:].copy())  # the dry channels: the model's own audio
                write(audio, frame_id)
            e.output.write = wrapped
        return frames

    live = voices(demo)
    live[0].generator.batch.max_wait_s = 0.010
    got = recording(live)
    readers = [PacedReader(e) for e in live]
    for e, r in zip(live, readers):
        e.start()
        r.start()
    try:
        time.sleep(1.0)
        live[1].post("/mrtd/pause", True)
        time.sleep(0.3)
        held, before = live[1].frame, live[0].frame
        time.sleep(0.5)
        assert live[1].frame == held and live[0].frame >= before + 8  # voice 1 played on
        live[1].post("/mrtd/pause", False)
        time.sleep(1.0)
    finally:
        for e, r in zip(live, readers):
            r.stop()
            e.stop()
    shared = live[0].frame + live[1].frame - live[0].generator.batch.rounds
    print(f"frames {live[0].frame} + {live[1].frame}, batched steps {live[0].generator.batch.rounds}")
    assert shared > live[1].frame // 2  # most of voice 2's frames were made in voice 1's steps
    ref_engines = voices(demo)
    ref = recording(ref_engines)
    render_voices(ref_engines, 4.0)
    for mine, theirs in zip(got, ref):
        n = min(len(mine), len(theirs))
        assert n >= 40
        assert all(np.array_equal(a, b) for a, b in zip(mine[:n], theirs[:n]))

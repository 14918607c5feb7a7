"""The engine through its public API: frame accuracy, notes, replay, banks, prefill."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mrtd.controls import banks
from mrtd.controls.events import EventWriter, read_events
from mrtd.engine.build import load_engine
from mrtd.engine.demo import RANDOM_DEMO_CONFIG, build_random_demo
from mrtd.engine.engine import Engine
from mrtd.engine.render import render
from mrtd.errors import UserError
from mrtd.model.mrt2.config import MRT2Config

FIX = Path(__file__).parents[1] / "fixtures"
STYLE = list(range(100, 112))


@pytest.fixture(scope="module")
def demo():
    return build_random_demo()


def engine(demo, **kw) -> Engine:
    return Engine(*demo, **kw)


def tokens(e: Engine, n: int) -> np.ndarray:
    return np.stack([e.step_frame().numpy() for _ in range(n)])


def test_demo_config_is_the_tiny_manifest():
    tiny = MRT2Config.from_manifest(FIX / "mrt2_tiny.manifest.json")
    for k in ("enc_dim", "style_dim", "temporal_layers", "temporal_dim", "temporal_heads", "temporal_head_dim",
              "temporal_ffn", "self_window", "cross_window", "depth_layers", "depth_dim", "depth_heads",
              "depth_head_dim", "depth_ffn", "cond_groups"):
        assert getattr(RANDOM_DEMO_CONFIG, k) == getattr(tiny, k), k
    assert RANDOM_DEMO_CONFIG.codec == tiny.codec


def test_a_manifest_sets_the_models_own_sampling_defaults(tmp_path):
    """The trained demo's manifest asks for temperature 0.8 (its tiny language model strays
    from silence and the notes at MRT2's 1.3): its engine starts there, /mrtd/temperature still sets
    it, and a model without ``defaults`` (the random demo, official files) keeps the schema's."""
    import json

    from mrtd.engine.demo import DEMO_MANIFEST, build_demo
    from mrtd.model.mrt2.config import ConfigError, sampling_defaults

    assert sampling_defaults(DEMO_MANIFEST) == {"temperature": 0.8}
    assert sampling_defaults(FIX / "mrt2_tiny.manifest.json") == {}
    e = Engine(*build_demo())
    try:
        assert e.controls.temperature == 0.8 and e.controls.top_k == 40
        e.post("/mrtd/temperature", 1.3, frame=0)
        e.step_frame()
        assert e.controls.temperature == 1.3
    finally:
        e.stop()
    plain = Engine(*build_random_demo())
    try:
        assert plain.controls.temperature == 1.3
    finally:
        plain.stop()
    for bad in ({"temperature": 9}, {"top_k": 0}, {"top_k": True}, {"guidance": 2.0}):
        p = tmp_path / "m.json"
        p.write_text(json.dumps({"defaults": bad}))
        with pytest.raises(ConfigError, match="manifest defaults"):
            sampling_defaults(p)


def test_demo_weights_are_reproducible(demo):
    again = build_random_demo()
    for (n, a), (_, b) in zip(demo[0].state_dict().items(), again[0].state_dict().items()):
        assert torch.equal(a, b), n


@pytest.mark.parametrize("address,args", [
    ("/mrtd/prompt/1/tokens", STYLE), ("/mrtd/temperature", [0.5]),
])
def test_change_at_frame_f_alters_tokens_from_f_only(demo, address, args):
    f, n = 6, 10
    base = tokens(engine(demo, seed=3), n)
    e = engine(demo, seed=3)
    e.post(address, *args, frame=f)
    changed = tokens(e, n)
    assert np.array_equal(base[:f], changed[:f])
    assert not np.array_equal(base[f], changed[f])
    assert [(ev.frame, ev.address) for ev in e.applied] == [(f, address)]


def test_notes_through_the_engine(demo):
    e = engine(demo)
    seen = []
    orig = e.controls.frame_cond
    e.controls.frame_cond = lambda: seen.append(orig()) or seen[-1]  # type: ignore[method-assign]
    e.post("/mrtd/notes/onset_mode", "unmask", frame=0)
    e.post("/mrtd/note/on", 60, frame=1)
    e.post("/mrtd/note/off", 60, frame=1)  # pressed and released inside one frame: onset kept
    e.post("/mrtd/notes/sustain", True, frame=3)
    e.post("/mrtd/note/on", 64, 100, frame=3)
    e.post("/mrtd/note/on", 64, 0, frame=4)  # velocity 0 = off, but the pedal holds it
    e.post("/mrtd/notes/unmask_width", 2, frame=5)
    e.post("/mrtd/notes/all_off", frame=6)
    e.post("/mrtd/drums/hit", frame=6)
    tokens(e, 8)
    note = lambda f, p: int(seen[f][12 + p]) - 7  # noqa: E731
    assert note(0, 60) == -1
    assert note(1, 60) == 2 and note(2, 60) == -1
    assert note(3, 64) == 2 and note(4, 64) == 1 and note(5, 64) == 1
    assert note(5, 62) == 0 and note(5, 66) == 0 and note(5, 61) == -1 and note(5, 67) == -1
    assert note(6, 64) == -1
    assert int(seen[6][140]) - 7 == 1 and int(seen[7][140]) - 7 == -1


def test_refusals_are_immediate_and_clear(demo):
    e = engine(demo)
    with pytest.raises(UserError, match="MusicCoCa"):
        e.post("/mrtd/prompt/2/text", "disco funk")
    with pytest.raises(UserError, match="out of range"):
        e.post("/mrtd/temperature", 9.0)
    with pytest.raises(UserError, match="not an engine control"):
        e.post("/mrtd/midi/channel", 3)
    e.post("/mrtd/prompt/2/text", "")  # clearing is fine


def test_highest_weight_token_slot_wins(demo):
    e = engine(demo)
    e.post("/mrtd/prompt/1/tokens", *STYLE)
    e.post("/mrtd/prompt/2/tokens", *[5] * 12)
    e.post("/mrtd/prompt/2/weight", 0.9)
    e.post("/mrtd/prompt/1/weight", 0.4)
    e.post("/mrtd/style/levels", 6)
    e.step_frame()
    assert e.controls.style_tokens().tolist() == [5] * 6 + [-1] * 6


def test_rerender_of_logged_events_is_bit_identical(demo, tmp_path):
    log = tmp_path / "take.jsonl"
    e = engine(demo, seed=11, event_sink=EventWriter(log))
    e.post("/mrtd/prompt/1/tokens", *STYLE, frame=3)
    e.post("/mrtd/seed/rotation", 7, frame=5)
    e.post("/mrtd/note/on", 48, frame=8)
    e.post("/mrtd/reset", frame=12)
    e.post("/mrtd/temperature", 0.8, frame=15)
    e.post("/mrtd/volume", -6.0, frame=20)
    e.post("/mrtd/responsive", True, frame=22)
    e.post("/mrtd/drums", "off", frame=25)
    first = render(e, 1.4)
    e.event_sink.close()
    assert len(read_events(log)) == 8 and e.resets == 1
    again = engine(demo, seed=11)
    again.post_events(read_events(log))
    assert np.array_equal(first, render(again, 1.4))
    other = engine(demo, seed=12)
    other.post_events(read_events(log))
    assert not np.array_equal(first, render(other, 1.4))


def test_reset_replays_and_rotation_varies(demo):
    e = engine(demo, seed=5)
    a = tokens(e, 4)
    e.reset()  # rotation 0: same seed, same context -> same frames
    assert np.array_equal(a, tokens(e, 4))
    e.controls.rotation = 1
    e.reset()
    assert not np.array_equal(a, tokens(e, 4))


def test_bank_write_is_atomic(demo, tmp_path, monkeypatch):
    e = engine(demo, bank_dir=tmp_path, seed=2)
    tokens(e, 3)
    e.post("/mrtd/bank/save", 1)
    e.step_frame()
    path = banks.bank_path(tmp_path, 1)
    before = path.read_bytes()
    after_save = tokens(e, 4)

    def crash(fd):
        raise OSError("simulated crash mid-write")

    monkeypatch.setattr(banks.os, "fsync", crash)
    tokens(e, 2)
    with pytest.raises(UserError, match="simulated"):  # an OS error is the user's: it names the bank
        e.save_bank(1)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    e.post("/mrtd/bank/load", 1)  # reset target = the saved state, seed as at save (rotation 0)
    e.step_frame()
    e2 = engine(demo, bank_dir=tmp_path, seed=2)
    e2.load_bank(1)
    assert np.array_equal(tokens(e2, 4)[1:], tokens(e, 3))
    assert after_save.shape == (4, 12)


def test_bad_bank_is_a_user_error(demo, tmp_path):
    (tmp_path / "bank_004.safetensors").write_bytes(b"garbage")
    e = engine(demo, bank_dir=tmp_path)
    with pytest.raises(UserError):
        e.load_bank(4)
    with pytest.raises(UserError):
        e.load_bank(5)


def test_silent_prefill_becomes_the_reset_target(demo):
    e = engine(demo, seed=4)
    e.post("/mrtd/prefill/silence", 0.5, frame=2)
    tokens(e, 2)
    after = tokens(e, 3)
    assert e.frame == 5 and e.generator.fs.state.pos.item() == 11 + 3  # 12 prefill frames = 11 forced steps (official N-1)
    e.reset()
    e.controls.rotation = 0
    e.generator.fs.seed([e.controls.seed])
    again = tokens(e, 3)
    assert np.array_equal(after, again)


def test_tiny_checkpoint_engine_renders():
    e = load_engine(str(FIX / "mrt2_tiny.safetensors"), str(FIX / "mrt2_tiny.manifest.json"), False, seed=1)
    audio = render(e, 0.3)
    assert audio.shape == (14400, 2) and np.isfinite(audio).all() and np.abs(audio).max() > 0


def test_render_cli(tmp_path):
    import soundfile as sf

    out = tmp_path / "o.wav"
    ev = tmp_path / "ev.jsonl"
    ev.write_text('{"frame": 2, "address": "/mrtd/drums", "args": ["on"]}\n')
    r = subprocess.run([sys.executable, "-m", "mrtd", "render", "--demo", "--seconds", "0.4", "--seed", "3",
                        "--events", str(ev), "--out", str(out), "--quiet"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    info = sf.info(str(out))
    assert info.samplerate == 48000 and info.channels == 2 and info.subtype == "PCM_24" and info.frames == 19200
    r = subprocess.run([sys.executable, "-m", "mrtd", "render", "--checkpoint", str(tmp_path / "nope.safetensors"),
                        "--seconds", "1", "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "checkpoint not found" in r.stderr


def test_audio_prefill_through_render_with_the_encoder(tmp_path):
    """/mrtd/prefill/audio with the tiny encoder: the prefilled context changes the tokens."""
    import soundfile as sf

    with np.load(FIX / "ref_mrt2_tiny_encoder.npz") as z:
        chord = z["chord_waveform"][0]  # official test signal, 3 s stereo at 48 kHz
    wav = tmp_path / "chord.wav"
    sf.write(str(wav), chord, 48000, subtype="FLOAT")
    ckpt, cfg = str(FIX / "mrt2_tiny.safetensors"), str(FIX / "mrt2_tiny.manifest.json")
    e = load_engine(ckpt, cfg, False, seed=1, encoder=str(FIX / "mrt2_tiny_encoder.safetensors"))
    assert e.encoder is not None
    plain = load_engine(ckpt, cfg, False, seed=1)
    assert plain.encoder is None  # no encoder.safetensors beside the fixture checkpoint
    with pytest.raises(UserError, match="encoder"):
        plain.prefill_audio(str(wav))
    e.prefill_audio(str(wav))
    assert not np.array_equal(tokens(e, 4), tokens(plain, 4))

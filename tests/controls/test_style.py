"""Prompt slots and blending (mrtd.controls.style) with the real LiteRT interpreter on the
stand-in MusicCoCa files of tests/fixtures/musiccoca/ (the real files cannot be
downloaded here; the stand-ins have the official names and signatures)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mrtd.controls.state import NO_MUSICCOCA
from mrtd.controls.style import StyleEncoder, blend
from mrtd.engine.demo import build_random_demo
from mrtd.engine.engine import Engine
from mrtd.errors import UserError
from mrtd.model.musiccoca import MusicCoCa

STANDINS = Path(__file__).parents[1] / "fixtures" / "musiccoca"
TOKENS = [7, 70, 700, 1, 2, 3, 4, 5, 6, 8, 9, 10]


class CountingMusicCoCa(MusicCoCa):
    """The real runner, counting encodes (to prove the caches)."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.calls: list[str] = []

    def embed_text(self, text, **kw):
        self.calls.append(text)
        return super().embed_text(text, **kw)


@pytest.fixture(scope="module")
def mcc() -> MusicCoCa:
    return MusicCoCa(STANDINS)


def engine(style: StyleEncoder, **kw) -> Engine:
    return Engine(*build_random_demo(), style=style, **kw)


def want(m: MusicCoCa, texts: list[str], weights: list[float], mapper: bool = True) -> list[int]:
    return m.tokenize(blend([m.embed_text(t, mapper=mapper) for t in texts], weights)).tolist()


def test_blend_is_the_normalised_weighted_mean():
    a, b = np.ones(768, np.float32), np.arange(768, dtype=np.float32)
    np.testing.assert_allclose(blend([a, b], [1.0, 3.0]), 0.25 * a + 0.75 * b, rtol=1e-6)
    np.testing.assert_allclose(blend([a, b, 100 * b], [0.2, 0.2, 0.0]), (a + b) / 2, rtol=1e-6)  # 0 parks
    with pytest.raises(ValueError):
        blend([a], [0.0])


def test_text_slots_blend_in_embedding_space(mcc):
    e = engine(StyleEncoder(mcc, sync=True))
    e.post("/mrtd/prompt/1/text", "disco funk")
    e.step_frame()
    assert e.controls.style_tokens().tolist() == want(mcc, ["disco funk"], [1])
    e.post("/mrtd/prompt/2/text", "Ambient Drone")
    e.post("/mrtd/prompt/weights", 1.0, 0.5)
    e.step_frame()
    blended = want(mcc, ["disco funk", "ambient drone"], [1, 0.5])
    assert e.controls.style_tokens().tolist() == blended
    assert blended != want(mcc, ["disco funk"], [1]) and blended != want(mcc, ["ambient drone"], [1])
    e.post("/mrtd/prompt/1/weight", 0.0)  # parked: slot 2 alone
    e.step_frame()
    assert e.controls.style_tokens().tolist() == want(mcc, ["ambient drone"], [1])
    assert e.value("/mrtd/prompt/2/text") == ("Ambient Drone",)
    assert e.value("/mrtd/prompt/2/status") == ("ready",)


def test_mapper_switch_and_levels(mcc):
    e = engine(StyleEncoder(mcc, sync=True))
    e.post("/mrtd/prompt/1/text", "disco funk")
    e.step_frame()
    mapped = e.controls.style_tokens().tolist()
    e.post("/mrtd/style/mapper", False)
    e.step_frame()
    assert e.controls.style_tokens().tolist() == want(mcc, ["disco funk"], [1], mapper=False) != mapped
    e.post("/mrtd/style/levels", 6)
    e.step_frame()
    assert e.controls.style_tokens().tolist() == want(mcc, ["disco funk"], [1], mapper=False)[:6] + [-1] * 6


def test_token_slot_is_used_alone_when_it_leads(mcc):
    e = engine(StyleEncoder(mcc, sync=True))
    e.post("/mrtd/prompt/1/text", "disco funk")
    e.post("/mrtd/prompt/2/tokens", *TOKENS)
    e.post("/mrtd/prompt/weights", 1.0, 0.5)
    e.step_frame()
    assert e.controls.style_tokens().tolist() == want(mcc, ["disco funk"], [1])  # tokens left out
    e.post("/mrtd/prompt/2/weight", 1.0)  # a tie goes to the lower slot
    e.step_frame()
    assert e.controls.style_tokens().tolist() == want(mcc, ["disco funk"], [1])
    e.post("/mrtd/prompt/2/weight", 1.0)
    e.post("/mrtd/prompt/1/weight", 0.9)
    e.step_frame()
    assert e.controls.style_tokens().tolist() == TOKENS


def test_embedding_and_audio_slots(mcc, tmp_path):
    sr = 44100
    t = np.arange(int(sr * 2.5)) / sr
    wav = tmp_path / "riff.wav"
    sf.write(wav, np.stack([np.sin(2 * np.pi * 330 * t), np.sin(2 * np.pi * 660 * t)], 1) * 0.3, sr,
             subtype="PCM_16")
    emb = mcc.embed_text("heavy metal guitar riff", mapper=True)
    e = engine(StyleEncoder(mcc, sync=True))
    e.post("/mrtd/prompt/1/embedding", emb.astype("<f4").tobytes())
    e.step_frame()
    assert e.controls.style_tokens().tolist() == mcc.tokenize(emb).tolist()
    e.post("/mrtd/prompt/1/clear")
    e.post("/mrtd/prompt/3/audio", str(wav))
    e.post("/mrtd/prompt/3/weight", 1.0)
    e.step_frame()
    assert e.controls.style_tokens().tolist() == mcc.tokenize(mcc.embed_audio_file(wav)).tolist()
    assert e.value("/mrtd/prompt/1/status") == ("empty",)
    with pytest.raises(UserError, match="no such file"):
        e.post("/mrtd/prompt/2/audio", str(tmp_path / "nope.wav"))
    with pytest.raises(UserError, match="3072 bytes"):
        e.post("/mrtd/prompt/2/embedding", b"\0" * 16)


def test_live_encoding_is_off_the_frame_thread_and_cached(mcc):
    m = CountingMusicCoCa(STANDINS)
    style = StyleEncoder(m)  # live: a worker thread encodes
    e = engine(style)
    e.post("/mrtd/prompt/1/tokens", *TOKENS)
    e.step_frame()
    told: list = []
    e.listeners.append(told.append)
    e.post("/mrtd/prompt/1/text", "Disco Funk")  # prefetch starts on this (the caller's) thread
    assert style.wait_idle(10)
    assert m.calls == ["Disco Funk"]
    e.step_frame()  # the frame only looks results up: the blend's quantisation is asked for now
    assert style.wait_idle(10)
    e.step_frame()
    assert e.controls.style_tokens().tolist() == want(mcc, ["disco funk"], [1])
    assert e.value("/mrtd/prompt/1/status") == ("ready",)
    assert ("/mrtd/style/tokens", tuple(want(mcc, ["disco funk"], [1]))) in [(ev.address, ev.args) for ev in told]
    e.post("/mrtd/prompt/2/text", "disco FUNK")  # same text, other case: cached
    e.post("/mrtd/prompt/1/text", "disco funk")
    e.step_frame()
    assert m.calls == ["Disco Funk"]


def test_a_slot_keeps_sounding_until_its_new_prompt_is_ready(mcc):
    style = StyleEncoder(mcc)
    e = engine(style)
    e.post("/mrtd/prompt/1/text", "disco funk")
    for _ in range(2):  # the embedding, then the blend's tokens
        assert style.wait_idle(10)
        e.step_frame()
    first = e.controls.style_tokens().tolist()
    assert first == want(mcc, ["disco funk"], [1])
    mcc._lock.acquire()  # hold the encoder: the new prompt stays "encoding" on the worker
    try:
        e.post("/mrtd/prompt/1/text", "slow ambient drone")
        e.step_frame()  # does not wait for the worker
        assert e.value("/mrtd/prompt/1/status") == ("encoding",)
        assert e.controls.style_tokens().tolist() == first
    finally:
        mcc._lock.release()
    assert style.wait_idle(10)
    e.step_frame()
    e.step_frame()  # the blend's quantisation is the worker's too
    assert e.value("/mrtd/prompt/1/status") == ("ready",)
    assert style.wait_idle(10)
    e.step_frame()
    assert e.controls.style_tokens().tolist() == want(mcc, ["slow ambient drone"], [1])


def test_a_broken_audio_file_is_an_error_not_a_crash(mcc, tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF not really a wav")
    style = StyleEncoder(mcc)
    e = engine(style)
    told: list = []
    e.listeners.append(told.append)
    e.post("/mrtd/prompt/1/text", "disco funk")
    e.post("/mrtd/prompt/2/audio", str(bad))
    e.post("/mrtd/prompt/weights", 1.0, 1.0)
    for _ in range(50):
        e.step_frame()
        if e.value("/mrtd/prompt/2/status") == ("error",) and e.value("/mrtd/prompt/1/status") == ("ready",):
            break
        time.sleep(0.01)
    assert e.value("/mrtd/prompt/2/status") == ("error",)
    errors = [ev.args for ev in told if ev.address == "/mrtd/error"]
    assert len(errors) == 1 and errors[0][0] == "/mrtd/prompt/2/audio" and "broken.wav" in errors[0][1]
    style.wait_idle(10)
    e.step_frame()
    e.step_frame()
    assert e.controls.style_tokens().tolist() == want(mcc, ["disco funk"], [1])  # the good slot plays on


def test_without_musiccoca_files_tokens_still_work_and_text_says_where(tmp_path):
    e = engine(StyleEncoder(None, where="Run 'mrtd weights download'."))
    with pytest.raises(UserError, match=NO_MUSICCOCA) as err:
        e.post("/mrtd/prompt/1/text", "disco funk")
    assert "mrtd weights download" in str(err.value)
    with pytest.raises(UserError, match=NO_MUSICCOCA):
        e.post("/mrtd/prompt/1/embedding", b"\0" * 3072)
    e.post("/mrtd/prompt/1/tokens", *TOKENS)
    e.step_frame()
    assert e.controls.style_tokens().tolist() == TOKENS
    partial = tmp_path / "mcc"  # text files only: audio prompts name what is missing
    partial.mkdir()
    for f in ("spm.model", "text_encoder.tflite", "pretrained_vector_quantizer.tflite"):
        shutil.copy(STANDINS / f, partial / f)
    wav = tmp_path / "a.wav"
    sf.write(wav, np.zeros(1600, np.float32), 16000)
    e2 = engine(StyleEncoder(MusicCoCa(partial), sync=True))
    with pytest.raises(UserError, match="audio_preprocessor.tflite"):
        e2.post("/mrtd/prompt/1/audio", str(wav))
    e2.post("/mrtd/prompt/1/text", "disco funk")  # no mapper.tflite: unmapped, as the official app does
    e2.step_frame()
    assert e2.controls.style_tokens().tolist() == want(MusicCoCa(STANDINS), ["disco funk"], [1], mapper=False)


def test_bank_restores_a_text_slot_without_encoding_again(mcc, tmp_path):
    e = engine(StyleEncoder(mcc, sync=True), bank_dir=tmp_path)
    e.post("/mrtd/prompt/1/text", "disco funk")
    e.post("/mrtd/prompt/2/tokens", *TOKENS)
    e.post("/mrtd/prompt/weights", 1.0, 0.25)
    e.step_frame()
    before = e.controls.style_tokens().tolist()
    e.post("/mrtd/bank/save", 3)
    e.step_frame()
    m = CountingMusicCoCa(STANDINS)
    e2 = engine(StyleEncoder(m, sync=True), bank_dir=tmp_path)
    e2.post("/mrtd/bank/load", 3)
    e2.step_frame()
    e2.step_frame()
    assert e2.controls.style_tokens().tolist() == before
    assert m.calls == []
    assert e2.value("/mrtd/prompt/1/text") == ("disco funk",)


def test_render_with_text_prompts_is_deterministic(mcc):
    from mrtd.engine.render import render

    def take() -> np.ndarray:
        e = engine(StyleEncoder(mcc, sync=True), seed=4)
        e.post("/mrtd/prompt/1/text", "disco funk", frame=2)
        e.post("/mrtd/prompt/2/text", "jazz piano trio", frame=6)
        e.post("/mrtd/prompt/weights", 0.5, 1.0, frame=9)
        return render(e, 0.6)

    a, b = take(), take()
    assert np.array_equal(a, b)


def test_osc_text_prompt_end_to_end(mcc, tmp_path):
    """liblo's oscsend sets a text prompt on a running in-process daemon; a subscribed
    oscdump sees the slot become ready and the new style tokens; a missing audio file
    and an encoding failure come back as /mrtd/error."""
    from support.inproc import running_daemon
    from support.liblo import OscDump
    from support.ports import free_port

    expected = want(mcc, ["disco funk"], [1])
    with running_daemon(tmp_path, style=StyleEncoder(mcc)) as d:
        dump = OscDump(free_port())
        try:
            d.send("/mrtd/subscribe", "i", dump.port)
            dump.wait_for(lambda m: m.address == "/mrtd/subscribed")
            d.send("/mrtd/prompt/1/text", "s", "disco funk")
            got = dump.wait_for(lambda m: m.address == "/mrtd/style/tokens"
                                and [int(a) for a in m.args] == expected, timeout=10)
            assert got.types == "i" * 12
            assert d.wait_value("/mrtd/prompt/1/status", ("ready",)) == ("ready",)
            d.send("/mrtd/prompt/2/audio", "s", str(tmp_path / "missing.wav"))
            err = dump.wait_for(lambda m: m.address == "/mrtd/error")
            assert "/mrtd/prompt/2/audio" in err.args[0] and "no such file" in " ".join(err.args)
            bad = tmp_path / "bad.wav"
            bad.write_bytes(b"RIFF....WAVEjunk")
            d.send("/mrtd/prompt/3/audio", "s", str(bad))
            d.send("/mrtd/prompt/3/weight", "f", 1.0)
            err = dump.wait_for(lambda m: m.address == "/mrtd/error", timeout=10)
            assert "/mrtd/prompt/3/audio" in err.args[0] and "bad.wav" in " ".join(err.args)
            assert d.wait_value("/mrtd/prompt/3/status", ("error",)) == ("error",)
            assert d.wait_value("/mrtd/style/tokens", tuple(expected)) == tuple(expected)
        finally:
            dump.close()

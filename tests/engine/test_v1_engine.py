"""Magenta RT v1 through the engine: 2 s chunks played as 40 ms frames (tiny v1 oracle
checkpoint + the tiny MRT2 codec). Controls land on the next chunk boundary and are
logged there; MRT2-only controls are refused naming v1; reset, banks and prefill work on
the chunk state.

Most control plumbing runs with the LLM's token generation replaced by a cheap
deterministic stand-in (decode, crossfade and everything around it stay real); the real
tiny model renders in the determinism and temperature tests (a chunk is 800 decode steps)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mrtd.engine.build import V1_LATENCY_MS, load_engine
from mrtd.engine.engine import Engine
from mrtd.engine.render import render
from mrtd.engine.v1 import DEFAULTS, V1Generator, style_codes
from mrtd.errors import ControlError, UserError
from mrtd.model.mrt2.codec_decoder import load_decoder
from mrtd.model.mrt2.conditioning import build_cond
from mrtd.model.v1.checkpoint import load_v1
from mrtd.model.v1.system import CHUNK_FRAMES, STYLE_OFFSET
from mrtd.remote.hub import Hub

FIX = Path(__file__).parents[1] / "fixtures"
V1_CKPT, CODEC = FIX / "v1" / "checkpoint", FIX / "mrt2_tiny.safetensors"
STYLE = list(range(100, 112))


@pytest.fixture(scope="module")
def v1():
    return load_v1(V1_CKPT), load_decoder(CODEC)


class FakeTokens:
    """Stands in for the 800-step decode: tokens from (seed, encoder input), every call recorded."""

    def __init__(self):
        self.calls: list[dict] = []

    def __call__(self, enc, *, seed, guidance, temperature, top_k):
        self.calls.append({"enc": enc.copy(), "seed": seed, "guidance": guidance, "temperature": temperature,
                           "top_k": top_k})
        rng = np.random.default_rng([seed, int(enc.astype(np.int64).sum()), int(temperature * 1000)])
        return rng.integers(2, 16386, (2, 800)).astype(np.int32)


def engine(v1, fake: FakeTokens | None = None, seed: int = 0, **kw) -> Engine:
    gen = V1Generator(*v1, seed=seed)
    if fake is not None:
        gen.system.generate_tokens = fake
    return Engine(generator=gen, seed=seed, **kw)


def frames(e: Engine, n: int) -> np.ndarray:
    """Token ids of the next ``n`` frames (each frame's audio read out, as the JACK side would)."""
    out, buf = [], np.zeros((1920, e.output.channels), np.float32)
    for _ in range(n):
        out.append(e.step_frame().numpy().copy())
        e.read_into(buf)
    return np.stack(out)


# ---- the real tiny model ------------------------------------------------------------------
def test_render_is_deterministic_and_a_temperature_change_lands_on_the_chunk_boundary(v1):
    a, b = engine(v1, seed=3), engine(v1, seed=3)
    b.post("/mrtd/temperature", 0.0, frame=7)  # greedy from the next chunk on
    audio_a, audio_b = render(a, 2.2), render(b, 2.2)  # frames 0..~57: two chunks each
    assert a.frame == b.frame and 55 <= a.frame < 100
    assert [(ev.frame, ev.address, ev.args) for ev in b.applied] == [(50, "/mrtd/temperature", (0.0,))]
    assert b.controls.temperature == 0.0 and a.controls.temperature == DEFAULTS["temperature"]
    # chunk 0 was made at frame 0 with the same seed: identical; chunk 1 is greedy in b
    assert np.array_equal(audio_a[:CHUNK_FRAMES * 1920], audio_b[:CHUNK_FRAMES * 1920])
    assert not np.array_equal(audio_a[CHUNK_FRAMES * 1920:], audio_b[CHUNK_FRAMES * 1920:])
    assert np.isfinite(audio_a).all() and np.abs(audio_a).max() > 0
    st = b.status()
    assert st["chunk_frames"] == 50 and st["chunk_ms"] > 0 and st["control_latency_ms"] >= 2000
    assert b.generator.state.chunk_index == 2


# ---- controls -------------------------------------------------------------------------------
def test_v1_starts_at_its_official_sampling_defaults(v1):
    e = engine(v1, FakeTokens())
    assert (e.controls.temperature, e.controls.top_k, e.controls.guidance[0]) == (1.1, 40, 5.0)
    assert e.describe().endswith("2 s chunks") and e.generator.family == "v1"


def test_style_sampling_and_guidance_reach_the_chunk_at_its_boundary(v1):
    fake = FakeTokens()
    e = engine(v1, fake, seed=9)
    frames(e, 3)
    e.post("/mrtd/prompt/1/tokens", *STYLE)
    e.post("/mrtd/topk", 7)
    e.post("/mrtd/guidance/style", 2.4)
    e.post("/mrtd/volume", -6.0)  # output controls land on their own frame
    frames(e, 50)
    first, second = fake.calls
    assert (first["top_k"], first["guidance"], first["temperature"]) == (40, 5.0, 1.1)
    assert (first["enc"][:, -6:] == 1).all()  # no prompt: no style (all MASK)
    assert (second["top_k"], second["guidance"]) == (7, 2.4)
    assert second["enc"][0, -6:].tolist() == [STYLE_OFFSET + 1024 * i + t for i, t in enumerate(STYLE[:6])]
    assert (second["enc"][1, -6:] == 1).all()
    assert (first["seed"], second["seed"]) == (9, 10)  # PRNGKey(seed + chunk_index)
    got = {ev.address: ev.frame for ev in e.applied}
    assert got["/mrtd/volume"] == 3 and got["/mrtd/topk"] == got["/mrtd/guidance/style"] == 50
    assert got["/mrtd/prompt/1/tokens"] == 50


def test_style_codes_come_from_the_conditioning_vector():
    assert style_codes(build_cond([-1] * 12)) is None
    assert style_codes(build_cond(STYLE)).tolist() == STYLE[:6]
    assert style_codes(build_cond(STYLE[:3] + [-1] * 9)).tolist() == STYLE[:3] + [-1] * 3


@pytest.mark.parametrize("address,args", [
    ("/mrtd/note/on", (60,)), ("/mrtd/notes/pitch", (60, 1)), ("/mrtd/drums", ("on",)),
    ("/mrtd/drums/hit", ()), ("/mrtd/guidance/notes", (2.0,)), ("/mrtd/guidance/drums", (2.0,)),
    ("/mrtd/notes/frame", (1,) * 128),
])
def test_mrt2_only_controls_are_refused_naming_v1(v1, address, args):
    e = engine(v1, FakeTokens())
    before = e.controls.to_json()
    with pytest.raises(ControlError, match="v1") as err:
        e.post(address, *args)
    assert err.value.address == address and "MRT2" in err.value.reason
    result = Hub(e).handle_many([(address, args), ("/mrtd/temperature", (0.5,))])
    assert isinstance(result[0], ControlError) and "v1" in result[0].reason  # the /mrtd/error reply
    assert result[1] == (0.5,)
    assert len(e.schedule) == 1 and e.controls.to_json() == before


def test_the_same_controls_work_under_mrt2():
    from mrtd.engine.demo import build_random_demo

    e = Engine(*build_random_demo())
    e.post("/mrtd/note/on", 60)
    e.post("/mrtd/guidance/notes", 2.0)
    assert "chunk_frames" not in e.status() and e.controls.temperature == 1.3


# ---- state: reset, banks, prefill -------------------------------------------------------
def test_reset_and_bank_round_trip(v1, tmp_path):
    e = engine(v1, FakeTokens(), seed=4, bank_dir=tmp_path)
    frames(e, 51)  # chunks 0 and 1 made; frame 51 plays next
    e.save_bank(1)
    bank_state = e.generator.snapshot()
    assert bank_state.chunk_index == 2 and (bank_state.context[-100:] >= 0).all()
    ahead = frames(e, 99)[-50:]  # the rest of chunk 1, then chunk 2 (frames 100..149)
    tail = e.generator.state.tail.copy()
    e.load_bank(1)  # reset target = the saved state: chunk 2 again, same seed (rotation 0)
    assert e.generator.state.chunk_index == 2 and e.resets == 1
    assert np.array_equal(frames(e, 50), ahead) and np.array_equal(e.generator.state.tail, tail)
    e.controls.rotation = 1
    e.reset()  # seed + rotation * resets: another chunk 2
    assert not np.array_equal(frames(e, 50), ahead)
    with pytest.raises(ValueError, match="not a Magenta RT v1 bank"):
        e.generator.from_bank({"model.pos": np.zeros(1)})


def test_reset_replays_the_stream(v1):
    e = engine(v1, FakeTokens(), seed=5)
    first = frames(e, 52)
    state = e.generator.snapshot()
    e.reset()
    assert e.generator.state.chunk_index == 0 and (e.generator.state.context == -1).all()
    assert np.array_equal(frames(e, 52), first)
    again = e.generator.state
    assert np.array_equal(again.context, state.context) and np.array_equal(again.tail, state.tail)


def test_silence_prefill_fills_the_context(v1):
    fake = FakeTokens()
    e = engine(v1, fake)
    e.post("/mrtd/prefill/silence", 4.0, frame=2)
    frames(e, 3)  # chunk 0 at frame 0, prefill + reset at frame 2, chunk 0 again from the silent context
    silence = e.silence_codes().numpy()
    assert silence.shape == (16,)
    s = e.generator.state
    assert s.chunk_index == 1 and (s.context[100:200] == silence).all() and (s.context[:100] == -1).all()
    enc = fake.calls[-1]["enc"][0]
    assert (enc[:600] == 1).all()  # 150 empty frames
    assert (enc[600:1000].reshape(100, 4) == 2 + 1024 * np.arange(4) + silence[:4]).all()
    assert e.target.chunk_index == 0 and (e.target.context[-100:] == silence).all()


# ---- building ---------------------------------------------------------------------------------
def test_load_engine_autodetects_a_v1_checkpoint():
    e = load_engine(str(V1_CKPT), str(FIX / "v1" / "config.json"), False, 2, codec=str(CODEC))
    assert isinstance(e.generator, V1Generator) and e.output.latency_ms == V1_LATENCY_MS
    assert e.cfg.d_model == 64 and e.controls.seed == 2 and "mrt2_tiny" in e.source
    short = load_engine(str(V1_CKPT), None, False, 0, codec=str(CODEC), latency_ms=120.0)
    assert short.output.latency_ms == 120.0


def test_load_engine_v1_errors(monkeypatch, tmp_path):
    for var in ("MRTD_WEIGHTS", "MAGENTA_RT_CACHE_DIR", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # no real files found by accident
    monkeypatch.setattr("mrtd.weights.v1.find_v1_codec", lambda weights=None: None)
    with pytest.raises(UserError, match="--codec"):
        load_engine(str(V1_CKPT), None, False, 0)
    with pytest.raises(UserError, match="codec file not found"):
        load_engine(str(V1_CKPT), None, False, 0, codec=str(tmp_path / "nope.safetensors"))
    with pytest.raises(UserError, match="--codec is for Magenta RT v1"):
        load_engine(str(CODEC), None, False, 0, codec=str(CODEC))
    with pytest.raises(UserError, match="v1_base"):
        load_engine(None, None, False, 0, size="v1_base", weights=str(tmp_path), codec=str(CODEC))


def test_audio_prefill_encodes_16_levels_into_the_context(tmp_path):
    """/mrtd/prefill/audio under v1: the MRT2 SpectroStream encoder (tiny) with 16 levels."""
    import soundfile as sf

    with np.load(FIX / "ref_mrt2_tiny_encoder.npz") as z:
        chord = z["chord_waveform"][0]  # 3 s stereo at 48 kHz
    wav = tmp_path / "chord.wav"
    sf.write(str(wav), chord, 48000, subtype="FLOAT")
    e = load_engine(str(V1_CKPT), None, False, 1, str(FIX / "mrt2_tiny_encoder.safetensors"), codec=str(CODEC),
                    latency_ms=80.0)
    assert e.encoder is not None
    codes = e.generator.encode(chord[: 75 * 1920])
    assert codes.shape == (75, 16) and int(codes.min()) >= 0 and int(codes.max()) < 1024
    e.prefill_audio(str(wav))
    s = e.generator.state
    assert s.chunk_index == 0 and (s.context[:175] == -1).all() and (s.context[175:] >= 0).all()
    assert np.array_equal(s.context[175:], codes.numpy())  # 75 frames, nothing trimmed below 100
    assert np.abs(s.tail).max() > 0  # the prefilled sound's last frame, faded out by the first chunk
    assert e.target.chunk_index == 0 and np.array_equal(e.target.context, s.context)


def test_logged_events_replay_bit_identically(v1, tmp_path):
    from mrtd.controls.events import EventWriter, read_events

    log = tmp_path / "take.jsonl"
    e = engine(v1, FakeTokens(), seed=11, event_sink=EventWriter(log))
    e.post("/mrtd/prompt/1/tokens", *STYLE, frame=3)
    e.post("/mrtd/temperature", 0.7, frame=20)
    e.post("/mrtd/volume", -3.0, frame=30)
    e.post("/mrtd/reset", frame=60)
    first = frames(e, 120)
    e.event_sink.close()
    logged = [(ev.frame, ev.address) for ev in read_events(log)]
    assert logged == [(30, "/mrtd/volume"), (50, "/mrtd/prompt/1/tokens"), (50, "/mrtd/temperature"),
                      (60, "/mrtd/reset")]
    again = engine(v1, FakeTokens(), seed=11)
    again.post_events(read_events(log))
    assert np.array_equal(frames(again, 120), first)
    assert np.array_equal(again.generator.state.tail, e.generator.state.tail)


def test_the_codec_is_found_beside_the_v1_checkpoint(tmp_path, monkeypatch):
    import shutil

    monkeypatch.setattr("mrtd.weights.v1.find_v1_codec", lambda weights=None: None)
    shutil.copytree(V1_CKPT, tmp_path / "llm_tiny")
    shutil.copy(CODEC, tmp_path / "mrt2_small.safetensors")
    e = load_engine(str(tmp_path / "llm_tiny"), None, False, 0)
    assert isinstance(e.generator, V1Generator) and e.generator.codec_source.endswith("mrt2_small.safetensors")

"""MusicCoCa runner on the real LiteRT interpreter, with the stand-in files.

``tests/fixtures/musiccoca/`` holds tiny random-weight files with the official names and
signatures (NOT MusicCoCa; see its README); ``reference.npz`` there holds their outputs
computed in plain numpy, so these tests prove the runner feeds the interpreter as the
official code does (ids vs paddings, mapper noise, clip layout). The official golden
tokens are checked only where the real files are found.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
import sentencepiece
import soundfile as sf

from mrtd.errors import UserError
from mrtd.model.musiccoca import (
    AUDIO_FILES,
    CLIP_SAMPLES,
    CODEBOOK_SIZE,
    EMBEDDING_DIM,
    MAPPER_FILE,
    MAX_TEXT_TOKENS,
    RVQ_DEPTH,
    TEXT_FILES,
    MusicCoCa,
    MusicCoCaError,
)

FIX = Path(__file__).parents[1] / "fixtures" / "musiccoca"
ALL_FILES = TEXT_FILES + AUDIO_FILES + (MAPPER_FILE,)


@pytest.fixture(scope="module")
def coca() -> MusicCoCa:
    return MusicCoCa(FIX)


@pytest.fixture(scope="module")
def ref() -> dict[str, np.ndarray]:
    with np.load(FIX / "reference.npz") as z:
        return {k: z[k] for k in z.files}


def copy_fixtures(dst: Path, skip: tuple[str, ...] = ()) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for name in ALL_FILES:
        if name not in skip:
            shutil.copy(FIX / name, dst / name)
    return dst


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def tones(seconds: float, rate: int, freqs, amps, phases) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    x = sum(a * np.sin(2 * np.pi * f * t + p) for f, a, p in zip(freqs, amps, phases))
    return np.asarray(x, np.float32)


def reference_audio(ref, rate: int = 16000, seconds: float | None = None) -> np.ndarray:
    seconds = float(ref["audio_seconds"]) if seconds is None else seconds
    return tones(seconds, rate, ref["audio_freqs"], ref["audio_amps"], ref["audio_phases"])


# --------------------------------------------------------------------------- text


def test_text_inputs_match_the_official_layout(coca, ref):
    for text, ids, pads in zip(ref["texts"], ref["ids"], ref["paddings"]):
        got_ids, got_pads = coca.text_inputs(str(text))
        assert got_ids.dtype == np.int32 and got_ids.shape == (MAX_TEXT_TOKENS,)
        assert got_pads.dtype == np.float32 and got_pads.shape == (MAX_TEXT_TOKENS,)
        np.testing.assert_array_equal(got_ids, ids)
        np.testing.assert_array_equal(got_pads, pads)


def test_text_inputs_bos_padding_truncation_and_case(coca):
    sp = sentencepiece.SentencePieceProcessor(model_file=str(FIX / "spm.model"))
    ids, pads = coca.text_inputs("Disco Funk")
    pieces = sp.EncodeAsIds("disco funk")
    n = len(pieces) + 1
    assert ids[0] == 1 and list(ids[1:n]) == pieces and not ids[n:].any()
    assert not pads[:n].any() and (pads[n:] == 1).all()
    np.testing.assert_array_equal(ids, coca.text_inputs("disco funk")[0])

    ids, pads = coca.text_inputs("")
    assert ids[0] == 1 and not ids[1:].any() and pads[0] == 0 and (pads[1:] == 1).all()

    long = " ".join(["funky disco groove"] * 60)
    assert len(sp.EncodeAsIds(long)) > MAX_TEXT_TOKENS
    ids, pads = coca.text_inputs(long)
    assert ids[0] == 1 and list(ids[1:]) == sp.EncodeAsIds(long)[: MAX_TEXT_TOKENS - 1]
    assert not pads.any()

    with pytest.raises(TypeError):
        coca.text_inputs(b"disco")  # type: ignore[arg-type]


def test_text_embeddings_match_numpy_reference(coca, ref):
    for text, want in zip(ref["texts"], ref["text_embeddings"]):
        emb = coca.embed_text(str(text))
        assert emb.dtype == np.float32 and emb.shape == (EMBEDDING_DIM,)
        np.testing.assert_allclose(emb, want, atol=1e-5)
    assert np.array_equal(coca.embed_text("Disco Funk"), coca.embed_text("disco funk"))
    assert not np.allclose(coca.embed_text("disco funk"), coca.embed_text("ambient electronic"))


def test_mapper(coca, ref):
    assert coca.has_mapper
    for i, text in enumerate(ref["texts"]):
        plain = coca.embed_text(str(text))
        mapped = coca.embed_text(str(text), mapper=True)
        assert mapped.dtype == np.float32 and mapped.shape == (EMBEDDING_DIM,)
        assert abs(np.linalg.norm(mapped) - 1) < 1e-5
        assert not np.allclose(plain, mapped, atol=1e-3)
        np.testing.assert_allclose(mapped, ref["mapped_embeddings_seed0"][i], atol=1e-5)
        np.testing.assert_array_equal(mapped, coca.embed_text(str(text), mapper=True, seed=0))
        np.testing.assert_allclose(coca.embed_text(str(text), mapper=True, seed=7),
                                   ref["mapped_embeddings_seed7"][i], atol=1e-5)
    with pytest.raises(MusicCoCaError, match="seed"):
        coca.embed_text("disco", mapper=True, seed=-1)


def test_mapper_absent_falls_back_to_the_text_embedding(tmp_path, ref):
    m = MusicCoCa(copy_fixtures(tmp_path / "mc", skip=(MAPPER_FILE,)))
    assert not m.has_mapper and m.can_text and m.can_audio
    plain = m.embed_text("disco funk")
    np.testing.assert_array_equal(m.embed_text("disco funk", mapper=True), plain)
    np.testing.assert_allclose(plain, ref["text_embeddings"][0], atol=1e-5)


def test_text_tokens_match_reference(coca, ref):
    for i, text in enumerate(ref["texts"]):
        tokens = coca.tokenize(coca.embed_text(str(text)))
        assert tokens.dtype == np.int64 and tokens.shape == (RVQ_DEPTH,)
        assert ((tokens >= 0) & (tokens < CODEBOOK_SIZE)).all()
        np.testing.assert_array_equal(tokens, ref["text_tokens"][i])
        np.testing.assert_array_equal(coca.tokenize(coca.embed_text(str(text), mapper=True)),
                                      ref["mapped_tokens_seed0"][i])


# --------------------------------------------------------------------------- tokens


def test_tokenize_picks_the_nearest_code(coca, ref):
    # each embedding projects exactly onto a level-0 code; the later levels follow the
    # greedy nearest-code RVQ computed in numpy
    for emb, want in zip(ref["code_embeddings"], ref["code_tokens"]):
        np.testing.assert_array_equal(coca.tokenize(emb), want)
        np.testing.assert_array_equal(coca.tokenize(emb.astype(np.float64).reshape(1, -1)), want)
    assert len({int(t[0]) for t in ref["code_tokens"]}) == len(ref["code_tokens"])


def test_tokenize_rejects_bad_embeddings(coca):
    with pytest.raises(MusicCoCaError, match="768"):
        coca.tokenize(np.zeros(767, np.float32))
    with pytest.raises(MusicCoCaError, match="768"):
        coca.tokenize(np.zeros((2, 768), np.float32))
    bad = np.zeros(768, np.float32)
    bad[3] = np.nan
    with pytest.raises(MusicCoCaError, match="finite"):
        coca.tokenize(bad)
    with pytest.raises(MusicCoCaError):
        coca.tokenize(np.array(["x"] * 768))


# --------------------------------------------------------------------------- audio


def test_audio_matches_numpy_reference_and_clip_layout(coca, ref):
    x = reference_audio(ref)  # 25 s at 16 kHz: 3 clips, the last zero-padded
    assert len(x) == 2 * CLIP_SAMPLES + CLIP_SAMPLES // 2
    emb = coca.embed_audio(x, 16000)
    assert emb.dtype == np.float32 and emb.shape == (EMBEDDING_DIM,)
    np.testing.assert_allclose(emb, ref["audio_embedding"], atol=2e-5)
    clips = [coca.embed_audio(x[i:i + CLIP_SAMPLES], 16000) for i in range(0, len(x), CLIP_SAMPLES)]
    assert len(clips) == 3
    np.testing.assert_allclose(np.stack(clips), ref["audio_clip_embeddings"], atol=2e-5)
    np.testing.assert_allclose(emb, np.mean(clips, axis=0), atol=1e-6)
    # zero padding is what the runner does to the last clip
    padded = np.pad(x[2 * CLIP_SAMPLES:], (0, CLIP_SAMPLES // 2))
    np.testing.assert_allclose(clips[2], coca.embed_audio(padded, 16000), atol=1e-6)


def test_audio_stand_in_hears_spectral_content(coca):
    t = np.arange(CLIP_SAMPLES) / 16000
    low = coca.embed_audio(np.sin(2 * np.pi * 220 * t).astype(np.float32), 16000)
    high = coca.embed_audio(np.sin(2 * np.pi * 3000 * t).astype(np.float32), 16000)
    white = np.random.default_rng(1).standard_normal(CLIP_SAMPLES).astype(np.float32) * 0.3
    noise = coca.embed_audio(white, 16000)
    assert cosine(low, high) < 0.5 and cosine(low, noise) < 0.5
    assert not np.array_equal(coca.tokenize(low), coca.tokenize(high))


def test_stereo_is_its_mono_average(coca, tmp_path):
    left = tones(4.0, 16000, [330.0, 2000.0], [0.4, 0.1], [0.0, 0.3])
    right = np.random.default_rng(2).standard_normal(len(left)).astype(np.float32) * 0.2
    stereo = np.stack([left, right], axis=1)
    mono = coca.embed_audio((left.astype(np.float64) + right) / 2, 16000)
    np.testing.assert_allclose(coca.embed_audio(stereo, 16000), mono, atol=1e-6)
    path = tmp_path / "stereo.wav"
    sf.write(path, stereo, 16000, subtype="FLOAT")
    np.testing.assert_allclose(coca.embed_audio_file(path), mono, atol=1e-6)


def test_44k1_file_matches_16k_signal(coca, ref, tmp_path):
    want = coca.embed_audio(reference_audio(ref, 16000, seconds=12.0), 16000)
    path = tmp_path / "tones44.wav"
    sf.write(path, reference_audio(ref, 44100, seconds=12.0), 44100, subtype="FLOAT")
    assert cosine(coca.embed_audio_file(path), want) > 0.99


def test_int16_audio(coca, tmp_path):
    x = tones(3.0, 22050, [440.0, 1500.0], [0.5, 0.2], [0.0, 0.0])
    pcm = np.round(x * 32767).astype(np.int16)
    as_float = coca.embed_audio(pcm.astype(np.float32) / 32768, 22050)
    np.testing.assert_allclose(coca.embed_audio(pcm, 22050), as_float, atol=1e-6)
    path = tmp_path / "pcm16.wav"
    sf.write(path, pcm, 22050, subtype="PCM_16")
    np.testing.assert_allclose(coca.embed_audio_file(path), as_float, atol=1e-6)


def test_unusable_audio(coca, tmp_path):
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"this is not audio" * 10)
    with pytest.raises(MusicCoCaError, match="garbage.wav"):
        coca.embed_audio_file(garbage)
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros((0, 1), np.float32), 16000)
    with pytest.raises(MusicCoCaError, match=r"empty\.wav.*no audio"):
        coca.embed_audio_file(empty)
    with pytest.raises(MusicCoCaError, match="no such file"):
        coca.embed_audio_file(tmp_path / "absent.wav")
    with pytest.raises(MusicCoCaError, match="folder"):
        coca.embed_audio_file(tmp_path)
    with pytest.raises(MusicCoCaError, match="no samples"):
        coca.embed_audio(np.zeros(0, np.float32), 16000)
    with pytest.raises(MusicCoCaError, match="finite"):
        coca.embed_audio(np.full(100, np.nan, np.float32), 16000)
    with pytest.raises(MusicCoCaError, match="shape"):
        coca.embed_audio(np.zeros((2, 3, 4), np.float32), 16000)
    with pytest.raises(MusicCoCaError, match="sample rate"):
        coca.embed_audio(np.zeros(100, np.float32), 0)
    assert issubclass(MusicCoCaError, UserError)


# --------------------------------------------------------------------------- files


def test_missing_files_are_named(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    m = MusicCoCa(empty)
    assert m.missing("text") == list(TEXT_FILES)
    assert m.missing("audio") == [*AUDIO_FILES, "pretrained_vector_quantizer.tflite"]
    assert not (m.can_text or m.can_audio or m.has_mapper)
    with pytest.raises(MusicCoCaError) as e:
        m.embed_text("disco")
    msg = str(e.value)
    assert str(empty) in msg and all(n in msg for n in TEXT_FILES)
    assert "google/magenta-realtime-2" in msg and "mrtd weights download" in msg
    with pytest.raises(MusicCoCaError, match="audio_preprocessor.tflite, music_encoder.tflite"):
        m.embed_audio(np.zeros(100, np.float32), 16000)
    with pytest.raises(MusicCoCaError, match="no such folder"):
        MusicCoCa(tmp_path / "nowhere").tokenize(np.zeros(768, np.float32))
    with pytest.raises(ValueError):
        m.missing("video")

    partial = MusicCoCa(copy_fixtures(tmp_path / "partial", skip=("pretrained_vector_quantizer.tflite",)))
    assert partial.missing("text") == ["pretrained_vector_quantizer.tflite"] and not partial.can_text
    with pytest.raises(MusicCoCaError) as e:
        partial.embed_text("disco")
    assert "pretrained_vector_quantizer.tflite" in str(e.value) and "spm.model" not in str(e.value)


def test_wrong_files_are_refused(tmp_path):
    d = copy_fixtures(tmp_path / "mc")
    shutil.copy(FIX / MAPPER_FILE, d / "text_encoder.tflite")
    with pytest.raises(MusicCoCaError, match=r"text_encoder\.tflite.*int32"):
        MusicCoCa(d).embed_text("disco")
    shutil.copy(FIX / "music_encoder.tflite", d / "pretrained_vector_quantizer.tflite")
    with pytest.raises(MusicCoCaError, match=r"pretrained_vector_quantizer\.tflite.*integer"):
        MusicCoCa(d).tokenize(np.zeros(768, np.float32))
    (d / "music_encoder.tflite").write_bytes(b"not a flatbuffer")
    with pytest.raises(MusicCoCaError, match=r"music_encoder\.tflite.*not a loadable"):
        MusicCoCa(d).embed_audio(np.zeros(100, np.float32), 16000)
    (d / "spm.model").write_bytes(b"nonsense")
    with pytest.raises(MusicCoCaError, match=r"spm\.model"):
        MusicCoCa(d).text_inputs("disco")


# --------------------------------------------------------------------------- threads


def test_concurrent_use_matches_serial(ref):
    texts = [str(t) for t in ref["texts"][:4]]
    x = reference_audio(ref)[: CLIP_SAMPLES + 1000]
    serial = MusicCoCa(FIX)
    want_text = [serial.embed_text(t, mapper=i % 2 == 1) for i, t in enumerate(texts)]
    want_audio = serial.embed_audio(x, 16000)
    want_tokens = [serial.tokenize(e) for e in want_text]

    shared = MusicCoCa(FIX)  # fresh: the lazy loading races too
    results: dict[str, list] = {"text": [], "audio": [], "errors": []}
    start = threading.Barrier(2)

    def texts_worker():
        try:
            start.wait()
            for _ in range(3):
                results["text"].append([(shared.embed_text(t, mapper=i % 2 == 1),
                                         shared.tokenize(shared.embed_text(t, mapper=i % 2 == 1)))
                                        for i, t in enumerate(texts)])
        except Exception as e:  # noqa: BLE001 - reported below
            results["errors"].append(e)

    def audio_worker():
        try:
            start.wait()
            for _ in range(3):
                results["audio"].append(shared.embed_audio(x, 16000))
        except Exception as e:  # noqa: BLE001
            results["errors"].append(e)

    threads = [threading.Thread(target=texts_worker), threading.Thread(target=audio_worker)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not results["errors"], results["errors"]
    for run in results["text"]:
        for (emb, tok), w_emb, w_tok in zip(run, want_text, want_tokens):
            np.testing.assert_array_equal(emb, w_emb)
            np.testing.assert_array_equal(tok, w_tok)
    assert len(results["audio"]) == 3
    for emb in results["audio"]:
        np.testing.assert_array_equal(emb, want_audio)


# --------------------------------------------------------------------------- official golden tokens

# From the official magenta-realtime tests/test_musiccoca.py (_GOLDEN_TOKENS and
# _GOLDEN_TOKENS_MAPPER, mapper seed 0), produced by the real MusicCoCa files.
GOLDEN = {
    "a jazz piano trio": [555, 402, 72, 993, 482, 932, 402, 153, 33, 374, 519, 147],
    "heavy metal guitar riff": [322, 825, 598, 131, 826, 656, 592, 759, 89, 410, 778, 642],
    "ambient electronic": [796, 540, 12, 691, 843, 202, 225, 516, 324, 836, 41, 574],
    "disco funk": [660, 597, 668, 315, 857, 217, 930, 175, 655, 343, 534, 137],
}
GOLDEN_MAPPER = {
    "a jazz piano trio": [555, 333, 237, 468, 451, 244, 82, 624, 719, 466, 168, 601],
    "heavy metal guitar riff": [270, 797, 578, 144, 653, 254, 942, 760, 89, 390, 437, 303],
    "ambient electronic": [369, 867, 202, 38, 413, 255, 213, 905, 340, 893, 300, 725],
    "disco funk": [660, 1016, 208, 530, 589, 702, 376, 54, 203, 444, 36, 246],
}


@pytest.fixture(scope="module")
def real_coca() -> MusicCoCa:
    try:
        from mrtd.weights.find import find_musiccoca
    except ImportError:
        pytest.skip("mrtd.weights.find.find_musiccoca is not available")
    directory = find_musiccoca()  # honours MRTD_WEIGHTS
    if directory is None:
        pytest.skip("the real MusicCoCa files were not found (set MRTD_WEIGHTS)")
    if Path(directory).resolve() == FIX.resolve():
        pytest.skip("MRTD_WEIGHTS points at the stand-ins, which are not MusicCoCa")
    return MusicCoCa(directory)


@pytest.mark.parametrize("mapper", [False, True], ids=["plain", "mapper"])
@pytest.mark.parametrize("prompt", list(GOLDEN))
def test_official_golden_tokens(real_coca, prompt, mapper):
    if mapper and not real_coca.has_mapper:
        pytest.skip(f"{MAPPER_FILE} is not in {real_coca.directory}")
    want = (GOLDEN_MAPPER if mapper else GOLDEN)[prompt]
    emb = real_coca.embed_text(prompt, mapper=mapper, seed=0)
    assert real_coca.tokenize(emb).tolist() == want

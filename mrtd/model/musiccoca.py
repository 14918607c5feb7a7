"""MusicCoCa: turn a text prompt or an audio example into the 12 style tokens of MRT2.

Magenta RealTime 2 is steered by a *style*: a 768-d MusicCoCa embedding, quantized into
12 residual-VQ tokens (codebook 1024) that the model is conditioned on. Embeddings of
several prompts can be averaged (weighted) before tokenizing, which is how prompts are
blended. This module runs the official LiteRT (TFLite) files from the
``resources/musiccoca/`` folder of ``google/magenta-realtime-2``, following the official
``magenta_rt/musiccoca.py`` conventions exactly, so the same prompt gives the same
tokens as the official code:

- Text: lower-cased, SentencePiece ``EncodeAsIds`` (``spm.model``), at most 127 ids,
  BOS id 1 prepended, padded with id 0 to 128; ``paddings`` is float32, 0 for real
  tokens (BOS included) and 1 for padding. ``text_encoder.tflite``'s two inputs are told
  apart by dtype (int32 ids, float32 paddings); its output 0 is the embedding.
- Mapper (optional, ``mapper.tflite``, text space -> audio space): inputs are the text
  embedding and ``np.random.RandomState(seed).randn(768)`` as float32 (seed 0 by
  default); the output is L2-normalised. Without the file the text embedding is used
  unmapped (as the official C++ app does); ``has_mapper`` says which.
- Audio: mono by averaging channels, resampled to 16 kHz (soxr, very high quality),
  cut into 10 s clips (hop = clip length, the last one zero-padded), each clip through
  ``audio_preprocessor.tflite`` then ``music_encoder.tflite``; the clip embeddings are
  averaged.
- Tokens: ``pretrained_vector_quantizer.tflite``, output 0's first 12 values.

Interpreters are created on first use and shared; one lock serialises every call into
them, since LiteRT interpreters are not thread-safe.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from mrtd.errors import UserError

EMBEDDING_DIM = 768
RVQ_DEPTH = 12
CODEBOOK_SIZE = 1024
SAMPLE_RATE = 16000
CLIP_SAMPLES = 160_000
MAX_TEXT_TOKENS = 128
BOS_ID = 1
SPM_FILE = "spm.model"
TEXT_ENCODER_FILE = "text_encoder.tflite"
PREPROCESSOR_FILE = "audio_preprocessor.tflite"
MUSIC_ENCODER_FILE = "music_encoder.tflite"
QUANTIZER_FILE = "pretrained_vector_quantizer.tflite"
MAPPER_FILE = "mapper.tflite"
TEXT_FILES = (SPM_FILE, TEXT_ENCODER_FILE, QUANTIZER_FILE)
AUDIO_FILES = (PREPROCESSOR_FILE, MUSIC_ENCODER_FILE)

_WHERE = (
    "put the official resources/musiccoca/ files of google/magenta-realtime-2 there, "
    "or run `mrtd weights download`"
)
_MAX_CHANNELS = 64


class MusicCoCaError(UserError):
    """A MusicCoCa file is missing or not what it should be, or an input is unusable."""


def _size(shape: Any) -> int:
    return int(np.prod(shape)) if len(shape) else 1


def _describe(details: list[dict]) -> str:
    return ", ".join(f"{np.dtype(d['dtype']).name}{list(map(int, d['shape']))}" for d in details) or "none"


class MusicCoCa:
    """The official MusicCoCa files in one folder: text/audio -> embedding -> 12 tokens."""

    def __init__(self, directory: str | Path, *, threads: int = 1):
        if int(threads) < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        self.directory = Path(directory).expanduser()
        self.threads = int(threads)
        self._lock = threading.Lock()
        self._interpreters: dict[str, Any] = {}
        self._spm: Any = None

    def __repr__(self) -> str:
        return f"MusicCoCa({str(self.directory)!r})"

    # ------------------------------------------------------------------ files

    def missing(self, kind: str) -> list[str]:
        """Names of the files absent for ``kind``: "text" (text -> tokens) or "audio"
        (audio -> tokens, so the quantizer counts too). The mapper is optional and never
        listed."""
        if kind == "text":
            names = TEXT_FILES
        elif kind == "audio":
            names = AUDIO_FILES + (QUANTIZER_FILE,)
        else:
            raise ValueError(f"kind must be 'text' or 'audio', got {kind!r}")
        return [n for n in names if not (self.directory / n).is_file()]

    @property
    def can_text(self) -> bool:
        return not self.missing("text")

    @property
    def can_audio(self) -> bool:
        return not self.missing("audio")

    @property
    def has_mapper(self) -> bool:
        return (self.directory / MAPPER_FILE).is_file()

    def _require(self, names: tuple[str, ...]) -> None:
        absent = [n for n in names if not (self.directory / n).is_file()]
        if absent:
            where = self.directory if self.directory.is_dir() else f"{self.directory} (no such folder)"
            raise MusicCoCaError(f"MusicCoCa files missing in {where}: {', '.join(absent)}; {_WHERE}")

    def _bad(self, name: str, what: str) -> MusicCoCaError:
        return MusicCoCaError(f"{self.directory / name}: {what} (not the official MusicCoCa file?)")

    # ------------------------------------------------------------------ loading (lock held)

    def _vocab(self) -> Any:
        if self._spm is None:
            import sentencepiece

            path = self.directory / SPM_FILE
            sp = sentencepiece.SentencePieceProcessor()
            try:
                sp.Load(str(path))
            except (OSError, RuntimeError) as e:
                raise self._bad(SPM_FILE, f"not a SentencePiece model: {e}") from None
            self._spm = sp
        return self._spm

    def _interpreter(self, name: str) -> Any:
        it = self._interpreters.get(name)
        if it is not None:
            return it
        from ai_edge_litert.interpreter import Interpreter

        path = self.directory / name
        try:
            it = Interpreter(model_path=str(path), num_threads=self.threads)
            it.allocate_tensors()
        except (ValueError, RuntimeError, OSError) as e:
            raise self._bad(name, f"not a loadable TFLite model: {e}") from None
        self._check(name, it.get_input_details(), it.get_output_details())
        self._interpreters[name] = it
        return it

    def _check(self, name: str, ins: list[dict], outs: list[dict]) -> None:
        """Refuse a file whose inputs/outputs cannot be what the conventions assume."""
        sig = f"inputs {_describe(ins)}, outputs {_describe(outs)}"
        if not ins or not outs:
            raise self._bad(name, f"expected inputs and outputs, got {sig}")
        out0 = outs[0]
        if name == TEXT_ENCODER_FILE:
            dtypes = [np.dtype(d["dtype"]) for d in ins]
            ok = (
                np.dtype(np.int32) in dtypes
                and np.dtype(np.float32) in dtypes
                and all(_size(d["shape"]) == MAX_TEXT_TOKENS for d in ins
                        if np.dtype(d["dtype"]) in (np.int32, np.float32))
                and _size(out0["shape"]) == EMBEDDING_DIM
            )
            expected = (f"an int32 ids input and a float32 paddings input of {MAX_TEXT_TOKENS} values, "
                        f"output 0 of {EMBEDDING_DIM} values")
        elif name == MAPPER_FILE:
            ok = (
                len(ins) >= 2
                and all(_size(d["shape"]) == EMBEDDING_DIM and np.dtype(d["dtype"]) == np.float32
                        for d in ins[:2])
                and _size(out0["shape"]) == EMBEDDING_DIM
            )
            expected = (f"float32 inputs 0 (embedding) and 1 (noise) of {EMBEDDING_DIM} values, "
                        f"output 0 of {EMBEDDING_DIM} values")
        elif name == PREPROCESSOR_FILE:
            ok = np.dtype(ins[0]["dtype"]) == np.float32 and np.dtype(out0["dtype"]) == np.float32
            expected = "a float32 waveform input 0 and a float32 output 0"
        elif name == MUSIC_ENCODER_FILE:
            ok = np.dtype(ins[0]["dtype"]) == np.float32 and _size(out0["shape"]) == EMBEDDING_DIM
            expected = f"a float32 input 0, output 0 of {EMBEDDING_DIM} values"
        elif name == QUANTIZER_FILE:
            ok = (
                np.dtype(ins[0]["dtype"]) == np.float32
                and _size(ins[0]["shape"]) == EMBEDDING_DIM
                and np.issubdtype(np.dtype(out0["dtype"]), np.integer)
                and _size(out0["shape"]) >= RVQ_DEPTH
            )
            expected = (f"a float32 input 0 of {EMBEDDING_DIM} values, an integer output 0 of at least "
                        f"{RVQ_DEPTH} values")
        else:  # pragma: no cover - only the names above are loaded
            raise AssertionError(name)
        if not ok:
            raise self._bad(name, f"expected {expected}; got {sig}")

    def _audio_pair(self) -> tuple[Any, Any]:
        prep = self._interpreter(PREPROCESSOR_FILE)
        enc = self._interpreter(MUSIC_ENCODER_FILE)
        produced = _size(prep.get_output_details()[0]["shape"])
        wanted = _size(enc.get_input_details()[0]["shape"])
        if produced != wanted:
            raise MusicCoCaError(
                f"{self.directory}: {PREPROCESSOR_FILE} outputs {produced} values but "
                f"{MUSIC_ENCODER_FILE} takes {wanted}; the two files do not belong together"
            )
        return prep, enc

    # ------------------------------------------------------------------ text

    def _text_inputs(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        pieces = list(self._vocab().EncodeAsIds(text.lower()))[: MAX_TEXT_TOKENS - 1]
        n = len(pieces) + 1
        ids = np.zeros(MAX_TEXT_TOKENS, np.int32)
        ids[0] = BOS_ID
        ids[1:n] = pieces
        paddings = np.ones(MAX_TEXT_TOKENS, np.float32)
        paddings[:n] = 0.0
        return ids, paddings

    def text_inputs(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The text encoder's inputs for ``text``: ids int32[128], paddings float32[128]."""
        self._require((SPM_FILE,))
        with self._lock:
            return self._text_inputs(text)

    def embed_text(self, text: str, *, mapper: bool = False, seed: int = 0) -> np.ndarray:
        """The 768-d style embedding of ``text``; ``mapper`` maps it into the audio space
        (unmapped when ``mapper.tflite`` is absent: see ``has_mapper``). Needs every
        text file, the quantizer included, so a missing file shows before any work."""
        self._require(TEXT_FILES)
        if mapper and not 0 <= int(seed) < 2**32:
            raise MusicCoCaError(f"mapper seed must be in 0..2**32-1, got {seed}")
        use_mapper = mapper and self.has_mapper
        with self._lock:
            ids, paddings = self._text_inputs(text)
            enc = self._interpreter(TEXT_ENCODER_FILE)
            ins = enc.get_input_details()
            ids_in = next(d for d in ins if np.dtype(d["dtype"]) == np.int32)
            pad_in = next(d for d in ins if np.dtype(d["dtype"]) == np.float32)
            enc.set_tensor(ids_in["index"], ids.reshape(ids_in["shape"]))
            enc.set_tensor(pad_in["index"], paddings.reshape(pad_in["shape"]))
            enc.invoke()
            emb = enc.get_tensor(enc.get_output_details()[0]["index"]).reshape(-1).astype(np.float32)
            if use_mapper:
                m = self._interpreter(MAPPER_FILE)
                ins = m.get_input_details()
                noise = np.random.RandomState(int(seed)).randn(EMBEDDING_DIM).astype(np.float32)
                m.set_tensor(ins[0]["index"], emb.reshape(ins[0]["shape"]))
                m.set_tensor(ins[1]["index"], noise.reshape(ins[1]["shape"]))
                m.invoke()
                emb = m.get_tensor(m.get_output_details()[0]["index"]).reshape(-1).astype(np.float32)
                norm = np.linalg.norm(emb)
                if not np.isfinite(norm) or norm == 0:
                    raise self._bad(MAPPER_FILE, f"mapped embedding has norm {norm}")
                emb = emb / norm
        if not np.all(np.isfinite(emb)):
            raise self._bad(TEXT_ENCODER_FILE, "embedding is not finite")
        return emb

    # ------------------------------------------------------------------ audio

    def embed_audio(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        """The 768-d style embedding of audio: ``samples`` is [n] or [n, channels], float
        or integer PCM (scaled to [-1, 1)), at any ``sample_rate``."""
        self._require(AUDIO_FILES + (QUANTIZER_FILE,))
        return self._embed_clips(self._clips(samples, sample_rate, "audio"))

    def _embed_clips(self, clips: np.ndarray) -> np.ndarray:
        embeddings = []
        for clip in clips:
            with self._lock:  # per clip, so a long file does not hold up tokenize()
                prep, enc = self._audio_pair()
                pin = prep.get_input_details()[0]
                flat = np.zeros(_size(pin["shape"]), np.float32)
                n = min(len(clip), flat.size)
                flat[:n] = clip[:n]
                prep.set_tensor(pin["index"], flat.reshape(pin["shape"]))
                prep.invoke()
                features = prep.get_tensor(prep.get_output_details()[0]["index"])
                ein = enc.get_input_details()[0]
                enc.set_tensor(ein["index"], features.astype(np.float32).reshape(ein["shape"]))
                enc.invoke()
                emb = enc.get_tensor(enc.get_output_details()[0]["index"]).reshape(-1)
            embeddings.append(emb.astype(np.float32))
        emb = np.mean(embeddings, axis=0).astype(np.float32)
        if not np.all(np.isfinite(emb)):
            raise self._bad(MUSIC_ENCODER_FILE, "embedding is not finite")
        return emb

    def embed_audio_file(self, path: str | Path) -> np.ndarray:
        """``embed_audio`` of a file soundfile can read (WAV, FLAC, OGG, ...)."""
        import soundfile as sf

        self._require(AUDIO_FILES + (QUANTIZER_FILE,))
        path = Path(path).expanduser()
        if not path.is_file():
            raise MusicCoCaError(f"cannot read audio file {path}: "
                                 f"{'it is a folder' if path.is_dir() else 'no such file'}")
        try:
            data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        except (RuntimeError, OSError, ValueError, TypeError) as e:
            raise MusicCoCaError(f"cannot read audio file {path}: {e}") from None
        if data.size == 0:
            raise MusicCoCaError(f"cannot read audio file {path}: it holds no audio samples")
        return self._embed_clips(self._clips(data, rate, str(path)))

    @staticmethod
    def _clips(samples: np.ndarray, sample_rate: int, label: str) -> np.ndarray:
        """Mono, 16 kHz, float32, cut into zero-padded 10 s clips: [clips, CLIP_SAMPLES]."""
        x = np.asarray(samples)
        try:
            rate = int(sample_rate)
        except (TypeError, ValueError):
            raise MusicCoCaError(f"{label}: bad sample rate {sample_rate!r}") from None
        if rate <= 0 or rate != sample_rate:
            raise MusicCoCaError(f"{label}: bad sample rate {sample_rate!r}")
        if x.ndim not in (1, 2) or (x.ndim == 2 and not 1 <= x.shape[1] <= _MAX_CHANNELS):
            raise MusicCoCaError(f"{label}: expected [samples] or [samples, channels], got shape {x.shape}")
        if x.shape[0] == 0:
            raise MusicCoCaError(f"{label}: no samples")
        if np.issubdtype(x.dtype, np.floating):
            x = x.astype(np.float64)
        elif np.issubdtype(x.dtype, np.signedinteger):
            x = x.astype(np.float64) / -float(np.iinfo(x.dtype).min)
        elif np.issubdtype(x.dtype, np.unsignedinteger):
            half = (float(np.iinfo(x.dtype).max) + 1) / 2
            x = (x.astype(np.float64) - half) / half
        else:
            raise MusicCoCaError(f"{label}: samples must be float or integer PCM, got {x.dtype}")
        if x.ndim == 2:
            x = x.mean(axis=1)
        if not np.all(np.isfinite(x)):
            raise MusicCoCaError(f"{label}: samples are not finite (NaN or inf)")
        if rate != SAMPLE_RATE:
            import soxr

            x = soxr.resample(x, rate, SAMPLE_RATE, quality="VHQ")
        n = max(1, -(-len(x) // CLIP_SAMPLES))
        clips = np.zeros((n, CLIP_SAMPLES), np.float32)
        clips.reshape(-1)[: len(x)] = x
        return clips

    # ------------------------------------------------------------------ tokens

    def tokenize(self, embedding: np.ndarray) -> np.ndarray:
        """The 12 RVQ style tokens (int64, each in 0..1023) of a 768-d embedding."""
        e = np.asarray(embedding)
        numeric = np.issubdtype(e.dtype, np.floating) or np.issubdtype(e.dtype, np.integer)
        if e.size != EMBEDDING_DIM or not numeric:
            raise MusicCoCaError(
                f"a style embedding has {EMBEDDING_DIM} numbers, got shape {e.shape} of {e.dtype}")
        e = e.astype(np.float32).reshape(-1)
        if not np.all(np.isfinite(e)):
            raise MusicCoCaError("a style embedding must be finite (it holds NaN or inf)")
        self._require((QUANTIZER_FILE,))
        with self._lock:
            q = self._interpreter(QUANTIZER_FILE)
            qin = q.get_input_details()[0]
            q.set_tensor(qin["index"], e.reshape(qin["shape"]))
            q.invoke()
            out = q.get_tensor(q.get_output_details()[0]["index"]).reshape(-1)[:RVQ_DEPTH]
        tokens = out.astype(np.int64)
        if np.any(tokens < 0) or np.any(tokens >= CODEBOOK_SIZE):
            raise self._bad(QUANTIZER_FILE, f"tokens out of 0..{CODEBOOK_SIZE - 1}: {tokens.tolist()}")
        return tokens

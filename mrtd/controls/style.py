"""Prompt slots → the 12 MusicCoCa style tokens, blended the way the official apps do.

A slot holds one source — text, an audio file, a raw 768-d embedding or 12 raw tokens
— and a weight. The style is the weighted mean of the active slots' embeddings
(weights > 0, normalised to sum 1), quantised once by MusicCoCa's RVQ into 12 tokens:
blending happens in embedding space, never on tokens.

Raw token slots cannot be blended (a token set has no embedding without MusicCoCa's
codebooks), so they are used alone: when the highest-weight active slot holds tokens,
those tokens are the style as given (ties go to the lower slot); otherwise the
embedding slots are blended and token slots are left out. Fading a token slot above
the others therefore switches to it, which is what a saved "exact sound" should do.

Encoding (text, audio) and quantising run on :class:`StyleEncoder`'s worker thread,
never on the frame or audio thread. The frame thread only looks results up: until a
new prompt is encoded the slot keeps sounding as before, then the next frame takes it.
Embeddings are cached by text (and mapper setting) and by audio file (path, size,
mtime); blends by their exact bytes. Offline (``sync=True``) every lookup waits for
its result, so a rendered event file is deterministic.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mrtd.errors import UserError

log = logging.getLogger("mrtd.style")

EMBEDDING_DIM = 768
STYLE_TOKENS = 12
KINDS = ("text", "audio", "embedding", "tokens")
CACHE_SIZE = 512
MAX_PROMPT_S = 600  # an audio prompt's first 10 minutes (60 clips of 10 s) make its embedding


@dataclass(frozen=True)
class Slot:
    """One prompt slot: ``kind`` is None (empty) or one of :data:`KINDS`."""

    kind: str | None = None
    value: Any = None  # str text, str absolute path, float32 [768] array, int64 [12] array
    weight: float = 0.0


def blend(embeddings: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Weighted mean of embeddings; weights ≤ 0 are parked, the rest normalised to sum 1."""
    pairs = [(np.asarray(e, np.float32), float(w)) for e, w in zip(embeddings, weights) if w > 0]
    if not pairs:
        raise ValueError("no embedding with weight > 0")
    total = sum(w for _, w in pairs)
    out = np.zeros(EMBEDDING_DIM, np.float32)
    for e, w in pairs:
        out += np.float32(w / total) * e
    return out


def parse_embedding(blob: bytes) -> np.ndarray:
    """768 little-endian float32 (the OSC blob layout) → array; UserError otherwise."""
    if len(blob) != EMBEDDING_DIM * 4:
        raise UserError(f"an embedding is {EMBEDDING_DIM} float32 ({EMBEDDING_DIM * 4} bytes), got {len(blob)} bytes")
    e = np.frombuffer(blob, "<f4").astype(np.float32)
    if not np.all(np.isfinite(e)):
        raise UserError("the embedding has NaN or infinite values")
    return e


def audio_key(path: str) -> tuple:
    """Cache key of an audio prompt: the file's identity now (an edited file re-encodes)."""
    try:
        st = os.stat(path)
        return ("audio", path, st.st_size, st.st_mtime_ns)
    except OSError:
        return ("audio", path, -1, -1)


class StyleEncoder:
    """MusicCoCa behind a worker thread and caches: the style API of the engine and OSC.

    ``musiccoca`` is a :class:`mrtd.model.musiccoca.MusicCoCa` or None (no files: text,
    audio and embedding slots are refused with :meth:`problem`; token slots work)."""

    def __init__(self, musiccoca: Any = None, *, sync: bool = False, where: str = "") -> None:
        self.musiccoca = musiccoca
        self.sync = sync
        self.where = where  # how to get the files, for the error text
        self._done: OrderedDict[Hashable, tuple[str, Any]] = OrderedDict()  # key → ("ok", value) | ("error", msg)
        self._pending: set[Hashable] = set()
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[tuple[Hashable, Any] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    # ---- what works ------------------------------------------------------------------------
    def problem(self, kind: str) -> str | None:
        """Why a slot of ``kind`` cannot work here, or None."""
        if kind == "tokens":
            return None
        m = self.musiccoca
        need = "audio" if kind == "audio" else "text"
        if m is None:
            return ("MusicCoCa files not found; text, audio and embedding prompts need them "
                    f"(use /mrtd/prompt/N/tokens with 12 raw style tokens meanwhile). {self.where}").strip()
        missing = m.missing(need) if kind != "embedding" else [f for f in m.missing("text") if "quantizer" in f]
        if missing:
            return (f"MusicCoCa in {m.directory} lacks {', '.join(missing)} needed for {kind} prompts. "
                    f"{self.where}").strip()
        return None

    # ---- keys ------------------------------------------------------------------------------
    @staticmethod
    def key(slot: Slot, mapper: bool) -> Hashable:
        if slot.kind == "text":
            return ("text", str(slot.value).lower(), bool(mapper))
        if slot.kind == "audio":
            return audio_key(str(slot.value))
        raise ValueError(f"no encoding for a {slot.kind} slot")

    # ---- lookups (frame thread) ------------------------------------------------------------
    def embedding(self, slot: Slot, mapper: bool) -> tuple[str, Any]:
        """("ok", embedding) | ("pending", None) | ("error", message) for a text/audio slot."""
        key = self.key(slot, mapper)
        return self._lookup(key, (slot.kind, slot.value, mapper))

    def tokens(self, embedding: np.ndarray) -> tuple[str, Any]:
        """("ok", int64 [12]) | ("pending", None) | ("error", message): the embedding quantised."""
        e = np.ascontiguousarray(embedding, np.float32)
        return self._lookup(("q", e.tobytes()), ("quantize", e, None))

    def seed(self, slot: Slot, mapper: bool, embedding: np.ndarray) -> None:
        """Put a known embedding in the cache (a bank restoring a slot without re-encoding)."""
        with self._lock:
            self._store(self.key(slot, mapper), ("ok", np.asarray(embedding, np.float32)))

    def prefetch(self, slot: Slot, mapper: bool) -> None:
        """Start encoding now (when the message arrives, before its frame applies it)."""
        if self.sync or slot.kind not in ("text", "audio") or self.problem(slot.kind):
            return
        self._lookup(self.key(slot, mapper), (slot.kind, slot.value, mapper))

    def _lookup(self, key: Hashable, job: Any) -> tuple[str, Any]:
        with self._lock:
            hit = self._done.get(key)
            if hit is not None:
                self._done.move_to_end(key)
                return hit
            if not self.sync:
                if key not in self._pending:
                    self._pending.add(key)
                    self._ensure_worker()
                    self._jobs.put((key, job))
                return ("pending", None)
        result = self._run(job)  # sync: on the caller's thread (offline rendering)
        with self._lock:
            self._store(key, result)
        return result

    def _store(self, key: Hashable, result: tuple[str, Any]) -> None:
        self._done[key] = result
        self._done.move_to_end(key)
        while len(self._done) > CACHE_SIZE:
            self._done.popitem(last=False)

    # ---- the worker ------------------------------------------------------------------------
    def _ensure_worker(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name="mrtd-style", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                return
            key, job = item
            result = self._run(job)
            with self._lock:
                self._pending.discard(key)
                self._store(key, result)

    def _run(self, job: tuple[str, Any, Any]) -> tuple[str, Any]:
        kind, value, mapper = job
        m = self.musiccoca
        try:
            problem = self.problem("embedding" if kind == "quantize" else kind)
            if problem:
                raise UserError(problem)
            if kind == "text":
                return ("ok", m.embed_text(str(value), mapper=bool(mapper)))
            if kind == "audio":
                return ("ok", _embed_audio_file(m, str(value)))
            return ("ok", np.asarray(m.tokenize(value), np.int64))
        except UserError as e:
            return ("error", str(e))
        except Exception as e:  # a broken file must not kill the worker
            log.exception("style encoding failed")
            return ("error", f"{type(e).__name__}: {e}")

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until no job is pending (tests, banks); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._pending:
                    return True
            time.sleep(0.005)
        return False

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join(timeout=5)


def style_of(slots: Sequence[Slot], style: StyleEncoder, mapper: bool,
             last: list[np.ndarray | None]) -> tuple[np.ndarray | None, list[str], list[tuple[int, str]]]:
    """One frame's style: (12 tokens or None for "keep the previous", per-slot status,
    new errors as (slot index, message)).

    ``last`` holds each slot's last usable embedding (updated in place), so a slot whose
    new prompt is still encoding keeps sounding as before instead of dropping out."""
    status: list[str] = []
    errors: list[tuple[int, str]] = []
    usable: list[tuple[int, str, Any, float]] = []  # (slot, kind, embedding|tokens, weight)
    pending = False
    for i, s in enumerate(slots):
        if s.kind is None:
            status.append("empty")
            last[i] = None
            continue
        if s.kind == "tokens":
            status.append("ready")
            usable.append((i, "tokens", s.value, s.weight))
            continue
        if s.kind == "embedding":
            last[i] = s.value
            state, value = "ok", s.value
        else:
            state, value = style.embedding(s, mapper)
        if state == "ok":
            last[i] = value
            status.append("ready")
        elif state == "pending":
            status.append("encoding")
            pending = pending or s.weight > 0
        else:
            status.append("error")
            errors.append((i, value))
            last[i] = None
        if last[i] is not None:
            usable.append((i, "embedding", last[i], s.weight))
    active = [u for u in usable if u[3] > 0]
    if not active:
        return (None if pending else np.full(STYLE_TOKENS, -1, np.int64)), status, errors
    top = max(active, key=lambda u: (u[3], -u[0]))
    if top[1] == "tokens":
        return np.asarray(top[2], np.int64), status, errors
    embs = [u for u in active if u[1] == "embedding"]
    state, value = style.tokens(blend([u[2] for u in embs], [u[3] for u in embs]))
    if state == "ok":
        return value, status, errors
    if state == "error":
        errors.append((embs[0][0], value))
    return None, status, errors


def _embed_audio_file(m: Any, path: str) -> np.ndarray:
    """An audio prompt's embedding from a regular file of bounded size, read from the
    descriptor that was checked (a FIFO or device is refused, never waited on)."""
    import soundfile as sf

    from mrtd.datadir import OPERATOR, PathRefused

    try:
        fd, _ = OPERATOR.open_read("prompts", path)
    except PathRefused as e:
        raise UserError(str(e)) from None
    try:
        with os.fdopen(fd, "rb") as f, sf.SoundFile(f) as snd:  # at most MAX_PROMPT_S of it is decoded
            rate = snd.samplerate
            data = snd.read(min(snd.frames, MAX_PROMPT_S * rate), dtype="float32", always_2d=True)
    except (RuntimeError, OSError, ValueError, TypeError) as e:
        raise UserError(f"cannot read audio file {Path(path).name}: {e}") from None
    if data.size == 0:
        raise UserError(f"cannot read audio file {Path(path).name}: it holds no audio samples")
    return m.embed_audio(data, rate)


def resolve_audio_path(path: str) -> str:
    """An audio prompt's absolute path, checked now so a typo is refused to the sender."""
    p = Path(path).expanduser()
    if not p.is_absolute():
        p = Path.cwd() / p
    if not p.is_file():
        raise UserError(f"audio prompt file not found: {p}")
    return str(p)

"""Control state of one stream: schema defaults in, validated OSC changes applied, one
frame's model inputs out.

Only the generation thread mutates a :class:`Controls` (the engine applies queued
changes at frame boundaries), so a frame always sees a complete snapshot and nothing
here locks. ``check`` runs on the caller's thread so a bad message is refused at once.

Prompt slots hold a source (text, audio file, embedding, tokens) and a weight; the
style they make is computed by :mod:`mrtd.daemon.style` (blending in embedding space,
encoding on its own thread). This module keeps the slots and asks for the result once
per frame.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from mrtd.daemon.notes import PITCHES, NoteTracker
from mrtd.daemon.style import Slot, StyleEncoder, parse_embedding, resolve_audio_path, style_of
from mrtd.errors import UserError
from mrtd.model.conditioning import build_cond
from mrtd.osc_schema import NAMESPACE, SchemaError
from mrtd.osc_schema.namespace import PROMPT_SLOTS, STYLE_TOKENS

ACTIONS = {"/mrtd/reset", "/mrtd/prefill/silence", "/mrtd/prefill/audio", "/mrtd/bank/save", "/mrtd/bank/load"}
OUTPUT = {"/mrtd/volume", "/mrtd/mute", "/mrtd/pause", "/mrtd/bypass", "/mrtd/latency_ms",
          "/mrtd/responsive", "/mrtd/reset/fade_ms"}
# performance gestures: never trigger a responsive cut (a fade on every key would chop the audio)
PLAYING = {"/mrtd/note/on", "/mrtd/note/off", "/mrtd/notes/sustain", "/mrtd/notes/all_off", "/mrtd/drums/hit"}
NO_MUSICCOCA = "MusicCoCa files not found"  # how every "no files" refusal starts
DRUMS = {"auto": -1, "off": 0, "on": 1}


def _default(address: str) -> Any:
    d = NAMESPACE[address].default
    return d[0] if d else None


class Controls:
    """Everything a musician steers, with the schema's defaults."""

    def __init__(self, style: StyleEncoder | None = None) -> None:
        self.style = style if style is not None else StyleEncoder(None)
        self.slot_source: list[tuple[str, Any] | None] = [None] * PROMPT_SLOTS  # (kind, value)
        self.slot_status = ["empty"] * PROMPT_SLOTS
        self._slot_last: list[np.ndarray | None] = [None] * PROMPT_SLOTS  # last usable embeddings
        self._style = np.full(STYLE_TOKENS, -1, np.int64)  # the blend's 12 tokens (before levels)
        self._reported: set[tuple[int, Any]] = set()  # slot errors already told
        self.feedback: list[tuple[str, tuple]] = []  # changes found while making a frame (engine drains)
        self._style_dirty = True  # slots, weights or mapper changed, or a result is still awaited
        self.slot_weight = [float(_default(f"/mrtd/prompt/{n}/weight")) for n in range(1, PROMPT_SLOTS + 1)]
        self.style_levels = int(_default("/mrtd/style/levels"))
        self.style_mapper = bool(_default("/mrtd/style/mapper"))
        self.raw_notes = np.full(PITCHES, -1, np.int8)
        self.tracker = NoteTracker()
        self.onset_mode = str(_default("/mrtd/notes/onset_mode"))
        self.unmask_width = int(_default("/mrtd/notes/unmask_width"))
        self.drums = str(_default("/mrtd/drums"))
        self.drum_hit = False
        self.guidance = [float(_default(f"/mrtd/guidance/{k}")) for k in ("style", "notes", "drums")]
        self.temperature = float(_default("/mrtd/temperature"))
        self.top_k = int(_default("/mrtd/topk"))
        self.seed = int(_default("/mrtd/seed"))
        self.rotation = int(_default("/mrtd/seed/rotation"))
        self.volume_db = float(_default("/mrtd/volume"))
        self.mute = bool(_default("/mrtd/mute"))
        self.pause = bool(_default("/mrtd/pause"))
        self.bypass = bool(_default("/mrtd/bypass"))
        self.latency_ms = float(_default("/mrtd/latency_ms"))
        self.responsive = bool(_default("/mrtd/responsive"))
        self.reset_fade_ms = float(_default("/mrtd/reset/fade_ms"))

    # ---- checking (any thread) -----------------------------------------------------------
    def check(self, address: str, args: tuple | list) -> tuple:
        """Validated, converted args; UserError for anything the engine cannot take.

        A text or audio prompt that passes starts encoding at once (before its frame)."""
        try:
            values = NAMESPACE.check(address, list(args))
        except SchemaError as e:
            raise UserError(f"{address}: {e}") from None
        if address.startswith("/mrtd/prompt/") and address.count("/") == 4:
            values = self._check_prompt(address, values)
        if address == "/mrtd/prefill/input":
            raise UserError("/mrtd/prefill/input needs the JACK daemon's input capture (not in the engine yet)")
        if not Controls.handles(address):
            raise UserError(f"{address} is not an engine control")
        return values

    def _check_prompt(self, address: str, values: tuple) -> tuple:
        kind = address.rsplit("/", 1)[-1]
        if kind not in ("text", "audio", "embedding") or (kind != "embedding" and values[0] == ""):
            return values
        problem = self.style.problem(kind)
        if problem:
            raise UserError(f"{address}: {problem}")
        try:
            if kind == "audio":
                values = (resolve_audio_path(values[0]),)
            elif kind == "embedding":
                parse_embedding(values[0])
        except UserError as e:
            raise UserError(f"{address}: {e}") from None
        if kind != "embedding":
            self.style.prefetch(Slot(kind, values[0]), self.style_mapper)
        return values

    @staticmethod
    def handles(address: str) -> bool:
        if address in ACTIONS or address in OUTPUT:
            return True
        if address.startswith("/mrtd/prompt/") or address.startswith("/mrtd/fx/"):
            return True  # effects: values checked by the schema, applied by the engine's chain
        return address in _SETTERS

    # ---- applying (generation thread only) -----------------------------------------------
    def apply(self, address: str, values: tuple) -> None:
        """Apply one validated change (actions are the engine's, not handled here)."""
        if address.startswith("/mrtd/prompt/"):
            self._prompt(address, values)
        elif address in _SETTERS:
            _SETTERS[address](self, values)
        if address.startswith("/mrtd/prompt/") or address == "/mrtd/style/mapper":
            self._style_dirty = True

    def _prompt(self, address: str, v: tuple) -> None:
        parts = address.split("/")  # ['', 'mrtd', 'prompt', N|'weights', ...]
        if parts[3] == "weights":
            for i, w in enumerate(v):
                self.slot_weight[i] = float(w)
            return
        i, what = int(parts[3]) - 1, parts[4]
        if what == "weight":
            self.slot_weight[i] = float(v[0])
            return
        if what == "tokens":
            self.slot_source[i] = ("tokens", np.asarray(v, np.int64))
        elif what == "embedding":
            self.slot_source[i] = ("embedding", parse_embedding(v[0]))
        elif what in ("text", "audio") and v[0] != "":
            self.slot_source[i] = (what, v[0])
        elif what in ("clear", "text", "audio"):  # "" clears the slot, /clear also parks it
            self.slot_source[i] = None
            if what == "clear":
                self.slot_weight[i] = 0.0

    # ---- reading back (any thread: plain attribute reads, a snapshot may be a frame old) --
    def value(self, address: str) -> tuple | None:
        """The current value of a readable engine address, as the OSC reply carries it."""
        if address.startswith("/mrtd/prompt/"):
            parts = address.split("/")
            if parts[3] == "weights":
                return tuple(self.slot_weight)
            i, what = int(parts[3]) - 1, parts[4]
            if what == "weight":
                return (self.slot_weight[i],)
            if what == "status":
                return (self.slot_status[i],)
            if what in ("text", "audio"):
                src = self.slot_source[i]
                return (src[1] if src is not None and src[0] == what else "",)
            return None
        get = _GETTERS.get(address)
        return None if get is None else get(self)

    # ---- one frame's inputs --------------------------------------------------------------
    def slots(self) -> list[Slot]:
        return [Slot() if src is None else Slot(src[0], src[1], w)
                for src, w in zip(self.slot_source, self.slot_weight)]

    def update_style(self) -> list[tuple[str, tuple]]:
        """Take the prompt slots' current result (frame thread, once per frame): lookups
        only, encoding runs elsewhere. Returns what changed, as (address, values) to tell
        the subscribers: slot status, the style tokens, errors of slots that failed.
        Nothing to do (no lookups, no blend) unless a slot changed or a result is awaited."""
        if not self._style_dirty:
            return []
        before, status_before = self._style.copy(), list(self.slot_status)
        tokens, status, errors = style_of(self.slots(), self.style, self.style_mapper, self._slot_last)
        if tokens is not None:
            self._style = tokens
        self.slot_status = status
        self._style_dirty = tokens is None or "encoding" in status
        out = [(f"/mrtd/prompt/{i + 1}/status", (st,))
               for i, (st, was) in enumerate(zip(status, status_before)) if st != was]
        if not np.array_equal(before, self._style):
            out.append(("/mrtd/style/tokens", tuple(int(t) for t in self.style_tokens())))
        for i, msg in errors:
            key = (i, repr(self.slot_source[i])[:200])
            if key not in self._reported:
                self._reported.add(key)
                src = self.slot_source[i]
                out.append(("/mrtd/error", (f"/mrtd/prompt/{i + 1}/{src[0] if src else 'text'}", msg)))
        return out

    def style_tokens(self) -> np.ndarray:
        """The 12 style tokens conditioning the model now, levels beyond ``style_levels``
        masked (-1); all masked when no slot is active."""
        out = np.full(STYLE_TOKENS, -1, np.int64)
        out[: self.style_levels] = self._style[: self.style_levels]
        return out

    def drum_value(self) -> int:
        return 1 if self.drum_hit else DRUMS[self.drums]

    def frame_cond(self) -> np.ndarray:
        """The 144 conditioning ids of the next frame; consumes note onsets and a drum hit."""
        self.feedback.extend(self.update_style())
        notes = self.tracker.frame(self.raw_notes, self.onset_mode, self.unmask_width)  # type: ignore[arg-type]
        cond = build_cond(self.style_tokens(), notes, self.drum_value(), self.guidance)
        self.drum_hit = False
        return cond

    def prefill_cond(self) -> np.ndarray:
        """Official prefill conditioning: style and notes masked, drums masked (0 if off)."""
        return build_cond([-1] * STYLE_TOKENS, None, 0 if self.drums == "off" else -1, self.guidance)

    # ---- banks ---------------------------------------------------------------------------
    def to_json(self) -> str:
        """The generation controls (not output settings or held keys) for a bank."""
        return json.dumps({
            "slots": [self._slot_json(i) for i in range(PROMPT_SLOTS)],
            "slot_weight": self.slot_weight, "style_levels": self.style_levels, "style_mapper": self.style_mapper,
            "raw_notes": self.raw_notes.tolist(), "onset_mode": self.onset_mode,
            "unmask_width": self.unmask_width, "drums": self.drums, "guidance": self.guidance,
            "temperature": self.temperature, "top_k": self.top_k, "seed": self.seed, "rotation": self.rotation,
        })

    def load_json(self, text: str) -> None:
        d = json.loads(text)
        self._style_dirty = True
        self.raw_notes = np.asarray(d["raw_notes"], np.int8)
        self.style_mapper = bool(d.get("style_mapper", self.style_mapper))
        for k in ("slot_weight", "style_levels", "onset_mode", "unmask_width", "drums", "guidance",
                  "temperature", "top_k", "seed", "rotation"):
            setattr(self, k, d[k])
        if "slots" in d:
            for i, slot in enumerate(d["slots"][:PROMPT_SLOTS]):
                self._load_slot(i, slot)
        else:  # banks written before MusicCoCa: raw tokens only
            self.slot_source = [None if t is None else ("tokens", np.asarray(t, np.int64)) for t in d["slot_tokens"]]

    def _slot_json(self, i: int) -> dict | None:
        """A slot for a bank: its source, plus the embedding it resolved to, so loading
        the bank sounds the same without re-encoding (or without the audio file)."""
        src = self.slot_source[i]
        if src is None:
            return None
        kind, value = src
        d: dict[str, Any] = {"kind": kind, "value": value.tolist() if isinstance(value, np.ndarray) else value}
        if kind in ("text", "audio") and self._slot_last[i] is not None and self.slot_status[i] == "ready":
            d["embedding"] = self._slot_last[i].tolist()
        return d

    def _load_slot(self, i: int, d: dict | None) -> None:
        if d is None:
            self.slot_source[i] = None
            return
        kind, value = d["kind"], d["value"]
        if kind == "tokens":
            self.slot_source[i] = ("tokens", np.asarray(value, np.int64))
        elif kind == "embedding":
            self.slot_source[i] = ("embedding", np.asarray(value, np.float32))
        else:
            self.slot_source[i] = (kind, str(value))
            if d.get("embedding") is not None:
                self.style.seed(Slot(kind, str(value)), self.style_mapper, np.asarray(d["embedding"], np.float32))


def _set(attr: str, conv=lambda v: v[0]):
    def f(c: Controls, v: tuple) -> None:
        setattr(c, attr, conv(v))
    return f


def _guidance(i: int):
    def f(c: Controls, v: tuple) -> None:
        c.guidance[i] = float(v[0])
    return f


def _note_on(c: Controls, v: tuple) -> None:
    if len(v) > 1 and v[1] == 0:
        c.tracker.note_off(v[0])
    else:
        c.tracker.note_on(v[0])


def _raw_pitch(c: Controls, v: tuple) -> None:
    c.raw_notes[v[0]] = v[1]


def _raw_list(c: Controls, v: tuple) -> None:
    c.raw_notes[list(v[1:])] = v[0]


def _raw_frame(c: Controls, v: tuple) -> None:
    c.raw_notes[:] = v


def _raw_clear(c: Controls, v: tuple) -> None:
    c.raw_notes[:] = -1


def _drum_hit(c: Controls, v: tuple) -> None:
    c.drum_hit = True


_SETTERS = {
    "/mrtd/style/levels": _set("style_levels"),
    "/mrtd/style/mapper": _set("style_mapper"),
    "/mrtd/note/on": _note_on,
    "/mrtd/note/off": lambda c, v: c.tracker.note_off(v[0]),
    "/mrtd/notes/all_off": lambda c, v: c.tracker.all_off(),
    "/mrtd/notes/sustain": lambda c, v: c.tracker.sustain(v[0]),
    "/mrtd/notes/onset_mode": _set("onset_mode"),
    "/mrtd/notes/unmask_width": _set("unmask_width"),
    "/mrtd/notes/pitch": _raw_pitch,
    "/mrtd/notes/list": _raw_list,
    "/mrtd/notes/frame": _raw_frame,
    "/mrtd/notes/clear": _raw_clear,
    "/mrtd/drums": _set("drums"),
    "/mrtd/drums/hit": _drum_hit,
    "/mrtd/guidance/style": _guidance(0),
    "/mrtd/guidance/notes": _guidance(1),
    "/mrtd/guidance/drums": _guidance(2),
    "/mrtd/temperature": _set("temperature"),
    "/mrtd/topk": _set("top_k"),
    "/mrtd/seed": _set("seed"),
    "/mrtd/seed/rotation": _set("rotation"),
    "/mrtd/volume": _set("volume_db"),
    "/mrtd/mute": _set("mute"),
    "/mrtd/pause": _set("pause"),
    "/mrtd/bypass": _set("bypass"),
    "/mrtd/latency_ms": _set("latency_ms"),
    "/mrtd/responsive": _set("responsive"),
    "/mrtd/reset/fade_ms": _set("reset_fade_ms"),
}


def _get(attr: str):
    return lambda c: (getattr(c, attr),)


_GETTERS = {
    "/mrtd/style/tokens": lambda c: tuple(int(t) for t in c.style_tokens()),
    "/mrtd/style/levels": _get("style_levels"),
    "/mrtd/style/mapper": _get("style_mapper"),
    "/mrtd/notes/sustain": lambda c: (c.tracker.pedal,),
    "/mrtd/notes/onset_mode": _get("onset_mode"),
    "/mrtd/notes/unmask_width": _get("unmask_width"),
    "/mrtd/notes/frame": lambda c: tuple(int(x) for x in c.raw_notes),
    "/mrtd/drums": _get("drums"),
    "/mrtd/guidance/style": lambda c: (c.guidance[0],),
    "/mrtd/guidance/notes": lambda c: (c.guidance[1],),
    "/mrtd/guidance/drums": lambda c: (c.guidance[2],),
    "/mrtd/temperature": _get("temperature"),
    "/mrtd/topk": _get("top_k"),
    "/mrtd/seed": _get("seed"),
    "/mrtd/seed/rotation": _get("rotation"),
    "/mrtd/volume": _get("volume_db"),
    "/mrtd/mute": _get("mute"),
    "/mrtd/pause": _get("pause"),
    "/mrtd/bypass": _get("bypass"),
    "/mrtd/latency_ms": _get("latency_ms"),
    "/mrtd/responsive": _get("responsive"),
    "/mrtd/reset/fade_ms": _get("reset_fade_ms"),
}

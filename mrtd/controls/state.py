"""Control state of one stream: schema defaults in, validated OSC changes applied, one
frame's model inputs out.

Only the generation thread mutates a :class:`Controls` (the engine applies queued
changes at frame boundaries), so a frame always sees a complete snapshot and nothing
here locks. ``check`` runs on the caller's thread so a bad message is refused at once.

Prompt slots hold a source (text, audio file, embedding, tokens) and a weight; the
style they make is computed by :mod:`mrtd.controls.style` (blending in embedding space,
encoding on its own thread). This module keeps the slots and asks for the result once
per frame.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from mrtd.controls.notes import PITCHES, NoteTracker
from mrtd.controls.style import Slot, StyleEncoder, parse_embedding, style_of
from mrtd.datadir import DataDir, PathRefused
from mrtd.errors import ControlError, UserError
from mrtd.model.mrt2.conditioning import build_cond
from mrtd.osc_schema import NAMESPACE, SchemaError
from mrtd.osc_schema.namespace import PROMPT_SLOTS, STYLE_TOKENS

# derived from the schema's routes and roles (see mrtd.osc_schema.schema.Param)
ACTIONS = frozenset(p.address for p in NAMESPACE if p.route == "engine" and p.role == "action")
OUTPUT = frozenset(p.address for p in NAMESPACE if p.route == "engine" and p.role == "output")
# performance gestures: never trigger a responsive cut (a fade on every key would chop the audio)
PLAYING = frozenset(p.address for p in NAMESPACE if p.route == "engine" and p.role == "playing")
FIELDS = {p.address: p.field for p in NAMESPACE if p.route == "engine" and p.field}  # plain state controls
BANKED = tuple(dict.fromkeys(p.field.split(".")[0] for p in NAMESPACE if p.banked))  # bank JSON keys
# controls with no Magenta RT v1 meaning (v1 has no note, drum or note/drum guidance input):
# refused under v1 with an /mrtd/error naming it
MRT2_ONLY = frozenset(p.address for p in NAMESPACE if p.route == "engine" and p.group == "notes") | frozenset(
    ("/mrtd/guidance/notes", "/mrtd/guidance/drums"))
NO_MUSICCOCA = "MusicCoCa files not found"  # how every "no files" refusal starts
DRUMS = {"auto": -1, "off": 0, "on": 1}


def _default(address: str) -> Any:
    d = NAMESPACE[address].default
    return d[0] if d else None


class Controls:
    """Everything a musician steers, with the schema's defaults."""

    def __init__(self, style: StyleEncoder | None = None, files: DataDir | None = None) -> None:
        self.style = style if style is not None else StyleEncoder(None)
        self.family = "mrt2"  # the model family played ("v1": MRT2_ONLY controls are refused)
        self.files = files if files is not None else DataDir(trusted=True)  # where audio prompt names point
        self.slot_source: list[tuple[str, Any] | None] = [None] * PROMPT_SLOTS  # (kind, value)
        self.slot_status = ["empty"] * PROMPT_SLOTS
        self._slot_last: list[np.ndarray | None] = [None] * PROMPT_SLOTS  # last usable embeddings
        self._style = np.full(STYLE_TOKENS, -1, np.int64)  # the blend's 12 tokens (before levels)
        self._reported: set[tuple[int, Any]] = set()  # slot errors already told
        self.feedback: list[tuple[str, tuple]] = []  # changes found while making a frame (engine drains)
        self._style_dirty = True  # slots, weights or mapper changed, or a result is still awaited
        self.slot_weight = [float(_default(f"/mrtd/prompt/{n}/weight")) for n in range(1, PROMPT_SLOTS + 1)]
        self.raw_notes = np.full(PITCHES, -1, np.int8)
        self.tracker = NoteTracker()
        self.drum_hit = False
        # every plain state control starts at its schema default (temperature, top_k, guidance…)
        self.guidance = [0.0, 0.0, 0.0]
        for address, field in FIELDS.items():
            self._set_field(field, _default(address))

    # ---- checking (any thread) -----------------------------------------------------------
    def check(self, address: str, args: tuple | list) -> tuple:
        """Validated, converted args; UserError for anything the engine cannot take.

        A text or audio prompt that passes starts encoding at once (before its frame)."""
        try:
            values = NAMESPACE.check(address, list(args))
        except SchemaError as e:
            raise ControlError(address, f"{e}") from None
        if self.family == "v1" and address in MRT2_ONLY:
            raise ControlError(address, "an MRT2 control: Magenta RT v1 (the model playing) has no notes, "
                               "drums or note/drum guidance")
        if address.startswith("/mrtd/prompt/") and address.count("/") == 4:
            values = self._check_prompt(address, values)
        if address == "/mrtd/prefill/input":
            raise UserError("/mrtd/prefill/input needs the JACK daemon's input capture (not in the engine yet)")
        if not Controls.handles(address):
            raise ControlError(address, "not an engine control")
        return values

    def _check_prompt(self, address: str, values: tuple) -> tuple:
        kind = address.rsplit("/", 1)[-1]
        if kind not in ("text", "audio", "embedding") or (kind != "embedding" and values[0] == ""):
            return values
        problem = self.style.problem(kind)
        if problem:
            raise ControlError(address, f"{problem}")
        try:
            if kind == "audio":
                values = (str(self.files.check_read("prompts", values[0])),)
            elif kind == "embedding":
                parse_embedding(values[0])
        except (UserError, PathRefused) as e:
            raise ControlError(address, f"{e}") from None
        if kind != "embedding":
            self.style.prefetch(Slot(kind, values[0]), self.style_mapper)
        return values

    @staticmethod
    def handles(address: str) -> bool:
        """Engine controls and effects (their values checked by the schema, applied by the
        engine's chain)."""
        p = NAMESPACE.get(address)
        return p is not None and p.route in ("engine", "effects")

    def _set_field(self, field: str, value: Any) -> None:
        name, _, index = field.partition(".")
        if index:
            getattr(self, name)[int(index)] = value
        else:
            setattr(self, name, value)

    def set_defaults(self, values: dict[str, Any]) -> None:
        """Start plain controls (by field: ``temperature``, ``guidance.0``) at a model
        family's own defaults instead of the schema's (Magenta RT v1's official ones)."""
        for field, value in values.items():
            self._set_field(field, value)

    def _get_field(self, field: str) -> Any:
        name, _, index = field.partition(".")
        return getattr(self, name)[int(index)] if index else getattr(self, name)

    # ---- applying (generation thread only) -----------------------------------------------
    def apply(self, address: str, values: tuple) -> None:
        """Apply one validated change (actions are the engine's, not handled here)."""
        if address.startswith("/mrtd/prompt/"):
            self._prompt(address, values)
        elif address in FIELDS:
            self._set_field(FIELDS[address], values[0])
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
        if address in FIELDS:
            return (self._get_field(FIELDS[address]),)
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
        d: dict[str, Any] = {"slots": [self._slot_json(i) for i in range(PROMPT_SLOTS)],
                             "slot_weight": self.slot_weight, "raw_notes": self.raw_notes.tolist()}
        d.update({k: getattr(self, k) for k in BANKED})  # the schema's banked fields
        return json.dumps(d)

    def load_json(self, text: str) -> None:
        d = json.loads(text)
        self._style_dirty = True
        self.raw_notes = np.asarray(d["raw_notes"], np.int8)
        self.slot_weight = list(d["slot_weight"])
        for k in BANKED:
            if k in d:  # a bank from before a control existed keeps that control as it is
                setattr(self, k, list(d[k]) if isinstance(d[k], list) else d[k])
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


# engine controls with behaviour beyond "set a field" (plain ones come from the schema's fields)
_SETTERS = {
    "/mrtd/note/on": _note_on,
    "/mrtd/note/off": lambda c, v: c.tracker.note_off(v[0]),
    "/mrtd/notes/all_off": lambda c, v: c.tracker.all_off(),
    "/mrtd/notes/sustain": lambda c, v: c.tracker.sustain(v[0]),
    "/mrtd/notes/pitch": _raw_pitch,
    "/mrtd/notes/list": _raw_list,
    "/mrtd/notes/frame": _raw_frame,
    "/mrtd/notes/clear": _raw_clear,
    "/mrtd/drums/hit": _drum_hit,
}

_GETTERS = {
    "/mrtd/style/tokens": lambda c: tuple(int(t) for t in c.style_tokens()),
    "/mrtd/notes/sustain": lambda c: (c.tracker.pedal,),
    "/mrtd/notes/frame": lambda c: tuple(int(x) for x in c.raw_notes),
}

"""Control state of one stream: schema defaults in, validated OSC changes applied, one
frame's model inputs out.

Only the generation thread mutates a :class:`Controls` (the engine applies queued
changes at frame boundaries), so a frame always sees a complete snapshot and nothing
here locks. ``check`` runs on the caller's thread so a bad message is refused at once.

Interim (until MusicCoCa, issue 4): a prompt slot can hold 12 raw style tokens; text
and audio prompts are refused with a clear error. When several token slots have weight
> 0 the highest-weight one is used alone (ties: lowest slot), because raw tokens cannot
be blended without the MusicCoCa embedding space.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from mrtd.daemon.notes import PITCHES, NoteTracker
from mrtd.errors import UserError
from mrtd.model.conditioning import build_cond
from mrtd.osc_schema import NAMESPACE, SchemaError
from mrtd.osc_schema.namespace import PROMPT_SLOTS, STYLE_TOKENS

ACTIONS = {"/mrtd/reset", "/mrtd/prefill/silence", "/mrtd/prefill/audio", "/mrtd/bank/save", "/mrtd/bank/load"}
OUTPUT = {"/mrtd/volume", "/mrtd/mute", "/mrtd/pause", "/mrtd/bypass", "/mrtd/latency_ms",
          "/mrtd/responsive", "/mrtd/reset/fade_ms"}
# performance gestures: never trigger a responsive cut (a fade on every key would chop the audio)
PLAYING = {"/mrtd/note/on", "/mrtd/note/off", "/mrtd/notes/sustain", "/mrtd/notes/all_off", "/mrtd/drums/hit"}
NO_MUSICCOCA = ("MusicCoCa files are not available in this version (issue 4): "
                "use /mrtd/prompt/N/tokens with 12 raw style tokens")
DRUMS = {"auto": -1, "off": 0, "on": 1}


def _default(address: str) -> Any:
    d = NAMESPACE[address].default
    return d[0] if d else None


class Controls:
    """Everything a musician steers, with the schema's defaults."""

    def __init__(self) -> None:
        self.slot_tokens: list[np.ndarray | None] = [None] * PROMPT_SLOTS
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
    @staticmethod
    def check(address: str, args: tuple | list) -> tuple:
        """Validated, converted args; UserError for anything the engine cannot take."""
        try:
            values = NAMESPACE.check(address, list(args))
        except SchemaError as e:
            raise UserError(f"{address}: {e}") from None
        tail = address.rsplit("/", 1)[-1]
        if address.startswith("/mrtd/prompt/") and tail in ("text", "audio") and values[0] != "":
            raise UserError(f"{address}: {NO_MUSICCOCA}")
        if address.startswith("/mrtd/prompt/") and tail == "embedding":
            raise UserError(f"{address}: {NO_MUSICCOCA}")
        if address == "/mrtd/prefill/input":
            raise UserError("/mrtd/prefill/input needs the JACK daemon's input capture (not in the engine yet)")
        if not Controls.handles(address):
            raise UserError(f"{address} is not an engine control")
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

    def _prompt(self, address: str, v: tuple) -> None:
        parts = address.split("/")  # ['', 'mrtd', 'prompt', N|'weights', ...]
        if parts[3] == "weights":
            for i, w in enumerate(v):
                self.slot_weight[i] = float(w)
            return
        i, what = int(parts[3]) - 1, parts[4]
        if what == "tokens":
            self.slot_tokens[i] = np.asarray(v, np.int64)
        elif what == "weight":
            self.slot_weight[i] = float(v[0])
        elif what in ("clear", "text", "audio"):  # text/audio reach here only as "" = clear
            self.slot_tokens[i] = None
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
                return ("empty" if self.slot_tokens[i] is None else "ready",)
            if what in ("text", "audio"):
                return ("",)
            return None
        get = _GETTERS.get(address)
        return None if get is None else get(self)

    # ---- one frame's inputs --------------------------------------------------------------
    def style_tokens(self) -> np.ndarray:
        """12 raw style tokens: the highest-weight token slot (interim), levels beyond
        ``style_levels`` masked; all masked when no slot is active."""
        best, best_w = None, 0.0
        for toks, w in zip(self.slot_tokens, self.slot_weight):
            if toks is not None and w > best_w:
                best, best_w = toks, w
        out = np.full(STYLE_TOKENS, -1, np.int64)
        if best is not None:
            out[: self.style_levels] = best[: self.style_levels]
        return out

    def drum_value(self) -> int:
        return 1 if self.drum_hit else DRUMS[self.drums]

    def frame_cond(self) -> np.ndarray:
        """The 144 conditioning ids of the next frame; consumes note onsets and a drum hit."""
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
            "slot_tokens": [None if t is None else t.tolist() for t in self.slot_tokens],
            "slot_weight": self.slot_weight, "style_levels": self.style_levels,
            "raw_notes": self.raw_notes.tolist(), "onset_mode": self.onset_mode,
            "unmask_width": self.unmask_width, "drums": self.drums, "guidance": self.guidance,
            "temperature": self.temperature, "top_k": self.top_k, "seed": self.seed, "rotation": self.rotation,
        })

    def load_json(self, text: str) -> None:
        d = json.loads(text)
        self.slot_tokens = [None if t is None else np.asarray(t, np.int64) for t in d["slot_tokens"]]
        self.raw_notes = np.asarray(d["raw_notes"], np.int8)
        for k in ("slot_weight", "style_levels", "onset_mode", "unmask_width", "drums", "guidance",
                  "temperature", "top_k", "seed", "rotation"):
            setattr(self, k, d[k])


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

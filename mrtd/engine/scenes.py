"""Scenes: the sound controls saved as scene N, recalled at once or morphed over beats.

A scene is the set of messages that sets the sound again: each prompt slot's source (text,
audio file, embedding or tokens), the slot weights, the banked generation controls
(guidance, temperature, top-k, drums, style levels, note mode; not the seed) and every
effect setting. ``/mrtd/scene/save N`` takes it on the frame the save lands on.

``/mrtd/scene/recall N`` posts the messages that differ from the current state for the
recall's own frame (so a quantised recall lands on the beat like any control);
``/mrtd/scene/recall N beats`` (or ``/mrtd/scene/morph N beats``) morphs instead: a frame
hook moves every number (prompt weights, guidance, effect parameters...) along the beat line
of the engine's clock from where it was to the scene's value, and switches everything
else (prompt sources, drums, effect switches and modes) at the midpoint. Every step is a
change of its control, applied, logged and told to the subscribers, marked as derived
(``via`` the recall): a replay leaves those lines out and makes the same steps again from
the logged save and recall.

Scenes live in the engine and are stored with the banks (:mod:`.banks`): a bank save
writes them into the bank file's metadata (the same atomic write), a bank load takes
them back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from mrtd.controls.state import MRT2_ONLY
from mrtd.controls.style import Slot
from mrtd.engine.modulators import Derived, held_back
from mrtd.errors import ControlError, UserError
from mrtd.osc_schema import NAMESPACE, SchemaError
from mrtd.osc_schema.namespace import PROMPT_SLOTS, SCENES

if TYPE_CHECKING:
    from mrtd.engine.engine import Engine

PREFIX = "/mrtd/scene/"
WEIGHTS = "/mrtd/prompt/weights"
# the banked generation controls a scene holds (the seed is not a sound setting)
FIELDS = tuple(p.address for p in NAMESPACE if p.banked and p.address not in ("/mrtd/seed", "/mrtd/seed/rotation"))
EFFECTS = tuple(p.address for p in NAMESPACE if p.route == "effects" and p.access == "rw")
NUMERIC = frozenset(("float", "int"))

Message = tuple[str, tuple]  # (address, values)
Scene = dict[str, Message]  # key (an address; a slot's source: /mrtd/prompt/N) -> the message that sets it


def _slot_key(n: int) -> str:
    return f"/mrtd/prompt/{n}"


SLOT_KEYS = frozenset(_slot_key(n) for n in range(1, PROMPT_SLOTS + 1))


@dataclass
class Morph:
    via: str
    start_frame: int
    start_beat: float
    beats: float
    src: Scene
    dst: Scene
    now: Scene = field(default_factory=dict)  # the message last set, per key
    last_frame: int = -1


class Scenes:
    """The engine's scenes and its morph in progress."""

    def __init__(self, engine: Engine, count: int = SCENES):
        self.engine = engine
        self.count = count
        self.saved: dict[int, Scene] = {}
        self.morph: Morph | None = None
        self._posted: set[int] = set()  # scenes a save was posted for (a recall may follow it)
        self._replies = {a: Derived(a) for a in (PREFIX + "recall", PREFIX + "morph")}

    @staticmethod
    def handles(address: str) -> bool:
        return address.startswith(PREFIX)

    # ---- at receipt (any thread) ----------------------------------------------------------
    def check(self, address: str, values: tuple) -> tuple:
        if address == PREFIX + "save":
            self._posted.add(values[0])
        elif address in (PREFIX + "recall", PREFIX + "morph", PREFIX + "clear"):
            self._known(address, values[0], posted=True)
        return values

    def _known(self, address: str, n: int, posted: bool = False) -> None:
        if n not in self.saved and not (posted and n in self._posted):
            raise ControlError(address, f"scene {n} is empty (save it first with /mrtd/scene/save {n})")

    # ---- on the generation thread -----------------------------------------------------------
    def apply(self, address: str, values: tuple) -> None:
        what = address[len(PREFIX):]
        if what == "save":
            self.saved[values[0]] = self.capture()
            return
        if what == "stop":
            self.morph = None
            return
        self._known(address, values[0])
        if what == "clear":
            del self.saved[values[0]]
            self._posted.discard(values[0])
            return
        beats = float(values[1]) if len(values) > 1 else 0.0
        self.start(address, self.saved[values[0]], beats)

    def value(self, address: str) -> tuple | None:
        return tuple(sorted(self.saved)) if address == PREFIX + "list" else None

    def capture(self) -> Scene:
        """The sound controls now, as the messages that set them again."""
        e = self.engine
        c = e.controls
        scene: Scene = {}
        for n in range(1, PROMPT_SLOTS + 1):
            src = c.slot_source[n - 1]
            if src is None:
                msg: Message = (f"/mrtd/prompt/{n}/text", ("",))
            elif src[0] == "tokens":
                msg = (f"/mrtd/prompt/{n}/tokens", tuple(int(t) for t in src[1]))
            elif src[0] == "embedding":
                msg = (f"/mrtd/prompt/{n}/embedding", (np.asarray(src[1], "<f4").tobytes(),))
            else:
                msg = (f"/mrtd/prompt/{n}/{src[0]}", (str(src[1]),))
            scene[_slot_key(n)] = msg
        scene[WEIGHTS] = (WEIGHTS, tuple(float(w) for w in c.slot_weight))
        for address in FIELDS:
            if c.family == "v1" and address in MRT2_ONLY:
                continue
            scene[address] = (address, tuple(c.value(address) or ()))
        for address in EFFECTS:
            scene[address] = (address, tuple(e.effects.value(address)))
        return scene

    def start(self, via: str, dst: Scene, beats: float) -> None:
        """Recall ``dst`` on this frame (``beats`` 0) or start morphing to it."""
        e = self.engine
        src = self.capture()
        if beats <= 0 or e.clock.beats_to_frames(beats) == 0:
            self.morph = None
            self._post([m for k, m in dst.items() if src.get(k) != m], via)
            return
        self.morph = Morph(via, e.frame, e.clock.beat_at(e.frame), beats, src, dst,
                           now=dict(src), last_frame=e.frame)
        for k, (address, v) in dst.items():  # prompt texts switch at the midpoint: encode them now
            kind = address.rsplit("/", 1)[-1]
            if k in SLOT_KEYS and kind in ("text", "audio") and v[0] != "" and src.get(k) != (address, v):
                e.controls.style.prefetch(Slot(kind, v[0]), e.controls.style_mapper)

    def hook(self, frame: int) -> None:
        """Frame hook: the morph's step for ``frame`` (once per frame)."""
        m = self.morph
        if m is None or frame <= m.last_frame:
            return
        m.last_frame = frame
        # rounded: a step that lands on the midpoint or the end in exact arithmetic does here too
        t = min(1.0, max(0.0, round((self.engine.clock.beat_at(frame) - m.start_beat) / m.beats, 9)))
        out: list[Message] = []
        for k, msg in m.dst.items():
            msg = self._between(k, m.src.get(k), msg, t)
            if m.now.get(k) != msg and not held_back(self.engine, msg[0]):
                m.now[k] = msg
                out.append(msg)
        if t >= 1.0 and all(m.now.get(k) == msg for k, msg in m.dst.items()):  # (a chunk model's last
            self.morph = None  # steps wait for its chunk boundary)
        self._post(out, m.via, frame)

    @staticmethod
    def _between(key: str, a: Message | None, b: Message, t: float) -> Message:
        """The message a fraction ``t`` of the way from ``a`` to ``b``: numbers glide,
        the rest (and prompt sources, token ids among them) switch at the midpoint."""
        if a is None or a[0] != b[0] or key in SLOT_KEYS or len(a[1]) != len(b[1]) or t >= 1.0:
            return b if t >= 0.5 or a is None else a
        p = NAMESPACE[b[0]]
        out = []
        for i, (x, y) in enumerate(zip(a[1], b[1])):
            arg = p.args[min(i, len(p.args) - 1)]
            if arg.kind not in NUMERIC:
                out.append(y if t >= 0.5 else x)
                continue
            v = x + (y - x) * t
            out.append(round(v) if arg.kind == "int" else float(v))
        return b[0], tuple(out)

    def _post(self, messages: list[Message], via: str, frame: int | None = None) -> None:
        if messages:
            self.engine.schedule.add(messages, self.engine.frame if frame is None else frame, self._replies[via])

    # ---- banks ------------------------------------------------------------------------------
    def to_json(self) -> str:
        return json.dumps({str(n): [[k, a, [v.hex() if isinstance(v, bytes) else v for v in vals]]
                                    for k, (a, vals) in s.items()] for n, s in sorted(self.saved.items())})

    def load_json(self, text: str) -> None:
        """Scenes from a bank, replacing these (a morph in progress stops)."""
        self.saved, self.morph = self.parse_json(text), None

    def parse_json(self, text: str) -> dict[int, Scene]:
        """A bank's scenes; UserError if they cannot be read."""
        try:
            d = json.loads(text)
            saved: dict[int, Scene] = {}
            for n, items in d.items():
                scene: Scene = {}
                for k, address, args in items:
                    p = NAMESPACE.get(address)
                    if p is None:
                        continue  # a control this version does not have
                    args = [bytes.fromhex(v) if a.kind == "blob" and isinstance(v, str) else v
                            for v, a in zip(args, list(p.args) + [p.args[-1]] * max(0, len(args) - len(p.args)))]
                    scene[str(k)] = (address, NAMESPACE.check(address, args))
                if 1 <= int(n) <= self.count:
                    saved[int(n)] = scene
        except (ValueError, TypeError, SchemaError) as err:
            raise UserError(f"the bank's scenes cannot be read: {err}") from None
        return saved

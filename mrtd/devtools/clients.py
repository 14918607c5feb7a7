"""Ready-made clients generated from the schema: Max patches and a TouchOSC layout.

``python -m mrtd.devtools.clients`` writes ``max_patches/*.maxpat`` and
``touchosc/mrtd.tosc`` under the current directory (``--root`` elsewhere);
``clients --check`` exits 1 when the committed files differ from a fresh generation.

Every address, range, default and choice list comes from :data:`NAMESPACE`; this
module only decides the layout (which addresses go on which page, and where). The
output is deterministic: box ids are counters, TouchOSC node ids are uuid5 of the
control's path, and nothing depends on the time or the machine.

Formats (written with the standard library only):

- ``.maxpat``: Max's JSON patcher (``{"patcher": {"boxes": [...], "lines": [...]}}``).
  Max encodes a message ``/mrtd/x 0.5`` given to ``[udpsend]`` as OSC, the first atom
  being the address; floats go as ``f``, ints as ``i``, symbols as ``s``.
- ``.tosc``: TouchOSC (mk2) layout, a zlib stream of ``<lexml version='6'>`` XML. Faders
  send 0..1 scaled to the schema range by the OSC argument's ``scaleMin``/``scaleMax``.
"""

from __future__ import annotations

import json
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mrtd.osc_schema.namespace import FX_CHAIN, NAMESPACE, PROMPT_SLOTS
from mrtd.osc_schema.schema import Arg

DAEMON_HOST = "127.0.0.1"
DAEMON_PORT = 9000
FEEDBACK_PORT = 9002  # where mrtd-control.maxpat listens for /mrtd/subscribe feedback (UDP)
MAX_DIR = "max_patches"
TOSC_DIR = "touchosc"
REGENERATE = "python -m mrtd.devtools.clients"

# ============================================================================ Max


# inlets/outlets of the text objects used (class name -> (numinlets, numoutlets))
_OBJECTS: dict[str, tuple[int, int]] = {
    "udpsend": (1, 0), "udpreceive": (1, 1), "prepend": (2, 1), "loadbang": (1, 1),
    "s": (1, 0), "r": (0, 1), "tosymbol": (1, 1), "metro": (2, 1), "notein": (1, 3),
    "stripnote": (2, 2), "t": (1, 0), "p": (0, 0), "if": (2, 2),
}
# UI and other boxes by maxclass
_CLASSES: dict[str, tuple[int, int, list[str]]] = {
    "flonum": (1, 2, ["", "bang"]), "number": (1, 2, ["", "bang"]), "toggle": (1, 1, ["int"]),
    "button": (1, 1, ["bang"]), "message": (2, 1, [""]), "comment": (1, 0, []),
    "slider": (1, 1, [""]), "umenu": (1, 3, ["int", "", ""]), "textedit": (1, 4, ["", "int", "", ""]),
    "kslider": (2, 2, ["int", "int"]), "inlet": (0, 1, [""]),
}


def _io_of(text: str) -> tuple[int, int]:
    words = text.split()
    name, args = words[0], words[1:]
    if name == "route":
        return len(args) + 1, len(args) + 1
    if name == "unpack":
        return 1, len(args)
    if name == "pack":
        return len(args), 1
    if name == "t":
        return 1, len(args)
    return _OBJECTS[name]


@dataclass
class MaxPatch:
    """A patcher being built: boxes with ids obj-1, obj-2, ... and patchlines."""

    rect: tuple[float, float, float, float]
    boxes: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)

    def box(self, maxclass: str, x: float, y: float, w: float = 0, h: float = 22, text: str | None = None,
            **attrs: Any) -> str:
        bid = f"obj-{len(self.boxes) + 1}"
        if maxclass == "newobj":
            assert text is not None
            ni, no = _io_of(text)
            outlettype = [""] * no
            w = w or max(40, 7.2 * len(text) + 14)
        else:
            ni, no, outlettype = _CLASSES[maxclass]
            w = w or 50
        box: dict[str, Any] = {"id": bid, "maxclass": maxclass, "numinlets": ni, "numoutlets": no}
        if no:
            box["outlettype"] = outlettype
        box["patching_rect"] = [float(x), float(y), float(round(w)), float(h)]
        if text is not None:
            box["text"] = text
        box.update(attrs)
        self.boxes.append({"box": box})
        return bid

    def obj(self, text: str, x: float, y: float, **attrs: Any) -> str:
        return self.box("newobj", x, y, text=text, **attrs)

    def msg(self, text: str, x: float, y: float, w: float = 0) -> str:
        return self.box("message", x, y, w or max(40, 7.2 * len(text) + 14), text=text)

    def comment(self, text: str, x: float, y: float, w: float = 200) -> str:
        return self.box("comment", x, y, w, 20, text=text)

    def link(self, src: str, outlet: int, dst: str, inlet: int = 0) -> None:
        self.lines.append({"patchline": {"source": [src, outlet], "destination": [dst, inlet]}})

    def to_dict(self) -> dict[str, Any]:
        x, y, w, h = self.rect
        for b in self.boxes:  # the window holds every box
            bx, by, bw, bh = b["box"]["patching_rect"]
            w, h = max(w, bx + bw + 20), max(h, by + bh + 20)
        return {
            "fileversion": 1,
            "appversion": {"major": 8, "minor": 6, "revision": 0, "architecture": "x64", "modernui": 1},
            "classnamespace": "box",
            "rect": [float(x), float(y), float(w), float(h)],
            "bglocked": 0,
            "openinpresentation": 0,
            "default_fontsize": 12.0,
            "default_fontface": 0,
            "default_fontname": "Arial",
            "gridonopen": 1,
            "gridsize": [15.0, 15.0],
            "gridsnaponopen": 1,
            "objectsnaponopen": 1,
            "statusbarvisible": 2,
            "toolbarvisible": 1,
            "boxanimatetime": 200,
            "enablehscroll": 1,
            "enablevscroll": 1,
            "description": "",
            "digest": "",
            "tags": "",
            "style": "",
            "boxes": self.boxes,
            "lines": self.lines,
        }


def _range_text(a: Arg) -> str:
    if a.kind in ("float", "int") and a.min is not None and a.max is not None:
        unit = f" {a.unit}" if a.unit else ""
        return f" ({a.min:g}..{a.max:g}{unit})"
    if a.kind == "bool":
        return " (0/1)"
    return ""


def _label(address: str) -> str:
    return address.removeprefix("/mrtd/")


class _Section:
    """A column of controls; each control: label, widget, ``prepend ADDRESS`` -> ``s TX``.
    Readable ones also follow feedback: ``r RX`` -> ``route A B ...`` -> ``prepend set`` -> widget."""

    WIDTH = 300

    def __init__(self, patch: MaxPatch, x: float, y: float, title: str, tx: str, rx: str | None):
        self.p, self.x, self.y0, self.tx, self.rx = patch, x, y, tx, rx
        self.p.comment(title, x, y, 280)
        self.y = y + 56  # the route sits at y + 26 once the addresses are known
        self.follow: list[tuple[str, str]] = []  # (address, box to 'set')

    def _send(self, src: str, outlet: int, y: float) -> None:
        s = self.p.obj(f"s {self.tx}", self.x, y)
        self.p.link(src, outlet, s)

    def control(self, address: str, widget: str | None = None) -> str:
        """The widget for ``address`` (chosen from its argument kind unless given)."""
        p, x, y = self.p, self.x, self.y
        param = NAMESPACE[address]
        if param.access == "event" and not param.args:
            m = p.msg(address, x, y)
            self._send(m, 0, y + 26)
            self.y += 60
            return m
        a = param.args[0]
        p.comment(_label(address) + _range_text(a), x, y, 290)
        y += 20
        if param.access == "rw" and self.rx:
            setter = p.obj("prepend set", x + 130, y)
            self.follow.append((address, setter))
            y += 26
        if widget == "slider":
            ui = p.box("slider", x, y, 24, 110, size=float(a.max - a.min), min=float(a.min),  # type: ignore[operator]
                       floatoutput=1, orientation=2)
            y += 118
        elif a.kind == "float":
            ui = p.box("flonum", x, y, 70, format=6, minimum=float(a.min), maximum=float(a.max))  # type: ignore[arg-type]
            y += 28
        elif a.kind == "int":
            ui = p.box("number", x, y, 70, minimum=int(a.min), maximum=int(a.max))  # type: ignore[arg-type]
            y += 28
        elif a.kind == "bool":
            ui = p.box("toggle", x, y, 24, 24)
            y += 30
        elif a.kind == "enum":
            items: list[str] = []
            for c in a.choices:
                items += [c, ","]
            ui = p.box("umenu", x, y, 120, items=items[:-1])
            y += 28
        elif a.kind == "string":
            ui = p.box("textedit", x, y, 180, 22)
            route = p.obj("route text", x, y + 28)
            p.link(ui, 0, route)
            sym = p.obj("tosymbol", x, y + 54)
            p.link(route, 0, sym)
            p.link(route, 1, sym)  # whether or not textedit prefixes 'text'
            self.y = self._wire(sym, address, y + 80)
            if param.access == "rw" and self.rx:
                p.link(setter, 0, ui)
            return ui
        else:
            raise AssertionError(a.kind)
        if param.access == "rw" and self.rx:
            p.link(setter, 0, ui)
        self.y = self._wire(ui, address, y)
        return ui

    def _wire(self, ui: str, address: str, y: float) -> float:
        """``ui`` -> ``prepend ADDRESS`` -> ``s TX``; returns the y below them."""
        pre = self.p.obj(f"prepend {address}", self.x, y)
        self.p.link(ui, 0, pre)
        s = self.p.obj(f"s {self.tx}", self.x, y + 26)
        self.p.link(pre, 0, s)
        return y + 62

    def display(self, address: str, width: float = 200) -> str:
        """A message box showing a read-only address's last value."""
        p = self.p
        p.comment(_label(address), self.x, self.y, 290)
        setter = p.obj("prepend set", self.x, self.y + 20)
        box = p.msg("-", self.x, self.y + 46, width)
        p.link(setter, 0, box)
        self.follow.append((address, setter))
        self.y += 80
        return box

    def finish(self) -> float:
        if self.follow and self.rx:
            r = self.p.obj(f"r {self.rx}", self.x, self.y0 + 26)
            route = self.p.obj("route " + " ".join(a for a, _ in self.follow), self.x + 145, self.y0 + 26,
                               w=140)
            self.p.link(r, 0, route)
            for i, (_, setter) in enumerate(self.follow):
                self.p.link(route, i, setter)
        return self.y


def _io_block(p: MaxPatch, x: float, y: float, tx: str, rx: str | None) -> None:
    """``r TX`` -> ``udpsend``; with feedback: subscribe on load, ``udpreceive`` -> ``s RX``."""
    r = p.obj(f"r {tx}", x, y)
    send = p.obj(f"udpsend {DAEMON_HOST} {DAEMON_PORT}", x, y + 30)
    p.link(r, 0, send)
    p.comment(f"to mrtd: UDP {DAEMON_HOST}:{DAEMON_PORT} (send 'host x' / 'port n' to change)", x + 190, y + 30, 420)
    if rx is None:
        return
    lb = p.obj("loadbang", x, y + 70)
    sub = p.msg(f"/mrtd/subscribe {FEEDBACK_PORT}", x, y + 100)
    unsub = p.msg(f"/mrtd/unsubscribe {FEEDBACK_PORT}", x + 170, y + 100)
    p.link(lb, 0, sub)
    p.link(sub, 0, send)
    p.link(unsub, 0, send)
    recv = p.obj(f"udpreceive {FEEDBACK_PORT}", x, y + 140)
    out = p.obj(f"s {rx}", x, y + 170)
    p.link(recv, 0, out)
    p.comment(f"feedback: mrtd sends every change and the meters to UDP port {FEEDBACK_PORT}", x + 150, y + 140, 420)


def fx_patch(tx: str, rx: str) -> dict[str, Any]:
    """The effects subpatcher of mrtd-control: one column per effect."""
    fx = MaxPatch((80.0, 100.0, 1300.0, 820.0))
    fx.comment("mrtd effects (post-chain); sends through 's " + tx + "', follows 'r " + rx + "'", 20, 10, 700)
    y_row, bottom = 40.0, 40.0
    for i, name in enumerate(FX_CHAIN):
        col = i % 4
        if col == 0 and i:
            y_row, bottom = bottom + 20, 0.0
        es = _Section(fx, 20 + col * _Section.WIDTH, y_row, name, tx, rx)
        es.control(f"/mrtd/fx/{name}/on")
        for a in FX_CHAIN[name]:
            es.control(f"/mrtd/fx/{name}/{a.name}")
        bottom = max(bottom, es.finish())
    return fx.to_dict()


def max_control() -> dict[str, Any]:
    tx, rx = "mrtd.control.tx", "mrtd.control.rx"
    p = MaxPatch((40.0, 60.0, 1500.0, 900.0))
    p.comment("mrtd control — generated from mrtd/osc_schema by `" + REGENERATE + "`; do not edit by hand",
              20, 10, 700)
    _io_block(p, 20, 40, tx, rx)

    # prompt slots: 4 per row
    y_row, bottom = 260.0, 0.0
    for n in range(1, PROMPT_SLOTS + 1):
        col = (n - 1) % 4
        if col == 0 and n > 1:
            y_row, bottom = bottom + 20, 0.0
        s = _Section(p, 20 + col * _Section.WIDTH, y_row, f"prompt slot {n}", tx, rx)
        s.control(f"/mrtd/prompt/{n}/text")
        s.control(f"/mrtd/prompt/{n}/weight", "slider")
        s.control(f"/mrtd/prompt/{n}/clear")
        s.display(f"/mrtd/prompt/{n}/status", 100)
        bottom = max(bottom, s.finish())

    x = 20 + 4 * _Section.WIDTH
    s = _Section(p, x, 40, "sampling", tx, rx)
    for a in ("/mrtd/guidance/style", "/mrtd/guidance/notes", "/mrtd/guidance/drums", "/mrtd/temperature",
              "/mrtd/topk", "/mrtd/seed", "/mrtd/drums", "/mrtd/drums/hit"):
        s.control(a)
    s.finish()
    s = _Section(p, x + _Section.WIDTH, 40, "transport and output", tx, rx)
    for a in ("/mrtd/reset", "/mrtd/notes/all_off", "/mrtd/volume", "/mrtd/mute", "/mrtd/pause",
              "/mrtd/responsive", "/mrtd/fx/bypass"):
        s.control(a)
    s.finish()
    p.obj("p effects", s.x, s.y + 10)
    p.boxes[-1]["box"]["patcher"] = fx_patch(tx, rx)
    p.comment("click (locked) to open the effects", s.x, s.y + 36, 280)

    # status and meters
    st = _Section(p, x + 2 * _Section.WIDTH, 40, "status and meters", tx, rx)
    st.display("/mrtd/frame", 100)
    st.display("/mrtd/error", 280)
    st.display("/mrtd/status", 280)
    poll = p.box("toggle", st.x, st.y, 24, 24)
    p.comment("poll /mrtd/status every second", st.x + 30, st.y, 250)
    metro = p.obj("metro 1000", st.x, st.y + 30)
    ask = p.msg("/mrtd/status", st.x, st.y + 60)
    tx_s = p.obj(f"s {tx}", st.x + 120, st.y + 60)
    p.link(poll, 0, metro)
    p.link(metro, 0, ask)
    p.link(ask, 0, tx_s)
    st.y += 100
    meters = NAMESPACE["/mrtd/meters"]
    p.comment("meters: " + " ".join(a.name for a in meters.args), st.x, st.y, 290)
    unpack = p.obj("unpack " + " ".join("f" for _ in meters.args), st.x, st.y + 24, w=160)
    st.follow.append(("/mrtd/meters", unpack))
    for i, a in enumerate(meters.args):
        yy = st.y + 54 + i * 28
        if a.name.startswith("peak"):  # a level bar (0..1 shown; over 1 is clipping)
            setter = p.obj("prepend set", st.x, yy)
            bar = p.box("slider", st.x + 100, yy, 140, 20, size=1.0, min=0.0, floatoutput=1, orientation=1)
            p.link(unpack, i, setter)
            p.link(setter, 0, bar)
        else:
            num = p.box("flonum", st.x + 100, yy, 80, format=6)
            p.link(unpack, i, num)
        p.comment(a.name, st.x + 245, yy, 80)
    st.y += 54 + len(meters.args) * 28
    st.finish()

    return {"patcher": p.to_dict()}


def max_notes() -> dict[str, Any]:
    tx = "mrtd.notes.tx"
    p = MaxPatch((60.0, 80.0, 1100.0, 700.0))
    p.comment("mrtd notes — generated from mrtd/osc_schema by `" + REGENERATE + "`; do not edit by hand", 20, 10, 700)
    _io_block(p, 20, 40, tx, None)

    p.comment("MIDI in (any channel) and the keyboard: velocity 0 = note off", 20, 120, 500)
    nin = p.obj("notein", 20, 150)
    ks = p.box("kslider", 200, 150, 336, 53, mode=1, offset=36, range=61)
    pack = p.obj("pack 0 0", 20, 230)
    for src in (nin, ks):
        p.link(src, 0, pack, 0)
        p.link(src, 1, pack, 1)
    split = p.obj("if $i2 == 0 then $i1 else out2 $i1 $i2", 20, 260)
    p.link(pack, 0, split)
    off = p.obj("prepend /mrtd/note/off", 20, 290)
    on = p.obj("prepend /mrtd/note/on", 200, 290)
    p.link(split, 0, off)
    p.link(split, 1, on)
    for pre, xx in ((off, 20), (on, 200)):
        s = p.obj(f"s {tx}", xx, 320)
        p.link(pre, 0, s)

    # raw pitch states
    p.comment("raw pitch state (/mrtd/notes/pitch): -1 masked, 0 off, 1 sustain, 2 onset, 3 on", 20, 370, 560)
    pitch_arg, state_arg = NAMESPACE["/mrtd/notes/pitch"].args
    p.comment("pitch", 20, 394, 60)
    p.comment("state", 110, 394, 60)
    pitch = p.box("number", 20, 416, 60, minimum=int(pitch_arg.min), maximum=int(pitch_arg.max))  # type: ignore[arg-type]
    state = p.box("number", 110, 416, 60, minimum=int(state_arg.min), maximum=int(state_arg.max))  # type: ignore[arg-type]
    trig = p.obj("t b i", 110, 446)
    pk = p.obj("pack 0 0", 20, 476)
    p.link(pitch, 0, pk, 0)
    p.link(state, 0, trig)
    p.link(trig, 1, pk, 1)
    p.link(trig, 0, pk, 0)
    pre = p.obj("prepend /mrtd/notes/pitch", 20, 506)
    p.link(pk, 0, pre)
    s = p.obj(f"s {tx}", 220, 506)
    p.link(pre, 0, s)

    sec = _Section(p, 600, 110, "note controls", tx, None)
    for a in ("/mrtd/notes/sustain", "/mrtd/notes/onset_mode", "/mrtd/notes/unmask_width", "/mrtd/guidance/notes",
              "/mrtd/drums", "/mrtd/drums/hit", "/mrtd/notes/all_off", "/mrtd/notes/clear"):
        sec.control(a)
    sec.finish()
    return {"patcher": p.to_dict()}


def max_send() -> dict[str, Any]:
    p = MaxPatch((100.0, 100.0, 460.0, 220.0))
    p.comment("mrtd.send: any /mrtd message in, OSC to mrtd out (host/port: 'host x', 'port n')", 20, 10, 420)
    i = p.box("inlet", 20, 40, 30, 30, comment="an OSC message, e.g. /mrtd/temperature 1.1")
    u = p.obj(f"udpsend {DAEMON_HOST} {DAEMON_PORT}", 20, 90)
    p.link(i, 0, u)
    return {"patcher": p.to_dict()}


def _maxpat_bytes(d: dict[str, Any]) -> bytes:
    return (json.dumps(d, indent="\t", sort_keys=False) + "\n").encode()


# ============================================================================ TouchOSC


def _uid(path: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "mrtd-touchosc:" + path))


def _cdata(s: str) -> str:
    return "<![CDATA[" + s.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _num(v: float) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


@dataclass
class OscOut:
    """One ``<osc>`` message of a control. ``args``: (type, conversion, value, lo, hi)."""

    path: str
    args: list[tuple[str, str, str, float, float]]
    send: bool = True
    receive: bool = True
    condition: str = "ANY"  # ANY, RISE, FALL


@dataclass
class Node:
    type: str
    name: str
    frame: tuple[float, float, float, float]
    props: dict[str, tuple[str, Any]] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    messages: list[OscOut] = field(default_factory=list)
    children: list["Node"] = field(default_factory=list)
    color: tuple[float, float, float, float] = (0.25, 0.25, 0.25, 1.0)


_COMMON = ("background", "b", 1), ("cornerRadius", "f", 0.0), ("grabFocus", "b", 1), ("locked", "b", 0), \
    ("orientation", "i", 0), ("outline", "b", 1), ("outlineStyle", "i", 1), ("pointerPriority", "i", 0), \
    ("shape", "i", 1), ("visible", "b", 1)


def _node_xml(n: Node, path: str, out: list[str]) -> None:
    path = f"{path}/{n.name}"
    out.append(f"<node ID='{_uid(path)}' type='{n.type}'>")
    props: dict[str, tuple[str, Any]] = {k: (t, v) for k, t, v in _COMMON}
    props["interactive"] = ("b", 0 if n.type in ("LABEL", "GROUP") else 1)
    props["color"] = ("c", n.color)
    props["frame"] = ("r", n.frame)
    props["name"] = ("s", n.name)
    props.update(n.props)
    out.append("<properties>")
    for key in sorted(props):
        t, v = props[key]
        out.append(f"<property type='{t}'><key>{_cdata(key)}</key>")
        if t == "c":
            out.append("<value><r>%s</r><g>%s</g><b>%s</b><a>%s</a></value>" % tuple(_num(float(c)) for c in v))
        elif t == "r":
            out.append("<value><x>%s</x><y>%s</y><w>%s</w><h>%s</h></value>" % tuple(_num(float(c)) for c in v))
        elif t == "s":
            out.append(f"<value>{_cdata(str(v))}</value>")
        else:
            out.append(f"<value>{_num(v)}</value>")
        out.append("</property>")
    out.append("</properties>")
    values = dict(n.values)
    values.setdefault("touch", "false")
    out.append("<values>")
    for key in sorted(values):
        out.append(f"<value><key>{_cdata(key)}</key><locked>0</locked><lockedDefaultCurrent>0</lockedDefaultCurrent>"
                   f"<default>{_cdata(values[key])}</default><defaultPull>0</defaultPull></value>")
    out.append("</values>")
    if n.messages:
        out.append("<messages>")
        for m in n.messages:
            out.append(f"<osc><enabled>1</enabled><send>{int(m.send)}</send><receive>{int(m.receive)}</receive>"
                       "<feedback>0</feedback><noDuplicates>0</noDuplicates><connections>1111111111</connections>")
            out.append(f"<triggers><trigger><var>{_cdata('x' if n.type != 'LABEL' else 'text')}</var>"
                       f"<condition>{m.condition}</condition></trigger></triggers>")
            out.append("<path><partial><type>CONSTANT</type><conversion>STRING</conversion>"
                       f"<value>{_cdata(m.path)}</value><scaleMin>0</scaleMin><scaleMax>1</scaleMax></partial></path>")
            out.append("<arguments>")
            for typ, conv, val, lo, hi in m.args:
                out.append(f"<partial><type>{typ}</type><conversion>{conv}</conversion><value>{_cdata(val)}</value>"
                           f"<scaleMin>{_num(lo)}</scaleMin><scaleMax>{_num(hi)}</scaleMax></partial>")
            out.append("</arguments></osc>")
        out.append("</messages>")
    if n.children:
        out.append("<children>")
        for c in n.children:
            _node_xml(c, path, out)
        out.append("</children>")
    out.append("</node>")


_BLUE = (0.2, 0.45, 0.8, 1.0)
_GREEN = (0.2, 0.65, 0.4, 1.0)
_ORANGE = (0.9, 0.55, 0.15, 1.0)
_RED = (0.8, 0.25, 0.25, 1.0)
_GREY = (0.35, 0.35, 0.35, 1.0)


def _label_node(name: str, text: str, frame: tuple[float, float, float, float], size: int = 14) -> Node:
    return Node("LABEL", name, frame, props={"textSize": ("i", size), "background": ("b", 0),
                                              "outline": ("b", 0)}, values={"text": text})


def _fader(address: str, frame: tuple[float, float, float, float], horizontal: bool = False,
           color: tuple[float, float, float, float] = _BLUE) -> list[Node]:
    param = NAMESPACE[address]
    a = param.args[0]
    lo, hi = float(a.min), float(a.max)  # type: ignore[arg-type]
    conv = "INTEGER" if a.kind == "int" else "FLOAT"
    default = float(param.default[0]) if param.default else lo
    x0 = (default - lo) / (hi - lo)
    name = _label(address).replace("/", "_")
    fx, fy, fw, fh = frame
    label = _label_node(name + "_label", _label(address) + _range_text(a), (fx, fy, fw, 20), 12)
    fader = Node("FADER", name, (fx, fy + 22, fw, fh - 22), color=color,
                 props={"orientation": ("i", 1 if horizontal else 0), "bar": ("b", 1), "cursor": ("b", 1),
                        "response": ("i", 0), "responseFactor": ("i", 100), "grid": ("b", 0), "gridSteps": ("i", 10)},
                 values={"x": f"{x0:g}"},
                 messages=[OscOut(address, [("VALUE", conv, "x", lo, hi)], receive=param.access == "rw")])
    return [label, fader]


_ANSWERED = ("/mrtd/ping", "/mrtd/status")


def _button(address: str, frame: tuple[float, float, float, float], text: str | None = None,
            color: tuple[float, float, float, float] = _ORANGE) -> list[Node]:
    """Momentary for an event (1 press, 0 release), toggle for a bool (0/1)."""
    param = NAMESPACE[address]
    name = _label(address).replace("/", "_")
    if address in _ANSWERED:  # replied to by the server itself: no argument at all, on press
        btype, msg = 0, OscOut(address, [], receive=False, condition="RISE")
    elif param.access == "event":
        btype, msg = 0, OscOut(address, [("VALUE", "FLOAT", "x", 0.0, 1.0)], receive=False)
    else:
        assert param.args[0].kind == "bool", address
        btype, msg = 1, OscOut(address, [("VALUE", "INTEGER", "x", 0.0, 1.0)], receive=True)
    x0 = "1" if param.default and param.default[0] else "0"
    fx, fy, fw, fh = frame
    return [Node("BUTTON", name, frame, color=color, props={"buttonType": ("i", btype)}, values={"x": x0},
                 messages=[msg]),
            _label_node(name + "_label", text or _label(address), (fx, fy, fw, fh), 12)]


def _choices(address: str, frame: tuple[float, float, float, float]) -> list[Node]:
    """An enum: one button per choice (sends the choice's name on press) and a label
    that shows the current choice (receives the address)."""
    param = NAMESPACE[address]
    a = param.args[0]
    name = _label(address).replace("/", "_")
    fx, fy, fw, fh = frame
    nodes = [_label_node(name + "_label", _label(address), (fx, fy, fw * 0.5, 20), 12)]
    cur = Node("LABEL", name + "_now", (fx + fw * 0.5, fy, fw * 0.5, 20),
               props={"textSize": ("i", 12),
                      "textColor": ("c", (1.0, 0.85, 0.3, 1.0))},
               values={"text": str(param.default[0]) if param.default else ""},
               messages=[OscOut(address, [("VALUE", "STRING", "text", 0.0, 1.0)], send=False, receive=True)])
    nodes.append(cur)
    w = fw / len(a.choices)
    for i, c in enumerate(a.choices):
        bframe = (fx + i * w + 2, fy + 22, w - 4, fh - 22)
        nodes.append(Node("BUTTON", f"{name}_{c}", bframe, color=_GREEN, props={"buttonType": ("i", 0)},
                          values={"x": "0"},
                          messages=[OscOut(address, [("CONSTANT", "STRING", c, 0.0, 1.0)], receive=False,
                                           condition="RISE")]))
        nodes.append(_label_node(f"{name}_{c}_label", c.replace("_", " "), bframe, 11))
    return nodes


def _display(address: str, frame: tuple[float, float, float, float], arg: int = 0) -> list[Node]:
    """A label that shows one readable address (its first argument)."""
    name = _label(address).replace("/", "_")
    fx, fy, fw, fh = frame
    kind = NAMESPACE[address].args[arg].kind
    conv = "STRING" if kind in ("string", "enum") else "FLOAT" if kind == "float" else "INTEGER"
    return [_label_node(name + "_label", _label(address), (fx, fy, fw, 20), 12),
            Node("LABEL", name + "_value", (fx, fy + 22, fw, fh - 22),
                 props={"textSize": ("i", 16), "textColor": ("c", (1.0, 0.85, 0.3, 1.0))},
                 values={"text": "-"},
                 messages=[OscOut(address, [("VALUE", conv, "text", 0.0, 1.0)], send=False, receive=True)])]


W, H, TAB = 1024.0, 768.0, 40.0
PAGE = (0.0, TAB, W, H - TAB)


def _page_mix() -> Node:
    kids: list[Node] = []
    for n in range(1, PROMPT_SLOTS + 1):
        x = 10 + (n - 1) * 62
        kids += _fader(f"/mrtd/prompt/{n}/weight", (x, 10, 56, 330))
        kids += _button(f"/mrtd/prompt/{n}/clear", (x, 350, 56, 40), "clear", _RED)
        kids += _display(f"/mrtd/prompt/{n}/status", (x, 400, 56, 50))
    x0 = 520.0
    for i, a in enumerate(("/mrtd/guidance/style", "/mrtd/guidance/notes", "/mrtd/guidance/drums",
                           "/mrtd/temperature", "/mrtd/topk")):
        kids += _fader(a, (x0, 10 + i * 70, 300, 64), horizontal=True, color=_GREEN)
    kids += _fader("/mrtd/volume", (x0 + 320, 10, 70, 330))
    kids += _button("/mrtd/reset", (x0 + 400, 10, 90, 90), "reset", _RED)
    kids += _button("/mrtd/mute", (x0 + 400, 110, 90, 60), "mute", _GREY)
    kids += _button("/mrtd/pause", (x0 + 400, 180, 90, 60), "pause", _GREY)
    kids += _button("/mrtd/fx/bypass", (x0 + 400, 250, 90, 60), "fx bypass", _GREY)
    kids += _choices("/mrtd/drums", (x0, 370, 300, 80))
    kids += _button("/mrtd/drums/hit", (x0 + 320, 390, 70, 60), "drum hit")
    return Node("GROUP", "mix", PAGE, children=kids)


KEYS = range(48, 72)  # C3..B4 on the notes page


def _page_notes() -> Node:
    kids: list[Node] = []
    white = [p for p in KEYS if p % 12 in (0, 2, 4, 5, 7, 9, 11)]
    kw = (W - 20) / len(white)
    keys: list[Node] = []
    black: list[Node] = []
    for p in KEYS:
        if p in white:
            frame = (10 + white.index(p) * kw, 300, kw - 2, 300)
        else:
            frame = (10 + white.index(p - 1) * kw + kw * 0.65, 300, kw * 0.7, 180)
        node = Node("BUTTON", f"key_{p}", frame, props={"buttonType": ("i", 0)}, values={"x": "0"},
                    color=(0.9, 0.9, 0.9, 1.0) if p in white else (0.1, 0.1, 0.1, 1.0),
                    messages=[OscOut("/mrtd/note/on", [("CONSTANT", "INTEGER", str(p), 0.0, 1.0)], receive=False,
                                     condition="RISE"),
                              OscOut("/mrtd/note/off", [("CONSTANT", "INTEGER", str(p), 0.0, 1.0)], receive=False,
                                     condition="FALL")])
        (keys if p in white else black).append(node)
    kids += keys + black  # black keys drawn on top
    kids.append(_label_node("keys_label", f"keyboard: MIDI {KEYS[0]}..{KEYS[-1]} (note on at press, off at release)",
                            (10, 270, 600, 24), 12))
    kids += _button("/mrtd/notes/sustain", (10, 10, 110, 70), "sustain", _GREY)
    kids += _button("/mrtd/notes/all_off", (130, 10, 110, 70), "all off", _RED)
    kids += _button("/mrtd/notes/clear", (250, 10, 110, 70), "clear raw", _RED)
    kids += _choices("/mrtd/notes/onset_mode", (380, 10, 260, 70))
    kids += _fader("/mrtd/notes/unmask_width", (660, 10, 350, 64), horizontal=True, color=_GREEN)
    kids += _fader("/mrtd/guidance/notes", (660, 90, 350, 64), horizontal=True, color=_GREEN)
    kids += _choices("/mrtd/drums", (10, 100, 300, 80))
    kids += _button("/mrtd/drums/hit", (320, 110, 90, 70), "drum hit")
    return Node("GROUP", "notes", PAGE, children=kids)


def _page_effects() -> Node:
    kids: list[Node] = []
    row_h = (H - TAB - 20) / len(FX_CHAIN)
    for i, (name, args) in enumerate(FX_CHAIN.items()):
        y = 10 + i * row_h
        kids += _button(f"/mrtd/fx/{name}/on", (10, y + 4, 110, row_h - 10), name, _GREY)
        x = 130.0
        for a in args:
            addr = f"/mrtd/fx/{name}/{a.name}"
            if a.kind == "enum":
                kids += _choices(addr, (x, y, 330, row_h - 6))
                x += 340
            else:
                kids += _fader(addr, (x, y, 170, row_h - 6), horizontal=True)
                x += 176
    return Node("GROUP", "effects", PAGE, children=kids)


def _page_status() -> Node:
    kids: list[Node] = []
    kids += _display("/mrtd/frame", (10, 10, 200, 70))
    kids += _display("/mrtd/error", (220, 10, 790, 70))
    meters = Node("FADER", "peak_l", (10, 120, 60, 400), color=_GREEN,
                  props={"interactive": ("b", 0), "orientation": ("i", 0), "bar": ("b", 1), "cursor": ("b", 0)},
                  values={"x": "0"},
                  messages=[OscOut("/mrtd/meters", [("VALUE", "FLOAT", "x", 0.0, 1.0)], send=False, receive=True)])
    kids += [_label_node("peak_l_label", "level (peak L)", (10, 95, 140, 22), 12), meters]
    kids += _button("/mrtd/ping", (220, 120, 120, 60), "ping", _GREY)
    kids += _button("/mrtd/status", (350, 120, 120, 60), "status", _GREY)
    kids += _button("/mrtd/reset", (480, 120, 120, 60), "reset", _RED)
    kids += _button("/mrtd/notes/all_off", (610, 120, 120, 60), "all off", _RED)
    kids.append(_label_node("help", "Feedback: TouchOSC must receive on the port it sends /mrtd/subscribe for; "
                                    "see touchosc/README.md", (220, 200, 790, 40), 12))
    for n in range(1, PROMPT_SLOTS + 1):
        kids += _display(f"/mrtd/prompt/{n}/status", (220 + (n - 1) * 98, 260, 92, 60))
    return Node("GROUP", "status", PAGE, children=kids)


def touchosc_layout() -> Node:
    pager = Node("PAGER", "pages", (0, 0, W, H),
                 props={"tabLabels": ("b", 1), "tabbar": ("b", 1), "tabbarDoubleTap": ("b", 0),
                        "tabbarSize": ("i", int(TAB)), "textSizeOff": ("i", 14), "textSizeOn": ("i", 14)},
                 values={"page": "0"},
                 children=[_page_mix(), _page_notes(), _page_effects(), _page_status()])
    return Node("GROUP", "mrtd", (0, 0, W, H), children=[pager])


def tosc_xml() -> str:
    out = ["<?xml version='1.0' encoding='UTF-8'?>", "<lexml version='6'>"]
    _node_xml(touchosc_layout(), "", out)
    out.append("</lexml>")
    return "\n".join(out) + "\n"


def tosc_bytes() -> bytes:
    return zlib.compress(tosc_xml().encode(), 9)


# ============================================================================ files


def generate() -> dict[str, bytes]:
    """Every generated file: path relative to the repo root -> content."""
    return {
        f"{MAX_DIR}/mrtd-control.maxpat": _maxpat_bytes(max_control()),
        f"{MAX_DIR}/mrtd-notes.maxpat": _maxpat_bytes(max_notes()),
        f"{MAX_DIR}/mrtd.send.maxpat": _maxpat_bytes(max_send()),
        f"{TOSC_DIR}/mrtd.tosc": tosc_bytes(),
    }


def write(root: Path | str = ".") -> list[Path]:
    root = Path(root)
    written = []
    for rel, data in generate().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
        written.append(path)
    return written


def check(root: Path | str = ".") -> str | None:
    """None when the files under ``root`` are what a fresh generation gives, else what differs."""
    root = Path(root)
    stale = [rel for rel, data in generate().items()
             if not (root / rel).exists() or (root / rel).read_bytes() != data]
    if stale:
        return f"out of date: {', '.join(stale)}; regenerate with `{REGENERATE}` (from the repo root)"
    return None


def main(argv: list[str] | None = None) -> int:
    """``python -m mrtd.devtools.clients`` writes the patches and the layout; ``--check``
    exits 1 when the committed ones are stale."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m mrtd.devtools.clients", description=main.__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the files differ from a fresh generation")
    parser.add_argument("--root", default=".", help="the repo root to write under (default: the current directory)")
    args = parser.parse_args(argv)
    if args.check:
        problem = check(args.root)
        if problem:
            print(problem, file=sys.stderr)
            return 1
        return 0
    for path in write(args.root):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

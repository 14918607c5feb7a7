"""The generated clients (Max patches, TouchOSC layout) speak exactly the schema.

Structure: every ``.maxpat`` is sound JSON (unique ids, patchlines within the boxes'
inlets/outlets, udpsend/udpreceive with their arguments, subpatchers too); the ``.tosc``
is zlib'd XML whose OSC paths and argument ranges are the schema's. Then **replay**:
a small interpreter of the Max objects used, and TouchOSC's argument scaling, derive
the concrete messages each control sends (a fader's ends and middle, toggles 0/1,
buttons 1 then 0, keys on then off); liblo's ``oscsend`` sends them to a real
in-process daemon, which must take every one (no ``/mrtd/error``) and change state
(or apply the event) as intended.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.inproc import LOCAL, Daemon, errors_in, exchange, running_daemon, same
from support.liblo import OscDump, oscsend

from mrtd.controls.state import NO_MUSICCOCA
from mrtd.devtools import clients
from mrtd.osc_schema import NAMESPACE, SchemaError

ROOT = Path(__file__).resolve().parents[2]
MAXPATS = sorted((ROOT / clients.MAX_DIR).glob("*.maxpat"))
TOSC = ROOT / clients.TOSC_DIR / "mrtd.tosc"

Message = tuple[str, str, tuple]  # address, OSC type tags, values


# --------------------------------------------------------------------------- freshness


def test_committed_files_are_a_fresh_generation():
    assert {p.name for p in MAXPATS} == {"mrtd-control.maxpat", "mrtd-notes.maxpat", "mrtd.send.maxpat"}
    assert clients.check(ROOT) is None
    assert clients.generate() == clients.generate()  # deterministic within a process


def test_check_cli_says_how_to_regenerate(tmp_path):
    cmd = [sys.executable, "-m", "mrtd.devtools.clients", "--root", str(tmp_path)]
    assert subprocess.run(cmd, capture_output=True, text=True, timeout=60).returncode == 0
    ok = subprocess.run(cmd + ["--check"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    (tmp_path / "touchosc" / "mrtd.tosc").write_bytes(b"stale")
    bad = subprocess.run(cmd + ["--check"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1
    assert "touchosc/mrtd.tosc" in bad.stderr and "python -m mrtd.devtools.clients" in bad.stderr
    # a fresh generation in another process (another hash seed) is byte-identical
    (tmp_path / "touchosc" / "mrtd.tosc").write_bytes(clients.generate()["touchosc/mrtd.tosc"])
    for rel, data in clients.generate().items():
        assert (tmp_path / rel).read_bytes() == data, rel


# --------------------------------------------------------------------------- Max: structure


def _patchers(patcher: dict, where: str = "") -> Iterator[tuple[str, dict]]:
    yield where or "top", patcher
    for b in patcher["boxes"]:
        sub = b["box"].get("patcher")
        if sub is not None:
            yield from _patchers(sub, f"{where}/{b['box'].get('text', b['box']['id'])}")


def maxpat_problems(doc: dict) -> list[str]:
    problems: list[str] = []
    for where, pt in _patchers(doc["patcher"]):
        boxes: dict[str, dict] = {}
        for b in pt["boxes"]:
            box = b["box"]
            for key in ("id", "maxclass", "numinlets", "numoutlets", "patching_rect"):
                if key not in box:
                    problems.append(f"{where}: box without {key}: {box}")
            if box["id"] in boxes:
                problems.append(f"{where}: duplicate id {box['id']}")
            boxes[box["id"]] = box
            if box["numoutlets"] and len(box.get("outlettype", [])) != box["numoutlets"]:
                problems.append(f"{where}: {box['id']} outlettype does not match numoutlets")
            words = str(box.get("text", "")).split()
            if box["maxclass"] == "newobj" and words[:1] == ["udpsend"]:
                if len(words) != 3 or not words[2].isdigit():
                    problems.append(f"{where}: udpsend needs host and port: {box['text']}")
            if box["maxclass"] == "newobj" and words[:1] == ["udpreceive"]:
                if len(words) < 2 or not words[1].isdigit():
                    problems.append(f"{where}: udpreceive needs a port: {box['text']}")
        for line in pt["lines"]:
            (src, out), (dst, inl) = line["patchline"]["source"], line["patchline"]["destination"]
            if src not in boxes or dst not in boxes:
                problems.append(f"{where}: patchline between missing boxes {src} -> {dst}")
                continue
            if not 0 <= out < boxes[src]["numoutlets"]:
                problems.append(f"{where}: {src} outlet {out} >= numoutlets {boxes[src]['numoutlets']}")
            if not 0 <= inl < boxes[dst]["numinlets"]:
                problems.append(f"{where}: {dst} inlet {inl} >= numinlets {boxes[dst]['numinlets']}")
    return problems


@pytest.mark.parametrize("path", MAXPATS, ids=lambda p: p.name)
def test_maxpat_is_sound(path):
    doc = json.loads(path.read_text())
    assert maxpat_problems(doc) == []
    texts = [b["box"].get("text", "") for _, pt in _patchers(doc["patcher"]) for b in pt["boxes"]]
    assert any(t.startswith("udpsend 127.0.0.1 9000") for t in texts)
    for t in texts:  # every address a box names is in the schema
        for addr in re.findall(r"/mrtd/[\w/]+", t):
            assert addr in NAMESPACE, (path.name, t)


def test_maxpat_validator_catches_breakage():
    doc = json.loads((ROOT / clients.MAX_DIR / "mrtd-control.maxpat").read_text())
    sub = next(b["box"]["patcher"] for b in doc["patcher"]["boxes"] if "patcher" in b["box"])
    sub["lines"][0]["patchline"]["destination"][1] = 7
    doc["patcher"]["boxes"][-1]["box"]["id"] = "obj-1"
    for b in doc["patcher"]["boxes"]:
        if b["box"].get("text", "").startswith("udpsend"):
            b["box"]["text"] = "udpsend 9000"
    found = " ".join(maxpat_problems(doc))
    assert "inlet 7" in found and "duplicate id obj-1" in found and "udpsend needs host" in found


def test_maxpat_py2max_lint_has_no_errors():
    py2max = pytest.importorskip("py2max")
    for path in MAXPATS:
        errors = [f for f in py2max.lint(py2max.Patcher.from_file(str(path))) if f.severity == "error"]
        assert errors == [], (path.name, errors)


# --------------------------------------------------------------------------- Max: replay


def _atom(s: str) -> Any:
    try:
        return int(s)
    except ValueError:
        try:
            return float(s)
        except ValueError:
            return s


class MaxSim:
    """Just enough of Max's message passing for the objects the generator uses."""

    def __init__(self, doc: dict):
        self.boxes: dict[tuple[int, str], dict] = {}
        self.lines: dict[tuple[tuple[int, str], int], list[tuple[tuple[int, str], int]]] = {}
        self.store: dict[tuple[int, str], list] = {}
        self.sent: list[list] = []
        for n, (_, pt) in enumerate(_patchers(doc["patcher"])):
            for b in pt["boxes"]:
                self.boxes[(n, b["box"]["id"])] = b["box"]
            for line in pt["lines"]:
                (src, out), (dst, inl) = line["patchline"]["source"], line["patchline"]["destination"]
                self.lines.setdefault(((n, src), out), []).append(((n, dst), inl))

    def emit(self, key: tuple[int, str], outlet: int, msg: list) -> None:
        for dst, inl in self.lines.get((key, outlet), []):
            self.receive(dst, inl, msg)

    def receive(self, key: tuple[int, str], inlet: int, msg: list) -> None:
        box = self.boxes[key]
        cls = box["maxclass"]
        if cls != "newobj":
            if msg[:1] == ["set"]:
                return  # feedback display: no output
            if cls == "message" and msg == ["bang"]:
                msg = [_atom(a) for a in box["text"].split()]
            self.emit(key, 0, msg)
            return
        name, *args = box["text"].split()
        if name == "prepend":
            self.emit(key, 0, [_atom(a) for a in args] + msg)
        elif name == "s":
            for other, b in self.boxes.items():
                if b["maxclass"] == "newobj" and b["text"] == f"r {args[0]}":
                    self.emit(other, 0, msg)
        elif name == "metro":
            if inlet == 0 and msg != [0]:
                self.emit(key, 0, ["bang"])  # its first tick
        elif name == "udpsend":
            self.sent.append(msg)
        elif name == "route":
            outlet = args.index(msg[0]) if msg and msg[0] in args else len(args)
            self.emit(key, outlet, msg[1:] if outlet < len(args) else msg)
        elif name == "tosymbol":
            self.emit(key, 0, [" ".join(str(a) for a in msg)])
        elif name == "pack":
            stored = self.store.setdefault(key, [_atom(a) for a in args])
            if inlet > 0:
                stored[inlet] = msg[0]
                return
            if msg != ["bang"]:
                stored[: len(msg)] = msg
            self.emit(key, 0, list(stored))
        elif name == "t":
            for i in reversed(range(len(args))):
                self.emit(key, i, ["bang"] if args[i] == "b" else [int(msg[0])])
        elif name == "if":
            assert box["text"] == "if $i2 == 0 then $i1 else out2 $i1 $i2", box["text"]
            if inlet == 0:
                p, v = msg
                self.emit(key, 0, [p]) if v == 0 else self.emit(key, 1, [p, v])
        else:
            raise AssertionError(f"MaxSim does not know {box['text']}")

    def stimuli(self, key: tuple[int, str]) -> list[list]:
        """What a player does with a box: each entry is one output from its outlet 0
        (or, for note sources, [pitch, velocity])."""
        b = self.boxes[key]
        cls = b["maxclass"]
        if cls == "flonum" and "minimum" in b:
            lo, hi = b["minimum"], b["maximum"]
            return [[float(lo)], [float(lo + hi) / 2], [float(hi)]]
        if cls == "number" and "minimum" in b:
            return [[int(b["minimum"])], [int(b["maximum"])]]
        if cls == "slider":
            lo, size = b.get("min", 0.0), b.get("size", 128.0)
            return [[float(lo)], [float(lo + size / 2)], [float(lo + size)]]
        if cls == "toggle":
            return [[1], [0]]
        if cls == "umenu":
            return [[i] for i in range(len([x for x in b["items"] if x != ","]))]
        if cls == "textedit":
            return [["text", "disco", "funk"]]
        if cls == "message" and b["text"].startswith("/"):
            return [[_atom(a) for a in b["text"].split()]]
        if cls in ("kslider",) or b.get("text") == "notein":
            return [[60, 100], [60, 0]]
        return []

    def play(self) -> list[list]:
        for key in sorted(self.boxes, key=lambda k: (k[0], int(k[1].split("-")[1]))):
            for stim in self.stimuli(key):
                if len(stim) == 2 and (self.boxes[key]["maxclass"] == "kslider" or self.boxes[key].get("text") == "notein"):
                    self.emit(key, 1, [stim[1]])  # right to left: velocity first
                    self.emit(key, 0, [stim[0]])
                else:
                    self.emit(key, 0, stim)
        return self.sent


def _typed(msg: list) -> Message:
    address, *values = msg
    types = "".join("f" if isinstance(v, float) else "i" if isinstance(v, int) else "s" for v in values)
    return address, types, tuple(values)


def max_messages(path: Path) -> list[Message]:
    return [_typed(m) for m in MaxSim(json.loads(path.read_text())).play()]


def test_max_replay_covers_the_controls():
    control = max_messages(ROOT / clients.MAX_DIR / "mrtd-control.maxpat")
    addresses = {a for a, _, _ in control}
    for n in range(1, 9):
        assert {f"/mrtd/prompt/{n}/text", f"/mrtd/prompt/{n}/weight", f"/mrtd/prompt/{n}/clear"} <= addresses
    assert {"/mrtd/guidance/style", "/mrtd/guidance/notes", "/mrtd/guidance/drums", "/mrtd/temperature",
            "/mrtd/topk", "/mrtd/drums", "/mrtd/reset", "/mrtd/volume", "/mrtd/subscribe",
            "/mrtd/fx/reverb/on", "/mrtd/fx/filter/mode", "/mrtd/fx/delay/mix"} <= addresses
    assert ("/mrtd/prompt/1/weight", "f", (1.0,)) in control  # the slider's top end
    assert ("/mrtd/topk", "i", (1024,)) in control
    notes = max_messages(ROOT / clients.MAX_DIR / "mrtd-notes.maxpat")
    assert ("/mrtd/note/on", "ii", (60, 100)) in notes and ("/mrtd/note/off", "i", (60,)) in notes
    assert ("/mrtd/notes/pitch", "ii", (127, -1)) in notes and ("/mrtd/notes/pitch", "ii", (127, 3)) in notes
    assert max_messages(ROOT / clients.MAX_DIR / "mrtd.send.maxpat") == []  # it only forwards


# --------------------------------------------------------------------------- TouchOSC


def tosc_root() -> ET.Element:
    data = TOSC.read_bytes()
    assert data[:2] == b"\x78\xda" or data[:2] == b"\x78\x9c"
    root = ET.fromstring(zlib.decompress(data))
    assert root.tag == "lexml"
    return root


def _props(node: ET.Element) -> dict[str, str]:
    out = {}
    for p in node.findall("./properties/property"):
        v = p.find("value")
        out[p.findtext("key")] = v.text if v is not None and len(v) == 0 else v  # type: ignore[assignment]
    return out


def tosc_osc(root: ET.Element) -> Iterator[tuple[ET.Element, ET.Element]]:
    for node in root.iter("node"):
        for osc in node.findall("./messages/osc"):
            yield node, osc


def _partials(osc: ET.Element) -> list[dict[str, str]]:
    return [{c.tag: (c.text or "") for c in p} for p in osc.findall("./arguments/partial")]


def test_tosc_is_sound():
    root = tosc_root()
    ids = [n.get("ID") for n in root.iter("node")]
    assert len(ids) == len(set(ids))
    pages = root.find(".//node[@type='PAGER']/children")
    assert [_props(n)["name"] for n in pages] == ["mix", "notes", "effects", "status"]  # type: ignore[union-attr]
    n_send = 0
    for node, osc in tosc_osc(root):
        path = "".join(p.findtext("value") or "" for p in osc.findall("./path/partial"))
        param = NAMESPACE.get(path)
        assert param is not None, path
        send, receive = osc.findtext("send") == "1", osc.findtext("receive") == "1"
        if send:
            n_send += 1
            assert param.access != "r", path
        if receive:
            assert param.access in ("rw", "r"), path
        for i, part in enumerate(_partials(osc)):
            if part["type"] == "VALUE" and part["value"] == "x" and send and param.args:
                spec = param.args[i]
                lo, hi = float(part["scaleMin"]), float(part["scaleMax"])
                if spec.kind in ("float", "int"):
                    assert (lo, hi) == (spec.min, spec.max), path  # the full schema range
                else:
                    assert spec.kind == "bool" and (lo, hi) == (0, 1), path
    assert n_send > 100


def test_tosc_py2tosc_validates(capsys):
    pytest.importorskip("py2tosc")
    from py2tosc import cli

    assert cli.main(["validate", str(TOSC)]) in (0, None)
    assert "clean" in capsys.readouterr().out


def _convert(conv: str, v: Any) -> Any:
    if conv == "INTEGER":
        return int(round(float(v)))
    if conv == "FLOAT":
        return float(v)
    if conv == "BOOLEAN":
        return int(bool(float(v)))
    return str(v)


def tosc_messages() -> list[Message]:
    """What each control sends: faders at 0, 0.5, 1; buttons pressed then released
    (toggles: on then off); every message whose trigger fires, scaled as TouchOSC does."""
    out: list[Message] = []
    for node in tosc_root().iter("node"):
        sends = [o for o in node.findall("./messages/osc") if o.findtext("send") == "1"]
        if not sends:
            continue
        kind = node.get("type")
        if kind == "FADER":
            steps = [(0.0, "ANY"), (0.5, "ANY"), (1.0, "ANY")]
        elif kind == "BUTTON":
            steps = [(1.0, "RISE"), (0.0, "FALL")]
        else:
            raise AssertionError(kind)
        for x, edge in steps:
            for osc in sends:
                if osc.findtext("./triggers/trigger/condition") not in ("ANY", edge):
                    continue
                path = "".join(p.findtext("value") or "" for p in osc.findall("./path/partial"))
                values = []
                for part in _partials(osc):
                    if part["type"] == "CONSTANT":
                        values.append(_convert(part["conversion"], part["value"]))
                    else:
                        lo, hi = float(part["scaleMin"]), float(part["scaleMax"])
                        values.append(_convert(part["conversion"], lo + x * (hi - lo)))
                out.append(_typed([path, *values]))
    return out


def test_tosc_replay_covers_the_controls():
    msgs = tosc_messages()
    assert ("/mrtd/volume", "f", (-60.0,)) in msgs and ("/mrtd/volume", "f", (12.0,)) in msgs
    assert ("/mrtd/reset", "f", (1.0,)) in msgs and ("/mrtd/reset", "f", (0.0,)) in msgs
    assert ("/mrtd/mute", "i", (1,)) in msgs and ("/mrtd/mute", "i", (0,)) in msgs
    assert ("/mrtd/note/on", "i", (60,)) in msgs and ("/mrtd/note/off", "i", (60,)) in msgs
    assert ("/mrtd/drums", "s", ("off",)) in msgs and ("/mrtd/topk", "i", (1024,)) in msgs
    assert {a for a, _, _ in msgs} >= {f"/mrtd/fx/{n}/on" for n in ("filter", "reverb", "delay", "limiter")}


# --------------------------------------------------------------------------- against the daemon


def _expected(address: str, values: tuple) -> tuple | None:
    """What the daemon should apply for a message (None: a button release, ignored)."""
    param = NAMESPACE[address]
    assert param.access != "r", address
    if param.access == "event" and not param.args and not param.alt_args and len(values) == 1:
        return None if values[0] == 0 else ()
    return NAMESPACE.check(address, list(values))


def test_every_client_message_fits_the_schema():
    for path in MAXPATS:
        for address, _, values in max_messages(path):
            try:
                _expected(address, values)
            except SchemaError as e:
                pytest.fail(f"{path.name}: {address} {values}: {e}")
    for address, _, values in tosc_messages():
        _expected(address, values)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    with running_daemon(tmp_path_factory.mktemp("clients")) as d:
        yield d


def _replay(daemon: Daemon, dump: OscDump, msgs: list[Message], what: str) -> None:
    refused = {m for m in msgs if re.fullmatch(r"/mrtd/prompt/\d/text", m[0]) and m[2] != ("",)}
    expect: dict[str, list[tuple]] = {}
    for address, _, values in msgs:
        if (address, _, values) in refused or address in LOCAL:
            continue
        want = _expected(address, values)
        if want is not None:
            expect.setdefault(address, []).append(want)
    n0 = len(daemon.changes)

    def send_all() -> None:
        for address, types, values in msgs:
            oscsend(daemon.port, address, types, *values)

    got = exchange(daemon, dump, send_all, timeout=30)
    errors = errors_in(got)
    allowed = [e for e in errors if NO_MUSICCOCA in e]
    assert len(allowed) == len(refused), (what, errors)
    assert [e for e in errors if NO_MUSICCOCA not in e] == [], (what, errors)  # range ends included

    # every state change / event arrives, in order per address
    deadline = time.monotonic() + 10
    while True:
        seen: dict[str, list[tuple]] = {}
        for _, a, v in daemon.changes[n0:]:
            seen.setdefault(a, []).append(v)
        missing = []
        for address, wants in expect.items():
            it = iter(seen.get(address, []))
            for w in wants:
                if not any(same(g, w) for g in it):
                    missing.append((address, w))
                    break
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert missing == [], (what, missing[:10])
    for address, wants in expect.items():  # and the state ends where the last control left it
        cleared = address.replace("/weight", "/clear") in expect  # a clear button parks the slot
        if NAMESPACE[address].access == "rw" and not cleared:
            assert same(daemon.hub.value(address) or (), wants[-1]), (what, address)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("client", ["mrtd-control.maxpat", "mrtd-notes.maxpat", "mrtd.tosc"])
def test_replay_into_the_daemon(daemon, dump, client):
    msgs = tosc_messages() if client.endswith(".tosc") else max_messages(ROOT / clients.MAX_DIR / client)
    assert msgs
    try:
        _replay(daemon, dump, msgs, client)
    finally:
        for n in range(1, 9):  # empty the slots, then every setting back to its default
            daemon.hub.handle(f"/mrtd/prompt/{n}/clear", ())
        for n in range(1, 9):
            daemon.wait_value(f"/mrtd/prompt/{n}/status", ("empty",))
        daemon.restore_defaults()

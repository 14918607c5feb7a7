"""Controls are derived from the schema: every plain control's default, setter, getter,
bank entry and feedback come from its ``Param`` (``field``, ``role``, ``echoes``), so a
new numeric control is one entry in mrtd/osc_schema/namespace.py."""

from __future__ import annotations

import subprocess
import sys

from mrtd.controls.state import BANKED, FIELDS, Controls
from mrtd.osc_schema import NAMESPACE


def test_every_plain_control_starts_at_its_default_and_reads_back():
    c = Controls()
    for address, field in FIELDS.items():
        assert c.value(address) == NAMESPACE[address].default, address


def test_every_plain_control_sets_and_survives_a_bank():
    c = Controls()
    changed = {}
    for address in FIELDS:
        p = NAMESPACE[address]
        a = p.args[0]
        if a.kind in ("float", "int"):
            v = a.max if p.default[0] != a.max else a.min
            v = float(v) if a.kind == "float" else int(v)
        elif a.kind == "bool":
            v = not p.default[0]
        else:
            v = next(x for x in a.choices if x != p.default[0])
        c.apply(address, p.validate([v]))
        changed[address] = c.value(address)
        assert changed[address] != p.default, address
    restored = Controls()
    restored.load_json(c.to_json())
    for address in FIELDS:
        if NAMESPACE[address].banked:
            assert restored.value(address) == changed[address], address
        else:  # output settings (volume, latency, pause...) are not part of a bank
            assert restored.value(address) == NAMESPACE[address].default, address
    assert set(BANKED) >= {"temperature", "top_k", "guidance", "seed"}


def test_a_new_numeric_control_is_one_schema_entry():
    """Add /mrtd/shimmer to the schema alone (in a fresh interpreter), and the engine,
    the hub, OSC reads, feedback and banks all know it."""
    code = r'''
import mrtd.osc_schema.namespace as ns
from mrtd.osc_schema.schema import Arg, Namespace

ns.add("/shimmer", (Arg("amount", "float", 0.0, 1.0),), "rw", "How much shimmer.", "sampling",
       default=(0.25,), field="shimmer")
ns.NAMESPACE = Namespace(ns._PARAMS)
import mrtd.osc_schema
mrtd.osc_schema.NAMESPACE = ns.NAMESPACE

import tempfile
from pathlib import Path
from mrtd.engine.demo import build_random_demo
from mrtd.engine.engine import Engine
from mrtd.remote.hub import Hub

with tempfile.TemporaryDirectory() as tmp:
    e = Engine(*build_random_demo(), bank_dir=Path(tmp))
    hub = Hub(e)
    told = []
    hub.add_listener(lambda a, v: told.append((a, v)))
    assert hub.value("/mrtd/shimmer") == (0.25,)
    hub.handle("/mrtd/shimmer", [0.75])
    e.step_frame()
    assert hub.value("/mrtd/shimmer") == (0.75,), hub.value("/mrtd/shimmer")
    assert ("/mrtd/shimmer", (0.75,)) in told
    e.save_bank(1)
    hub.handle("/mrtd/shimmer", [0.5])
    e.step_frame()
    e.load_bank(1)
    assert hub.value("/mrtd/shimmer") == (0.75,)
    try:
        hub.handle("/mrtd/shimmer", [2.0])
    except Exception as err:
        assert "out of range" in str(err)
    else:
        raise AssertionError("2.0 accepted")
print("ok")
'''
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stderr[-3000:]

"""The OSC schema: every address well-formed, defaults valid, bad values refused with a reason."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from mrtd.osc_schema import NAMESPACE, SchemaError


def test_every_address_is_well_formed_and_unique():
    addresses = [p.address for p in NAMESPACE]
    assert len(addresses) == len(set(addresses))
    for p in NAMESPACE:
        assert p.address.startswith("/mrtd/") and " " not in p.address and "#" not in p.address
        assert p.doc.strip().endswith((".", ")")), p.address
        assert p.access in ("rw", "r", "w", "event")


def test_every_default_passes_its_own_validation():
    for p in NAMESPACE:
        if p.default is not None:
            assert p.validate(p.default) == tuple(p.default), p.address
        if p.access == "rw":
            assert p.default is not None, f"{p.address} is readable but has no default"


def test_covers_the_controls_the_engine_needs():
    need = [
        "/mrtd/prompt/1/text", "/mrtd/prompt/6/weight", "/mrtd/prompt/weights", "/mrtd/notes/frame",
        "/mrtd/notes/pitch", "/mrtd/notes/list", "/mrtd/note/on", "/mrtd/note/off", "/mrtd/drums",
        "/mrtd/guidance/style", "/mrtd/guidance/notes", "/mrtd/guidance/drums", "/mrtd/temperature",
        "/mrtd/topk", "/mrtd/seed", "/mrtd/reset", "/mrtd/pause", "/mrtd/volume", "/mrtd/mute",
        "/mrtd/latency_ms", "/mrtd/bank/save", "/mrtd/prefill/audio", "/mrtd/record/start",
        "/mrtd/fx/reverb/mix", "/mrtd/ping", "/mrtd/status", "/mrtd/subscribe",
    ]
    for a in need:
        assert a in NAMESPACE, a


@pytest.mark.parametrize(
    "address, values, expected",
    [
        ("/mrtd/topk", [40.0], (40,)),  # TouchOSC sends floats for everything
        ("/mrtd/temperature", [1], (1.0,)),  # Max sends ints for whole numbers
        ("/mrtd/mute", [True], (True,)),
        ("/mrtd/mute", [1], (True,)),
        ("/mrtd/drums", ["off"], ("off",)),
        ("/mrtd/drums", [2], ("on",)),  # enum by index
        ("/mrtd/note/on", [60], (60,)),
        ("/mrtd/note/on", [60, 0], (60, 0)),
        ("/mrtd/notes/list", [2, 60, 64, 67], (2, 60, 64, 67)),
        ("/mrtd/subscribe", ["127.0.0.1", 9001], ("127.0.0.1", 9001)),
        ("/mrtd/prompt/weights", [0.5, 0.25], (0.5, 0.25)),
    ],
)
def test_accepts_what_controllers_send(address, values, expected):
    assert NAMESPACE[address].validate(values) == expected


@pytest.mark.parametrize(
    "address, values, reason",
    [
        ("/mrtd/topk", [0], "out of range"),
        ("/mrtd/temperature", [math.nan], "not a finite number"),
        ("/mrtd/temperature", [math.inf], "not a finite number"),
        ("/mrtd/temperature", ["hot"], "expected a number"),
        ("/mrtd/mute", [0.5], "expected 0/1"),
        ("/mrtd/drums", ["loud"], "not one of"),
        ("/mrtd/drums", [3], "expected one of"),
        ("/mrtd/notes/frame", [0] * 127, "expected 128 arguments"),
        ("/mrtd/notes/pitch", [60, 4], "out of range"),
        ("/mrtd/prompt/1/tokens", [1024] + [0] * 11, "out of range"),
        ("/mrtd/prompt/1/embedding", [b"\0" * 4000], "larger than"),
        ("/mrtd/reset", [1], "expected 0 arguments"),
        ("/mrtd/guidance/style", [True], "expected a number"),
    ],
)
def test_refuses_bad_values_with_a_reason(address, values, reason):
    with pytest.raises(SchemaError, match=reason):
        NAMESPACE[address].validate(values)


def test_unknown_address_is_a_schema_error():
    with pytest.raises(SchemaError, match="unknown address"):
        NAMESPACE["/mrtd/nope"]


def test_json_export_round_trips():
    out = subprocess.run([sys.executable, "-m", "mrtd.osc_schema"], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    assert len(data["params"]) == len(NAMESPACE)
    topk = next(p for p in data["params"] if p["address"] == "/mrtd/topk")
    assert topk["args"][0] == {"name": "k", "kind": "int", "type": "i", "min": 1, "max": 1024}
    assert topk["default"] == [40]


def test_float32_rounding_at_a_range_end_is_not_out_of_range():
    import numpy as np

    low = float(np.float32(0.01))  # what a fader at the bottom of 0.01..10 sends over OSC
    assert low < 0.01
    assert NAMESPACE.check("/mrtd/fx/chorus/rate_hz", [low]) == (0.01,)
    with pytest.raises(SchemaError, match="out of range"):
        NAMESPACE.check("/mrtd/fx/chorus/rate_hz", [0.0099])

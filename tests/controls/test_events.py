"""Event files: JSON lines of frame-stamped OSC messages, validated against the schema."""

from __future__ import annotations

import pytest

from mrtd.controls.events import Event, EventWriter, parse_event, read_events
from mrtd.errors import UserError


def test_round_trip_keeps_order_and_types(tmp_path):
    path = tmp_path / "take.jsonl"
    events = [
        Event(0, "/mrtd/temperature", (1.1,)),
        Event(3, "/mrtd/note/on", (60,)),
        Event(3, "/mrtd/note/off", (60,)),
        Event(7, "/mrtd/prompt/1/embedding", (b"\x00\x01" * 1536,)),
        Event(9, "/mrtd/drums", ("off",)),
    ]
    with EventWriter(path) as w:
        w.write(events)
    assert read_events(path) == events


def test_sorted_by_frame_and_stable_within_a_frame(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_text(
        '{"frame": 5, "address": "/mrtd/note/on", "args": [60]}\n'
        "# comments and blank lines are skipped\n\n"
        '{"frame": 2, "address": "/mrtd/topk", "args": [10.0]}\n'
        '{"frame": 5, "address": "/mrtd/note/off", "args": [60]}\n'
    )
    ev = read_events(path)
    assert [(e.frame, e.address) for e in ev] == [(2, "/mrtd/topk"), (5, "/mrtd/note/on"), (5, "/mrtd/note/off")]
    assert ev[0].args == (10,)  # coerced by the schema


@pytest.mark.parametrize(
    "line, reason",
    [
        ("not json", "not JSON"),
        ('{"frame": -1, "address": "/mrtd/reset", "args": []}', "frame must be"),
        ('{"frame": 1, "address": "/mrtd/nope", "args": []}', "unknown address"),
        ('{"frame": 1, "address": "/mrtd/topk", "args": [0]}', "out of range"),
        ('{"frame": 1, "address": "/mrtd/meters", "args": []}', "read-only"),
        ('{"frame": 1, "address": "/mrtd/reset", "args": 3}', "args must be a list"),
    ],
)
def test_bad_lines_name_the_line_and_the_problem(line, reason):
    with pytest.raises(UserError, match=reason) as e:
        parse_event(line, "take.jsonl:4")
    assert str(e.value).startswith("take.jsonl:4")


def test_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="cannot read event file"):
        read_events(tmp_path / "missing.jsonl")


def test_a_full_disk_stops_the_log_and_says_so_once(tmp_path):
    """/dev/full answers every write with ENOSPC: the writer stops, reports once, never raises."""
    import os

    told: list[str] = []
    w = EventWriter(tmp_path / "take.jsonl", fd=os.open("/dev/full", os.O_WRONLY))
    w.on_error = told.append
    w.write([Event(1, "/mrtd/temperature", (1.0,))])
    w.write([Event(2, "/mrtd/temperature", (1.1,))])
    assert len(told) == 1 and "take.jsonl stopped" in told[0] and "space" in told[0].lower()
    w.close()

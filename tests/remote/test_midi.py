"""MIDI bytes → controls: the mapping a keyboard player expects, and the CC table."""

from __future__ import annotations

import math

import pytest

from mrtd.audio.rings import MidiRing
from mrtd.errors import UserError
from mrtd.osc_schema import NAMESPACE
from mrtd.remote.midi import CCMap, translate

NONE = CCMap()


def t(*b: int, channel: int = 0, ccmap: CCMap = NONE):
    return translate(bytes(b), channel, ccmap)


def test_notes_sustain_and_panic():
    assert t(0x90, 60, 100) == [("/mrtd/note/on", (60, 100))]
    assert t(0x90, 60, 0) == [("/mrtd/note/off", (60,))]  # running-status style note off
    assert t(0x83, 61, 40) == [("/mrtd/note/off", (61,))]
    assert t(0xB0, 64, 127) == [("/mrtd/notes/sustain", (True,))]
    assert t(0xB0, 64, 10) == [("/mrtd/notes/sustain", (False,))]
    assert t(0xB0, 123, 0) == t(0xB0, 120, 0) == [("/mrtd/notes/all_off", ())]


def test_channel_ten_is_drums_and_the_filter_applies_to_the_rest():
    assert t(0x99, 36, 90) == [("/mrtd/drums/hit", ())]
    assert t(0x99, 36, 90, channel=3) == [("/mrtd/drums/hit", ())]
    assert t(0x99, 36, 0) == [] and t(0x89, 36, 0) == []
    assert t(0x92, 60, 100, channel=3) == [("/mrtd/note/on", (60, 100))]  # status 0x92 = channel 3
    assert t(0x91, 60, 100, channel=3) == []
    assert t(0xB1, 64, 127, channel=3) == []


def test_ignored_messages():
    assert t(0xF8) == [] and t(0xFE) == [] and t(0xE0, 0, 64) == [] and t(0xC0, 5) == []
    assert t(0xB0, 74, 64) == []  # unmapped controller


def test_cc_map_spreads_over_the_control_range():
    m = CCMap({"74": "/mrtd/fx/filter/cutoff_hz", 1: "/mrtd/temperature", "20": "/mrtd/fx/reverb/on",
               "21": "/mrtd/drums", "22": "/mrtd/topk"})
    (addr, (hz,)), = t(0xB0, 74, 0, ccmap=m)
    assert addr == "/mrtd/fx/filter/cutoff_hz" and hz == pytest.approx(20.0)
    assert t(0xB0, 74, 127, ccmap=m)[0][1][0] == pytest.approx(20000.0)
    mid = t(0xB0, 74, 64, ccmap=m)[0][1][0]
    assert mid == pytest.approx(20 * math.exp(64 / 127 * math.log(1000)))  # logarithmic for Hz
    assert t(0xB0, 1, 127, ccmap=m) == [("/mrtd/temperature", (4.0,))]
    assert t(0xB0, 1, 0, ccmap=m) == [("/mrtd/temperature", (0.0,))]
    assert t(0xB0, 20, 100, ccmap=m) == [("/mrtd/fx/reverb/on", (True,))]
    assert t(0xB0, 21, 127, ccmap=m) == [("/mrtd/drums", ("on",))]
    assert t(0xB0, 22, 127, ccmap=m) == [("/mrtd/topk", (1024,))]
    for cc in (1, 20, 21, 22, 74):  # every mapped value passes the schema
        for v in (0, 1, 63, 64, 126, 127):
            (address, args), = t(0xB0, cc, v, ccmap=m)
            NAMESPACE.check(address, list(args))


@pytest.mark.parametrize("table,match", [
    ({"x": "/mrtd/temperature"}, "not a controller number"),
    ({"128": "/mrtd/temperature"}, "out of 0..127"),
    ({"64": "/mrtd/temperature"}, "reserved"),
    ({"1": "/mrtd/nope"}, "not a single-value control"),
    ({"1": "/mrtd/notes/frame"}, "not a single-value control"),
    ({"1": "/mrtd/prompt/1/text"}, "takes a string"),
    ({"1": "/mrtd/style/tokens"}, "not a single-value control"),
])
def test_bad_cc_tables_name_the_problem(table, match):
    with pytest.raises(UserError, match=match):
        CCMap(table)


def test_midi_ring_keeps_order_and_counts_overflow():
    r = MidiRing(capacity=4)
    for i in range(6):
        r.write(100 + i, bytes([0x90, 60 + i, 1]))
    r.write(0, bytes(range(8)))  # sysex-sized: ignored
    assert r.dropped == 2
    assert [r.pop() for _ in range(5)] == [(100 + i, bytes([0x90, 60 + i, 1])) for i in range(4)] + [None]


def test_malformed_messages_are_dropped_whole():
    assert t(0x90, 60) == [] and t(0x80, 61) == []  # a data byte short
    assert t(0x90, 200, 100) == [] and t(0xB0, 64, 128) == []  # data bytes above 127
    assert t(0x90, 60, 100, 5) == []  # one byte too many
    assert t() == [] and t(0x3C, 0x64) == []  # empty; data bytes without a status


def test_parsed_messages_map_like_bytes():
    """A mido.Message (as read from a MIDI file) maps as its bytes do."""
    import mido

    for raw in ((0x90, 60, 100), (0x92, 61, 0), (0x99, 36, 90), (0xB0, 64, 100), (0xB0, 123, 0), (0xC0, 5)):
        assert translate(mido.Message.from_bytes(list(raw)), 0, NONE) == t(*raw)
    assert translate(mido.Message("note_on", channel=2, note=62, velocity=9), 3, NONE) == \
        [("/mrtd/note/on", (62, 9))]

"""The rings: the one wrap-around copy, the SPSC audio ring built on it, and the input
capture giving back as much as /mrtd/prefill/input may ask for (28 s)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from mrtd.audio.jack_host import CAPTURE_S
from mrtd.audio.rings import AudioRing, MidiRing, pow2_at_least, ring_read, ring_write
from mrtd.constants import SAMPLE_RATE


def counter(start: int, n: int, channels: int = 2) -> np.ndarray:
    """Rows start..start+n-1, channel c holding -row for c odd (so channels cannot swap)."""
    rows = np.arange(start, start + n, dtype=np.float32)
    return np.stack([rows if c % 2 == 0 else -rows for c in range(channels)], 1)


@pytest.mark.parametrize("pos", [0, 3, 5, 7, 8, 13, 8 * 1000 + 6])
@pytest.mark.parametrize("n", [0, 1, 2, 3, 8])
def test_ring_write_then_read_round_trips_across_the_end(pos, n):
    buf = np.full((8, 2), np.nan, np.float32)
    block = counter(100, n)
    ring_write(buf, pos, block)
    for i in range(n):  # each row landed at (pos + i) mod 8: wrapped past the end to row 0
        assert np.array_equal(buf[(pos + i) % 8], block[i])
    untouched = [r for r in range(8) if all((pos + i) % 8 != r for i in range(n))]
    assert np.isnan(buf[untouched]).all()
    out = np.zeros((n, 2), np.float32)
    ring_read(buf, pos, out)
    assert np.array_equal(out, block)


def test_ring_helpers_take_a_transposed_view():
    """The effects' delay line is [channel, time]; it writes through ``buf.T``."""
    line = np.zeros((2, 8), np.float32)
    ring_write(line.T, 6, counter(1, 4))
    assert line[0].tolist() == [3, 4, 0, 0, 0, 0, 1, 2]
    assert line[1].tolist() == [-3, -4, 0, 0, 0, 0, -1, -2]


def test_ring_helpers_allocate_no_sample_buffers():
    """Both copy straight between the arrays they are given (the JACK callback calls them):
    no temporary the size of the block appears, only numpy's small view objects."""
    buf = np.zeros((8192, 2), np.float32)
    block = counter(0, 4096)  # 32 KiB: a temporary copy of it would show
    out = np.zeros_like(block)
    ring_write(buf, 6000, block)  # warm up
    ring_read(buf, 6000, out)
    tracemalloc.start()
    try:
        for pos in (6000, 7000, 0, 100):
            ring_write(buf, pos, block)
            ring_read(buf, pos, out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4096
    assert np.array_equal(out, block)


def test_pow2_at_least():
    assert [pow2_at_least(n) for n in (1, 2, 3, 4, 5, 1000, 1024, 1025)] == [1, 2, 4, 4, 8, 1024, 1024, 2048]


def test_audio_ring_streams_in_order_and_counts_what_it_drops():
    ring = AudioRing(64 / SAMPLE_RATE)  # 64 samples
    assert ring.capacity == 64
    got = []
    written = 0
    out = np.zeros((50, 2), np.float32)
    for step in range(40):  # uneven writes and reads walk the counters around the end many times
        n = 7 + step % 11
        ring.write(counter(written, n))
        written += n
        if step % 3:
            k = ring.read_into(out)
            got.append(out[:k].copy())
    while k := ring.read_into(out):
        got.append(out[:k].copy())
    assert ring.dropped == 0
    assert np.array_equal(np.concatenate(got), counter(0, written))


def test_a_full_audio_ring_drops_the_newest_and_counts_them():
    ring = AudioRing(16 / SAMPLE_RATE)
    ring.write(counter(0, 10))
    ring.write(counter(10, 10))  # 6 fit
    assert ring.dropped == 4 and ring.available() == 16
    out = np.zeros((32, 2), np.float32)
    assert ring.read_into(out) == 16
    assert np.array_equal(out[:16], counter(0, 16))


def test_the_capture_ring_returns_the_full_28_seconds():
    ring = AudioRing(CAPTURE_S)
    block = np.zeros((256, 2), np.float32)
    for i in range(int(CAPTURE_S * SAMPLE_RATE / 256)):  # 30 s of a counter, written as JACK would
        block[:, 0] = np.arange(i * 256, (i + 1) * 256)
        ring.write(block, overwrite=True)
    want = 28 * SAMPLE_RATE
    got = ring.last(want)
    assert got.shape == (want, 2)
    assert np.array_equal(got[:, 0], np.arange(ring.written - want, ring.written, dtype=np.float32))


def test_midi_ring_keeps_short_messages_in_order_and_drops_when_full():
    ring = MidiRing(capacity=2)
    ring.write(10, b"\x90\x3c\x64")
    ring.write(11, b"\xf0" + bytes(5))  # sysex: ignored
    ring.write(12, b"\xfe")
    ring.write(13, b"\x80\x3c\x00")  # full
    assert ring.dropped == 1
    assert ring.pop() == (10, b"\x90\x3c\x64") and ring.pop() == (12, b"\xfe") and ring.pop() is None

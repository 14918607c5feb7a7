"""The input capture ring gives back as much as /mrtd/prefill/input may ask for (28 s)."""

from __future__ import annotations

import numpy as np

from mrtd.audio.jack_host import CAPTURE_S
from mrtd.audio.rings import AudioRing


def test_the_capture_ring_returns_the_full_28_seconds():
    ring = AudioRing(CAPTURE_S)
    block = np.zeros((256, 2), np.float32)
    for i in range(int(CAPTURE_S * 48000 / 256)):  # 30 s of a counter, written as JACK would
        block[:, 0] = np.arange(i * 256, (i + 1) * 256)
        ring.write(block, overwrite=True)
    got = ring.last(28 * 48000)
    assert got.shape == (28 * 48000, 2)
    assert np.array_equal(got[:, 0], np.arange(ring.written - 28 * 48000, ring.written, dtype=np.float32))

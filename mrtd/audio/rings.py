"""Lock-free single-producer single-consumer rings for the JACK thread's side channels.

The JACK process callback may not wait on a lock another thread holds, so everything
it hands out — the output tap (recording, meters), captured input audio and MIDI
events — goes through one of these: a preallocated numpy array plus two monotonic
counters, each advanced by one side only (an int attribute store is atomic under the
GIL). The writer never blocks: when the reader falls behind, what does not fit is
dropped and counted.
"""

from __future__ import annotations

import numpy as np

from mrtd.constants import SAMPLE_RATE


class AudioRing:
    """Float32 ``[capacity, channels]`` ring: the RT thread writes, one thread reads."""

    def __init__(self, seconds: float, channels: int = 2, sample_rate: int = SAMPLE_RATE):
        n = int(seconds * sample_rate)
        self.capacity = 1 << (n - 1).bit_length()
        self._mask = self.capacity - 1
        self.buf = np.zeros((self.capacity, channels), np.float32)
        self.written = 0  # writer-owned
        self.read = 0  # reader-owned
        self.dropped = 0  # writer-owned: samples lost because the reader was behind

    def write(self, block: np.ndarray, *, overwrite: bool = False) -> None:
        """RT side: append ``[n, channels]``; with ``overwrite`` the oldest audio is
        replaced (a rolling capture), else samples that do not fit are dropped."""
        n = block.shape[0]
        if not overwrite:
            room = self.capacity - (self.written - self.read)
            if n > room:
                self.dropped += n - room
                n = room
                if n <= 0:
                    return
        start = self.written & self._mask
        first = min(n, self.capacity - start)
        self.buf[start:start + first] = block[:first]
        if first < n:
            self.buf[: n - first] = block[first:n]
        self.written += n

    def available(self) -> int:
        return self.written - self.read

    def read_into(self, out: np.ndarray) -> int:
        """Reader side: copy up to ``len(out)`` samples; returns how many."""
        n = min(out.shape[0], self.written - self.read)
        start = self.read & self._mask
        first = min(n, self.capacity - start)
        out[:first] = self.buf[start:start + first]
        if first < n:
            out[first:n] = self.buf[: n - first]
        self.read += n
        return n

    def last(self, n: int) -> np.ndarray:
        """A copy of the newest ``n`` samples (rolling capture): up to 7/8 of the capacity,
        the last eighth being the writer's room while the copy is made."""
        n = min(n, self.written, self.capacity - self.capacity // 8)
        end = self.written
        idx = np.arange(end - n, end) & self._mask
        return self.buf[idx].copy()


class MidiRing:
    """Short MIDI messages (≤ 3 bytes) stamped with an output stream sample."""

    def __init__(self, capacity: int = 4096):
        self.capacity = capacity
        self.stamp = np.zeros(capacity, np.int64)
        self.data = np.zeros((capacity, 3), np.uint8)
        self.size = np.zeros(capacity, np.uint8)
        self.written = 0
        self.read = 0
        self.dropped = 0

    def write(self, stamp: int, message) -> None:
        """RT side: one message (a buffer of 1..3 bytes; longer ones, sysex, are ignored)."""
        n = len(message)
        if n == 0 or n > 3:
            return
        if self.written - self.read >= self.capacity:
            self.dropped += 1
            return
        i = self.written % self.capacity
        self.stamp[i] = stamp
        self.data[i, :n] = np.frombuffer(message, np.uint8)
        self.size[i] = n
        self.written += 1

    def pop(self) -> tuple[int, bytes] | None:
        """Reader side: the oldest message as ``(stamp, bytes)``, or None."""
        if self.read == self.written:
            return None
        i = self.read % self.capacity
        item = int(self.stamp[i]), bytes(self.data[i, : self.size[i]])
        self.read += 1
        return item

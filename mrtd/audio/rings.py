"""Rings: the one wrap-around copy, and the lock-free rings built on it.

Every ring in mrtd — the output queue the JACK callback plays from, the callback's side
channels (output tap, input capture), the effects' delay line — is a preallocated array
indexed by a monotonic sample counter modulo its length. :func:`ring_write` and
:func:`ring_read` are the only code that splits a copy at the array's end; they copy into
existing arrays and allocate nothing but numpy's slice views, so the JACK callback may
call them.

The JACK process callback may not wait on a lock another thread holds, so everything it
hands out — the output tap (recording, meters), captured input audio and MIDI events —
goes through a single-producer single-consumer ring: a preallocated numpy array plus two
monotonic counters, each advanced by one side only (an int attribute store is atomic
under the GIL). The writer never blocks: when the reader falls behind, what does not fit
is dropped and counted.
"""

from __future__ import annotations

import numpy as np

from mrtd.constants import CHANNELS, SAMPLE_RATE


def ring_write(buf: np.ndarray, pos: int, block: np.ndarray) -> None:
    """Copy ``block`` (at most ``len(buf)`` rows) into ``buf`` from row ``pos % len(buf)``
    on, continuing at row 0 past the end. ``pos`` may be a monotonic stream counter."""
    cap = buf.shape[0]
    start = pos % cap
    n = block.shape[0]
    first = cap - start
    if n <= first:
        buf[start:start + n] = block
    else:
        buf[start:] = block[:first]
        buf[:n - first] = block[first:]


def ring_read(buf: np.ndarray, pos: int, out: np.ndarray) -> None:
    """Fill ``out`` (at most ``len(buf)`` rows) from ``buf`` starting at row
    ``pos % len(buf)``, continuing at row 0 past the end."""
    cap = buf.shape[0]
    start = pos % cap
    n = out.shape[0]
    first = cap - start
    if n <= first:
        out[:] = buf[start:start + n]
    else:
        out[:first] = buf[start:]
        out[first:] = buf[:n - first]


def pow2_at_least(n: int) -> int:
    """The smallest power of two ≥ ``n`` (ring sizes: a modulo by it is a cheap mask)."""
    return 1 << (max(int(n), 1) - 1).bit_length()


class AudioRing:
    """Float32 ``[capacity, channels]`` ring: the RT thread writes, one thread reads."""

    def __init__(self, seconds: float, channels: int = CHANNELS, sample_rate: int = SAMPLE_RATE):
        self.capacity = pow2_at_least(int(seconds * sample_rate))
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
                block = block[:n]
        ring_write(self.buf, self.written, block)
        self.written += n  # publish after the data is in place

    def available(self) -> int:
        return self.written - self.read

    def read_into(self, out: np.ndarray) -> int:
        """Reader side: copy up to ``len(out)`` samples; returns how many."""
        n = min(out.shape[0], self.written - self.read)
        ring_read(self.buf, self.read, out[:n])
        self.read += n
        return n

    def last(self, n: int) -> np.ndarray:
        """A copy of the newest ``n`` samples (rolling capture): up to 7/8 of the capacity,
        the last eighth being the writer's room while the copy is made."""
        n = min(n, self.written, self.capacity - self.capacity // 8)
        out = np.empty((n, self.buf.shape[1]), np.float32)
        ring_read(self.buf, self.written - n, out)
        return out


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

    def write(self, stamp: int, message: bytes | memoryview) -> None:
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

"""A JACK peer of the daemon under test: records its ports in freewheel and plays MIDI
into it; and the alignment of a live recording with an offline render."""

from __future__ import annotations

import time
import uuid

import jack
import numpy as np

FRAME = 1920
SR = 48000


class Peer:
    """A JACK client recording ports (only while freewheeling) and able to send MIDI."""

    def __init__(self, server: str, inputs: list[str], midi_to: str | None = None):
        self.client = jack.Client(f"peer-{uuid.uuid4().hex[:6]}", servername=server, no_start_server=True)
        self.ins = [self.client.inports.register(f"in{i}") for i in range(len(inputs))]
        self.blocks: list[np.ndarray] = []
        self.times: list[int] = []
        self.freewheel = False
        self.midi_plan: dict[int, list[tuple[int, bytes]]] = {}  # cycle (of recording) -> events
        self.sent: list[tuple[int, int]] = []  # (JACK frame time of the cycle, offset)
        self.mo = self.client.midi_outports.register("midi") if midi_to else None
        self.client.set_process_callback(self._process)
        self.client.set_freewheel_callback(self._fw)
        self.client.activate()
        for port, src in zip(self.ins, inputs):
            self.client.connect(src, port)
        if midi_to:
            self.client.connect(self.mo, midi_to)

    def _fw(self, starting: bool) -> None:
        self.freewheel = starting

    def _process(self, frames: int) -> None:
        if self.mo is not None:
            self.mo.clear_buffer()
        if not self.freewheel:
            return
        cycle = len(self.times)
        for offset, msg in self.midi_plan.get(cycle, []):
            self.mo.write_midi_event(offset, msg)
            self.sent.append((self.client.last_frame_time, offset))
        self.times.append(self.client.last_frame_time)
        if self.ins:
            self.blocks.append(np.stack([p.get_array().copy() for p in self.ins], axis=1))

    def record(self, seconds: float, timeout: float = 60) -> np.ndarray:
        """Freewheel until ``seconds`` more audio are recorded; returns everything recorded
        so far, ``[n, inputs]``. (Counted from this call, so a second call freewheels too:
        a MIDI plan for its cycles is played, not skipped.)"""
        start = sum(len(b) for b in self.blocks)
        self.client.set_freewheel(True)
        deadline = time.monotonic() + timeout
        try:
            while sum(len(b) for b in self.blocks) - start < seconds * SR:
                assert time.monotonic() < deadline, "freewheel recording timed out"
                time.sleep(0.02)
        finally:
            self.client.set_freewheel(False)
        time.sleep(0.05)
        return np.concatenate(self.blocks)

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


def align(rec: np.ndarray, ref: np.ndarray, at: int = 8192, n: int = 2048) -> int:
    """Stream offset s0 with rec[i] == ref[s0 + i] exactly (from a chunk at ``at``)."""
    chunk = rec[at:at + n, 0]
    for k in np.flatnonzero(ref[:, 0] == chunk[0]):
        if k + n <= len(ref) and np.array_equal(ref[k:k + n, 0], chunk):
            return int(k) - at
    raise AssertionError("the live recording matches no stretch of the offline render")

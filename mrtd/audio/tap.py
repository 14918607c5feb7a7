"""The output tap: meters and the WAV recorder, fed by the JACK callback's tap ring.

The JACK callback copies what it plays into a lock-free ring (:mod:`mrtd.audio.rings`);
this thread drains it, keeps peak/RMS meters over 50 ms windows, and writes the
recording when one is armed. A disk error stops the recording, never the audio.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from mrtd.constants import SAMPLE_RATE
from mrtd.errors import ControlError

log = logging.getLogger("mrtd.tap")


class Tap:
    """Drains the JACK callback's output tap: meters, and the WAV recorder when armed."""

    def __init__(self, ring, meter_window_s: float = 0.05):
        self.ring = ring
        self.window = int(meter_window_s * SAMPLE_RATE)
        self.levels = (0.0, 0.0, 0.0, 0.0)
        self._block = np.zeros((4096, 2), np.float32)
        self._acc = np.zeros((self.window, 2), np.float32)
        self._fill = 0
        self._file: Any = None
        self.path: Path | None = None
        self._lock = threading.Lock()  # recorder open/close vs the drain (not the JACK thread)
        self.on_error: Any = None  # (reason) -> None: a recording stopped by an OS error
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mrtd-tap", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2)
        self.record_stop()

    def record_start(self, fd: int, path: Path) -> Path:
        """Record from now on into the new file open on ``fd`` (the daemon made it in
        recordings/, or the operator named it); closes a recording already running."""
        import soundfile as sf

        try:
            f = sf.SoundFile(fd, "w", SAMPLE_RATE, 2, subtype="PCM_24", format="WAV", closefd=True)
        except (RuntimeError, OSError) as e:
            os.close(fd)
            raise ControlError("/mrtd/record/start", f"cannot record to {path.name}: {e}") from None
        with self._lock:
            old, self._file, self.path = self._file, f, path
            self.ring.read = self.ring.written  # record from now on
        if old is not None:
            old.close()
        log.warning("recording to %s", path)
        return path

    def record_stop(self) -> None:
        with self._lock:
            f, self._file = self._file, None
            if f is not None:
                self._drain()
        if f is not None:
            f.close()
            log.warning("recording stopped: %s", self.path)

    def _drain(self) -> int:
        total = 0
        while (n := self.ring.read_into(self._block)) > 0:
            block = self._block[:n]
            if self._file is not None:
                try:
                    self._file.write(np.clip(block, -1.0, 1.0))
                except (RuntimeError, OSError) as e:  # disk full, drive gone: stop, say so, play on
                    f, self._file = self._file, None
                    _close_quietly(f)
                    reason = f"recording {self.path.name if self.path else ''} stopped: {e}"
                    log.error("%s", reason)
                    if self.on_error is not None:
                        self.on_error(reason)
            self._meter(block)
            total += n
        return total

    def _meter(self, block: np.ndarray) -> None:
        pos = 0
        while pos < len(block):
            take = min(len(block) - pos, self.window - self._fill)
            self._acc[self._fill:self._fill + take] = block[pos:pos + take]
            self._fill += take
            pos += take
            if self._fill == self.window:
                peak = np.abs(self._acc).max(axis=0)
                rms = np.sqrt(np.mean(np.square(self._acc), axis=0))
                self.levels = (float(peak[0]), float(peak[1]), float(rms[0]), float(rms[1]))
                self._fill = 0

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                n = self._drain()
            if not n:
                time.sleep(0.01)


def _close_quietly(f: Any) -> None:
    try:
        f.close()
    except (RuntimeError, OSError) as e:
        log.debug("closing a failed recording: %s", e)

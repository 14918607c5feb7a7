"""The output tap: meters and the WAV recorder, fed by the JACK callback's tap ring.

The JACK callback copies what it plays into a lock-free ring (:mod:`mrtd.audio.rings`);
this thread drains it, keeps peak/RMS meters over 50 ms windows, and writes the
recording when one is armed. A disk error stops the recording, never the audio.

Once per meter window it also takes the output's spectrum (``/mrtd/spectrum``, for the
browser's spectrogram): 64 log-spaced bands of a Hann-windowed FFT of the latest 2048
samples of the mono mix, one byte each. It is computed here, off the JACK thread and off
the network loop, so drawing a spectrogram costs the audio nothing and the page receives
64 bytes per tick instead of any audio.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mrtd.audio.rings import AudioRing
from mrtd.constants import CHANNELS, SAMPLE_RATE
from mrtd.errors import ControlError

log = logging.getLogger("mrtd.tap")

SPECTRUM_BANDS = 64
SPECTRUM_FFT = 2048  # samples: 43 ms at 48 kHz, within one 50 ms meter window
SPECTRUM_LO_HZ, SPECTRUM_HI_HZ = 40.0, 20000.0
SPECTRUM_FLOOR_DB, SPECTRUM_TOP_DB = -100.0, 0.0


def _band_matrix(n_fft: int = SPECTRUM_FFT, rate: int = SAMPLE_RATE, bands: int = SPECTRUM_BANDS,
                 lo: float = SPECTRUM_LO_HZ, hi: float = SPECTRUM_HI_HZ) -> np.ndarray:
    """``[bands, n_fft // 2 + 1]`` weights that average an FFT's power over each band.

    Bands are log-spaced, so the low ones (a few Hz wide) are narrower than one bin
    (23 Hz): such a band takes the bin nearest its centre rather than being empty, so
    the spectrogram has no dead rows at the bottom."""
    freqs = np.fft.rfftfreq(n_fft, 1.0 / rate)
    edges = np.geomspace(lo, hi, bands + 1)
    m = np.zeros((bands, freqs.size), np.float64)
    for k in range(bands):
        inside = np.flatnonzero((freqs >= edges[k]) & (freqs < edges[k + 1]))
        if inside.size == 0:
            inside = np.array([int(np.argmin(np.abs(freqs - np.sqrt(edges[k] * edges[k + 1]))))])
        m[k, inside] = 1.0 / inside.size
    return m


_BANDS = _band_matrix()
_HANN = np.hanning(SPECTRUM_FFT).astype(np.float64)


def spectrum_bytes(mono: np.ndarray) -> bytes:
    """The ``/mrtd/spectrum`` blob of the latest ``SPECTRUM_FFT`` samples of ``mono``
    (zero-padded in front when there are fewer): per band, the mean power in dB relative
    to a full-scale sine (0 dB), mapped linearly from [-100, 0] dB to [0, 255].

    One byte per band keeps a tick at 64 bytes (a phone can take 10 a second for hours),
    and 100 dB in 256 steps is finer than any display of it."""
    x = np.zeros(SPECTRUM_FFT, np.float64)
    tail = np.asarray(mono, np.float64).reshape(-1)[-SPECTRUM_FFT:]
    if tail.size:
        x[SPECTRUM_FFT - tail.size:] = tail
    spec = np.fft.rfft(x * _HANN)
    power = np.square(np.abs(spec) * (2.0 / _HANN.sum()))  # a full-scale sine's peak bin is 1 (0 dB)
    db = 10.0 * np.log10(_BANDS @ power + 1e-20)
    scaled = (db - SPECTRUM_FLOOR_DB) * (255.0 / (SPECTRUM_TOP_DB - SPECTRUM_FLOOR_DB))
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8).tobytes()


class Tap:
    """Drains the JACK callback's output tap: meters, and the WAV recorder when armed."""

    def __init__(self, ring: AudioRing, meter_window_s: float = 0.05):
        self.ring = ring
        self.window = int(meter_window_s * SAMPLE_RATE)
        self.levels = (0.0, 0.0, 0.0, 0.0)  # peak L, peak R, RMS L, RMS R of the last window
        self._block = np.zeros((4096, CHANNELS), np.float32)
        self._acc = np.zeros((self.window, CHANNELS), np.float32)
        self._fill = 0
        self._mono = np.zeros(max(SPECTRUM_FFT, self.window), np.float32)  # the latest output, mono
        self.spectrum = bytes(SPECTRUM_BANDS)  # /mrtd/spectrum of the last window (silence until then)
        self._file: _Recording | None = None
        self.path: Path | None = None
        self._lock = threading.Lock()  # recorder open/close vs the drain (not the JACK thread)
        self.on_error: Callable[[str], None] | None = None  # a recording stopped by an OS error
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
        recordings/, or the operator named it); closes a recording already running.
        The descriptor is the tap's from here on, closed exactly once, even when the file
        cannot be opened as a WAV."""
        try:
            rec = _Recording(fd, path)
        except (RuntimeError, OSError) as e:
            raise ControlError("/mrtd/record/start", f"cannot record to {path.name}: {e}") from None
        with self._lock:
            old, self._file, self.path = self._file, rec, path
            self.ring.read = self.ring.written  # record from now on
        if old is not None:
            self._close(old)
        log.warning("recording to %s", path)
        return path

    @property
    def recording(self) -> bool:
        return self._file is not None

    def record_stop(self) -> None:
        """Write what the ring still holds, then close the recording (if one runs)."""
        with self._lock:
            rec, self._file = self._file, None
            if rec is not None:
                rec = self._drain(rec)[1]
        if rec is not None:
            self._close(rec)
            log.warning("recording stopped: %s", rec.path)

    def drain(self) -> int:
        """Meter (and record) everything the ring holds now; the samples taken. The tap
        thread calls it every 10 ms; tests call it directly."""
        with self._lock:
            n, self._file = self._drain(self._file)
            return n

    def _drain(self, rec: _Recording | None) -> tuple[int, _Recording | None]:
        """Under ``_lock``: drain the ring into the meters and ``rec`` (None: meters only).
        Returns the samples taken and the recording still running (None once it failed)."""
        total = 0
        while (n := self.ring.read_into(self._block)) > 0:
            block = self._block[:n]
            if rec is not None:
                try:
                    rec.write(block)
                except (RuntimeError, OSError) as e:  # disk full, drive gone: stop, say so, play on
                    rec.close(quiet=True)
                    self._failed(f"recording {rec.path.name} stopped: {e}")
                    rec = None
            self._meter(block)
            total += n
        return total, rec

    def _close(self, rec: _Recording) -> None:
        """Close a recording; a failure (its header cannot be finished) is reported."""
        try:
            rec.close()
        except (RuntimeError, OSError) as e:
            self._failed(f"recording {rec.path.name} may be incomplete: {e}")

    def _failed(self, reason: str) -> None:
        log.error("%s", reason)
        if self.on_error is not None:
            self.on_error(reason)

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
                self._spectrum()
                self._fill = 0

    def _spectrum(self) -> None:
        """At the end of a meter window: the spectrum of the latest samples (this window's,
        preceded by the last one's when the window is shorter than the FFT)."""
        mono = self._acc.mean(axis=1)
        keep = self._mono.size - mono.size
        if keep > 0:
            self._mono[:keep] = self._mono[mono.size:]
        self._mono[max(0, keep):] = mono[-self._mono.size:]
        try:
            self.spectrum = spectrum_bytes(self._mono)
        except Exception:  # never let a display figure stop the meters or a recording
            log.exception("spectrum failed")

    def _run(self) -> None:
        while not self._stop.is_set():
            n = self.drain()
            if not n:
                time.sleep(0.01)


class _Recording:
    """One WAV being written, and the descriptor it was opened on.

    The tap owns the descriptor and closes it itself: libsndfile closes a descriptor it was
    given when opening fails, so a second ``os.close`` of the same number could close a
    file another thread has just opened. Samples are clipped to full scale (24-bit PCM).
    """

    def __init__(self, fd: int, path: Path):
        import soundfile as sf

        self.fd, self.path = fd, path
        try:
            self.file = sf.SoundFile(fd, "w", SAMPLE_RATE, CHANNELS, subtype="PCM_24", format="WAV", closefd=False)
        except BaseException:
            os.close(fd)
            raise
        self._clip = np.zeros((0, CHANNELS), np.float32)

    def write(self, block: np.ndarray) -> None:
        if len(self._clip) < len(block):
            self._clip = np.empty_like(block)
        clipped = self._clip[: len(block)]
        np.clip(block, -1.0, 1.0, out=clipped)
        self.file.write(clipped)

    def close(self, quiet: bool = False) -> None:
        """Finish the file and close the descriptor (once; later calls do nothing)."""
        if self.fd < 0:
            return
        fd, self.fd = self.fd, -1
        try:
            self.file.close()
        except (RuntimeError, OSError) as e:
            if not quiet:
                raise
            log.debug("closing a failed recording: %s", e)
        finally:
            os.close(fd)

"""The output queue between the generation thread and the audio callback.

One producer (the generation thread) writes whole 40 ms frames; one consumer (the JACK
process callback) reads periods of any size. The queue is a single-producer
single-consumer ring of one preallocated float32 array, copied in and out by
:mod:`mrtd.audio.rings`' wrap-around copy: each side only ever advances its own
monotonic sample counter, and a Python int attribute store is atomic under the GIL, so
there is no lock and :meth:`OutputQueue.read_into` allocates no buffers (only the small
numpy view objects slicing needs).

What a musician hears from the reader side, all per sample, none of it a click:

* volume / mute / pause / bypass: a one-pole gain (10 ms), applied as a per-period
  linear ramp to the exact one-pole value at the period's end;
* underrun: the last sample decays to zero over ``fade`` samples ("hold and fade"),
  then silence; when audio returns it fades in over ``fade`` samples; each underrun
  (a transition into starvation) is counted;
* cut (reset, responsive mode): the queued audio fades out over ``fade`` samples, the
  rest of what was queued before the cut is skipped, and the new audio fades in;
* pause / bypass: once the gain has faded out the reader stops consuming, so the
  generator idles on a full queue and playback resumes where it left off.

The latency budget bounds what the producer may queue (:meth:`has_room`); generation is
pulled by the queue level, so a fast machine never runs ahead of playback.
"""

from __future__ import annotations

import math

import numpy as np

from mrtd.audio.rings import pow2_at_least, ring_read, ring_write
from mrtd.constants import CHANNELS, FRAME, SAMPLE_RATE

GAIN_TAU_S = 0.010
MAX_LATENCY_MS = 2000.0


class OutputQueue:
    """Latency-bounded SPSC audio queue with an RT-safe, click-free reader."""

    def __init__(self, latency_ms: float = 80.0, *, fade_ms: float = 5.0, max_period: int = 8192,
                 sample_rate: int = SAMPLE_RATE, frame: int = FRAME, channels: int = CHANNELS):
        self.sample_rate, self.frame, self.channels = sample_rate, frame, channels
        cap = int(MAX_LATENCY_MS / 1000 * sample_rate) + 2 * frame + max_period
        self.capacity = pow2_at_least(cap)
        self._buf = np.zeros((self.capacity, channels), np.float32)
        # model frame index of each queued frame of audio (writes are whole frames, so a
        # stream sample s lives in slot (s // frame) % len): maps playback time to frames
        self._frame_ids = np.full(self.capacity // frame + 2, -1, np.int64)
        self.max_period = max_period
        # producer-owned
        self.written = 0  # samples ever written (monotonic)
        self._cut_at = 0
        self.cut_seq = 0
        self.latency_ms = 80.0
        self.budget = 0
        self.set_latency_ms(latency_ms)
        # shared settings (plain attribute stores; the reader picks them up next period)
        self.gain_target = 1.0
        self.paused = False
        self.fade = max(1, int(fade_ms / 1000 * sample_rate))  # underrun fades
        self.cut_fade = self.fade  # reset / responsive fades (set from /mrtd/reset/fade_ms)
        # consumer-owned
        self.read = 0  # samples ever read (monotonic)
        self.underruns = 0
        self.starved_samples = 0
        self.max_queued = 0  # largest queue level the reader has seen (samples)
        self._gain = 1.0
        self._env = 0.0  # fade-in envelope 0..1 (starts silent: the first audio fades in)
        self._fade_out_left = 0  # >0 while fading out before a cut
        self._out_len = 1  # length of the running fade out
        self._in_len = self.fade  # length of the next fade in
        self._cut_seen = 0
        self._starving = True
        self._last = np.zeros(channels, np.float32)
        self._unit = np.arange(1, max_period + 1, dtype=np.float32)  # 1..N
        self._g = np.empty(max_period, np.float32)
        self._a = math.exp(-1.0 / (GAIN_TAU_S * sample_rate))

    # ---- producer side -------------------------------------------------------------------
    def set_latency_ms(self, ms: float) -> None:
        """Latency budget: at most this much audio waits in the queue (at least one frame)."""
        self.latency_ms = float(min(max(ms, 1000 * self.frame / self.sample_rate), MAX_LATENCY_MS))
        self.budget = int(round(self.latency_ms / 1000 * self.sample_rate))

    @property
    def queued(self) -> int:
        """Samples written and not yet read."""
        return self.written - self.read

    def has_room(self) -> bool:
        """True when one more frame fits in the latency budget."""
        return self.queued + self.frame <= self.budget

    def write(self, audio: np.ndarray, frame_id: int = -1) -> None:
        """Append one frame ``[frame, channels]`` of float32 samples, made by model frame
        ``frame_id`` (the producer checks :meth:`has_room` first)."""
        n = audio.shape[0]
        if n != self.frame:
            raise ValueError(f"write whole frames of {self.frame} samples, got {n}")
        if self.queued + n > self.capacity:
            raise OverflowError("output queue overflow (write without has_room)")
        self._frame_ids[(self.written // self.frame) % len(self._frame_ids)] = frame_id
        ring_write(self._buf, self.written, audio)
        self.written += n  # publish after the data is in place

    def frame_at(self, sample: int) -> int | None:
        """The model frame whose audio is (or was just) at stream sample ``sample``; None
        if that sample is not in the queue's recent window (not written yet, or long gone)."""
        if not (self.written - self.capacity + self.frame <= sample < self.written):
            return None
        fid = int(self._frame_ids[(sample // self.frame) % len(self._frame_ids)])
        return fid if fid >= 0 else None

    def cut(self) -> None:
        """Drop everything queued so far, with a fade out and a fade in on the new audio."""
        self._cut_at = self.written
        self.cut_seq += 1

    # ---- consumer side (real-time: no locks, no buffer allocation) -----------------------
    def read_into(self, out: np.ndarray) -> None:
        """Fill ``out`` ``[n, channels]`` float32 (n <= max_period) with the next output period."""
        n = out.shape[0]
        if self.paused and self._gain < 1e-4:
            out.fill(0.0)  # faded out: stop consuming, the generator idles on a full queue
            return
        avail = self.written - self.read
        if avail > self.max_queued:
            self.max_queued = avail
        if self.cut_seq != self._cut_seen:
            self._cut_seen = self.cut_seq
            if self._cut_at > self.read and not self._fade_out_left:
                self._out_len = max(1, min(self.cut_fade, self.max_period))
                self._fade_out_left = self._out_len
        pos = 0
        while pos < n:
            take = min(n - pos, self.written - self.read)
            if self._fade_out_left:
                take = min(take, self._fade_out_left)
            if take <= 0:
                break
            seg = out[pos:pos + take]
            ring_read(self._buf, self.read, seg)
            self.read += take
            if self._fade_out_left:
                self._apply_fade_out(seg, take)
            elif self._env < 1.0:
                self._apply_fade_in(seg, take)
            self._starving = False
            self._last[:] = seg[take - 1]
            pos += take
        if pos < n:
            self._conceal(out, pos, n)
        self._gain_step(n, 0.0 if self.paused else self.gain_target, out)

    def _apply_fade_out(self, out: np.ndarray, take: int) -> None:
        left, f = self._fade_out_left, self._out_len
        # envelope goes (left-1)/f ... down to 0 at the last faded sample
        g = self._g[:take]
        np.subtract(left, self._unit[:take], out=g)
        g /= f
        np.clip(g, 0.0, 1.0, out=g)
        out[:take] *= g[:, None]
        self._fade_out_left = left - take
        if self._fade_out_left <= 0:
            self._fade_out_left = 0
            if self._cut_at > self.read:
                self.read = self._cut_at
            self._env = 0.0
            self._in_len = max(1, min(self.cut_fade, self.max_period))

    def _apply_fade_in(self, out: np.ndarray, take: int) -> None:
        g = self._g[:take]
        np.multiply(self._unit[:take], 1.0 / self._in_len, out=g)
        g += self._env
        np.clip(g, 0.0, 1.0, out=g)
        out[:take] *= g[:, None]
        self._env = float(g[-1])
        if self._env >= 1.0:
            self._in_len = self.fade

    def _conceal(self, out: np.ndarray, start: int, n: int) -> None:
        """Starved: decay the last sample to zero over ``fade`` samples, then silence."""
        if not self._starving:
            self.underruns += 1
            self._starving = True
        self.starved_samples += n - start
        m = n - start
        g = self._g[:m]
        np.multiply(self._unit[:m], -1.0 / self.fade, out=g)
        g += 1.0
        np.clip(g, 0.0, 1.0, out=g)
        np.multiply(self._last[None, :], g[:, None], out=out[start:n])
        tail = float(g[-1])
        self._last *= tail
        self._env = 0.0

    def _gain_step(self, n: int, target: float, out: np.ndarray | None = None) -> None:
        """Per-sample gain: linear ramp to the exact one-pole value ``n`` samples later."""
        g0 = self._gain
        g1 = target + (g0 - target) * self._a ** n if n else g0
        if out is not None and n:
            if g0 == g1 == 1.0:
                pass
            elif g0 == g1:
                out *= g0
            else:
                g = self._g[:n]
                np.multiply(self._unit[:n], (g1 - g0) / n, out=g)
                g += g0
                out *= g[:, None]
        if abs(g1 - target) < 1e-6:
            g1 = target
        self._gain = g1

    # ---- status --------------------------------------------------------------------------
    @property
    def queued_ms(self) -> float:
        return 1000.0 * self.queued / self.sample_rate

    def status(self) -> dict[str, float | int]:
        return {
            "queued_ms": self.queued_ms,
            "latency_ms": self.latency_ms,
            "underruns": self.underruns,
            "starved_samples": self.starved_samples,
            "max_queued_ms": 1000.0 * self.max_queued / self.sample_rate,
        }

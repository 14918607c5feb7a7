"""The delay: a stereo feedback delay line of our own, in numpy.

pedalboard's delay reads at an integer, unsmoothed delay, so any time change clicks. Here
the read position is fractional (linear interpolation, exact at whole-sample delays) and
time glides as an analog delay's does (the echoes bend in pitch while it moves): a
critically damped spring, so the read speed never jumps, not even when a fader sends a
new time every frame (a linear or cosine glide restarted every 40 ms measured −69 dBFS).
A glide takes ``GLIDE_S`` or longer and moves at most ``GLIDE_SLOPE`` delay samples per
sample, so echoes bend at most about an octave up and never play backwards. Feedback and
mix ramp per sample. Switched off, the line spills over: it rings on until what it holds
is below ``TAIL``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mrtd.audio.rings import ring_write
from mrtd.constants import CHANNELS
from mrtd.effects.stage import TAIL, Stage
from mrtd.osc_schema.namespace import FX_CHAIN

GLIDE_S = 0.2  # delay time: quickest glide (to within 0.1 %)
GLIDE_SLOPE = 1.0  # delay time: fastest glide (delay samples per sample; 1 = an octave up, or a standstill)


class Delay(Stage):
    """A stereo feedback delay line in numpy: per-sample time (interpolated) and feedback.
    Spillover: switched off, it rings on until what the line holds is below TAIL."""

    name = "delay"
    own = ("time_s", "feedback", "mix")

    def __init__(self, sr: int, block: int, steps: np.ndarray):
        super().__init__(sr, block, steps)
        longest = next(a for a in FX_CHAIN["delay"] if a.name == "time_s").max
        size = 1 << math.ceil(math.log2(longest * sr + block + 4))
        self.mask = size - 1
        self.buf = np.zeros((CHANNELS, size), np.float32)
        self.w = 0  # write position
        s = self.settings
        # delay in samples (whole at rest), gliding to its target as a critically damped spring
        self.time_to = self.time_pos = float(round(s["time_s"] * sr))
        self.time_vel, self.omega = 0.0, 1.0
        self._d = np.zeros(block, np.float32)
        self._t = np.arange(1, block + 1, dtype=np.float64)
        self._e64 = np.zeros(block, np.float64)
        self._p64 = np.zeros(block, np.float64)
        self.feedback = self.ramp_of(s["feedback"])
        self.mix = self.ramp_of(s["mix"])
        self._wet = np.zeros((CHANNELS, block), np.float32)
        self._hi = np.zeros((CHANNELS, block), np.float32)
        self._pos = np.zeros(block, np.float32)
        self._floor = np.zeros(block, np.float32)
        self._idx = np.zeros(block, np.int64)
        self._j = np.arange(block, dtype=np.float32)

    def param(self, name: str, value: Any, smooth: bool) -> None:
        if name == "time_s":
            self.time_to = float(round(value * self.sr))
            if not smooth:
                self.time_pos, self.time_vel = self.time_to, 0.0
            # a spring settles (to 0.1 %) in ~9/ω and moves at most ω·distance/e per sample
            distance = max(abs(self.time_to - self.time_pos), 1e-9)
            self.omega = min(9.0 / (GLIDE_S * self.sr), math.e * GLIDE_SLOPE / distance)
        elif name == "feedback":
            self.feedback.to(value, self.ramp if smooth else 0)
        else:
            self.mix.to(value, self.fade if smooth else 0)

    def clear(self) -> None:
        super().clear()
        self.buf.fill(0.0)
        self.time_pos, self.time_vel = self.time_to, 0.0
        self.feedback.finish()
        self.mix.finish()

    def gliding(self) -> bool:
        return self.time_pos != self.time_to or self.time_vel != 0.0

    def busy(self) -> bool:
        return self.gliding() or any(r.moving for r in (self.on, self.feedback, self.mix))

    def delays(self, n: int) -> np.ndarray:
        """Per-sample delay in samples. While gliding: the spring's exact motion toward the
        target, x(t) = target + (a + b·t)·e^(−ωt); position and speed carry over from block
        to block and from one target to the next, so the read speed never jumps."""
        d = self._d[:n]
        if not self.gliding():
            d.fill(self.time_to)
            return d
        w, target = self.omega, self.time_to
        a = self.time_pos - target
        b = self.time_vel + w * a
        t, ex, p = self._t[:n], self._e64[:n], self._p64[:n]
        np.multiply(t, -w, out=ex)
        np.exp(ex, out=ex)
        np.multiply(t, b, out=p)
        p += a
        p *= ex
        p += target
        np.clip(p, 2.0, self.mask + 1 - 2 * self.block, out=p)  # an overshoot stays inside the line
        np.copyto(d, p, casting="same_kind")
        decay = math.exp(-w * n)
        self.time_pos = target + (a + b * n) * decay
        self.time_vel = (b - w * (a + b * n)) * decay
        if abs(self.time_pos - target) < 0.01 and abs(self.time_vel) < 1e-6:  # settled
            self.time_pos, self.time_vel = target, 0.0
        return d

    def process(self, x: np.ndarray, e: np.ndarray) -> bool:
        n = x.shape[1]
        feed = self._tmp[:, :n]
        np.multiply(x, e, out=feed)
        d = self.delays(n)
        fb = self.feedback.block(n)
        wet = self._wet[:, :n]
        # chunks no longer than the shortest delay only read what earlier chunks wrote
        longest_chunk = int(d.min()) - 1
        k = 0
        while k < n:
            m = min(n - k, longest_chunk)
            self._chunk(feed[:, k:k + m], d[k:k + m], fb[k:k + m], wet[:, k:k + m], k)
            k += m
        self.w = (self.w + n) & self.mask
        m = self.mix.block(n)
        self.mix_spill(x, wet, e, m)
        if self.settings["on"] or self.on.moving:
            return True
        return self._peak_ahead() > TAIL

    def _chunk(self, feed: np.ndarray, d: np.ndarray, fb: np.ndarray, wet: np.ndarray, k: int) -> None:
        m = feed.shape[1]
        pos, fl, idx, hi = self._pos[:m], self._floor[:m], self._idx[:m], self._hi[:, :m]
        np.subtract(self._j[k:k + m], d, out=pos)  # read position relative to the block start
        np.floor(pos, out=fl)
        pos -= fl  # fractional part
        np.copyto(idx, fl, casting="unsafe")
        idx += self.w
        idx &= self.mask
        np.take(self.buf, idx, axis=1, out=wet, mode="clip")
        idx += 1
        idx &= self.mask
        np.take(self.buf, idx, axis=1, out=hi, mode="clip")
        hi -= wet
        hi *= pos
        wet += hi  # linear interpolation; exact at whole-sample delays
        np.multiply(wet, fb, out=hi)
        hi += feed
        ring_write(self.buf.T, self.w + k, hi.T)  # the line is [channel, time]: time is axis 1

    def _peak_ahead(self) -> float:
        """Peak of what the line still holds (the next ``time`` samples of echoes)."""
        span = int(max(self.time_pos, self.time_to)) + 2
        start = (self.w - span) & self.mask
        end = start + span
        parts = [self.buf[:, start:end]] if end <= self.mask + 1 else [
            self.buf[:, start:], self.buf[:, : end - self.mask - 1]]
        return max(max(float(p.max()), -float(p.min())) for p in parts)

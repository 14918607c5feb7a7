"""Per-sample parameter ramps: how every numeric effect setting moves without a click.

pedalboard applies its gains and thresholds a block at a time, and a gain that jumps at a
block edge clicks. So everything the chain can compute itself moves sample by sample in
numpy: on/off crossfades, whole-chain bypass, wet/dry mix and gain over ``FADE_S``; drive,
delay feedback and the compressor and limiter thresholds over ``RAMP_S``. Plugin
parameters follow the same ramps, sampled every 128 samples (:mod:`mrtd.effects.plugin`).
"""

from __future__ import annotations

import numpy as np

FADE_S = 0.05  # on/off, bypass, mix, gain, twin crossfades
RAMP_S = 0.2  # other numeric parameters


class Ramp:
    """A value that moves linearly to its target, sample by sample.

    A new target starts from wherever the value is now, so a fader sending a value every
    frame never makes the slope jump back. :meth:`block` writes into a buffer of its own,
    so ramping allocates nothing per block.
    """

    __slots__ = ("_buf", "_left", "_step", "_steps", "target", "value")

    def __init__(self, value: float, steps: np.ndarray):
        self.value = self.target = float(value)
        self._step, self._left = 0.0, 0
        self._steps = steps  # 1, 2, ..., block (float32, shared by every ramp of a chain)
        self._buf = np.empty(len(steps), np.float32)

    @property
    def moving(self) -> bool:
        return self._left > 0

    def to(self, target: float, samples: int) -> None:
        """Head for ``target`` from where the value is now, arriving in ``samples``
        (0: jump there now)."""
        self.target = float(target)
        self._left = int(samples) if samples > 0 and self.target != self.value else 0
        if self._left:
            self._step = (self.target - self.value) / self._left
        else:
            self.value = self.target

    def finish(self) -> None:
        """Jump to the target now (a cleared effect starts at its settings, not on the way)."""
        self.to(self.target, 0)

    def skip(self, n: int) -> float:
        """Advance ``n`` samples; the value reached."""
        k = min(n, self._left)
        self._left -= k
        self.value = self.target if not self._left else self.value + self._step * k
        return self.value

    def block(self, n: int) -> np.ndarray:
        """The next ``n`` per-sample values (a view of a buffer reused next call); advances."""
        out = self._buf[:n]
        k = min(n, self._left)
        if k:
            np.multiply(self._steps[:k], self._step, out=out[:k])
            out[:k] += self.value
        out[k:] = self.target
        self.skip(n)
        return out

"""What every effect stage shares: its settings, its on/off crossfade, and the two ways
its output meets its input.

**On/off.** An effect crossfades between its input and its output (its input fades too,
so a cleared delay line never starts with a step); once off it is skipped. Delay and
reverb spill over, as a pedal with trails does: switched off they stop taking input but
ring on until their tail is below −90 dBFS (``TAIL``); switched on from idle they start
clean (old echoes coming back would surprise).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from mrtd.constants import CHANNELS
from mrtd.effects.ramps import FADE_S, RAMP_S, Ramp
from mrtd.osc_schema.namespace import FX_DEFAULTS

TAIL = 10 ** (-90 / 20)  # spillover stops below this


class Stage:
    """One effect: its settings, its on/off crossfade, and whether it runs at all.

    A subclass names its schema effect (``name``), the parameters it computes in numpy
    (``own``), and implements :meth:`param` and :meth:`process`. Buffers are made once,
    at the chain's block size, and reused every block.
    """

    name: ClassVar[str]
    own: ClassVar[tuple[str, ...]] = ()  # parameters done in numpy

    def __init__(self, sr: int, block: int, steps: np.ndarray):
        self.sr, self.block, self.steps = sr, block, steps
        self.fade, self.ramp = round(FADE_S * sr), round(RAMP_S * sr)
        self.settings: dict[str, Any] = {"on": False, **FX_DEFAULTS[self.name]}
        self.on = Ramp(0.0, steps)
        self.live = False  # processing: on, fading, or ringing out
        self._tmp = np.zeros((CHANNELS, block), np.float32)

    def ramp_of(self, value: float) -> Ramp:
        return Ramp(value, self.steps)

    def set(self, param: str, value: Any) -> None:
        """Change one (validated) setting; an effect switched on from idle starts clean."""
        self.settings[param] = value
        if param == "on":
            if value and not self.live:
                self.clear()
                self.live = True
            self.on.to(1.0 if value else 0.0, self.fade)
        else:
            self.param(param, value, self.live)

    def run(self, x: np.ndarray) -> None:
        """Process the block ``x`` [2, n] in place (only while live)."""
        e = self.on.block(x.shape[1])
        ringing = self.process(x, e)
        if not self.settings["on"] and not self.on.moving and not ringing:
            self.live = False

    def clear(self) -> None:
        """Forget all state (tails, envelopes) and finish every ramp."""
        self.on.finish()
        self.live = bool(self.settings["on"])

    def busy(self) -> bool:
        """A ramp or crossfade is under way (benchmarks report such blocks apart)."""
        return self.on.moving

    def param(self, name: str, value: Any, smooth: bool) -> None:
        """Apply a parameter change: ramped when ``smooth`` (the effect is running), else
        at once (an idle effect has nothing to click)."""
        raise NotImplementedError

    def process(self, x: np.ndarray, e: np.ndarray) -> bool:
        """Apply the effect in place with on-amount ``e`` per sample; True while a tail rings."""
        raise NotImplementedError

    def mix_in(self, x: np.ndarray, y: np.ndarray, e: np.ndarray) -> None:
        """x ← x + e·(y − x), per sample; y is scratch."""
        y -= x
        y *= e
        x += y

    def mix_spill(self, x: np.ndarray, wet: np.ndarray, e: np.ndarray, m: np.ndarray) -> bool:
        """x ← x·(1 − e·m) + m·wet (the pedal's mix, its dry side switched by e); True while
        ``wet`` is above the tail level. Off (e = 0) the dry passes whole and the wet is
        still added, so a tail rings out (the stage fades its own input with e)."""
        em = self._tmp[0, : len(e)]
        np.multiply(e, m, out=em)
        np.subtract(1.0, em, out=em)
        x *= em
        wet *= m
        x += wet
        return bool(wet.max() > TAIL or -wet.min() > TAIL)

"""Effects built on pedalboard plugins, made click-free.

pedalboard (JUCE inside) was not made for parameters that move while audio plays. What
this base class does about it (measured in ``tests/effects/test_effects.py``):

* **One block size.** pedalboard resets a plugin whenever it sees a block larger than any
  before (and ``Plugin.reset()`` forgets the sizes seen), so every plugin is primed with a
  full block of silence when built or reset and never sees a larger one. ``SUB``-sample
  steps are used only while a plugin parameter ramps.
* **Plugin parameters** move in ``SUB``-sample steps over ``RAMP_S`` (cutoff in octaves).
  Three jump at any step size: the ladder filter's mode, the chorus's centre delay (its
  read position jumps) and the compressor's ratio. Those plugins run as a pair of twins
  fed the same input, so the pair stays in sync; the change goes to the silent twin,
  which is then crossfaded in.
* pedalboard allocates its own output arrays (a few KiB a call); everything of ours is
  preallocated.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import pedalboard as pb

from mrtd.constants import CHANNELS
from mrtd.effects.ramps import Ramp
from mrtd.effects.stage import Stage
from mrtd.osc_schema.namespace import FX_CHAIN

SUB = 128  # samples per plugin call while a plugin parameter ramps
WARM_BLOCKS = 2  # a warm twin: blocks of recent input it is rebuilt from (chorus delay ≤ 30 ms)


class PluginStage(Stage):
    """An effect built on pedalboard plugins.

    Parameters not listed in ``own`` (done in numpy) or ``switched`` are plugin attributes
    ramped in SUB-sample steps. With ``switched`` parameters the stage runs two plugins on
    the same input; a switched change goes to the silent one, which is then crossfaded in.
    """

    switched: ClassVar[tuple[str, ...]] = ()
    # True: the silent twin idles, and a switch rebuilds it from the recent input (for a
    # plugin that would record its own jump in a feedback path); False: it runs in sync
    warm: ClassVar[bool] = False
    log_params: ClassVar[tuple[str, ...]] = ()
    fixed: ClassVar[dict[str, Any]] = {}  # plugin attributes that never change

    def __init__(self, sr: int, block: int, steps: np.ndarray):
        super().__init__(sr, block, steps)
        names = [a.name for a in FX_CHAIN[self.name]]
        self.smooth = {p: self.ramp_of(self._ramp_value(p, self.settings[p]))
                       for p in names if p not in self.own and p not in self.switched}
        self.plugins = [self.make() for _ in range(2 if self.switched else 1)]
        self.applied = [{p: self.settings[p] for p in self.switched} for _ in self.plugins]
        self.live_twin = 0
        self.xfade = self.ramp_of(0.0)
        self.outs = [np.zeros((CHANNELS, block), np.float32) for _ in self.plugins]
        self._zeros = zeros = np.zeros((CHANNELS, block), np.float32)
        if self.warm:  # the last WARM_BLOCKS blocks of input, and a fade-in over the first
            self._hist = np.zeros((CHANNELS, WARM_BLOCKS * block), np.float32)
            self._fade_in = np.minimum(1.0, np.arange(1, WARM_BLOCKS * block + 1) / block).astype(np.float32)
        for p in self.plugins:
            for attr, v in self.fixed.items():
                setattr(p, attr, v)
            for attr in self.smooth:
                setattr(p, attr, self.settings[attr])
            for attr in self.switched:
                setattr(p, attr, self.convert(attr, self.settings[attr]))
            p.process(zeros, sr, reset=False)  # prime at the full block size

    def make(self) -> pb.Plugin:
        raise NotImplementedError

    def convert(self, attr: str, value: Any) -> Any:
        """Schema value → plugin attribute value."""
        return value

    def _ramp_value(self, attr: str, value: float) -> float:
        return math.log2(value) if attr in self.log_params else float(value)

    def _sub_values(self, attr: str, ramp: Ramp, n: int) -> list[float]:
        """The ramp's values at the end of each SUB-sample step of the next n samples."""
        v = ramp.block(n)[SUB - 1::SUB] if n % SUB == 0 else ramp.block(n)[np.r_[SUB - 1:n:SUB, n - 1]]
        return (np.exp2(v) if attr in self.log_params else v).tolist()

    def param(self, name: str, value: Any, smooth: bool) -> None:
        if name in self.switched:
            if smooth:
                self._switch()
            else:
                self._settle()
        elif name in self.smooth:
            self.smooth[name].to(self._ramp_value(name, value), self.ramp if smooth else 0)
            if not smooth:
                for p in self.plugins:
                    setattr(p, name, value)
        else:
            self.own_param(name, value, smooth)

    def own_param(self, name: str, value: Any, smooth: bool) -> None:
        raise NotImplementedError

    def _switch(self) -> None:
        """Start crossfading to the silent twin if a switched setting differs (not mid-fade)."""
        if self.xfade.moving:
            return  # picked up when the current crossfade ends
        live = self.live_twin
        diff = {p: self.settings[p] for p in self.switched if self.applied[live][p] != self.settings[p]}
        if not diff:
            return
        other = self.plugins[1 - live]
        if self.warm:
            self._rebuild(other)
        for attr, v in diff.items():
            setattr(other, attr, self.convert(attr, v))
        self.applied[1 - live].update(diff)
        if self.warm:
            self._warm_up(other)
        self.xfade.to(0.0, 0)
        self.xfade.to(1.0, self.fade)

    def _rebuild(self, twin: pb.Plugin) -> None:
        """A cleared twin with the live one's settings."""
        live = self.plugins[self.live_twin]
        twin.reset()
        for attr in self.smooth:
            setattr(twin, attr, getattr(live, attr))
        for attr, v in self.applied[self.live_twin].items():
            setattr(twin, attr, self.convert(attr, v))

    def _warm_up(self, twin: pb.Plugin) -> None:
        """Run the recent input, faded in, through ``twin`` (whole blocks: it was reset)."""
        buf = self._zeros.copy()
        for k in range(0, self._hist.shape[1], self.block):
            np.multiply(self._hist[:, k:k + self.block], self._fade_in[k:k + self.block], out=buf)
            twin.process(buf, self.sr, reset=False)

    def _settle(self) -> None:
        """Both twins at the current settings, no crossfade."""
        for p, applied in zip(self.plugins, self.applied):
            for attr in self.switched:
                setattr(p, attr, self.convert(attr, self.settings[attr]))
                applied[attr] = self.settings[attr]
        self.xfade.to(0.0, 0)

    def clear(self) -> None:
        super().clear()
        for attr, r in self.smooth.items():
            r.finish()
            for p in self.plugins:
                setattr(p, attr, self.settings[attr])
        if self.switched:
            self._settle()
        for p in self.plugins:
            p.reset()  # this also forgets the block size: prime again
            p.process(self._zeros, self.sr, reset=False)
        if self.warm:
            self._hist.fill(0.0)

    def busy(self) -> bool:
        return self.on.moving or self.xfade.moving or any(r.moving for r in self.smooth.values())

    def run_plugins(self, x: np.ndarray) -> np.ndarray:
        """The plugins' output for ``x`` [2, n] (twins crossfaded): a view of a reused buffer."""
        n = x.shape[1]
        moving = [(a, self._sub_values(a, r, n)) for a, r in self.smooth.items() if r.moving]
        run = [0, 1] if len(self.plugins) == 2 and (self.xfade.moving or not self.warm) else [self.live_twin]
        plugins, outs = [self.plugins[i] for i in run], [self.outs[i] for i in run]
        if not moving:
            for p, o in zip(plugins, outs):
                o[:, :n] = p.process(x, self.sr, reset=False)
        else:
            for i, k in enumerate(range(0, n, SUB)):
                for attr, values in moving:
                    for p in plugins:
                        setattr(p, attr, values[i])
                for p, o in zip(plugins, outs):
                    o[:, k:k + SUB] = p.process(x[:, k:k + SUB], self.sr, reset=False)
        if self.warm:
            self._hist[:, :-n] = self._hist[:, n:]
            self._hist[:, -n:] = x
        y = self.outs[self.live_twin][:, :n]
        if self.xfade.moving:
            other = self.outs[1 - self.live_twin][:, :n]
            self.mix_in(y, other, self.xfade.block(n))
            if not self.xfade.moving:  # done: the twin is live, the old one follows it (or idles)
                old = self.live_twin
                self.live_twin = 1 - old
                if not self.warm:
                    for attr, v in self.applied[self.live_twin].items():
                        setattr(self.plugins[old], attr, self.convert(attr, v))
                self.applied[old] = dict(self.applied[self.live_twin])
                self.xfade.to(0.0, 0)
                self._switch()
        return y

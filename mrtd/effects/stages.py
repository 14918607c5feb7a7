"""The effect stages, one class each, in chain order (the delay has its own module).

* **Filter**: pedalboard's ladder filter; cutoff glides in octaves, mode switches by twin
  crossfade.
* **Drive** is ``tanh(g·x)``, what ``pedalboard.Distortion`` computes, but per sample so
  drive moves glide. Makeup ``r / tanh(g·r)`` with ``r`` = −12 dBFS (``DRIVE_REF``) keeps a
  −12 dBFS peak at −12 dBFS at any drive: turning drive up adds grit and density, not level.
* **Chorus** and **reverb** run wet only and we mix (per sample). The reverb's wet level
  makes its wet signal about as loud as its input at the default room size; switched off
  it spills over, ringing on until ``TAIL_BLOCKS`` blocks in a row are below ``TAIL``.
* **Compressor and limiter thresholds** are a gain before a plugin run at 0 dB and its
  inverse after: JUCE's gain computer is scale-invariant, so that is the same compressor,
  and a threshold move becomes a smooth per-sample gain ramp (in dB: a ramp linear in
  1/threshold rushes at its end, and at 100 ms a compressor sweep was at the −70 dBFS
  limit; 200 ms gives −77). The compressor has no makeup gain (the gain stage is there for
  that).
* **Limiter.** ``pedalboard.Limiter`` is JUCE's maximiser: it normalises the threshold to
  0 dBFS (quiet material rises by −threshold + 3.75 dB) and hard-clips. Here the threshold
  is a ceiling: the limiter is JUCE's own second stage alone (a compressor at ratio 1000,
  1 µs attack), so peaks stay at the threshold, quieter material is untouched, release works.
* **Gain**: the output level, ramped per sample.

``STAGES`` maps each schema effect to its class; importing this module checks that the
schema and the stages agree.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import pedalboard as pb

from mrtd.constants import db_to_gain
from mrtd.effects.delay import Delay
from mrtd.effects.plugin import PluginStage
from mrtd.effects.stage import Stage
from mrtd.osc_schema.namespace import FX_CHAIN

DRIVE_REF = 10 ** (-12 / 20)  # drive makeup keeps a peak at this level where it was
REVERB_WET = 0.7  # pedalboard wet_level: wet RMS ≈ input RMS for noise at room_size 0.5
TAIL_BLOCKS = 3  # reverb: quiet blocks in a row before it stops (longer than its longest comb)
LN_DB = math.log(10) / 20  # dB → ln(gain)
LIMITER = {"ratio": 1000.0, "attack_ms": 0.001}  # JUCE Limiter's second stage


def _filter_modes() -> dict[str, Any]:
    """The schema's filter modes as LadderFilter modes: lowpass24 → Mode.LPF24."""
    kinds = {"lowpass": "LPF", "highpass": "HPF", "bandpass": "BPF"}
    mode = next(a for a in FX_CHAIN["filter"] if a.name == "mode")
    return {c: getattr(pb.LadderFilter.Mode, kinds[c.rstrip("0123456789")] + c.lstrip("abcdefghijklmnopqrstuvwxyz"))
            for c in mode.choices}


FILTER_MODES = _filter_modes()


class Filter(PluginStage):
    """The ladder filter; its mode changes by twin crossfade (it jumps at any step)."""

    name = "filter"
    switched = ("mode",)
    log_params = ("cutoff_hz",)

    def make(self) -> pb.Plugin:
        return pb.LadderFilter()

    def convert(self, attr: str, value: Any) -> Any:
        return FILTER_MODES[value]

    def process(self, x: np.ndarray, e: np.ndarray) -> bool:
        self.mix_in(x, self.run_plugins(x), e)
        return False


class Drive(Stage):
    """tanh saturation with automatic makeup, in numpy (per-sample drive)."""

    name = "drive"
    own = ("drive_db",)

    def __init__(self, sr: int, block: int, steps: np.ndarray):
        super().__init__(sr, block, steps)
        self.gain = self.ramp_of(db_to_gain(self.settings["drive_db"]))
        self._mk = np.zeros(block, np.float32)

    def param(self, name: str, value: Any, smooth: bool) -> None:
        self.gain.to(db_to_gain(value), self.ramp if smooth else 0)

    def process(self, x: np.ndarray, e: np.ndarray) -> bool:
        n = x.shape[1]
        y = self._tmp[:, :n]
        if self.gain.moving:
            g = self.gain.block(n)
            np.multiply(x, g, out=y)
            np.tanh(y, out=y)
            mk = self._mk[:n]
            np.multiply(g, DRIVE_REF, out=mk)
            np.tanh(mk, out=mk)
            np.divide(DRIVE_REF, mk, out=mk)
            y *= mk
        else:
            g = self.gain.value
            np.multiply(x, g, out=y)
            np.tanh(y, out=y)
            y *= DRIVE_REF / math.tanh(g * DRIVE_REF)
        self.mix_in(x, y, e)
        return False

    def busy(self) -> bool:
        return self.on.moving or self.gain.moving


class Wet(PluginStage):
    """A plugin run wet only; its ``mix`` is ours (per sample)."""

    own = ("mix",)

    def __init__(self, sr: int, block: int, steps: np.ndarray):
        super().__init__(sr, block, steps)
        self.mix = self.ramp_of(self.settings["mix"])
        self._em = np.zeros(block, np.float32)

    def own_param(self, name: str, value: Any, smooth: bool) -> None:
        self.mix.to(value, self.fade if smooth else 0)

    def clear(self) -> None:
        super().clear()
        self.mix.finish()

    def busy(self) -> bool:
        return super().busy() or self.mix.moving


class Chorus(Wet):
    """pedalboard's chorus, wet only; a centre-delay change rebuilds the silent twin from
    the recent input and crossfades to it."""

    name = "chorus"
    switched = ("centre_delay_ms",)
    warm = True  # its feedback would keep a jump of the silent twin's read position
    fixed: ClassVar[dict[str, Any]] = {"mix": 1.0}

    def make(self) -> pb.Plugin:
        return pb.Chorus()

    def process(self, x: np.ndarray, e: np.ndarray) -> bool:
        n = x.shape[1]
        feed = self._tmp[:, :n]  # faded like the output: a cleared delay line must not start with a step
        np.multiply(x, e, out=feed)
        em = self._em[:n]
        np.multiply(e, self.mix.block(n), out=em)
        self.mix_in(x, self.run_plugins(feed), em)
        return False


class Reverb(Wet):
    """Spillover: switched off, it rings on until TAIL_BLOCKS blocks below TAIL."""

    name = "reverb"
    fixed: ClassVar[dict[str, Any]] = {"wet_level": REVERB_WET, "dry_level": 0.0}

    def __init__(self, sr: int, block: int, steps: np.ndarray):
        super().__init__(sr, block, steps)
        self.quiet = 0  # blocks in a row below TAIL

    def make(self) -> pb.Plugin:
        return pb.Reverb()

    def clear(self) -> None:
        super().clear()
        self.quiet = 0

    def process(self, x: np.ndarray, e: np.ndarray) -> bool:
        n = x.shape[1]
        feed = self._tmp[:, :n]
        np.multiply(x, e, out=feed)
        wet = self.run_plugins(feed)
        loud = self.mix_spill(x, wet, e, self.mix.block(n))
        self.quiet = 0 if loud else self.quiet + 1
        return bool(self.settings["on"] or self.on.moving or self.quiet < TAIL_BLOCKS)


class Dynamics(PluginStage):
    """A compressor run at 0 dB between a gain of 1/threshold and one of threshold."""

    own = ("threshold_db",)
    fixed: ClassVar[dict[str, Any]] = {"threshold_db": 0.0}

    def __init__(self, sr: int, block: int, steps: np.ndarray):
        super().__init__(sr, block, steps)
        self.threshold = self.ramp_of(self.settings["threshold_db"] * LN_DB)  # ln(gain): moves in dB
        self._inv = np.zeros(block, np.float32)

    def make(self) -> pb.Plugin:
        return pb.Compressor()

    def own_param(self, name: str, value: Any, smooth: bool) -> None:
        self.threshold.to(value * LN_DB, self.ramp if smooth else 0)

    def clear(self) -> None:
        super().clear()
        self.threshold.finish()

    def busy(self) -> bool:
        return super().busy() or self.threshold.moving

    def process(self, x: np.ndarray, e: np.ndarray) -> bool:
        n = x.shape[1]
        u = self._tmp[:, :n]
        if self.threshold.moving:
            t = self.threshold.block(n)
            inv = self._inv[:n]
            np.negative(t, out=inv)
            np.exp(inv, out=inv)
            np.exp(t, out=t)  # the ramp's own buffer, rewritten next call
            np.multiply(x, inv, out=u)
        else:
            t = math.exp(self.threshold.value)
            np.multiply(x, 1.0 / t, out=u)
        y = self.run_plugins(u)
        y *= t
        self.mix_in(x, y, e)
        return False


class Compressor(Dynamics):
    """A ratio change crossfades to the twin (a ratio jump clicks at any step size)."""

    name = "compressor"
    switched = ("ratio",)


class Limiter(Dynamics):
    """JUCE's limiter without its normalising first stage: the threshold is a ceiling."""

    name = "limiter"
    fixed: ClassVar[dict[str, Any]] = {"threshold_db": 0.0, **LIMITER}


class Gain(Stage):
    """Output gain, in numpy (per-sample ramp)."""

    name = "gain"
    own = ("gain_db",)

    def __init__(self, sr: int, block: int, steps: np.ndarray):
        super().__init__(sr, block, steps)
        self.gain = self.ramp_of(db_to_gain(self.settings["gain_db"]))

    def param(self, name: str, value: Any, smooth: bool) -> None:
        self.gain.to(db_to_gain(value), self.fade if smooth else 0)

    def process(self, x: np.ndarray, e: np.ndarray) -> bool:
        n = x.shape[1]
        f = self._tmp[0, :n]
        np.copyto(f, self.gain.block(n))
        f -= 1.0
        f *= e
        f += 1.0
        x *= f
        return False

    def busy(self) -> bool:
        return self.on.moving or self.gain.moving


STAGES: dict[str, type[Stage]] = {
    c.name: c for c in (Filter, Drive, Chorus, Delay, Reverb, Compressor, Limiter, Gain)}


def _check_schema() -> None:
    """Fail at import if the schema and the stages disagree (plugin stages take every
    parameter they do not handle themselves as a plugin attribute, checked when built)."""
    for name, args in FX_CHAIN.items():
        if name not in STAGES:
            raise RuntimeError(f"effect {name!r} is in the OSC schema but not implemented")
        stage = STAGES[name]
        names = {a.name for a in args}
        handled = set(stage.own) | set(getattr(stage, "switched", ()))
        if not handled <= names or not issubclass(stage, PluginStage) and handled != names:
            raise RuntimeError(f"effect {name!r}: schema parameters {sorted(names)}, implemented {sorted(handled)}")


_check_schema()

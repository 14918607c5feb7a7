"""The post-effects chain: filter → drive → chorus → delay → reverb → compressor → limiter → gain.

The engine runs it on the generation thread, one 1920-sample block (one model frame) per
call. Effects, parameters, ranges and defaults all come from the OSC schema
(``FX_CHAIN``/``FX_DEFAULTS``); everything defaults to off, and a chain that is off is a
bit-exact passthrough. Every control is click-free, which ``tests/test_effects.py``
measures. How, and why (pedalboard's behaviour: ecosystem.md §4):

* **One block size.** pedalboard resets a plugin whenever it sees a block larger than any
  before (and ``Plugin.reset()`` forgets the sizes seen), so every plugin is primed with a
  full block of silence when built or reset and never sees a larger one. 128-sample steps
  are used only while a plugin parameter ramps.
* **Per-sample numpy ramps** for all we can do ourselves (pedalboard applies its gains and
  thresholds a block at a time, which clicks): on/off crossfades, whole-chain bypass,
  wet/dry mix and gain (50 ms); drive, delay feedback, and the compressor and limiter
  thresholds (200 ms). A threshold is a gain before a plugin run at 0 dB and its inverse
  after: JUCE's gain computer is scale-invariant, so that is the same compressor, and a
  threshold move becomes a smooth gain ramp (in dB: a ramp linear in 1/threshold rushes at
  its end, and at 100 ms a compressor sweep was at the −70 dBFS limit; 200 ms gives −77).
  Chorus and reverb run wet only and we mix.
* **Plugin parameters** move in 128-sample steps over 200 ms (cutoff in octaves). Three
  jump at any step size: the ladder filter's mode, the chorus's centre delay (its read
  position jumps) and the compressor's ratio. Those plugins run as a pair fed the same
  input, so the pair stays in sync; the change goes to the silent twin, crossfaded in.
* **Delay** is our own numpy delay line: pedalboard's reads at an integer, unsmoothed delay,
  so any time change clicks. Time glides like an analog delay's (the echoes bend in pitch
  while it moves) as a critically damped spring: the read speed never jumps, not even when
  a fader sends a new time every frame (a linear or cosine glide restarted every 40 ms
  measured −69 dBFS). A glide takes 200 ms or longer, so echoes bend at most about an
  octave up and never play backwards.
* **On/off.** An effect crossfades between its input and its output (its input fades too,
  so a cleared delay line never starts with a step); once off it is skipped. Delay and
  reverb spill over, as a pedal with trails does: switched off they stop taking input but
  ring on until their tail is below −90 dBFS; switched on from idle they start clean (old
  echoes coming back would surprise). Bypass crossfades the whole chain with its input and
  the chain keeps running, so un-bypassing is seamless and compares like with like.
* **Drive** is ``tanh(g·x)``, what ``pedalboard.Distortion`` computes, but per sample so
  drive moves glide. Makeup ``r / tanh(g·r)`` with ``r`` = −12 dBFS keeps a −12 dBFS peak at
  −12 dBFS at any drive: turning drive up adds grit and density, not level.
* **Limiter.** ``pedalboard.Limiter`` is JUCE's maximiser: it normalises the threshold to
  0 dBFS (quiet material rises by −threshold + 3.75 dB) and hard-clips. Here the threshold
  is a ceiling: the limiter is JUCE's own second stage alone (a compressor at ratio 1000,
  1 µs attack), so peaks stay at the threshold, quieter material is untouched, release works.
* The compressor has no makeup gain (the gain stage is there for that); the reverb's wet
  level makes its wet signal about as loud as its input at the default room size.
* Deterministic: the same settings at the same blocks give bit-identical output. Our
  buffers are preallocated; pedalboard allocates its own output arrays (a few KiB a call).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import pedalboard as pb

from mrtd.constants import FRAME, SAMPLE_RATE, db_to_gain
from mrtd.errors import UserError
from mrtd.osc_schema import NAMESPACE, SchemaError
from mrtd.osc_schema.namespace import FX_CHAIN, FX_DEFAULTS

PREFIX = "/mrtd/fx/"
BYPASS = PREFIX + "bypass"
SUB = 128  # samples per plugin call while a plugin parameter ramps
FADE_S = 0.05  # on/off, bypass, mix, gain, twin crossfades
RAMP_S = 0.2  # other numeric parameters
GLIDE_S = 0.2  # delay time: quickest glide (to within 0.1 %)
GLIDE_SLOPE = 1.0  # delay time: fastest glide (delay samples per sample; 1 = an octave up, or a standstill)
TAIL = 10 ** (-90 / 20)  # spillover stops below this
WARM_BLOCKS = 2  # chorus twin: blocks of recent input it is rebuilt from (its delay is ≤ 30 ms)
TAIL_BLOCKS = 3  # reverb: quiet blocks in a row before it stops (longer than its longest comb)
DRIVE_REF = 10 ** (-12 / 20)  # drive makeup keeps a peak at this level where it was
REVERB_WET = 0.7  # pedalboard wet_level: wet RMS ≈ input RMS for noise at room_size 0.5
LN_DB = math.log(10) / 20  # dB → ln(gain)
LIMITER = {"ratio": 1000.0, "attack_ms": 0.001}  # JUCE Limiter's second stage


class EffectsError(UserError, ValueError):
    """A /mrtd/fx address or value the chain does not take."""


def _filter_modes() -> dict[str, Any]:
    """The schema's filter modes as LadderFilter modes: lowpass24 → Mode.LPF24."""
    kinds = {"lowpass": "LPF", "highpass": "HPF", "bandpass": "BPF"}
    mode = next(a for a in FX_CHAIN["filter"] if a.name == "mode")
    return {c: getattr(pb.LadderFilter.Mode, kinds[c.rstrip("0123456789")] + c.lstrip("abcdefghijklmnopqrstuvwxyz"))
            for c in mode.choices}


FILTER_MODES = _filter_modes()


# --------------------------------------------------------------------------- ramps


class Ramp:
    """A value that moves linearly to its target, sample by sample."""

    __slots__ = ("value", "target", "_step", "_left", "_buf", "_steps")

    def __init__(self, value: float, steps: np.ndarray):
        self.value = self.target = float(value)
        self._step, self._left = 0.0, 0
        self._steps = steps  # 1, 2, ..., block (float32, shared)
        self._buf = np.empty(len(steps), np.float32)

    @property
    def moving(self) -> bool:
        return self._left > 0

    def to(self, target: float, samples: int) -> None:
        """Head for ``target`` from where the value is now, arriving in ``samples``."""
        self.target = float(target)
        self._left = int(samples) if samples > 0 and self.target != self.value else 0
        if self._left:
            self._step = (self.target - self.value) / self._left
        else:
            self.value = self.target

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


# --------------------------------------------------------------------------- stages


class _Stage:
    """One effect: its settings, its on/off crossfade, and whether it runs at all."""

    name: ClassVar[str]
    own: ClassVar[tuple[str, ...]] = ()  # parameters done in numpy

    def __init__(self, sr: int, block: int, steps: np.ndarray):
        self.sr, self.block, self.steps = sr, block, steps
        self.fade, self.ramp = round(FADE_S * sr), round(RAMP_S * sr)
        self.settings: dict[str, Any] = {"on": False, **FX_DEFAULTS[self.name]}
        self.on = Ramp(0.0, steps)
        self.live = False  # processing: on, fading, or ringing out
        self._tmp = np.zeros((2, block), np.float32)

    def ramp_of(self, value: float) -> Ramp:
        return Ramp(value, self.steps)

    def set(self, param: str, value: Any) -> None:
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
        self.on.to(self.on.target, 0)
        self.live = bool(self.settings["on"])

    def busy(self) -> bool:
        """A ramp or crossfade is under way (benchmarks report such blocks apart)."""
        return self.on.moving

    def param(self, name: str, value: Any, smooth: bool) -> None:
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
        ``wet`` is above the tail level."""
        em = self._tmp[0, : len(e)]
        np.multiply(e, m, out=em)
        np.subtract(1.0, em, out=em)
        x *= em
        wet *= m
        x += wet
        return bool(wet.max() > TAIL or -wet.min() > TAIL)


class _Drive(_Stage):
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


class _Gain(_Stage):
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


class _Delay(_Stage):
    """A stereo feedback delay line in numpy: per-sample time (interpolated) and feedback.
    Spillover: switched off, it rings on until what the line holds is below TAIL."""

    name = "delay"
    own = ("time_s", "feedback", "mix")

    def __init__(self, sr: int, block: int, steps: np.ndarray):
        super().__init__(sr, block, steps)
        longest = next(a for a in FX_CHAIN["delay"] if a.name == "time_s").max
        size = 1 << math.ceil(math.log2(longest * sr + block + 4))
        self.mask = size - 1
        self.buf = np.zeros((2, size), np.float32)
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
        self._wet = np.zeros((2, block), np.float32)
        self._hi = np.zeros((2, block), np.float32)
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
        for r in (self.feedback, self.mix):
            r.to(r.target, 0)

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
        start = (self.w + k) & self.mask
        first = min(m, self.mask + 1 - start)
        self.buf[:, start:start + first] = hi[:, :first]
        self.buf[:, : m - first] = hi[:, first:]

    def _peak_ahead(self) -> float:
        """Peak of what the line still holds (the next ``time`` samples of echoes)."""
        span = int(max(self.time_pos, self.time_to)) + 2
        start = (self.w - span) & self.mask
        end = start + span
        parts = [self.buf[:, start:end]] if end <= self.mask + 1 else [
            self.buf[:, start:], self.buf[:, : end - self.mask - 1]]
        return max(max(float(p.max()), -float(p.min())) for p in parts)


class _PluginStage(_Stage):
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
        self.outs = [np.zeros((2, block), np.float32) for _ in self.plugins]
        self._zeros = zeros = np.zeros((2, block), np.float32)
        if self.warm:  # the last WARM_BLOCKS blocks of input, and a fade-in over the first
            self._hist = np.zeros((2, WARM_BLOCKS * block), np.float32)
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
            r.to(r.target, 0)
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


class _Filter(_PluginStage):
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


class _Wet(_PluginStage):
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
        self.mix.to(self.mix.target, 0)

    def busy(self) -> bool:
        return super().busy() or self.mix.moving


class _Chorus(_Wet):
    name = "chorus"
    switched = ("centre_delay_ms",)
    warm = True  # its feedback would keep a jump of the silent twin's read position
    fixed = {"mix": 1.0}

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


class _Reverb(_Wet):
    """Spillover: switched off, it rings on until TAIL_BLOCKS blocks below TAIL."""

    name = "reverb"
    fixed = {"wet_level": REVERB_WET, "dry_level": 0.0}

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


class _Dynamics(_PluginStage):
    """A compressor run at 0 dB between a gain of 1/threshold and one of threshold."""

    own = ("threshold_db",)
    fixed = {"threshold_db": 0.0}

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
        self.threshold.to(self.threshold.target, 0)

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


class _Compressor(_Dynamics):
    name = "compressor"
    switched = ("ratio",)


class _Limiter(_Dynamics):
    name = "limiter"
    fixed = {"threshold_db": 0.0, **LIMITER}


STAGES: dict[str, type[_Stage]] = {
    c.name: c for c in (_Filter, _Drive, _Chorus, _Delay, _Reverb, _Compressor, _Limiter, _Gain)}


def _check_schema() -> None:
    """Fail at import if the schema and the stages disagree (plugin stages take every
    parameter they do not handle themselves as a plugin attribute, checked when built)."""
    for name, args in FX_CHAIN.items():
        if name not in STAGES:
            raise RuntimeError(f"effect {name!r} is in the OSC schema but not implemented")
        stage = STAGES[name]
        names = {a.name for a in args}
        handled = set(stage.own) | set(getattr(stage, "switched", ()))
        if not handled <= names or not issubclass(stage, _PluginStage) and handled != names:
            raise RuntimeError(f"effect {name!r}: schema parameters {sorted(names)}, implemented {sorted(handled)}")


_check_schema()


# --------------------------------------------------------------------------- the chain


class EffectsChain:
    """The post-effects chain, in ``FX_CHAIN`` order. Not thread-safe: one thread calls all."""

    def __init__(self, sample_rate: int = SAMPLE_RATE, block: int = FRAME):
        self.sample_rate, self.block = int(sample_rate), int(block)
        steps = np.arange(1, block + 1, dtype=np.float32)
        self.stages = [STAGES[name](self.sample_rate, self.block, steps) for name in FX_CHAIN]
        self._by_name = {s.name: s for s in self.stages}
        self.bypass = False
        self._engaged = Ramp(1.0, steps)  # 1: chain heard, 0: bypassed
        self._fade = round(FADE_S * sample_rate)
        self._x = np.zeros((2, block), np.float32)
        self._work = np.zeros((2, block), np.float32)
        self._out = np.zeros((block, 2), np.float32)

    @staticmethod
    def handles(address: str) -> bool:
        return address.startswith(PREFIX)

    def _locate(self, address: str) -> tuple[_Stage | None, str]:
        if address == BYPASS:
            return None, "bypass"
        parts = address[len(PREFIX):].split("/") if self.handles(address) else []
        stage = self._by_name.get(parts[0]) if len(parts) == 2 else None
        if stage is None or parts[1] not in stage.settings:
            raise EffectsError(f"{address}: not an effects address (see `python -m mrtd.osc_schema`)")
        return stage, parts[1]

    def set(self, address: str, values: tuple) -> None:
        """Change one setting; it takes effect, ramped, from the next :meth:`process`."""
        stage, param = self._locate(address)
        try:
            (value,) = NAMESPACE[address].validate(values)
        except SchemaError as e:
            raise EffectsError(f"{address}: {e}") from None
        if stage is None:
            self.bypass = value
            self._engaged.to(0.0 if value else 1.0, self._fade)
        elif stage.settings[param] != value:
            stage.set(param, value)

    def value(self, address: str) -> tuple:
        stage, param = self._locate(address)
        return (self.bypass,) if stage is None else (stage.settings[param],)

    def process(self, dry: np.ndarray) -> np.ndarray:
        """``dry`` [block, 2] → wet [block, 2] float32 (a buffer reused by the next call)."""
        if dry.shape != (self.block, 2):
            raise ValueError(f"effects: expected a [{self.block}, 2] block, got {list(dry.shape)}")
        x, work = self._x, self._work
        np.copyto(x, dry.T)
        np.copyto(work, x)
        for stage in self.stages:
            if stage.live:
                stage.run(work)
        g = self._engaged
        if g.moving:
            # work ← x + g·(work − x); x is scratch after this
            work -= x
            work *= g.block(self.block)
            work += x
        elif g.value == 0.0:
            work = x
        np.copyto(self._out, work.T)
        return self._out

    def reset(self) -> None:
        """Clear every tail and envelope and finish every ramp; settings stay."""
        for stage in self.stages:
            stage.clear()
        self._engaged.to(self._engaged.target, 0)

    def busy(self) -> bool:
        """A ramp, crossfade or tail is under way somewhere in the chain."""
        return self._engaged.moving or any(s.live and (s.busy() or not s.settings["on"]) for s in self.stages)

    def to_dict(self) -> dict[str, Any]:
        """Every setting, JSON-able: ``{"bypass": b, "filter": {"on": b, "mode": ...}, ...}``."""
        return {"bypass": self.bypass, **{s.name: dict(s.settings) for s in self.stages}}

    def load_dict(self, d: dict[str, Any]) -> None:
        """Apply settings saved by :meth:`to_dict` (ramped; missing keys keep their value).
        Everything is checked before anything changes; switches go last, so an effect
        switched on starts at its new settings instead of ramping to them."""
        if not isinstance(d, dict):
            raise EffectsError(f"effects settings: expected a JSON object, got {type(d).__name__}")
        changes = []
        for key, v in d.items():
            if key == "bypass":
                changes.append((BYPASS, v))
            elif isinstance(v, dict):
                changes += [(f"{PREFIX}{key}/{p}", pv) for p, pv in v.items()]
            else:
                raise EffectsError(f"effects settings: {key!r} is not an effect")
        checked: list[tuple[str, tuple]] = []
        for address, v in changes:
            self._locate(address)
            try:
                checked.append((address, NAMESPACE[address].validate((v,))))
            except SchemaError as e:
                raise EffectsError(f"{address}: {e}") from None
        for address, values in sorted(checked, key=lambda c: c[0].endswith(("/on", "/bypass"))):
            self.set(address, values)

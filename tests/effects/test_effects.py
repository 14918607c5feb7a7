"""The post-effects chain (real pedalboard, no mocks): passthrough, what each effect does,
click-free changes, spillover, determinism, settings.

Click metric (ecosystem.md §4.3): a steady 233 Hz sine at −8 dBFS runs through the chain
and one setting changes mid-way (a jump, both ways, or a one-second fader sweep: a new
value every 40 ms frame); the output is high-passed above 8 kHz (an FFT brick wall,
ends tapered) and the burst is the peak of that residual from just before the change to
the end (delay echoes of a click arrive up to 2 s later). Some settings make HF of their
own (drive, a fast compressor or limiter bends the sine), so the fair bound is the steady
HF of the settings before and after the change, each run alone (and, for a numeric change
that exceeds that, of 16 settings along the way): a case passes when its burst is below
−70 dBFS or at most 3 dB over that bound. For clean settings the bound is
around −100 dBFS, so the −70 dBFS limit is the one that applies.
"""

from __future__ import annotations

import itertools
import json
from functools import cache

import numpy as np
import pedalboard as pb
import pytest

from mrtd.constants import FRAME as B
from mrtd.constants import SAMPLE_RATE as SR
from mrtd.effects.chain import DRIVE_REF, TAIL, EffectsChain, EffectsError
from mrtd.errors import UserError
from mrtd.osc_schema import NAMESPACE
from mrtd.osc_schema.namespace import FX_CHAIN, FX_DEFAULTS

FX = "/mrtd/fx/"
CLICK_DB = -70.0
OVER_STEADY_DB = 3.0
PRE_S, POST_S, TAPER_S = 0.6, 2.2, 0.05
SWEEP_STEPS = 25  # a fader moved over one second: a new value every 40 ms frame


# --------------------------------------------------------------------------- helpers


def db(v: float) -> float:
    return 20 * np.log10(max(float(v), 1e-12))


def rms_db(x: np.ndarray) -> float:
    return db(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def tone(hz: float, seconds: float, dbfs: float = -8.0, fade_s: float = 0.05) -> np.ndarray:
    """A stereo sine [n, 2] float32 that fades in (its onset must not click, nor its echoes)."""
    n = int(seconds * SR)
    x = 10 ** (dbfs / 20) * np.sin(2 * np.pi * hz * np.arange(n) / SR)
    f = min(n, int(fade_s * SR))
    x[:f] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(f) / f)
    return np.repeat(x[:, None], 2, 1).astype(np.float32)


def run(chain: EffectsChain, x: np.ndarray, at: dict[int, list[tuple[str, tuple]]] | None = None) -> np.ndarray:
    """Stream x through the chain block by block; ``at[block]`` settings apply before it."""
    out = np.empty_like(x)
    for k in range(len(x) // B):
        for address, values in (at or {}).get(k, []):
            chain.set(address, values)
        out[k * B:(k + 1) * B] = chain.process(x[k * B:(k + 1) * B])
    return out


def chain_with(settings: dict[str, tuple]) -> EffectsChain:
    """A fresh chain with ``settings``; switches last, so the effects start at their settings."""
    c = EffectsChain(SR, B)
    for address, values in sorted(settings.items(), key=lambda kv: kv[0].endswith(("/on", "/bypass"))):
        c.set(address, values)
    return c


def highpass(x: np.ndarray, hz: float = 8000.0) -> np.ndarray:
    """Brick-wall high-pass of the left channel, ends tapered so the FFT's wrap-around
    does not leak into the band."""
    y = x[:, 0].astype(np.float64)
    t = int(TAPER_S * SR)
    w = 0.5 - 0.5 * np.cos(np.pi * np.arange(t) / t)
    y[:t] *= w
    y[-t:] *= w[::-1]
    spec = np.fft.rfft(y)
    spec[np.fft.rfftfreq(len(y), 1 / SR) < hz] = 0
    return np.fft.irfft(spec, len(y))


CHANGE = int(PRE_S * SR) // B  # block at which the setting changes
BLOCKS = CHANGE + int(POST_S * SR) // B
SINE = tone(233.0, BLOCKS * B / SR)
WINDOW = slice(CHANGE * B - B // 2, BLOCKS * B - 2 * int(TAPER_S * SR))


def hf_peak(settings: dict[str, tuple], at: dict[int, list[tuple[str, tuple]]] | None = None) -> float:
    """dBFS peak of the >8 kHz residual in the window, for the sine through a chain with
    ``settings`` from the start and the changes ``at`` blocks."""
    out = run(chain_with(settings), SINE, at)
    return db(np.abs(highpass(out)[WINDOW]).max())


@cache
def steady_hf(settings: tuple) -> float:
    return hf_peak(dict(settings))


def changes(before: dict[str, tuple], after: dict[str, tuple], steps: int) -> dict[int, list[tuple[str, tuple]]]:
    """``after`` at block CHANGE, or with ``steps`` > 1 a fader sweep: one evenly spaced
    value per block (40 ms) from ``before`` to ``after``."""
    if steps == 1:
        return {CHANGE: list(after.items())}
    ((address, (a,)),), ((_, (b,)),) = before.items(), after.items()
    return {CHANGE + i: [(address, (float(a + (b - a) * (i + 1) / steps),))] for i in range(steps)}


def click(base: dict[str, tuple], before: dict[str, tuple], after: dict[str, tuple],
          steps: int = 1) -> tuple[float, float]:
    """(burst, bound) in dBFS for a change from ``before`` to ``after`` on top of ``base``."""
    start = {**base, **before}
    burst = hf_peak(start, changes(before, after, steps))
    bound = max(steady_hf(tuple(start.items())), steady_hf(tuple({**start, **after}.items())))
    return burst, bound


# --------------------------------------------------------------------------- click cases

def on(name: str, flag: bool = True) -> dict[str, tuple]:
    return {f"{FX}{name}/on": (flag,)}


# Musically large jumps for every numeric parameter, and the settings that make each one
# audible (a compressor below its threshold would hide a ratio click). Anything the schema
# gains gets a min → max case from JUMP_DEFAULT until listed here.
JUMPS: dict[tuple[str, str], tuple[float, float]] = {
    ("filter", "cutoff_hz"): (300.0, 8000.0), ("filter", "resonance"): (0.0, 0.95), ("filter", "drive"): (1.0, 10.0),
    ("drive", "drive_db"): (0.0, 30.0),
    ("chorus", "rate_hz"): (0.1, 8.0), ("chorus", "depth"): (0.0, 1.0), ("chorus", "centre_delay_ms"): (1.0, 30.0),
    ("chorus", "feedback"): (-0.9, 0.9), ("chorus", "mix"): (0.0, 1.0),
    ("delay", "time_s"): (0.1, 0.8), ("delay", "feedback"): (0.0, 0.95), ("delay", "mix"): (0.0, 1.0),
    ("reverb", "room_size"): (0.0, 1.0), ("reverb", "damping"): (0.0, 1.0), ("reverb", "width"): (0.0, 1.0),
    ("reverb", "mix"): (0.0, 1.0),
    ("compressor", "threshold_db"): (0.0, -40.0), ("compressor", "ratio"): (1.0, 20.0),
    ("compressor", "attack_ms"): (0.5, 100.0), ("compressor", "release_ms"): (10.0, 1000.0),
    ("limiter", "threshold_db"): (-1.0, -20.0), ("limiter", "release_ms"): (10.0, 1000.0),
    ("gain", "gain_db"): (0.0, -30.0),
}
CONTEXT: dict[tuple[str, str], dict[str, tuple]] = {
    ("compressor", "ratio"): {f"{FX}compressor/threshold_db": (-30.0,)},
    ("compressor", "attack_ms"): {f"{FX}compressor/threshold_db": (-30.0,)},
    ("compressor", "release_ms"): {f"{FX}compressor/threshold_db": (-30.0,)},
    ("limiter", "release_ms"): {f"{FX}limiter/threshold_db": (-20.0,)},
    ("filter", "resonance"): {f"{FX}filter/cutoff_hz": (1000.0,)},
    ("chorus", "centre_delay_ms"): {f"{FX}chorus/feedback": (0.9,)},  # a jump would recirculate
}
# Every effect on at its defaults, tails and all: bypass and on/off run against this.
ALL_ON = {f"{FX}{n}/on": (True,) for n in FX_CHAIN}


def jump(name: str, param: str) -> tuple[float, float]:
    if (name, param) in JUMPS:
        return JUMPS[name, param]
    arg = next(a for a in FX_CHAIN[name] if a.name == param)
    return float(arg.min), float(arg.max)


def click_cases() -> list:
    cases = []
    for name in FX_CHAIN:  # on/off of each effect alone
        cases.append(pytest.param({}, on(name, False), on(name), 1, id=f"{name}-on"))
        cases.append(pytest.param({}, on(name), on(name, False), 1, id=f"{name}-off"))
    cases.append(pytest.param(ALL_ON, {f"{FX}bypass": (False,)}, {f"{FX}bypass": (True,)}, 1, id="bypass-on"))
    cases.append(pytest.param(ALL_ON, {f"{FX}bypass": (True,)}, {f"{FX}bypass": (False,)}, 1, id="bypass-off"))
    for name, args in FX_CHAIN.items():
        for arg in args:
            if arg.kind != "float":
                continue
            lo, hi = jump(name, arg.name)
            base = {**on(name), **CONTEXT.get((name, arg.name), {})}
            address = f"{FX}{name}/{arg.name}"
            for a, b, way in ((lo, hi, "up"), (hi, lo, "down")):
                cases.append(pytest.param(base, {address: (a,)}, {address: (b,)}, 1, id=f"{name}.{arg.name}-{way}"))
            cases.append(pytest.param(base, {address: (lo,)}, {address: (hi,)}, SWEEP_STEPS,
                                      id=f"{name}.{arg.name}-sweep"))
    modes = next(a for a in FX_CHAIN["filter"] if a.name == "mode").choices
    for a, b in zip(modes, modes[1:] + modes[:1]):
        base = {**on("filter"), f"{FX}filter/cutoff_hz": (1000.0,)}
        cases.append(pytest.param(base, {f"{FX}filter/mode": (a,)}, {f"{FX}filter/mode": (b,)}, 1,
                                  id=f"filter.mode-{a}-{b}"))
    return cases


CLICK_CASES = click_cases()


def test_click_cases_cover_every_numeric_parameter_and_toggle():
    ids = {c.id for c in CLICK_CASES}
    for name, args in FX_CHAIN.items():
        assert {f"{name}-on", f"{name}-off"} <= ids
        for arg in args:
            if arg.kind == "float":
                assert {f"{name}.{arg.name}-{way}" for way in ("up", "down", "sweep")} <= ids


def path_bound(base: dict[str, tuple], before: dict[str, tuple], after: dict[str, tuple], points: int = 16) -> float:
    """Steady HF of settings along the way of a numeric change: a limiter whose threshold
    passes the signal's peak distorts more there than at either end."""
    ((address, (a,)),), ((_, (b,)),) = before.items(), after.items()
    start = {**base, **before}
    return max(steady_hf(tuple({**start, address: (float(v),)}.items()))
               for v in np.linspace(a, b, points + 2)[1:-1])


def click_limit(base: dict[str, tuple], before: dict[str, tuple], after: dict[str, tuple],
                steps: int = 1) -> tuple[float, float]:
    """(burst, limit) in dBFS, the fair bound taken along the way only where the ends do not do."""
    burst, bound = click(base, before, after, steps)
    limit = max(CLICK_DB, bound + OVER_STEADY_DB)
    if burst >= limit and isinstance(next(iter(after.values()))[0], float):
        limit = max(limit, path_bound(base, before, after) + OVER_STEADY_DB)
    return burst, limit


@pytest.mark.parametrize("base,before,after,steps", CLICK_CASES)
def test_no_click(base, before, after, steps):
    burst, limit = click_limit(base, before, after, steps)
    assert burst < limit, f"HF burst {burst:.1f} dBFS, limit {limit:.1f}"


@pytest.mark.parametrize("name", list(FX_CHAIN))
def test_no_click_switching_every_frame(name):
    """On, off, on, ... a new state every 40 ms frame, fades interrupted mid-way."""
    address = f"{FX}{name}/on"
    burst = hf_peak({address: (False,)}, {CHANGE + i: [(address, (i % 2 == 0,))] for i in range(12)})
    bound = max(steady_hf(((address, (False,)),)), steady_hf(((address, (True,)),)))
    assert burst < max(CLICK_DB, bound + OVER_STEADY_DB)


def test_click_metric_sees_a_click():
    """The metric is not blind: a 0 → −12 dB gain step at a block boundary (what pedalboard's
    Gain does) measures about −24 dBFS (ecosystem.md §4.3)."""
    g = pb.Gain(0.0)
    out = np.empty_like(SINE)
    for k in range(BLOCKS):
        if k == CHANGE:
            g.gain_db = -12.0
        out[k * B:(k + 1) * B] = g.process(SINE[k * B:(k + 1) * B], SR, reset=False)
    assert db(np.abs(highpass(out)[WINDOW]).max()) > -40
    assert steady_hf(()) < -95  # the sine alone


# --------------------------------------------------------------------------- passthrough, API


def noise(seconds: float, level: float = 0.1, seed: int = 0, whole: bool = True) -> np.ndarray:
    """Stereo white noise, whole blocks long unless ``whole`` is False."""
    n = int(seconds * SR)
    n = n // B * B if whole else n
    return (np.random.default_rng(seed).standard_normal((n, 2)) * level).astype(np.float32)


def test_default_chain_is_bit_exact_passthrough():
    c = EffectsChain()
    x = noise(1.0)
    keep = x.copy()
    out = run(c, x)
    assert np.array_equal(out, x) and np.array_equal(x, keep)
    assert all(c.value(p.address) == p.default for p in NAMESPACE if p.address.startswith(FX))


def test_process_reuses_its_buffer_and_leaves_the_input_alone():
    c = chain_with(ALL_ON)
    x = noise(0.08)
    keep = x.copy()
    a = c.process(x[:B])
    b = c.process(x[B:])
    assert a is b and a.dtype == np.float32 and a.shape == (B, 2)
    assert np.array_equal(x, keep)
    with pytest.raises(ValueError):
        c.process(x[:100])


def test_everything_off_again_returns_to_bit_exact_passthrough():
    """After all effects are switched off and the tails have rung out, the chain is idle."""
    x = noise(12.0, 0.05)
    c = chain_with(ALL_ON)
    out = run(c, x, {10: [(f"{FX}{n}/on", (False,)) for n in FX_CHAIN]})
    assert not any(s.live for s in c.stages)
    last = 2 * SR // B * B
    assert np.array_equal(out[-last:], x[-last:])


def test_bypass_is_bit_exact_once_faded():
    x = noise(1.0)
    c = chain_with({**ALL_ON, f"{FX}bypass": (True,)})
    out = run(c, x)
    assert np.array_equal(out[B * 4:], x[B * 4:])  # the bypass fade is over within 2 blocks
    assert c.value(f"{FX}bypass") == (True,)


@pytest.mark.parametrize("address", [f"{FX}nope/on", f"{FX}filter/nope", f"{FX}filter", "/mrtd/volume",
                                     f"{FX}bypass/x"])
def test_unknown_address_is_refused(address):
    c = EffectsChain()
    with pytest.raises(EffectsError, match="not an effects address") as e:
        c.set(address, (1.0,))
    assert isinstance(e.value, UserError) and isinstance(e.value, ValueError)
    with pytest.raises(EffectsError):
        c.value(address)


def test_bad_values_are_refused_and_change_nothing():
    c = EffectsChain()
    with pytest.raises(EffectsError, match="out of range"):
        c.set(f"{FX}gain/gain_db", (99.0,))
    with pytest.raises(EffectsError, match="lowpass12"):
        c.set(f"{FX}filter/mode", ("notch",))
    assert c.to_dict() == EffectsChain().to_dict()


def test_handles():
    assert EffectsChain.handles(f"{FX}gain/on") and EffectsChain.handles(f"{FX}bypass")
    assert not EffectsChain.handles("/mrtd/volume")


def test_to_dict_load_dict_round_trip():
    c = EffectsChain()
    for name, args in FX_CHAIN.items():  # every setting away from its default
        c.set(f"{FX}{name}/on", (True,))
        for arg in args:
            if arg.kind == "enum":
                value = arg.choices[-1]
            else:
                value = arg.min + 0.3 * (arg.max - arg.min)
            c.set(f"{FX}{name}/{arg.name}", (value,))
    c.set(f"{FX}bypass", (True,))
    d = json.loads(json.dumps(c.to_dict()))
    assert d != EffectsChain().to_dict()
    c2 = EffectsChain()
    c2.load_dict(d)
    assert c2.to_dict() == d
    x = noise(0.4)
    c3 = EffectsChain()
    c3.load_dict(d)
    assert np.array_equal(run(c2, x), run(c3, x))
    for p in NAMESPACE:
        if p.address.startswith(FX):
            assert c2.value(p.address) == c.value(p.address)


def test_load_dict_checks_everything_first():
    c = EffectsChain()
    with pytest.raises(EffectsError):
        c.load_dict({"gain": {"on": True, "gain_db": 100.0}})
    with pytest.raises(EffectsError):
        c.load_dict({"gain": {"on": True}, "wobble": {"on": True}})
    with pytest.raises(EffectsError):
        c.load_dict({"gain": 3})
    assert c.to_dict() == EffectsChain().to_dict()
    c.load_dict({"gain": {"on": True}})  # partial: the rest keeps its value
    assert c.value(f"{FX}gain/on") == (True,) and c.value(f"{FX}gain/gain_db") == (FX_DEFAULTS["gain"]["gain_db"],)


# --------------------------------------------------------------------------- determinism


def schedule() -> dict[int, list[tuple[str, tuple]]]:
    """Many overlapping changes touching every effect, a switched parameter mid-crossfade,
    on/off during tails, bypass, and a reset."""
    at: dict[int, list[tuple[str, tuple]]] = {0: [(a, v) for a, v in ALL_ON.items()]}
    k = 2
    for name, args in FX_CHAIN.items():
        for arg in args:
            if arg.kind == "enum":
                values = [arg.choices[2], arg.choices[4]]
            else:
                values = [arg.min + 0.7 * (arg.max - arg.min), arg.min + 0.2 * (arg.max - arg.min)]
            for v in values:
                at.setdefault(k, []).append((f"{FX}{name}/{arg.name}", (v,)))
                k += 1
    at.setdefault(5, []).append((f"{FX}delay/on", (False,)))
    at.setdefault(9, []).append((f"{FX}delay/on", (True,)))
    at.setdefault(20, []).append((f"{FX}bypass", (True,)))
    at.setdefault(22, []).append((f"{FX}bypass", (False,)))
    return at


def test_streaming_is_deterministic():
    x = noise(3.0, 0.2) + tone(233.0, 3.0)[: len(noise(3.0))]
    a = run(EffectsChain(), x, schedule())
    b = run(EffectsChain(), x, schedule())
    assert np.array_equal(a, b)
    assert not np.array_equal(a, x) and np.isfinite(a).all()


def test_reset_clears_tails_and_keeps_settings():
    x = noise(0.4)
    c = chain_with({**on("delay"), **on("reverb"), f"{FX}delay/mix": (1.0,)})
    run(c, x)
    d = c.to_dict()
    c.reset()
    assert c.to_dict() == d
    silent = run(c, np.zeros((4 * B, 2), np.float32))
    assert np.abs(silent).max() == 0.0
    c2 = chain_with({**on("delay"), **on("reverb"), f"{FX}delay/mix": (1.0,)})
    c2.reset()
    assert np.array_equal(run(c, x), run(c2, x))  # as good as new


# --------------------------------------------------------------------------- what each effect does


def through(settings: dict[str, tuple], x: np.ndarray, settle: int = 6) -> np.ndarray:
    """Output for x after ``settle`` blocks of x have run (ramps and envelopes settled)."""
    c = chain_with(settings)
    run(c, np.tile(x[:B], (settle, 1)) if len(x) >= B else x)
    return run(c, x)


def test_lowpass_and_highpass():
    lo, hi = tone(100.0, 0.4, -12, 0), tone(5000.0, 0.4, -12, 0)
    lp = {**on("filter"), f"{FX}filter/mode": ("lowpass24",), f"{FX}filter/cutoff_hz": (500.0,),
          f"{FX}filter/resonance": (0.0,)}
    hp = {**lp, f"{FX}filter/mode": ("highpass24",)}
    for settings, passed, cut in ((lp, lo, hi), (hp, hi, lo)):
        assert rms_db(through(settings, cut)) < rms_db(cut) - 20
        assert abs(rms_db(through(settings, passed)) - rms_db(passed)) < 3


def test_drive_adds_harmonics_and_keeps_its_level():
    x = tone(500.0, 0.4, -12, 0)

    def odd_harmonics(y: np.ndarray) -> float:
        spec = np.abs(np.fft.rfft(y[:, 0] * np.hanning(len(y))))
        f = np.fft.rfftfreq(len(y), 1 / SR)
        fund = spec[np.argmin(abs(f - 500))]
        return db(max(spec[np.argmin(abs(f - 500 * h))] for h in (3, 5, 7)) / fund)

    clean = odd_harmonics(x)
    y = through({**on("drive"), f"{FX}drive/drive_db": (30.0,)}, x)
    assert odd_harmonics(y) > clean + 40 and odd_harmonics(y) > -20
    assert np.abs(y).max() == pytest.approx(DRIVE_REF, rel=0.01)  # makeup: a −12 dBFS peak stays there
    # the stage is pedalboard.Distortion's tanh(gain·x), scaled by the makeup
    g = 10 ** (30 / 20)
    ref = pb.Distortion(30.0).process(x, SR) * (DRIVE_REF / np.tanh(g * DRIVE_REF))
    assert np.abs(y - ref).max() < 1e-5


def test_delay_echo_at_its_time():
    at = 5000  # after the 50 ms switch-on fade
    burst = np.zeros((SR // B * B * 2, 2), np.float32)
    burst[at:at + 480] = noise(0.01, 0.5, whole=False)
    y = run(chain_with({**on("delay"), f"{FX}delay/time_s": (0.25,), f"{FX}delay/feedback": (0.5,),
                        f"{FX}delay/mix": (1.0,)}), burst)
    # mix 1 is wet only: the burst is gone, its echoes at 0.25 s and 0.5 s (half as loud)
    xc = np.correlate(y[:, 0], burst[at:at + 480, 0], "valid")
    assert int(np.argmax(np.abs(xc))) == at + 12000
    assert xc[at + 24000] == pytest.approx(0.5 * xc[at + 12000], rel=1e-3)
    assert np.abs(y[2400:at + 12000]).max() == 0.0


def test_delay_and_reverb_spill_over_then_stop():
    burst = np.zeros((SR // B * B * 8, 2), np.float32)
    burst[:4800] = noise(0.1, 0.3, whole=False)
    for name in ("delay", "reverb"):
        c = chain_with({**on(name), f"{FX}{name}/mix": (0.5,)})
        off_at = 4  # after the burst, well before the first echo of the delay
        y = run(c, burst, {off_at: [(f"{FX}{name}/on", (False,))]})
        after = y[(off_at + 2) * B:]
        assert np.abs(after).max() > 0.01, name  # the tail rings on after switch-off
        assert not c.stages[list(FX_CHAIN).index(name)].live, name  # ... and then stops
        tail = np.nonzero(np.abs(after[:, 0]) > TAIL)[0]
        assert tail[-1] < len(after) - B, name


def test_delay_switched_on_again_starts_clean():
    c = chain_with({**on("delay"), f"{FX}delay/mix": (1.0,), f"{FX}delay/time_s": (0.5,)})
    x = noise(0.2, 0.3)
    run(c, x, {2: [(f"{FX}delay/on", (False,))]})
    while c.stages[list(FX_CHAIN).index("delay")].live:  # ring out
        run(c, np.zeros((B, 2), np.float32))
    c.set(f"{FX}delay/on", (True,))
    assert np.abs(run(c, np.zeros((20 * B, 2), np.float32))).max() == 0.0


def test_reverb_adds_a_decaying_tail():
    burst = np.zeros((SR // B * B * 2, 2), np.float32)
    burst[:4800] = noise(0.1, 0.3, whole=False)
    y = run(chain_with({**on("reverb"), f"{FX}reverb/room_size": (0.8,)}), burst)
    seg = [rms_db(y[4800 + i * 4800: 4800 + (i + 1) * 4800]) for i in range(6)]
    assert seg[0] > -40 and all(a > b for a, b in itertools.pairwise(seg)) and seg[0] - seg[-1] > 10


def test_compressor_reduces_by_threshold_and_ratio():
    x = tone(233.0, 1.0, -8, 0)
    y = through({**on("compressor"), f"{FX}compressor/threshold_db": (-28.0,), f"{FX}compressor/ratio": (4.0,),
                 f"{FX}compressor/attack_ms": (1.0,), f"{FX}compressor/release_ms": (200.0,)}, x, settle=15)
    # 20 dB over the threshold at 4:1 comes out 5 dB over: 15 dB less (the envelope ripples)
    assert db(np.abs(y).max()) == pytest.approx(-8 - 15, abs=1.5)
    quiet = tone(233.0, 1.0, -40, 0)
    yq = through({**on("compressor"), f"{FX}compressor/threshold_db": (-28.0,)}, quiet, settle=15)
    assert np.abs(yq - quiet).max() < 1e-6  # below the threshold: untouched, no makeup


def test_limiter_holds_peaks_at_the_threshold_and_leaves_quiet_material():
    loud = noise(1.0, 0.3) * 3
    y = through({**on("limiter"), f"{FX}limiter/threshold_db": (-6.0,)}, loud)
    assert np.abs(y).max() <= 10 ** (-6 / 20) * 1.01
    quiet = tone(233.0, 1.0, -20, 0)
    yq = through({**on("limiter"), f"{FX}limiter/threshold_db": (-6.0,)}, quiet)
    assert np.abs(yq - quiet).max() < 1e-6


def test_gain_doubles_after_its_ramp():
    x = tone(233.0, 0.4, -12, 0)
    c = EffectsChain()
    run(c, x)
    c.set(f"{FX}gain/on", (True,))
    c.set(f"{FX}gain/gain_db", (20 * np.log10(2),))
    y = run(c, x)
    np.testing.assert_allclose(y[2 * B:], 2 * x[2 * B:], rtol=1e-5, atol=1e-7)
    first = y[:B, 0] / np.where(x[:B, 0] == 0, 1, x[:B, 0])
    assert first[10] < 1.1  # ramped, not stepped


def test_chorus_mix_is_a_linear_wet_dry_mix():
    x = noise(0.4)
    dry = through({**on("chorus"), f"{FX}chorus/mix": (0.0,)}, x)
    wet = through({**on("chorus"), f"{FX}chorus/mix": (1.0,)}, x)
    half = through({**on("chorus"), f"{FX}chorus/mix": (0.5,)}, x)
    np.testing.assert_allclose(half, 0.5 * dry + 0.5 * wet, atol=1e-6)
    assert np.array_equal(dry, x) and rms_db(wet - x) > -30

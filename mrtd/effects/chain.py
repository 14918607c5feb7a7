"""The post-effects chain: filter → drive → chorus → delay → reverb → compressor → limiter → gain.

The engine runs it on the generation thread, one 40 ms block (one model frame) per call.
Effects, parameters, ranges and defaults all come from the OSC schema
(``FX_CHAIN``/``FX_DEFAULTS``); everything defaults to off, and a chain that is off is a
bit-exact passthrough. Every control is click-free, which ``tests/effects/test_effects.py``
measures (pedalboard's behaviour: ecosystem.md §4). The pieces, each with its reasons:

* :mod:`mrtd.effects.ramps` — per-sample ramps for every numeric setting;
* :mod:`mrtd.effects.stage` — one stage's on/off crossfade and spillover;
* :mod:`mrtd.effects.plugin` — pedalboard plugins at one block size, sub-block parameter
  steps, twin crossfades for parameters that jump;
* :mod:`mrtd.effects.stages` and :mod:`mrtd.effects.delay` — the effects themselves.

Here: **bypass** crossfades the whole chain with its input and the chain keeps running,
so un-bypassing is seamless and compares like with like. **Fixed blocks**: the chain
always takes whole frames, whatever the JACK period, so plugins never see a new block
size. **Deterministic**: the same settings at the same blocks give bit-identical output.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mrtd.constants import CHANNELS, FRAME, SAMPLE_RATE
from mrtd.effects.ramps import FADE_S, Ramp
from mrtd.effects.stage import TAIL, Stage
from mrtd.effects.stages import DRIVE_REF, STAGES
from mrtd.errors import ControlError
from mrtd.osc_schema import NAMESPACE, SchemaError
from mrtd.osc_schema.namespace import FX_CHAIN

__all__ = ["BYPASS", "DRIVE_REF", "PREFIX", "TAIL", "EffectsChain", "EffectsError"]

PREFIX = "/mrtd/fx/"
BYPASS = PREFIX + "bypass"
SETTINGS = "effects settings"  # what a refused settings dict (a bank) is reported as


class EffectsError(ControlError, ValueError):
    """A /mrtd/fx address or value the chain does not take: the address and the reason,
    kept apart like every control's (``ControlError``)."""


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
        self._x = np.zeros((CHANNELS, block), np.float32)
        self._work = np.zeros((CHANNELS, block), np.float32)
        self._out = np.zeros((block, CHANNELS), np.float32)

    @staticmethod
    def handles(address: str) -> bool:
        return address.startswith(PREFIX)

    def _locate(self, address: str) -> tuple[Stage | None, str]:
        if address == BYPASS:
            return None, "bypass"
        parts = address[len(PREFIX):].split("/") if self.handles(address) else []
        stage = self._by_name.get(parts[0]) if len(parts) == 2 else None
        if stage is None or parts[1] not in stage.settings:
            raise EffectsError(address, "not an effects address (see `python -m mrtd.osc_schema`)")
        return stage, parts[1]

    def set(self, address: str, values: tuple) -> None:
        """Change one setting; it takes effect, ramped, from the next :meth:`process`."""
        stage, param = self._locate(address)
        try:
            (value,) = NAMESPACE[address].validate(values)
        except SchemaError as e:
            raise EffectsError(address, str(e)) from None
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
        if dry.shape != (self.block, CHANNELS):
            raise ValueError(f"effects: expected a [{self.block}, {CHANNELS}] block, got {list(dry.shape)}")
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
        self._engaged.finish()

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
            raise EffectsError(SETTINGS, f"expected a JSON object, got {type(d).__name__}")
        changes = []
        for key, v in d.items():
            if key == "bypass":
                changes.append((BYPASS, v))
            elif isinstance(v, dict):
                changes += [(f"{PREFIX}{key}/{p}", pv) for p, pv in v.items()]
            else:
                raise EffectsError(SETTINGS, f"{key!r} is not an effect")
        checked: list[tuple[str, tuple]] = []
        for address, v in changes:
            self._locate(address)
            try:
                checked.append((address, NAMESPACE[address].validate((v,))))
            except SchemaError as e:
                raise EffectsError(address, str(e)) from None
        for address, values in sorted(checked, key=lambda c: c[0].endswith(("/on", "/bypass"))):
            self.set(address, values)

"""The post-effects chain (pedalboard): filter, drive, chorus, delay, reverb, compressor,
limiter, gain, in fixed 40 ms blocks on the generation thread, every parameter ramped."""

from mrtd.effects.chain import EffectsChain, EffectsError

__all__ = ["EffectsChain", "EffectsError"]

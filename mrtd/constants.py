"""The numbers every stage shares, defined once: MRT2's audio rate and frame, and dB.

MRT2 makes 48 kHz stereo in 40 ms frames (1920 samples, 25 frames a second); the JACK
host, the output queue, the effects, the engine and the benchmarks all count in these.
"""

from __future__ import annotations

SAMPLE_RATE = 48000  # Hz: MRT2's codec rate; JACK must run at it
FRAME = 1920  # samples per generated frame (40 ms)
FRAME_RATE = SAMPLE_RATE // FRAME  # 25 frames a second
CHANNELS = 2  # stereo out

DEFAULT_OSC_PORT = 9000
DEFAULT_OSCQUERY_PORT = 9001


def db_to_gain(db: float) -> float:
    """Decibels to a linear amplitude factor (0 dB = 1.0)."""
    return 10.0 ** (db / 20.0)

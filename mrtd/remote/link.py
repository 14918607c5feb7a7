"""Ableton Link as a tempo source, through the LinkPython-extern binding (``import link``).

Chosen by test among the maintained PyPI bindings: LinkPython-extern (pybind11 over the
official Link library, wheels for Linux) joins a session, finds peers on the same machine
and follows their tempo changes synchronously, so the generation thread can poll it per
frame with no event loop (aalink, the other candidate, is asyncio-only). It is optional:
``pip install 'mrtd[link]'``; ``/mrtd/tempo/source link`` without it is refused, saying so.

The session's beat at the moment a frame plays is read on the generation thread: Link's
clock now, plus how far ahead of what is heard that frame is (its output stream sample
minus the one playing now), with the bar length (Link's *quantum*) the meter's beats per
bar.
"""

from __future__ import annotations

from typing import Any

from mrtd.engine.clock import Position
from mrtd.errors import ControlError

INSTALL = "pip install 'mrtd[link]' (the LinkPython-extern package)"


def load_binding() -> Any:
    try:
        import link  # LinkPython-extern
    except ImportError:
        raise ControlError("/mrtd/tempo/source", f"Ableton Link needs the LinkPython-extern package: {INSTALL}") \
            from None
    return link


class LinkSource:
    """One Link session, enabled while mrtd follows it."""

    def __init__(self, bpm: float = 120.0, quantum: int = 4, beat_unit: int = 4):
        link = load_binding()
        self._link = link.Link(float(bpm))
        self._link.enabled = True
        self.quantum, self.beat_unit = int(quantum), int(beat_unit)

    def peers(self) -> int:
        return int(self._link.numPeers())

    def query(self, sample_now: int) -> Position:
        """The session's beat at output sample ``sample_now`` (the one heard now)."""
        state = self._link.captureSessionState()
        t = self._link.clock().micros()
        beats = float(state.beatAtTime(t, self.quantum))
        return Position(int(sample_now), beats, float(state.tempo()), self.quantum, self.beat_unit)

    def set_tempo(self, bpm: float) -> None:
        """Propose a tempo to the session (every peer follows it)."""
        state = self._link.captureSessionState()
        state.setTempo(float(bpm), self._link.clock().micros())
        self._link.commitSessionState(state)

    def set_meter(self, beats_per_bar: int, beat_unit: int) -> None:
        self.quantum, self.beat_unit = int(beats_per_bar), int(beat_unit)

    def close(self) -> None:
        self._link.enabled = False


def link_source(bpm: float, quantum: int) -> LinkSource:
    """The factory :class:`mrtd.engine.tempo.Tempo` calls when the source becomes link."""
    return LinkSource(bpm, quantum)


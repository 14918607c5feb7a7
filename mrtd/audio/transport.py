"""The JACK transport as a tempo source: polled from the generation thread, never from
the process callback.

``jack_transport_query`` gives the position of the current cycle (bar, beat, tick and
BPM when a timebase master provides them), and ``jack_last_frame_time`` the JACK frame
time of that cycle's start (read before and after, so both are of one cycle).
:class:`JackTransport` turns it, through the (output stream sample, JACK frame time)
pair the process callback notes at each cycle (:meth:`JackHost.cycle_clock`), into the
output stream sample the position belongs to. Frame counts only, no wall clock: a
server that runs late (a loaded machine, the dummy backend) keeps the mapping exact.
the engine's :class:`~mrtd.engine.tempo.Tempo` then maps it onto the frame that plays
at that moment. Without a timebase master (no BBT) there is no tempo to follow: the
query answers None and the grid runs on by itself.
"""

from __future__ import annotations

from mrtd.audio.jack_host import JackHost
from mrtd.engine.clock import Position


def _wrap(d: int) -> int:
    """A difference of two 32-bit JACK frame times, as a signed number."""
    d &= 0xFFFFFFFF
    return d - (1 << 32) if d >= 1 << 31 else d


class JackTransport:
    """The transport of the JACK server ``host`` plays on."""

    def __init__(self, host: JackHost):
        self.host = host

    def query(self, sample_now: int) -> Position | None:
        import jack

        host = self.host
        client = host.client
        if client is None or host.lost.is_set():
            return None
        try:
            for _ in range(4):  # the position and the frame time of one cycle
                cycle = client.last_frame_time
                state, pos = client.transport_query()
                if client.last_frame_time == cycle:
                    break
            else:
                return None
        except Exception:  # noqa: BLE001  the server went away between the check and the call
            return None
        if "bar" not in pos or not pos.get("beats_per_minute"):
            return None  # no timebase master: nothing to follow
        clock = host.cycle_clock()
        if clock is None:
            return None
        cycle_sample, cycle_jack = clock
        sample = cycle_sample + _wrap(cycle - cycle_jack) - int(pos.get("bbt_offset", 0))
        bpb = max(1, round(pos["beats_per_bar"]))
        tpb = pos["ticks_per_beat"] or 1920.0
        beats = (pos["bar"] - 1) * bpb + (pos["beat"] - 1) + pos["tick"] / tpb
        return Position(sample, float(beats), float(pos["beats_per_minute"]), bpb,
                                 max(1, round(pos["beat_type"])), state == jack.ROLLING)

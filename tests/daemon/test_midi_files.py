"""/mrtd/midi/play in a running `mrtd serve` (real `jackd -d dummy`, liblo's oscsend and
oscdump): a file from the data folder's midi/ plays its notes, refusals come back as
/mrtd/error, and a stop releases what the file holds."""

from __future__ import annotations

import mido
import pytest
from support.liblo import oscsend
from support.ports import free_udp_tcp_port

pytestmark = pytest.mark.jack


def held_note_file(path) -> None:
    """C4 at once, held for 8 seconds (so it is sounding when the test stops the file)."""
    m = mido.MidiFile(ticks_per_beat=480)
    m.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500000, time=0),
                                    mido.Message("note_on", note=60, velocity=100, time=0),
                                    mido.Message("note_off", note=60, time=480 * 16)]))
    m.save(str(path))


def test_play_refuse_and_stop_in_the_daemon(serve, osc_dump, tmp_path):
    midi = tmp_path / "mrtd" / "midi"
    midi.mkdir(parents=True)
    held_note_file(midi / "held.mid")
    (tmp_path / "outside.mid").write_bytes((midi / "held.mid").read_bytes())
    s = serve()
    dump = osc_dump(free_udp_tcp_port())
    oscsend(s.osc_port, "/mrtd/subscribe", "i", dump.port)
    dump.wait_for(lambda m: m.address == "/mrtd/subscribed")

    for name, words in (("missing.mid", "no such file"), ("../outside.mid", "'..' is refused")):
        oscsend(s.osc_port, "/mrtd/midi/play", "s", name)
        err = dump.wait_for(lambda m, words=words: m.address == "/mrtd/error" and "/mrtd/midi/play" in m.args[0]
                            and words in " ".join(m.args), timeout=10)
        assert err is not None

    oscsend(s.osc_port, "/mrtd/midi/play", "si", "held.mid", 1)
    dump.wait_for(lambda m: m.address == "/mrtd/midi/playing" and "held.mid" in " ".join(m.args), timeout=10)
    dump.wait_for(lambda m: m.address == "/mrtd/note/on" and m.args[0] == "60", timeout=10)
    since = len(dump.received)
    oscsend(s.osc_port, "/mrtd/midi/stop")
    dump.wait_for(lambda m: m.address == "/mrtd/note/off" and m.args[0] == "60", timeout=10)
    stopped = [m for m in dump.received[since:] if m.address == "/mrtd/midi/playing" and "".join(m.args).strip('"') == ""]
    assert stopped  # told on the frame of the stop, before its note offs
    assert not [m for m in dump.received if m.address == "/mrtd/error" and "held.mid" in " ".join(m.args)]

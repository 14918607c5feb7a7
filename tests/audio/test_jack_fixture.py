"""The private JACK server works end to end: a sine player feeds a recorder client.

Runs in freewheel mode, so the graph runs as fast as the clients allow and the
recording is deterministic (no timing, no xruns).
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

jack = pytest.importorskip("jack")

pytestmark = pytest.mark.jack


def _dominant_frequency(x: np.ndarray, sr: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * sr / len(x))


def test_server_has_dummy_system_ports(jack_server):
    ports = jack_server.ports()
    assert "system:playback_1" in ports and "system:capture_1" in ports


def test_sine_player_reaches_recorder(jack_server):
    sr, freq, seconds = jack_server.sample_rate, 441.0, 1.0
    want = int(sr * seconds)

    player = jack.Client("sine-player", servername=jack_server.name, no_start_server=True)
    recorder = jack.Client("recorder", servername=jack_server.name, no_start_server=True)
    assert player.samplerate == sr == recorder.samplerate
    out = player.outports.register("out")
    inp = recorder.inports.register("in")

    phase = {"n": 0}
    step = 2 * np.pi * freq / sr

    @player.set_process_callback
    def _play(frames: int) -> None:
        n = phase["n"]
        out.get_array()[:] = 0.5 * np.sin(step * (n + np.arange(frames)))
        phase["n"] = n + frames

    recorded = np.zeros(want, dtype=np.float32)
    filled = {"n": 0, "started": False}
    done = threading.Event()

    @recorder.set_process_callback
    def _record(frames: int) -> None:
        block = inp.get_array()
        if not filled["started"]:
            if not np.any(block):  # wait until the connection delivers audio
                return
            filled["started"] = True
        n = filled["n"]
        take = min(frames, want - n)
        recorded[n : n + take] = block[:take]
        filled["n"] = n + take
        if filled["n"] >= want:
            done.set()

    with player, recorder:
        player.connect(out, inp)
        recorder.set_freewheel(True)
        try:
            assert done.wait(30), "recorder never filled its buffer"
        finally:
            recorder.set_freewheel(False)

    assert _dominant_frequency(recorded, sr) == pytest.approx(freq, abs=sr / want)
    # A clean sine: the recurrence x[n+1] + x[n-1] = 2 cos(w) x[n] holds at every sample.
    residual = recorded[2:] + recorded[:-2] - 2 * np.cos(step) * recorded[1:-1]
    assert np.max(np.abs(residual)) < 1e-4
    assert np.sqrt(np.mean(recorded**2)) == pytest.approx(0.5 / np.sqrt(2), rel=1e-3)

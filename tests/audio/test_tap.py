"""The output tap: meters over a known signal, a recording holding exactly what played
while it ran, and a disk error that stops the recording once while the meters go on."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mrtd.audio.rings import AudioRing
from mrtd.audio.tap import Tap
from mrtd.constants import CHANNELS, SAMPLE_RATE

WINDOW = int(0.05 * SAMPLE_RATE)  # the meters' window
PCM24 = 2.0 ** -23  # one step of the recording's 24-bit samples


def signal(n: int, left: float = 0.5, hz: float = 1000.0, right: float = 0.25) -> np.ndarray:
    """Left: DC at ``left``; right: a sine of peak ``right`` with whole periods per window."""
    t = np.arange(n) / SAMPLE_RATE
    return np.stack([np.full(n, left), right * np.sin(2 * np.pi * hz * t)], 1).astype(np.float32)


def play(ring: AudioRing, x: np.ndarray, period: int = 256) -> None:
    """Write ``x`` into the tap ring in JACK-sized periods, as the callback does."""
    for k in range(0, len(x), period):
        ring.write(x[k:k + period])


def open_fd(path: Path) -> int:
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)


@pytest.fixture
def tap() -> Tap:
    return Tap(AudioRing(1.0))


def test_meters_give_peak_and_rms_per_channel(tap):
    play(tap.ring, signal(2 * WINDOW))
    assert tap.drain() == 2 * WINDOW
    peak_l, peak_r, rms_l, rms_r = tap.levels
    assert peak_l == pytest.approx(0.5) and rms_l == pytest.approx(0.5)
    assert peak_r == pytest.approx(0.25, rel=1e-3) and rms_r == pytest.approx(0.25 / np.sqrt(2), rel=1e-4)


def test_meters_update_only_on_whole_windows(tap):
    play(tap.ring, signal(WINDOW, left=0.5))
    tap.drain()
    play(tap.ring, signal(WINDOW - 1, left=0.1))
    tap.drain()
    assert tap.levels[0] == pytest.approx(0.5)  # the quiet window is not complete yet
    play(tap.ring, signal(1, left=0.1))
    tap.drain()
    assert tap.levels[0] == pytest.approx(0.1)


def test_a_recording_holds_what_played_between_start_and_stop(tap, tmp_path):
    before, during, after = signal(1000, left=0.9), signal(30000, left=-0.3), signal(500, left=0.7)
    during[100:110, 0] = 1.5  # over full scale: clipped, not wrapped
    play(tap.ring, before)  # played but not yet drained when the recording starts: not in it
    path = tmp_path / "take.wav"
    assert tap.record_start(open_fd(path), path) == path and tap.recording
    play(tap.ring, during[:20000])
    tap.drain()
    play(tap.ring, during[20000:])  # still in the ring at stop: written before closing
    tap.record_stop()
    assert not tap.recording
    play(tap.ring, after)
    tap.drain()
    info = sf.info(str(path))
    assert (info.samplerate, info.channels, info.subtype, info.format) == (SAMPLE_RATE, CHANNELS, "PCM_24", "WAV")
    got, _ = sf.read(str(path), dtype="float32")
    assert got.shape == during.shape
    np.testing.assert_allclose(got, np.clip(during, -1.0, 1.0), atol=PCM24)


def test_a_file_that_cannot_be_opened_is_refused_and_closed(tap, tmp_path):
    from mrtd.errors import ControlError

    fd = os.open("/dev/full", os.O_WRONLY)  # libsndfile's header write fails at once
    with pytest.raises(ControlError) as e:
        tap.record_start(fd, tmp_path / "full.wav")
    assert e.value.address == "/mrtd/record/start" and "full.wav" in e.value.reason
    with pytest.raises(OSError):
        os.fstat(fd)  # the descriptor was closed
    assert not tap.recording


def test_a_disk_error_stops_the_recording_once_and_the_meters_go_on(tap, tmp_path):
    errors: list[str] = []
    tap.on_error = errors.append
    path = tmp_path / "take.wav"
    fd = open_fd(path)
    tap.record_start(fd, path)
    full = os.open("/dev/full", os.O_WRONLY)  # the disk fills up under the open recording
    os.dup2(full, fd)
    os.close(full)
    play(tap.ring, signal(WINDOW, left=0.4))
    tap.drain()
    assert not tap.recording
    assert len(errors) == 1 and "take.wav" in errors[0] and "stopped" in errors[0]
    assert tap.levels[0] == pytest.approx(0.4)  # metered all the same
    for level in (0.2, 0.6):
        play(tap.ring, signal(WINDOW, left=level))
        tap.drain()
        assert tap.levels[0] == pytest.approx(level)
    tap.record_stop()
    assert len(errors) == 1


def test_the_tap_thread_drains_until_stopped(tap, tmp_path):
    tap.start()
    try:
        play(tap.ring, signal(WINDOW, left=0.3))
        deadline = time.monotonic() + 5
        while tap.levels[0] != pytest.approx(0.3) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert tap.levels[0] == pytest.approx(0.3)
    finally:
        tap.stop()
    assert tap.ring.available() == 0

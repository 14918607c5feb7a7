"""Musical measurements of rendered audio: the dominant pitch, onset strength, spectral
centroid and level. They check that a model makes music (the trained demo, issue 23:
the note held is the pitch heard, drums asked are drums heard, timbres differ, silence
asked is silence heard), on the synthetic data and on renders alike. numpy only."""

from __future__ import annotations

import numpy as np

from mrtd.constants import SAMPLE_RATE


def mono(audio: np.ndarray) -> np.ndarray:
    a = np.asarray(audio, np.float64)
    return a.mean(axis=1) if a.ndim == 2 else a


def level_dbfs(audio: np.ndarray) -> float:
    """RMS level in dBFS (a full-scale sine is -3 dBFS); -inf for digital silence."""
    rms = float(np.sqrt(np.mean(mono(audio) ** 2)))
    return 20 * np.log10(rms) if rms > 0 else float("-inf")


def dominant_pitch_hz(audio: np.ndarray, fmin: float = 50.0, fmax: float = 2000.0, frame: int = 4096) -> float:
    """The pitch heard most: a YIN-style estimate (cumulative mean normalised difference,
    first dip under 0.15, parabolic refinement) on overlapping windows, the median of the
    voiced ones. NaN when nothing is voiced."""
    x = mono(audio)
    lo, hi = int(SAMPLE_RATE / fmax), int(SAMPLE_RATE / fmin)
    if len(x) < frame + hi:
        frame = max(len(x) - hi, 2 * hi)
    est = []
    for start in range(0, max(1, len(x) - frame - hi), frame // 2):
        w = x[start:start + frame + hi]
        if len(w) < frame + hi or np.sqrt(np.mean(w ** 2)) < 1e-4:
            continue
        # difference function via FFT autocorrelation
        n = len(w)  # r(tau) = sum over the first ``frame`` samples of w[j] * w[j + tau]
        acf = np.fft.irfft(np.conj(np.fft.rfft(w[:frame], 2 * n)) * np.fft.rfft(w, 2 * n))[:hi + 1]
        cum = np.cumsum(w ** 2)
        energy0 = cum[frame - 1]
        shifted = np.array([cum[frame - 1 + tau] - cum[tau - 1] if tau > 0 else energy0 for tau in range(hi + 1)])
        d = energy0 + shifted - 2 * acf
        d[0] = 0.0
        cmnd = np.ones_like(d)
        run = np.cumsum(d[1:])
        cmnd[1:] = d[1:] * np.arange(1, hi + 1) / np.where(run > 0, run, 1e-12)
        cand = np.flatnonzero(cmnd[lo:hi] < 0.15)
        if len(cand) == 0:
            continue
        tau = lo + int(cand[0])
        while tau + 1 < hi and cmnd[tau + 1] < cmnd[tau]:
            tau += 1
        a, b, c = cmnd[tau - 1], cmnd[tau], cmnd[tau + 1] if tau + 1 <= hi else cmnd[tau]
        den = a - 2 * b + c
        shift = float(np.clip(0.5 * (a - c) / den, -1.0, 1.0)) if den > 0 else 0.0
        est.append(SAMPLE_RATE / (tau + shift))
    return float(np.median(est)) if est else float("nan")


def semitones(f: float, ref: float) -> float:
    return float(12 * np.log2(f / ref))


def onset_strength(audio: np.ndarray, hop: int = 480, n_fft: int = 1024) -> np.ndarray:
    """Spectral flux per hop (10 ms): the summed rise of log magnitudes, what a drum hit
    makes and a held note does not."""
    x = mono(audio)
    if len(x) < n_fft:
        return np.zeros(0)
    win = np.hanning(n_fft)
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop] * win
    mag = np.log1p(100 * np.abs(np.fft.rfft(frames, axis=1)))
    return np.maximum(np.diff(mag, axis=0), 0.0).sum(axis=1)


def onset_ratio(audio: np.ndarray) -> float:
    """How spiky the onset strength is: its 99th percentile over its median (drums give
    tall isolated peaks; steady notes and noise do not). The median is floored at 1 (a
    steady tone's flux is ~0), so silence and drones give ratios near 0, not infinity."""
    o = onset_strength(audio)
    if len(o) == 0:
        return 0.0
    return float(np.percentile(o, 99) / max(float(np.median(o)), 1.0))


def spectral_centroid_hz(audio: np.ndarray, n_fft: int = 4096) -> float:
    """The power-weighted mean frequency of the whole signal (Welch average)."""
    x = mono(audio)
    if len(x) < n_fft:
        return float("nan")
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::n_fft // 2] * np.hanning(n_fft)
    p = (np.abs(np.fft.rfft(frames, axis=1)) ** 2).mean(axis=0)
    f = np.fft.rfftfreq(n_fft, 1 / SAMPLE_RATE)
    return float((f * p).sum() / p.sum()) if p.sum() > 0 else float("nan")

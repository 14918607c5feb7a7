"""SpectroStream STFT front end and causal inverse STFT (48 kHz stereo, frame 960, hop 480).

Spectra are ``[B, 4, n, 480]`` (channels-first for the convs): channels ``(L.re, L.im, R.re,
R.im)``, 480 bins = rfft(960) without the Nyquist bin. The inverse is a causal overlap-add:
output samples ``[480 j, 480 j + 480)`` are final once STFT frame ``j`` exists, so streaming
needs only the second half of the previous frame (``tail``, 480 samples per channel).
"""

from __future__ import annotations

import math

import torch

FRAME = 960
HOP = 480


def hann_window(n: int = FRAME) -> torch.Tensor:
    """Periodic Hann ``0.5 - 0.5 cos(2 pi k / n)`` (float32, computed in float64)."""
    k = torch.arange(n, dtype=torch.float64)
    return (0.5 - 0.5 * torch.cos(2 * math.pi * k / n)).float()


def inverse_window(n: int = FRAME, hop: int = HOP) -> torch.Tensor:
    """Griffin-Lim synthesis window ``w[k] / sum_m w^2[k + hop m]`` (overlaps tiled)."""
    w = hann_window(n).double()
    overlaps = -(-n // hop)
    sq = torch.nn.functional.pad(w * w, (0, overlaps * hop - n)).reshape(overlaps, hop).sum(0)
    denom = sq.repeat(overlaps)[:n]
    return torch.where(denom == 0, torch.zeros_like(w), w / denom).float()


def stft(wave: torch.Tensor) -> torch.Tensor:
    """Waveform ``[B, N, 2]`` -> spectrum ``[B, 4, ceil(N/480), 480]`` (float32).

    Frame ``j`` covers samples ``[480 j, 480 j + 960)``, zero-padded after the end
    ("reverse causal"); no scaling.
    """
    b, n, ch = wave.shape
    frames = -(-n // HOP)
    x = wave.float().transpose(1, 2)  # [B, 2, N]
    x = torch.nn.functional.pad(x, (0, (frames - 1) * HOP + FRAME - n))
    x = x.unfold(-1, FRAME, HOP) * hann_window().to(x.device)  # [B, 2, n, 960]
    spec = torch.fft.rfft(x, n=FRAME, dim=-1)[..., : FRAME // 2]  # [B, 2, n, 480]
    spec = torch.stack([spec.real, spec.imag], dim=2)  # [B, 2, re/im, n, 480]
    return spec.reshape(b, 2 * ch, frames, FRAME // 2)


def _frames(spec: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Spectrum ``[B, 4, n, 480]`` -> windowed time frames ``[B, 2, n, 960]``."""
    b, c, n, bins = spec.shape
    s = spec.float().reshape(b, c // 2, 2, n, bins)
    z = torch.complex(s[:, :, 0], s[:, :, 1])
    z = torch.nn.functional.pad(z, (0, 1))  # zero Nyquist bin -> 481
    return torch.fft.irfft(z, n=FRAME, dim=-1) * window


def istft(spec: torch.Tensor, window: torch.Tensor | None = None) -> torch.Tensor:
    """Whole-sequence causal inverse STFT: ``[B, 4, n, 480]`` -> ``[B, 480 n, 2]``.

    The last frame's second half (which would complete only with frame ``n``) is dropped.
    """
    if window is None:
        window = inverse_window().to(spec.device)
    fr = _frames(spec, window)
    head, tail = fr[..., :HOP], fr[..., HOP:]
    prev = torch.nn.functional.pad(tail[:, :, :-1], (0, 0, 1, 0))
    out = head + prev  # [B, 2, n, 480]
    b, c, n, _ = out.shape
    return out.reshape(b, c, n * HOP).transpose(1, 2)


def istft_step(spec: torch.Tensor, tail: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Streaming inverse STFT of ``n`` new frames; ``tail`` ``[B, 2, 480]`` is updated in place."""
    fr = _frames(spec, window)  # [B, 2, n, 960]
    head, nxt = fr[..., :HOP], fr[..., HOP:]
    prev = torch.cat([tail.unsqueeze(2), nxt[:, :, :-1]], dim=2)
    out = head + prev
    tail.copy_(nxt[:, :, -1])
    b, c, n, _ = out.shape
    return out.reshape(b, c, n * HOP).transpose(1, 2)

"""Synthetic music with the conditioning the engine would give it: the training data of
the embedded demo model (issue 23).

The demo must play the notes it is sent, drums when asked, one of a few timbres, and
silence when nothing is asked; real weights cannot be shipped, so it learns all of that
from music we can make: seeded numpy renders of notes (envelopes, four timbre families),
drum hits on simple patterns, chord progressions with bass and melody, gaps of silence.

Every musical time sits on the 40 ms frame grid, and the conditioning is made the way
the engine makes it: note on/off events go through the engine's own
:class:`~mrtd.controls.notes.NoteTracker` at frame boundaries (its onset mode and unmask
width as the controls set them), drums are the ``/mrtd/drums`` value of the frame, the
style is 12 tokens per timbre family (what ``/mrtd/prompt/N/tokens`` sets), and
:func:`~mrtd.model.mrt2.conditioning.build_cond` turns them into the 144 ids. So a frame's
audio and its conditioning line up exactly as they will when a musician plays the demo.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mrtd.constants import FRAME, SAMPLE_RATE
from mrtd.controls.notes import NoteTracker
from mrtd.model.mrt2.conditioning import build_cond

FAMILIES = ("organ", "brass", "pluck", "pad")
STYLE_SEED = 230_000  # the family token table's seed: part of the demo's interface, never change it
SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
PROGRESSIONS = ((0, 4, 5, 3), (0, 5, 3, 4), (0, 3, 4, 4), (5, 3, 0, 4), (0, 0, 3, 4))  # scale degrees
KINDS = ("song", "solo", "chords")  # a band; one held note at a time; chords only


def family_tokens(family: int | str) -> np.ndarray:
    """The 12 style tokens (0..1023) that ask the demo for a timbre family."""
    k = FAMILIES.index(family) if isinstance(family, str) else int(family)
    return np.random.default_rng(STYLE_SEED + k).integers(0, 1024, 12)


def midi_hz(pitch: float) -> float:
    return 440.0 * 2.0 ** ((pitch - 69) / 12)


GRID_HZ = 25.0  # the frame rate: every partial sits on a multiple of it
LOWEST, HIGHEST = 48, 84  # MIDI range of the notes (C3..C6)


def grid_hz(f: float) -> float:
    """``f`` moved to the nearest multiple of :data:`GRID_HZ` (at least one step).

    Why the demo's instruments are tuned to a 25 Hz grid: a partial on it turns a whole
    number of cycles every 40 ms frame, so a held note repeats exactly from one frame to
    the next and the codec's decoder can make it from the note's tokens alone. Off the
    grid, each partial's phase drifts from frame to frame and the tiny decoder has to
    follow it: measured, after 400-600 training steps with magnitude, complex-spectrum or
    phase-turn losses, every note still came out as a 100 Hz or 50 Hz buzz (a codec whose
    decoder upsampled time first, later found to lose the pitch on the grid too: see
    ``train_demo.codec_loss``; off the grid is untried with the shipped layout). The cost is
    intonation: within a semitone from about 210 Hz (A3) up, less in tune below."""
    return max(GRID_HZ, GRID_HZ * round(f / GRID_HZ))


@dataclass
class Note:
    pitch: int
    start: int  # frame
    end: int  # frame (exclusive): the key is released at this frame boundary
    velocity: float = 0.8
    pan: float = 0.0  # -1 left .. 1 right


@dataclass
class Piece:
    """``seconds`` of music and, per 40 ms frame, what conditions it."""

    audio: np.ndarray  # [frames * 1920, 2] float32
    cond: np.ndarray  # [frames, 144] int32: build_cond ids, as the engine gives them
    notes: np.ndarray  # [frames, 128] int8 note states (after the tracker)
    drums: np.ndarray  # [frames] int8: -1 auto, 0 off, 1 on (the conditioning value)
    drums_playing: np.ndarray  # [frames] bool: the audio has drums there
    family: int  # timbre family index, or -1 (style masked)
    kind: str
    events: list[Note] = field(default_factory=list)

    @property
    def frames(self) -> int:
        return int(self.cond.shape[0])


# ---- instruments ---------------------------------------------------------------------------
def _envelope(n: int, held: int, attack: float, release: float, decay: float | None) -> np.ndarray:
    """Attack, (decaying) sustain while held, then release; ``n`` samples in all."""
    t = np.arange(n) / SAMPLE_RATE
    env = np.minimum(1.0, t / max(attack, 1e-4))
    if decay is not None:
        env = env * np.exp(-t / decay)
    tail = np.arange(n) - held
    rel = np.where(tail > 0, np.exp(-tail / (release * SAMPLE_RATE)), 1.0)
    return (env * rel).astype(np.float32)


def _partials(family: str, f0: float, rng: np.random.Generator) -> list[tuple[float, float, float | None]]:
    """(frequency, amplitude, decay seconds or None) of each partial, below 20 kHz."""
    ks = [k for k in range(1, 41) if grid_hz(k * f0) < 20000.0]
    if family == "organ":
        return [(grid_hz(k * f0), a, None) for k, a in zip(ks, (1.0, 0.5, 0.35, 0.25, 0.12, 0.08))]
    if family == "brass":
        return [(grid_hz(k * f0), 1.0 / k ** 1.1, None) for k in ks]
    if family == "pluck":
        return [(grid_hz(k * f0), 1.0 / k, 1.2 / (1.0 + 0.6 * (k - 1))) for k in ks]
    # pad: a soft saw (its slow attack and long release do the rest)
    return [(grid_hz(k * f0), 1.0 / k ** 1.6, None) for k in ks]


ENVELOPES = {  # attack s, release s
    "organ": (0.01, 0.05), "brass": (0.06, 0.12), "pluck": (0.003, 0.15), "pad": (0.3, 0.5),
}


def render_note(note: Note, family: str, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """A note's stereo samples and the sample they start at (the start frame's boundary)."""
    attack, release = ENVELOPES[family]
    held = (note.end - note.start) * FRAME
    n = held + int(release * 6 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    mono = np.zeros(n, np.float64)
    for f, a, decay in _partials(family, midi_hz(note.pitch), rng):
        part = a * np.sin(2 * np.pi * f * t)  # phase 0 at the onset: the same every frame
        mono += part * (np.exp(-t / decay) if decay is not None else 1.0)
    mono *= _envelope(n, held, attack, release, None) * note.velocity * 0.25
    left, right = np.cos((note.pan + 1) * np.pi / 4), np.sin((note.pan + 1) * np.pi / 4)
    return np.stack([mono * left, mono * right], 1).astype(np.float32), note.start * FRAME


def render_drum(kind: str, rng: np.random.Generator, velocity: float = 0.8) -> np.ndarray:
    """One drum hit, stereo: kick (a falling sine), snare (noise and a tone), hat (bright noise)."""
    if kind == "kick":
        n = int(0.25 * SAMPLE_RATE)
        t = np.arange(n) / SAMPLE_RATE
        freq = 50 + 90 * np.exp(-t / 0.03)
        mono = np.sin(2 * np.pi * np.cumsum(freq) / SAMPLE_RATE) * np.exp(-t / 0.12)
        pan = 0.0
    elif kind == "snare":
        n = int(0.2 * SAMPLE_RATE)
        t = np.arange(n) / SAMPLE_RATE
        noise = np.diff(rng.standard_normal(n + 1))  # a first difference: brighter
        mono = (0.5 * noise * np.exp(-t / 0.06) + 0.6 * np.sin(2 * np.pi * 185 * t) * np.exp(-t / 0.04))
        pan = 0.1
    else:  # hat
        n = int(0.06 * SAMPLE_RATE)
        t = np.arange(n) / SAMPLE_RATE
        noise = np.diff(np.diff(rng.standard_normal(n + 2)))
        mono = 0.15 * noise * np.exp(-t / 0.015)
        pan = -0.3
    mono = mono * velocity * 0.5
    left, right = np.cos((pan + 1) * np.pi / 4), np.sin((pan + 1) * np.pi / 4)
    return np.stack([mono * left, mono * right], 1).astype(np.float32)


# ---- the score -----------------------------------------------------------------------------
def _score(kind: str, frames: int, rng: np.random.Generator) -> tuple[list[Note], np.ndarray, float]:
    """Notes on the frame grid, where the drums play, and the tempo (BPM)."""
    bpm = float(rng.uniform(90, 140))
    beat = 60.0 / bpm * 25.0  # frames per beat (not a whole number: onsets round to the grid)
    root = int(rng.integers(0, 12))
    scale = SCALES["major" if rng.random() < 0.6 else "minor"]
    notes: list[Note] = []
    playing = np.zeros(frames, bool)  # where the music plays (the drums keep their own schedule)
    # sections of music and gaps of silence, so that nothing asked means nothing heard
    f = int(rng.integers(0, 20))
    while f < frames:
        length = int(rng.integers(60, 200))
        playing[f:f + length] = True
        f += length + (int(rng.integers(12, 50)) if rng.random() < 0.5 else 0)

    def at(b: float) -> int:
        return int(round(b * beat))

    if kind == "solo":  # one held note at a time, anywhere in a wide range
        f = 0
        while f < frames:
            length = int(rng.integers(8, 60))
            if playing[f]:
                end = min(frames, f + length)
                notes.append(Note(int(rng.integers(LOWEST, HIGHEST + 1)), f, end, float(rng.uniform(0.5, 1.0)),
                                  float(rng.uniform(-0.3, 0.3))))
                f = end + (int(rng.integers(0, 8)) if rng.random() < 0.4 else 0)
            else:
                f += 1
        return notes, playing, bpm
    prog = PROGRESSIONS[int(rng.integers(len(PROGRESSIONS)))]
    bars = int(np.ceil(frames / (4 * beat))) + 1
    for bar in range(bars):
        deg = prog[bar % len(prog)]
        chord = [scale[(deg + i) % 7] + 12 * ((deg + i) // 7) for i in (0, 2, 4)]
        start, end = at(4 * bar), at(4 * bar + 4)
        for p in chord:
            notes.append(Note(48 + root + p, start, end, 0.55, float(rng.uniform(-0.5, 0.5))))
        if kind == "song":
            for b in range(4):  # bass on every beat
                notes.append(Note(LOWEST + root + chord[0] % 12, at(4 * bar + b), at(4 * bar + b + 0.9), 0.75, 0.0))
            b = 0.0
            while b < 4:  # melody: quarter and eighth notes from the scale, some rests
                step = 1.0 if rng.random() < 0.5 else 0.5
                if rng.random() < 0.8:
                    p = 60 + root + scale[int(rng.integers(7))] + (12 if rng.random() < 0.3 else 0)
                    notes.append(Note(p, at(4 * bar + b), at(4 * bar + b + step * 0.9), 0.7, 0.3))
                b += step
    # only what falls inside a playing section sounds (a gap cuts its notes)
    kept = []
    for n in notes:
        n.end = min(n.end, frames)
        if n.start < frames and n.end > n.start and playing[n.start]:
            stop = n.start + int(np.argmin(playing[n.start:n.end])) if not playing[n.start:n.end].all() else n.end
            if stop > n.start:
                kept.append(Note(n.pitch, n.start, stop, n.velocity, n.pan))
    return kept, playing, bpm


def _drum_schedule(frames: int, on: bool, rng: np.random.Generator) -> np.ndarray:
    """Per frame, whether the drums are asked for: the whole piece, or (half the pieces)
    switched at one to three frames at least a second apart, so the model hears drums
    start when they are asked for and stop when they are not, notes or no notes."""
    sched = np.full(frames, on)
    if rng.random() < 0.5 and frames > 100:
        cuts = np.sort(rng.choice(np.arange(25, frames - 25, 25), int(rng.integers(1, 4)), replace=False))
        for c in cuts:
            sched[c:] = ~sched[c:]
    return sched


def _drum_track(asked: np.ndarray, bpm: float, rng: np.random.Generator) -> list[tuple[int, str]]:
    """Kick, snare and hat hits on the beat's eighths wherever the drums are asked for."""
    frames = len(asked)
    beat = 60.0 / bpm * 25.0
    hits = []
    eighth = 0
    while True:
        f = int(round(eighth * beat / 2))
        if f >= frames:
            break
        if asked[f]:
            pos = eighth % 8
            if pos in (0, 4) or (pos == 7 and rng.random() < 0.2):
                hits.append((f, "kick"))
            if pos in (2, 6):
                hits.append((f, "snare"))
            hits.append((f, "hat"))
        eighth += 1
    return hits


# ---- a piece -----------------------------------------------------------------------------
def render_piece(seed: int, seconds: float = 8.0, *, kind: str | None = None, family: int | None = None,
                 drums: bool | None = None, onset_mode: str | None = None, unmask_width: int | None = None,
                 mask_style: bool | None = None, mask_drums: bool | None = None) -> Piece:
    """One seeded piece. Unset choices are drawn from the seed: the kind (a band, one held
    note at a time, chords), the timbre family, whether drums play (and whether their
    conditioning is given or left to the model; ``drums`` is how the piece starts, and half
    the pieces switch them on or off on the way), the note tracker's onset mode and unmask
    width, and whether the style tokens are given."""
    rng = np.random.default_rng(seed)
    frames = int(round(seconds * 25))
    kind = kind or KINDS[int(rng.choice(3, p=[0.5, 0.3, 0.2]))]
    family = int(rng.integers(len(FAMILIES))) if family is None else int(family)
    drums = bool(rng.random() < 0.5) if drums is None else drums
    onset_mode = onset_mode or ("auto_strum" if rng.random() < 0.7 else "unmask")
    unmask_width = (0 if rng.random() < 0.6 else 127) if unmask_width is None else unmask_width
    mask_style = bool(rng.random() < 0.15) if mask_style is None else mask_style
    mask_drums = bool(rng.random() < 0.15) if mask_drums is None else mask_drums
    notes, playing, bpm = _score(kind, frames, rng)

    audio = np.zeros((frames * FRAME + SAMPLE_RATE * 4, 2), np.float32)
    name = FAMILIES[family]
    for n in notes:
        x, at = render_note(n, name, rng)
        audio[at:at + len(x)] += x
    asked = _drum_schedule(frames, drums, rng)
    hits = _drum_track(asked, bpm, rng)
    drums_playing = np.zeros(frames, bool)
    for f, kind_ in hits:
        x = render_drum(kind_, rng, float(rng.uniform(0.6, 1.0)))
        audio[f * FRAME:f * FRAME + len(x)] += x
        drums_playing[f] = True
    audio = audio[:frames * FRAME]
    peak = float(np.abs(audio).max())
    if peak > 0.9:
        audio *= 0.9 / peak

    # the conditioning, as the engine makes it: events at frame boundaries through the tracker
    tracker = NoteTracker()
    ons: dict[int, list[int]] = {}
    offs: dict[int, list[int]] = {}
    for n in notes:
        ons.setdefault(n.start, []).append(n.pitch)
        offs.setdefault(n.end, []).append(n.pitch)
    style = np.full(12, -1) if mask_style else family_tokens(family)
    drum_value = np.full(frames, -1, np.int8) if mask_drums else asked.astype(np.int8)
    cond = np.zeros((frames, 144), np.int32)
    states = np.zeros((frames, 128), np.int8)
    for f in range(frames):
        for p in offs.get(f, []):  # a note ending here and another starting: off first
            tracker.note_off(p)
        for p in ons.get(f, []):
            tracker.note_on(p)
        states[f] = tracker.frame(None, onset_mode, unmask_width)  # type: ignore[arg-type]
        cond[f] = build_cond(style, states[f], int(drum_value[f]))
    return Piece(audio, cond, states, drum_value, drums_playing, -1 if mask_style else family, kind, notes)

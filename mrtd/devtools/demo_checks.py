"""The trained demo's musical checks: it plays the notes it is sent, drums when asked, a
timbre per style family, and silence when nothing is asked (issue 23).

Each check plays the demo through a real :class:`~mrtd.engine.engine.Engine` (the live
pipeline, unpaced), posting controls as a musician would (``/mrtd/note/on``,
``/mrtd/drums``, ``/mrtd/prompt/1/tokens``), and measures the audio with
:mod:`mrtd.devtools.music_checks`. The tests assert the goals; ``python -m
mrtd.devtools.demo_checks --json FILE`` writes every figure with the environment.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from typing import Any

import numpy as np

from mrtd.constants import FRAME, SAMPLE_RATE
from mrtd.devtools import music_checks as mc
from mrtd.devtools.synth_music import FAMILIES, family_tokens, midi_hz

FPS = 25  # frames per second
SETTLE_S = 0.5  # what each measured segment leaves out after a change (attack, lag)
PITCHES = (57, 64, 69)  # the goal: within a semitone of 220, 329.6, 440 Hz


def play(seconds: float, *, notes: list[tuple[int, float, float]] = (), drums: str = "off",
         family: int | str | None = None, seed: int = 0) -> np.ndarray:
    """``seconds`` of the demo (stereo, 48 kHz) with ``notes`` held ``(pitch, on s, off s)``,
    ``/mrtd/drums`` set to ``drums`` and, if given, a family's style tokens in prompt 1."""
    from mrtd.engine.demo import build_demo
    from mrtd.engine.engine import Engine
    from mrtd.engine.render import render

    e = Engine(*build_demo(), seed=seed)
    e.post("/mrtd/drums", drums, frame=0)
    if family is not None:
        e.post("/mrtd/prompt/1/tokens", *[int(t) for t in family_tokens(family)], frame=0)
    for pitch, on, off in notes:
        e.post("/mrtd/note/on", pitch, frame=int(round(on * FPS)))
        e.post("/mrtd/note/off", pitch, frame=int(round(off * FPS)))
    try:
        return render(e, seconds)
    finally:
        e.stop()


def _seg(audio: np.ndarray, start: float, end: float) -> np.ndarray:
    return audio[int((start + SETTLE_S) * SAMPLE_RATE):int(end * SAMPLE_RATE)]


def pitch_check(family: int | str | None = None, seed: int = 0, hold: float = 2.0) -> list[dict[str, float]]:
    """MIDI 57, 64, 69 held ``hold`` s each, one after the other: the dominant pitch of
    each segment (after :data:`SETTLE_S`) against the note's frequency."""
    notes = [(p, i * hold, (i + 1) * hold) for i, p in enumerate(PITCHES)]
    audio = play(len(PITCHES) * hold, notes=notes, family=family, seed=seed)
    out = []
    for pitch, on, off in notes:
        f = mc.dominant_pitch_hz(_seg(audio, on, off))
        out.append({"pitch": pitch, "target_hz": round(midi_hz(pitch), 2), "heard_hz": round(f, 2),
                    "semitones": round(mc.semitones(f, midi_hz(pitch)), 3) if not math.isnan(f) else float("nan")})
    return out


def codec_pitch_check(families=FAMILIES, hold: float = 3.0) -> dict[str, list[dict[str, float]]]:
    """The codec alone: MIDI 57, 64, 69 as the training music plays them (each family,
    held ``hold`` s), through the demo's encoder, its 12 RVQ levels and its decoder, and
    the dominant pitch of what comes out, beside that of what went in. Deterministic (no
    sampling), so it separates what the codec can carry from what the language model asks."""
    import torch

    from mrtd.devtools.synth_music import Note, render_note
    from mrtd.engine.demo import DEMO_FILE, build_demo_encoder, demo_config
    from mrtd.model.mrt2.codec_decoder import load_decoder

    codec = demo_config().codec
    dec = load_decoder(DEMO_FILE, codec)  # the codec alone: no language model to load
    enc = build_demo_encoder()
    out: dict[str, list[dict[str, float]]] = {}
    for family in families:
        rows = []
        for pitch in PITCHES:
            start = 2  # frames of silence first, as a note starts on the frame grid
            x, at = render_note(Note(pitch, start, start + int(hold * FPS)), family, np.random.default_rng(0))
            wave = np.zeros((int((hold + 0.4) * FPS) * FRAME, 2), np.float32)
            n = min(len(x), len(wave) - at)
            wave[at:at + n] = x[:n]
            with torch.inference_mode():
                codes = enc(torch.from_numpy(wave)[None], codec.num_quantizers)
                y = dec(codes)[0].numpy()
            f_in = mc.dominant_pitch_hz(_seg(wave, 0.2, hold))
            f = mc.dominant_pitch_hz(_seg(y, 0.2, hold))
            rows.append({"pitch": pitch, "target_hz": round(midi_hz(pitch), 2), "in_hz": round(f_in, 2),
                         "out_hz": round(f, 2),
                         "semitones": round(mc.semitones(f, midi_hz(pitch)), 3) if not math.isnan(f) else float("nan")})
        out[family] = rows
    return out


def drums_check(seed: int = 0, seconds: float = 6.0) -> dict[str, float]:
    """Onset ratio (99th percentile of spectral flux over its median) with ``/mrtd/drums``
    on and off, both with a held chord (C3 E3 G3), and with no notes at all."""
    chord = [(p, 0.0, seconds) for p in (48, 52, 55)]
    on = play(seconds, notes=chord, drums="on", seed=seed)[SAMPLE_RATE:]
    off = play(seconds, notes=chord, drums="off", seed=seed)[SAMPLE_RATE:]
    alone = play(seconds, drums="on", seed=seed)[SAMPLE_RATE:]
    return {"onset_ratio_on": round(mc.onset_ratio(on), 2), "onset_ratio_off": round(mc.onset_ratio(off), 2),
            "onset_ratio_drums_alone": round(mc.onset_ratio(alone), 2),
            "level_drums_alone_dbfs": round(mc.level_dbfs(alone), 1)}


def timbre_check(a: str = "brass", b: str = "pad", seed: int = 0, seconds: float = 4.0) -> dict[str, Any]:
    """Spectral centroid of the same chord in two style families (and of every family)."""
    chord = [(p, 0.0, seconds) for p in (48, 52, 55)]
    cent = {name: round(mc.spectral_centroid_hz(play(seconds, notes=chord, family=name, seed=seed)[SAMPLE_RATE:]), 1)
            for name in FAMILIES}
    return {"centroid_hz": cent, "pair": [a, b], "centroid_ratio": round(cent[a] / cent[b], 3)}


def silence_check(seed: int = 0, seconds: float = 4.0) -> dict[str, float]:
    """No notes held, drums off, then the same after a note has come and gone."""
    quiet = play(seconds, seed=seed)[SAMPLE_RATE:]
    after = play(2.0 + seconds, notes=[(60, 0.0, 1.0)], seed=seed)[3 * SAMPLE_RATE:]
    return {"level_dbfs": round(mc.level_dbfs(quiet), 1), "level_after_a_note_dbfs": round(mc.level_dbfs(after), 1)}


def speed_check(seconds: float = 8.0) -> dict[str, float]:
    """Real-time factor of the whole pipeline on one thread (render time against audio)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        play(1.0)  # warm
        t0 = time.perf_counter()
        play(seconds, notes=[(60, 0.0, seconds)], drums="on")
        return {"rtf_one_thread": round(seconds / (time.perf_counter() - t0), 2)}
    finally:
        torch.set_num_threads(threads)


def main(argv: list[str] | None = None) -> None:
    from mrtd.devtools.bench_env import environment

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", metavar="FILE", help="write the figures (with the environment) here")
    ap.add_argument("--seeds", type=int, default=3, help="seeds per pitch, drums and silence check (default 3)")
    a = ap.parse_args(argv)
    res: dict[str, Any] = {"bench": "demo music checks", "environment": environment()}
    res["pitch"] = {str(s): pitch_check(seed=s) for s in range(a.seeds)}
    res["pitch_by_family"] = {f: pitch_check(family=f) for f in FAMILIES}
    res["codec_pitch"] = codec_pitch_check()
    res["drums"] = drums_check()
    res["drums_by_seed"] = {str(s): drums_check(seed=s) for s in range(a.seeds)}
    res["timbre"] = timbre_check()
    res["silence"] = silence_check()
    res["silence_by_seed"] = {str(s): silence_check(seed=s) for s in range(a.seeds)}
    res["speed"] = speed_check()
    text = json.dumps(res, indent=1)
    print(text)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()

"""``mrtd render``: the engine run offline, as fast as the machine allows.

Same code path as live: events are posted for their frames, :meth:`Engine.step_frame`
is pulled by the output queue level and the audio is read through the real-time reader
(fades, gain), only without waiting for the clock. Output: 24-bit PCM WAV by default
(``--format float`` for 32-bit float), 48 kHz stereo. ``--midi FILE.mid`` plays a MIDI
file from frame 0 through the live MIDI file player (:mod:`.midifile`).
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from mrtd.constants import SAMPLE_RATE
from mrtd.errors import UserError

if TYPE_CHECKING:
    import numpy as np

    from mrtd.engine.engine import Engine

SUBTYPES = {"pcm24": "PCM_24", "pcm16": "PCM_16", "float": "FLOAT"}
BLOCK = 1024  # reader period, like a JACK buffer


def render(engine: Engine, seconds: float, progress=None) -> np.ndarray:
    """``seconds`` of audio ``[n, 2]`` float32 (post-effects) through the live pipeline,
    unpaced."""
    import numpy as np

    total = int(round(seconds * SAMPLE_RATE))
    out = np.zeros((total, engine.output.channels), np.float32)
    pos = 0
    while pos < total:
        while engine.output.has_room():
            engine.step_frame()
        n = min(BLOCK, total - pos)
        engine.read_into(out[pos:pos + n])
        pos += n
        if progress is not None:
            progress(pos / SAMPLE_RATE)
    return np.ascontiguousarray(out[:, :2])


def run_render(args: argparse.Namespace) -> int:
    import numpy as np
    import soundfile as sf
    import torch
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from mrtd.controls.events import EventWriter, read_events
    from mrtd.datadir import DataDir
    from mrtd.engine.build import load_engine, resolve_device

    console = Console(stderr=True)
    logging.basicConfig(level=logging.WARNING, format="mrtd: %(message)s")
    # ---- MIDI file: read before the model loads, so a bad file fails at once
    song = None
    if getattr(args, "midi", None):
        from mrtd.datadir import OPERATOR
        from mrtd.engine.midifile import RELEASE_TAIL_S, read_song

        song = read_song(OPERATOR, os.path.abspath(os.path.expanduser(args.midi)))
    seconds = args.seconds
    if seconds is None:
        if song is None:
            raise UserError("--seconds is needed (or --midi FILE.mid: the file's length plus a release tail)")
        seconds = song.seconds + RELEASE_TAIL_S
    if seconds <= 0:
        raise UserError("--seconds must be > 0")
    from mrtd.cli.options import resolve_fast_path

    resolve_fast_path(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    resolve_device(args.device, args.dtype)  # a device this machine lacks fails before any file is touched
    events = read_events(args.events) if args.events else []
    out_path = Path(args.out)
    if not out_path.parent.exists():
        raise UserError(f"output directory does not exist: {out_path.parent}")
    sink = EventWriter(args.log_events) if args.log_events else None
    # the event file is the operator's: its names point into the data folder like the live
    # daemon's, and absolute paths (captures, the operator's own files) are taken as they are
    files = DataDir(args.data_dir, overrides={"banks": args.bank_dir}, trusted=True)
    demo = "random" if getattr(args, "demo_random", False) else args.demo
    engine = load_engine(args.checkpoint, args.manifest, demo, args.seed, args.encoder, event_sink=sink,
                         strict=True, bank_dir=files.folder("banks", create=False), files=files,
                         size=args.size, weights=args.weights, codec=getattr(args, "codec", None),
                         style_sync=True, device=args.device, dtype=args.dtype, graph=args.graph,
                         codec_dtype=args.codec_dtype, two_stage=args.two_stage, threads=args.threads,
                         compile=args.compile)
    if demo:
        from mrtd.engine.demo import demo_notice

        console.print(f"[bold red]{demo_notice(demo)}[/]")
    engine.post_events(events)
    if song is not None:  # MIDI file: its notes through the note tracker, from frame 0
        from mrtd.engine.midifile import MidiPlayer

        MidiPlayer(engine).play_song(song, sync=False)
    t0 = time.perf_counter()
    with Progress(TextColumn("rendering"), BarColumn(), TextColumn("{task.completed:.1f}/{task.total:.1f} s"),
                  TextColumn("{task.fields[speed]}"), TimeRemainingColumn(), console=console,
                  disable=args.quiet) as bar:
        task = bar.add_task("render", total=seconds, speed="")

        def progress(done: float) -> None:
            el = time.perf_counter() - t0
            bar.update(task, completed=done, speed=f"{done / el:.1f}x real time" if el > 0 else "")

        try:
            audio = render(engine, seconds, progress)
        finally:
            engine.stop()  # a generator's own threads too (two stages: the codec thread)
            if sink is not None:
                sink.close()
    elapsed = time.perf_counter() - t0
    sf.write(str(out_path), np.clip(audio, -1.0, 1.0), SAMPLE_RATE, subtype=SUBTYPES[args.format])
    console.print(f"wrote {out_path} ({seconds:g} s, {SUBTYPES[args.format]}, {engine.frame} frames, "
                  f"{seconds / elapsed:.1f}x real time on {engine.describe()})")
    return 0

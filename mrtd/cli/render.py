"""``mrtd render``: its options (argparse only: no torch at import time)."""

from __future__ import annotations

import argparse

from mrtd.cli.options import add_model_args

SUBTYPES = ("float", "pcm16", "pcm24")


def run(args: argparse.Namespace) -> int:
    from mrtd.cli.progress import show_loading_progress
    from mrtd.engine.render import run_render

    show_loading_progress()

    return run_render(args)


def add_render(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "render", help="render audio offline to a WAV file, optionally replaying events",
        description="Run the engine offline (same code path as live, without real-time pacing) "
        "and write a 48 kHz stereo WAV. Replaying an event file with the same checkpoint and seed "
        "gives bit-identical audio on CPU.")
    add_model_args(p, config_alias=True, required=True)
    p.add_argument("--seconds", type=float, help="length of the output (required unless --midi is given; "
                   "with --midi the default is the file's length plus 2 s for the release)")
    p.add_argument("--midi", metavar="FILE.mid", help="play a Standard MIDI File through the note tracker from "
                   "frame 0, with its tempo map (channel 10 = drums, CC 64 = sustain); combines with --events")
    p.add_argument("--events", metavar="FILE", help="JSON-lines event file to replay (frame-stamped OSC)")
    p.add_argument("--log-events", metavar="FILE", help="write every applied change (replayable) to FILE")
    p.add_argument("--data-dir", metavar="DIR", help="the data folder the event file's names refer to, as in "
                   "'mrtd serve' (default: $XDG_DATA_HOME/mrtd, i.e. ~/.local/share/mrtd)")
    p.add_argument("--bank-dir", metavar="DIR", help="directory of state banks for /mrtd/bank/* events "
                   "(default: DATA_DIR/banks)")
    p.add_argument("--out", metavar="OUT.wav", required=True, help="output WAV file")
    p.add_argument("--format", choices=SUBTYPES, default="pcm24",
                   help="sample format: pcm24 (default), pcm16 or float (32-bit)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)

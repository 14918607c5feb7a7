"""``mrtd weights``: list what is found where, download what is missing."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from mrtd.errors import UserError
from mrtd.weights.download import download
from mrtd.weights.find import (
    CORRUPT,
    FOUND,
    MISSING,
    MUSICCOCA_AUDIO,
    MUSICCOCA_OPTIONAL,
    SIZES,
    inventory,
)
from mrtd.weights.v1 import V1_NAMES, V1_SIZES

_LIST_HELP = """\
Show which model files mrtd finds and what works with them. Search order: --weights DIR,
$MRTD_WEIGHTS (folders joined by ':'), the Hugging Face cache
(models--google--magenta-realtime-2 under $HF_HUB_CACHE or $HF_HOME/hub), then
$MAGENTA_HOME/magenta-rt-v2 (default ~/Documents/Magenta/magenta-rt-v2). A folder may use
the official layout (checkpoints/, resources/musiccoca/, resources/spectrostream/) or hold
the files directly. Damaged files (truncated, corrupt) are shown and never used.

Magenta RT v1 (v1_base, v1_large) is looked for in --weights DIR, $MRTD_WEIGHTS, the
Hugging Face cache of google/magenta-realtime and $MAGENTA_RT_CACHE_DIR/assets: the
checkpoint as its unpacked folder (checkpoints/llm_base_x4286_c1860k/) or its .tar. v1
decodes audio with the SpectroStream decoder inside an MRT2 checkpoint and uses the MRT2
MusicCoCa files (the same models), so those are listed for it too.

Exit status: 0 when the listing is printed, even if files are missing; with --verify, 1 if
any file present in a searched place is damaged or fails its sha256."""

_DOWNLOAD_HELP = """\
Download the official files from the Hugging Face repo google/magenta-realtime-2 (weights
CC-BY-4.0, (c) Google). By default into the Hugging Face cache, skipping files mrtd already
finds intact; with --to DIR into DIR in the official layout (use it then with --weights DIR
or MRTD_WEIGHTS=DIR; --to ~/Documents/Magenta/magenta-rt-v2 is found automatically).
If the repo asks for it, log in first with `hf auth login` or set HF_TOKEN.

--size v1_base / v1_large fetches Magenta RT v1 from google/magenta-realtime
(checkpoints/llm_*_c1860k.tar, read as it is, never unpacked) plus, unless --no-codec, the
mrt2_small checkpoint when no MRT2 checkpoint is found: v1 decodes audio with its
SpectroStream decoder."""


def add_weights(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The ``mrtd weights`` parser with its ``list`` and ``download`` subcommands."""
    p = sub.add_parser("weights", help="list, locate and download the official model files",
                       description="List, locate and download the official MRT2 model files.")
    wsub = p.add_subparsers(title="subcommands", metavar="SUBCOMMAND", dest="weights_command")
    lp = wsub.add_parser("list", help="what is found where, and what works",
                         description=_LIST_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    lp.add_argument("--weights", metavar="DIR", help="search this folder first")
    lp.add_argument("--verify", action="store_true",
                    help="also hash every file whose sha256 is known (slow for large files)")
    lp.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    dp = wsub.add_parser("download", help="fetch the files from Hugging Face",
                         description=_DOWNLOAD_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    dp.add_argument("--size", choices=SIZES + V1_SIZES + ("all", "none"), default="mrt2_small",
                    help="generation checkpoint(s) to fetch: mrt2_small (~1.1 GB, default), "
                    "mrt2_base (~9.8 GB), all (both MRT2), none, or Magenta RT v1: v1_base "
                    "(348M parameters), v1_large (762M)")
    dp.add_argument("--no-codec", action="store_true",
                    help="v1: do not fetch mrt2_small for its SpectroStream decoder when no MRT2 "
                    "checkpoint is found")
    dp.add_argument("--testdata", action="store_true",
                    help="also fetch the official v1 codec test vectors (testdata/ssv2_48k_stereo)")
    dp.add_argument("--no-musiccoca", action="store_true", help="skip the MusicCoCa style encoder files")
    dp.add_argument("--no-encoder", action="store_true", help="skip the SpectroStream encoder (audio prefill)")
    dp.add_argument("--to", metavar="DIR", help="download into DIR (official layout) instead of the HF cache")
    p.set_defaults(run=run_weights, _weights_parser=p)
    return p


def run_weights(args: argparse.Namespace) -> int:
    cmd = getattr(args, "weights_command", None)
    if cmd == "list":
        return _run_list(args)
    if cmd == "download":
        sizes = {"all": SIZES, "none": ()}.get(args.size, (args.size,))
        v1_sizes = tuple(s for s in sizes if s in V1_SIZES)
        sizes = tuple(s for s in sizes if s not in V1_SIZES)
        if v1_sizes and not args.no_codec:
            from mrtd.weights.v1 import find_v1_codec

            have = find_v1_codec(args.to) if args.to and os.path.isdir(os.path.expanduser(args.to)) else None
            if have is None and find_v1_codec() is None:
                print("v1 decodes audio with the SpectroStream decoder of an MRT2 checkpoint: none found, "
                      "so mrt2_small is fetched too (--no-codec skips it)", file=sys.stderr)
                sizes = ("mrt2_small",)
        if not sizes and not v1_sizes and not args.testdata and args.no_musiccoca and args.no_encoder:
            raise UserError("nothing to download (--size none with --no-musiccoca and --no-encoder)")
        got = download(sizes, musiccoca=not args.no_musiccoca, encoder=not args.no_encoder, to=args.to,
                       v1_sizes=v1_sizes, testdata=args.testdata)
        for rel, path in got.items():
            print(f"{rel}\t{path}")
        return 0
    parser = getattr(args, "_weights_parser", None)
    if parser is not None:
        parser.print_help()
    return 2


def _run_list(args: argparse.Namespace) -> int:
    if args.verify:
        print("verifying (hashing large files may take a while)...", file=sys.stderr, flush=True)
    inv = inventory(args.weights, verify=args.verify)
    if args.json:
        print(json.dumps(inv, indent=2))
    else:
        _print_table(inv)
    return 1 if args.verify and inv["damaged"] else 0


def _print_table(inv: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console(highlight=False, width=None if sys.stdout.isatty() else 200)  # piped: no 80-column wrap
    style = {FOUND: "green", MISSING: "yellow", CORRUPT: "bold red"}
    t = Table(title="MRT2 and Magenta RT v1 model files", title_justify="left")
    for col in ("file", "status", "source", "path / problem"):
        t.add_column(col, overflow="fold")

    def row(label: str, e: dict[str, Any], note: str = "") -> None:
        status = e["status"]
        shown = status + (f" ({note})" if note and status != FOUND else "")
        where = e["path"] or ""
        if e["problem"]:
            where = f"{where}: {e['problem']}"
        t.add_row(label, f"[{style[status]}]{shown}[/]", e["source"] or "", where)

    for s, e in inv["checkpoints"].items():
        row(f"{s} checkpoint", e)
    t.add_section()
    for n, e in inv["musiccoca"]["files"].items():
        note = "optional" if n in MUSICCOCA_OPTIONAL else "audio prompts only" if n in MUSICCOCA_AUDIO else ""
        row(f"musiccoca/{n}", e, note)
    t.add_section()
    row("spectrostream/encoder", inv["encoder"], "optional: audio prefill")
    t.add_section()
    v1 = inv["v1"]
    for s, e in v1["checkpoints"].items():
        row(f"{s} checkpoint ({V1_NAMES[s]})", e)
    row("v1 codec: SpectroStream decoder", v1["codec"], "from an MRT2 checkpoint")
    t.add_row("v1 style: MusicCoCa", "[green]shared[/]" if v1["ready"]["text_prompts"] else "[yellow]missing[/]",
              "", "the MRT2 musiccoca files above (same model)")
    con.print(t)
    con.print("searched, in order:", style="dim")
    for r in inv["roots"]:
        state = "" if r["exists"] else " (does not exist)"
        con.print(f"  {r['source']:<13} {r['path']}{state}", style="dim")
    con.print("v1 checkpoints searched, in order:", style="dim")
    for r in v1["roots"]:
        state = "" if r["exists"] else " (does not exist)"
        con.print(f"  {r['source']:<13} {r['path']}{state}", style="dim")
    for path, problem in inv["damaged"].items():
        con.print(f"[bold red]damaged:[/] {path}: {problem}")
    con.print(inv["summary"])
    r = inv["ready"]
    if not any(r[s] for s in SIZES):
        con.print("get them with: mrtd weights download  (mrt2_small, MusicCoCa and the encoder)")
    elif not (r["text_prompts"] and r["audio_prompts"] and r["audio_prefill"]):
        con.print("get the rest with: mrtd weights download --size none  (MusicCoCa and the encoder)")
    if not any(v1["ready"][s] for s in V1_SIZES):
        con.print("Magenta RT v1: mrtd weights download --size v1_base  (v1_large; the MRT2 codec comes along)")

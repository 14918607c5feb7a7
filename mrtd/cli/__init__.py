"""The ``mrtd`` command line: one parser, one function per subcommand.

Subcommand modules are imported only when their command runs, so ``mrtd --help``
answers instantly and never imports torch.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mrtd import __version__
from mrtd.errors import UserError

PROG = "mrtd"

DESCRIPTION = """\
mrtd runs Magenta RealTime 2 (MRT2) live on Linux: a daemon that streams the
model's 48 kHz stereo audio out of JACK ports, steered frame by frame over OSC
and MIDI."""

EPILOG = """\
Run 'mrtd COMMAND --help' for the options of one command.
Exit status: 0 success, 1 error (one line on stderr), 2 usage error."""


def _cmd_version(args: argparse.Namespace) -> int:
    if not args.verbose:
        print(f"mrtd {__version__}")
        return 0
    import platform

    import torch

    print(f"mrtd {__version__}")
    print(f"python {platform.python_version()} ({sys.executable})")
    cuda = torch.version.cuda or "none"
    print(f"torch {torch.__version__} (cuda {cuda}, available: {torch.cuda.is_available()})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-V", "--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")

    # each command's module is argparse only; its work is imported when it runs
    from mrtd.cli import bench, render, serve, style, verify, weights

    serve.add_serve(sub)
    render.add_render(sub)
    verify.add_verify(sub)
    style.add_style(sub)
    bench.add_bench(sub)
    weights.add_weights(sub)

    p = sub.add_parser("version", help="print the version (with -v: torch, CUDA and Python too)")
    p.add_argument("-v", "--verbose", action="store_true", help="also print torch, CUDA and Python versions")
    p.set_defaults(run=_cmd_version)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv  # what was typed (serve merges its config file under it)
    if getattr(args, "run", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except UserError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())

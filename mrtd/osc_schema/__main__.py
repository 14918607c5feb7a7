"""The OSC namespace, printed: ``python -m mrtd.osc_schema [json]`` prints it as JSON;
``python -m mrtd.osc_schema docs`` prints the Markdown reference (docs/osc.md), and
``docs --check docs/osc.md`` exits 1 when that file is stale. ``python -m mrtd.osc_schema
clients`` writes the Max patches and the TouchOSC layout (``max_patches/``, ``touchosc/``);
``clients --check`` exits 1 when the committed ones are stale."""

from __future__ import annotations

import argparse
import json
import sys

from mrtd.osc_schema import NAMESPACE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mrtd.osc_schema", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("json", help="print the namespace as JSON (the default)")
    docs = sub.add_parser("docs", help="print the Markdown OSC reference")
    docs.add_argument("--check", metavar="FILE", help="exit 1 if FILE differs from a fresh rendering")
    clients = sub.add_parser("clients", help="write the Max patches and the TouchOSC layout")
    clients.add_argument("--check", action="store_true", help="exit 1 if the files differ from a fresh generation")
    clients.add_argument("--root", default=".", help="the repo root to write under (default: the current directory)")
    args = parser.parse_args(argv)
    if args.command == "clients":
        from mrtd.osc_schema import clients as gen

        if args.check:
            problem = gen.check(args.root)
            if problem:
                print(problem, file=sys.stderr)
                return 1
            return 0
        for path in gen.write(args.root):
            print(path)
        return 0
    if args.command == "docs":
        from mrtd.osc_schema.docs import check, render_markdown

        if args.check:
            problem = check(args.check)
            if problem:
                print(problem, file=sys.stderr)
                return 1
            return 0
        sys.stdout.write(render_markdown())
        return 0
    print(json.dumps(NAMESPACE.to_dict(), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

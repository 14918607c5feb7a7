"""Every `oscsend` example in README.md names a real address with arguments it takes."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from mrtd.osc_schema import NAMESPACE

README = Path(__file__).parents[1] / "README.md"
CAST = {"i": int, "f": float, "s": str, "d": float, "h": int}


def examples() -> list[list[str]]:
    found = []
    for line in README.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\s*oscsend\s+\S+\s+\d+\s+(.*)", line)
        if m:
            found.append(shlex.split(m.group(1).split("#", 1)[0]))
    return found


def test_the_readme_osc_examples_fit_the_schema():
    seen = examples()
    assert len(seen) >= 20
    for words in seen:
        address, rest = words[0], words[1:]
        assert address in NAMESPACE, address
        types, args = (rest[0], rest[1:]) if rest else ("", [])
        assert len(types) == len(args), words
        NAMESPACE.check(address, [CAST[t](a) for t, a in zip(types, args)])

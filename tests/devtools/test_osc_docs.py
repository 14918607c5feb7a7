"""docs/osc.md is generated from the OSC schema: it must be current and complete."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from mrtd.devtools.docs import REGENERATE, render_markdown
from mrtd.osc_schema import NAMESPACE

DOC = Path(__file__).resolve().parents[2] / "docs" / "osc.md"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mrtd.devtools.docs", *args[1:]], capture_output=True, text=True,
                          cwd=DOC.parent.parent)


def test_committed_reference_is_current():
    assert DOC.read_text(encoding="utf-8") == render_markdown(), f"docs/osc.md is stale; regenerate it: {REGENERATE}"


def test_every_address_is_documented():
    text = render_markdown()
    for p in NAMESPACE:
        shown = re.sub(r"^/mrtd/prompt/\d+/", "/mrtd/prompt/N/", p.address)
        assert f"`{shown}" in text, p.address
    assert "/mrtd/prompt/N/weight" in text and "/mrtd/prompt/3/weight" not in text  # slots folded


def test_rendering_is_deterministic_and_the_cli_prints_it():
    out = _cli("docs")
    assert out.returncode == 0, out.stderr
    assert out.stdout == render_markdown() == render_markdown()


def test_check_passes_when_current_and_fails_with_the_fix_when_stale(tmp_path):
    assert _cli("docs", "--check", str(DOC)).returncode == 0
    stale = tmp_path / "osc.md"
    stale.write_text(render_markdown().replace("/mrtd/temperature", "/mrtd/temp"), encoding="utf-8")
    out = _cli("docs", "--check", str(stale))
    assert out.returncode == 1
    assert REGENERATE in out.stderr

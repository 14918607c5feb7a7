"""The house rules of the layout, checked on the code itself: which package may import
which, what stays free of torch, and that the maps in README.md and
docs/architecture.md name the tree as it is."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "mrtd"


def imports_of(path: Path) -> set[str]:
    """Every module a file imports (top level or inside functions), absolute names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def files_under(rel: str) -> list[Path]:
    p = PKG / rel
    return [p] if p.suffix == ".py" else sorted(p.rglob("*.py"))


def mrtd_imports(rel: str) -> dict[str, set[str]]:
    return {str(f.relative_to(ROOT)): {m for m in imports_of(f) if m == "mrtd" or m.startswith("mrtd.")}
            for f in files_under(rel)}


def test_the_schema_imports_nothing_of_mrtd_but_itself():
    for f, mods in mrtd_imports("osc_schema").items():
        assert all(m.startswith("mrtd.osc_schema") for m in mods), (f, mods)


def test_the_model_imports_only_torch_numpy_safetensors_and_mrtd_basics():
    allowed = ("mrtd.model.mrt2", "mrtd.errors", "mrtd.constants")
    for f in files_under("model/mrt2"):
        for m in imports_of(f):
            top = m.split(".")[0]
            if top == "mrtd":
                assert m.startswith(allowed), (f, m)
            else:
                assert top in {"torch", "numpy", "safetensors"} or top in sys.stdlib_module_names, (f, m)


def test_the_daemon_never_imports_the_developer_tools():
    for rel in ("daemon.py", "engine", "remote", "audio", "effects", "controls", "model", "weights"):
        for f, mods in mrtd_imports(rel).items():
            assert not any(m.startswith("mrtd.devtools") for m in mods), (f, mods)


def test_the_audio_side_and_the_command_line_import_no_torch():
    code = ("import sys, mrtd.audio.jack_host, mrtd.audio.tap, mrtd.audio.jackd, mrtd.cli; "
            "mrtd.cli.build_parser(); assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize("command", ["", "serve", "render", "verify", "style", "bench", "weights"])
def test_help_imports_no_torch(command):
    code = ("import sys, runpy; sys.argv = ['mrtd'] + sys.argv[1:]\n"
            "try:\n    runpy.run_module('mrtd', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "assert 'torch' not in sys.modules, 'torch imported'")
    args = [command, "--help"] if command else ["--help"]
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "usage: mrtd" in r.stdout


def packages() -> list[str]:
    """mrtd's packages and top-level modules, as the maps name them."""
    out = []
    for p in sorted(PKG.iterdir()):
        if p.is_dir() and (p / "__init__.py").exists():
            out.append(f"mrtd/{p.name}/")
        elif p.suffix == ".py" and p.name not in ("__init__.py", "__main__.py"):
            out.append(f"mrtd/{p.name}")
    return out


@pytest.mark.parametrize("doc", ["README.md", "docs/architecture.md"])
def test_the_maps_name_every_package(doc):
    text = (ROOT / doc).read_text(encoding="utf-8")
    for name in packages():
        assert f"`{name}`" in text, f"{doc} does not name {name}"
    for named in {w.strip("`") for w in text.split() if w.startswith("`mrtd/") and w.rstrip("`|,.").endswith(("/", ".py"))}:
        named = named.rstrip("`|,.")
        assert (ROOT / named).exists(), f"{doc} names {named}, which is not in the tree"

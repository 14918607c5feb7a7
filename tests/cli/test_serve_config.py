"""The daemon's TOML config: the README's example is valid, bad files name the problem."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mrtd.cli.serve import _serve_parser, load_config
from mrtd.errors import UserError
from mrtd.osc_schema import NAMESPACE
from mrtd.remote.midi import CCMap

README = Path(__file__).parents[2] / "README.md"


def defaults() -> dict:
    return {a.dest: a.default for a in _serve_parser()._actions}


def test_readme_example_config_is_valid(tmp_path):
    block = re.search(r"```toml\n(.*?)```", README.read_text(), re.S).group(1)
    path = tmp_path / "mrtd.toml"
    path.write_text(block)
    cfg = load_config(str(path), defaults())
    CCMap(cfg["midi"]["cc"])
    for address, value in cfg["controls"].items():
        NAMESPACE.check(address, value if isinstance(value, list) else [value])
    for key in cfg:
        if not isinstance(cfg[key], dict):
            assert key.replace("-", "_") in defaults()


@pytest.mark.parametrize("text,match", [
    ("nope = 1\n", "unknown option 'nope'"),
    ("[effects]\nx = 1\n", r"unknown table \[effects\]"),
    ("latency-ms = \n", "config"),
])
def test_bad_config_files(tmp_path, text, match):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(UserError, match=match):
        load_config(str(path), defaults())


def test_missing_config_file(tmp_path):
    with pytest.raises(UserError, match="cannot read config"):
        load_config(str(tmp_path / "none.toml"), defaults())


@pytest.mark.parametrize("text,match", [
    ("osc-port = \"x\"\n", "not a valid int"),
    ("zeroconf = 1\n", "true or false"),
    ("connect = 5\n", "list of port names"),
    ("jack-start = \"pulse\"\n", "one of dummy, alsa"),
    ("voices = 0\n", "--voices must be within 1..16"),
])
def test_config_values_are_checked_like_flags(tmp_path, text, match):
    import subprocess
    import sys

    path = tmp_path / "bad.toml"
    path.write_text("demo = true\n" + text)
    r = subprocess.run([sys.executable, "-m", "mrtd", "serve", "--config", str(path)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1 and match in r.stderr, r.stderr


def test_voices_need_an_mrt2_model(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "v1.toml"
    path.write_text('voices = 2\nsize = "v1_base"\n')
    r = subprocess.run([sys.executable, "-m", "mrtd", "serve", "--config", str(path)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1 and "--voices needs an MRT2 model" in r.stderr, r.stderr


def test_adapt_threads_is_for_one_voice(tmp_path):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "mrtd", "serve", "--demo", "--voices", "2", "--adapt-threads"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "--adapt-threads works with one voice" in r.stderr, r.stderr

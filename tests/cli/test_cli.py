"""The mrtd command line reads like a Unix tool: help, versions, one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mrtd import __version__
from mrtd.cli import main

SUBCOMMANDS = ["serve", "render", "verify", "style", "bench", "weights", "version"]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["mrtd", *args], capture_output=True, text=True, timeout=120)


def test_help_lists_every_subcommand():
    r = run("--help")
    assert r.returncode == 0
    for cmd in SUBCOMMANDS:
        assert f"    {cmd}" in r.stdout


@pytest.mark.parametrize("cmd", SUBCOMMANDS)
def test_each_subcommand_has_help(cmd):
    r = run(cmd, "--help")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"usage: mrtd {cmd}")


def test_version(capsys):
    assert main(["version"]) == 0
    assert capsys.readouterr().out.strip() == f"mrtd {__version__}"
    r = run("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"mrtd {__version__}"


def test_no_command_prints_help_and_exits_2():
    r = run()
    assert r.returncode == 2
    assert "commands:" in r.stdout


def test_unknown_command_is_a_usage_error():
    r = run("frobnicate")
    assert r.returncode == 2
    assert "invalid choice" in r.stderr


def test_user_error_is_one_line_without_traceback(tmp_path):
    r = run("verify", "--reference", str(tmp_path / "missing.npz"))
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mrtd: error: ")
    assert "Traceback" not in r.stderr


def test_python_dash_m_runs_the_cli():
    r = subprocess.run([sys.executable, "-m", "mrtd", "--version"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == f"mrtd {__version__}"

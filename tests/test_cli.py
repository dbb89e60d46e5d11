"""The ``fsnet`` command: every subcommand is registered and documented."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fsnet_core import cli


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    for name in cli.COMMANDS:
        assert name.replace("_", "-") in text


def test_no_subcommand_prints_help_and_fails(capsys):
    assert cli.main([]) == 2
    assert "usage: fsnet" in capsys.readouterr().out


def test_console_script_runs_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "fsnet_core", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and "FSNet Lab" in result.stdout


def test_demo_writes_a_figure(tmp_path):
    assert cli.main(["demo", "--out", str(tmp_path), "--backbone", "resnet18", "--size", "96"]) == 0
    png = tmp_path / "demo_forward_pass.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

"""Faults outside the package's control end in one line naming the path, not a stack trace."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fsnet_core import cli


def _failing_command(monkeypatch, exc: BaseException) -> None:
    """Make ``fsnet download --list`` raise ``exc`` from inside the command."""
    from fsnet_core.cli import download

    def boom(args):
        raise exc

    monkeypatch.setattr(download, "run", boom)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (OSError(errno.EROFS, "Read-only file system", "/mnt/ro/out.json"), "/mnt/ro/out.json"),
        (OSError(errno.ENOSPC, "No space left on device", "/data/run/last.pt"), "/data/run"),
        (NotADirectoryError(errno.ENOTDIR, "Not a directory", "/a/file/b"), "/a/file/b"),
        (PermissionError(errno.EACCES, "Permission denied", "/root/x"), "Permission denied"),
    ],
)
def test_every_os_error_is_one_line_naming_the_path(monkeypatch, capsys, exc, expected):
    _failing_command(monkeypatch, exc)
    assert cli.main(["download", "--list"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("fsnet download: error: ") and expected in err


def test_json_pointing_at_a_folder_is_one_line(tmp_path: Path):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    from PIL import Image

    mask = np.zeros((8, 8), np.uint8)
    mask[2:6, 2:6] = 255
    for root in ("pred", "gt"):
        (tmp_path / root / "s").mkdir(parents=True)
        for t in range(3):
            Image.fromarray(mask).save(tmp_path / root / "s" / f"{t:05d}.png")
    folder = tmp_path / "out.json"
    folder.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "fsnet_core", "eval", str(tmp_path / "pred"), str(tmp_path / "gt"),
         "--json", str(folder), "--no-progress"],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr


def test_closed_pipe_exits_quietly(tmp_path: Path):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    result = subprocess.run(
        f"'{sys.executable}' -m fsnet_core download --list | head -c 10",
        shell=True, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert len(result.stdout) == 10
    assert result.stderr == "", result.stderr

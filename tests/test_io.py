"""File helpers: atomic writes and temporary folders keep the user's umask, as open() does."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from fsnet_core.io import atomic_write, mkdtemp_honouring_umask


@pytest.fixture(params=[0o022, 0o002, 0o077])
def umask(request) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_write_gives_the_mode_open_would(tmp_path: Path, umask: int) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    with atomic_write(tmp_path / "atomic.txt") as tmp:
        tmp.write_text("x")
    assert _mode(tmp_path / "atomic.txt") == _mode(plain) == 0o666 & ~umask


def test_temporary_folder_gives_the_mode_mkdir_would(tmp_path: Path, umask: int) -> None:
    (tmp_path / "plain").mkdir()
    work = mkdtemp_honouring_umask(prefix=".x.", suffix=".partial", dir=tmp_path)
    assert work.parent == tmp_path and work.name.startswith(".x.") and work.is_dir()
    assert _mode(work) == _mode(tmp_path / "plain") == 0o777 & ~umask


def test_replace_failure_names_the_final_file(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    with pytest.raises(IsADirectoryError) as info, atomic_write(tmp_path / "taken") as tmp:
        tmp.write_text("x")
    assert info.value.filename == str(tmp_path / "taken")
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]  # no temporary left behind

"""File helpers: atomic writes and temporary folders keep the user's umask, as open() does;
lock files keep a folder to one process at a time."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from fsnet_core.io import InputError, atomic_write, exclusive_lock, mkdtemp_honouring_umask


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


# ---------------------------------------------------------------------------- lock files

HOST = socket.gethostname()


def _lock_of(lock: Path, pid: int, host: str = HOST, what: str = "a training run") -> None:
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text(json.dumps({"pid": pid, "host": host, "what": what}))


def _exited_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    return int(done.stdout)


def _try_in_another_thread(lock: Path, what: str) -> BaseException | None:
    """The error another thread gets for taking ``lock`` (None when it got it)."""
    caught: list[BaseException | None] = [None]

    def take() -> None:
        try:
            with exclusive_lock(lock, what):
                pass
        except InputError as exc:
            caught[0] = exc

    worker = threading.Thread(target=take)
    worker.start()
    worker.join()
    return caught[0]


def test_a_lock_holds_its_owner_and_goes_at_the_end_even_on_error(tmp_path: Path) -> None:
    lock = tmp_path / "run" / ".lock"
    with pytest.raises(RuntimeError, match="boom"), exclusive_lock(lock, "a training run"):
        owner = json.loads(lock.read_text())
        assert (owner["pid"], owner["host"]) == (os.getpid(), HOST)
        refused = _try_in_another_thread(lock, "another run")
        with exclusive_lock(lock, "the same run, again"):  # re-entrant within a thread
            pass
        assert lock.is_file()
        raise RuntimeError("boom")
    assert str(refused) == (
        f"{lock.parent}: in use by a training run (pid {os.getpid()} on host {HOST}, lock file "
        ".lock); wait for it to end, or delete .lock if that process is gone"
    )
    assert not lock.parent.exists()  # the folder made for the lock, left empty, went too


def test_a_folder_that_gets_files_keeps_them_and_loses_only_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / "run" / ".lock"
    with exclusive_lock(lock, "a training run"):
        (lock.parent / "config.json").write_text("{}")
    assert [p.name for p in lock.parent.iterdir()] == ["config.json"]


def test_the_lock_of_a_live_process_is_refused(tmp_path: Path) -> None:
    lock = tmp_path / ".lock"
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _lock_of(lock, holder.pid)
        with pytest.raises(InputError, match=rf"pid {holder.pid} on host {HOST}"):
            with exclusive_lock(lock, "a training run"):
                pass
    finally:
        holder.kill()
        holder.wait()
    assert json.loads(lock.read_text())["pid"] == holder.pid  # the holder's lock is left alone


def test_the_lock_of_another_host_is_refused(tmp_path: Path) -> None:
    """Its processes cannot be seen from here, so it might be running."""
    lock = tmp_path / ".lock"
    _lock_of(lock, _exited_pid(), host="elsewhere")
    with pytest.raises(InputError, match="on host elsewhere"), exclusive_lock(lock, "x"):
        pass


def test_a_stale_lock_is_taken_over_with_a_note(tmp_path: Path, capsys) -> None:
    lock = tmp_path / ".lock"
    dead = _exited_pid()
    _lock_of(lock, dead)
    with exclusive_lock(lock, "a training run"):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    err = capsys.readouterr().err
    assert f"{lock}: taking over the lock of a training run, pid {dead} on host {HOST}" in err
    assert "no longer running" in err and not lock.exists()


def test_an_unreadable_lock_is_taken_over(tmp_path: Path, capsys) -> None:
    lock = tmp_path / ".lock"
    lock.write_text("")  # a process killed between creating the file and writing its pid
    with exclusive_lock(lock, "a training run"):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert "unreadable lock" in capsys.readouterr().err

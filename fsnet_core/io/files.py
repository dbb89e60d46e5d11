"""Writing files safely: atomic writes, and errors that name the file at fault.

Files and folders made here get the permissions ``open()`` and ``mkdir()``
would give (``0o666`` / ``0o777`` less the umask), not the private ``0o600``
/ ``0o700`` of :mod:`tempfile`, so on a shared lab machine others can read
checkpoints, predictions and figures exactly when the user's umask allows it.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path


class InputError(ValueError):
    """Bad input: the message always starts with the offending path."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def current_umask() -> int:
    """The process umask (read from /proc where possible, which changes nothing)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting it, then put it back
    os.umask(mask)
    return mask


def mkdtemp_honouring_umask(
    suffix: str | None = None, prefix: str | None = None, dir: str | os.PathLike | None = None
) -> Path:
    """:func:`tempfile.mkdtemp`, but with the mode ``mkdir`` would give (``0o777`` less umask).

    For work folders that are renamed into place when complete.
    """
    path = Path(tempfile.mkdtemp(suffix=suffix, prefix=prefix, dir=dir))
    path.chmod(0o777 & ~current_umask())
    return path


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    A crash or an exception leaves any existing ``path`` untouched and no
    half-written file under the final name. The file gets the permissions
    ``open()`` would give it (``0o666`` less the umask). ``mode`` is unused and kept for
    readability at call sites that open the yielded path themselves.
    """
    del mode
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.chmod(0o666 & ~current_umask())  # as open() would create it, not mkstemp's 0o600
    try:
        yield tmp_path
        try:
            os.replace(tmp_path, path)
        except OSError as exc:  # name the file the caller asked for, not the temporary
            raise type(exc)(exc.errno, exc.strerror, str(path)) from exc
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def remove_stale_temporaries(folder: str | os.PathLike, names: Iterable[str]) -> list[Path]:
    """Delete what :func:`atomic_write` left for ``names`` in ``folder`` when a process was killed.

    Only files of its own pattern (``.NAME.*.tmp``) go; call this where no other
    process can be writing those files. Returns the paths removed.
    """
    folder = Path(folder)
    removed = []
    for name in names:
        for stale in folder.glob(f".{glob.escape(name)}.*.tmp"):
            if stale.is_file():
                stale.unlink()
                removed.append(stale)
    return removed


def sha256_of(path: str | os.PathLike) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()

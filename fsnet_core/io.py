"""Small file helpers: atomic writes and errors that name the file at fault."""

from __future__ import annotations

import contextlib
import glob
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


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    A crash or an exception leaves any existing ``path`` untouched and no
    half-written file under the final name. ``mode`` is unused and kept for
    readability at call sites that open the yielded path themselves.
    """
    del mode
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
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

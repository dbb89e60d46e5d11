"""Writing files safely: atomic writes, lock files, and errors that name the file at fault.

Files and folders made here get the permissions ``open()`` and ``mkdir()``
would give (``0o666`` / ``0o777`` less the umask), not the private ``0o600``
/ ``0o700`` of :mod:`tempfile`, so on a shared lab machine others can read
checkpoints, predictions and figures exactly when the user's umask allows it.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import socket
import sys
import tempfile
import threading
import time
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


class LockHeld(InputError):
    """Another live process (or one on another host) holds a lock file: ``holder`` says who."""

    def __init__(self, path: str | os.PathLike, problem: str, holder: str) -> None:
        super().__init__(path, problem)
        self.holder = holder


_HELD = threading.local()  # the lock files this thread holds: a lock is re-entrant per thread


def _process_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this host (one of another user's counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_lock(path: Path) -> tuple[str, dict | None]:
    """The lock file's text and its owner (``None`` when it does not parse)."""
    text = path.read_text()
    try:
        owner = json.loads(text)
    except ValueError:
        return text, None
    ok = isinstance(owner, dict) and isinstance(owner.get("pid"), int) and "host" in owner
    return text, owner if ok else None


def _take_over(path: Path, seen: str, why: str) -> None:
    """Remove the stale lock ``path`` if it still holds ``seen``; put back one taken meanwhile."""
    aside = path.with_name(f"{path.name}.{os.getpid()}.stale")
    try:
        os.replace(path, aside)
    except FileNotFoundError:
        return  # its holder (or another taker) removed it: try again
    if aside.read_text() == seen:
        aside.unlink()
        print(f"{path}: taking over the lock of {why}", file=sys.stderr)
        return
    with contextlib.suppress(FileExistsError):  # a live lock taken meanwhile: give it back
        os.link(aside, path)
    aside.unlink()


def _create(path: Path, me: dict) -> bool:
    """Create the lock file holding ``me`` in one step (never seen empty); False if it exists.

    The owner is written to a private temporary first and hard-linked to the
    lock's name, which fails when that name exists, so there is no moment when
    the lock exists without its owner.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(me))
    tmp.chmod(0o666 & ~current_umask())
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink()
    return True


@contextlib.contextmanager
def exclusive_lock(
    path: str | os.PathLike, what: str, *, wait: float | None = 0, poll: float = 0.5
) -> Iterator[Path]:
    """Hold the lock file ``path`` while the block runs: one process at a time works there.

    The file holds this process's pid and host, and is removed when the block
    ends, by an exception too. A lock of a process gone from this host (killed)
    is taken over, with a note on stderr; so is an unreadable one. A lock of a
    live process, or of another host (whose processes cannot be seen), is waited
    for up to ``wait`` seconds (0: not at all; None: as long as it takes; a line
    on stderr says whom), then refused with :class:`LockHeld` naming the folder,
    the holder's pid and host. ``what`` names the holder in messages (``"a
    training run"``). Re-entrant within a thread. Folders made for the lock are
    removed again at the end when left empty.
    """
    path = Path(path)
    if not hasattr(_HELD, "paths"):
        _HELD.paths = set()
    key = path.absolute()
    if key in _HELD.paths:
        yield path
        return
    missing = []
    for folder in (path.parent, *path.parent.parents):
        if folder.exists():
            break
        missing.append(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    me = {"pid": os.getpid(), "host": socket.gethostname(), "what": what}
    try:
        _acquire(path, me, wait, poll)
        _HELD.paths.add(key)
        try:
            yield path
        finally:
            _HELD.paths.discard(key)
            with contextlib.suppress(OSError):
                if _read_lock(path)[1] == me:
                    path.unlink()
    finally:
        for folder in missing:  # deepest first; stops at the first that is not empty
            try:
                folder.rmdir()
            except OSError:
                break


def _acquire(path: Path, me: dict, wait: float | None, poll: float) -> None:
    waiting_since: float | None = None
    while not _create(path, me):
        try:
            text, owner = _read_lock(path)
        except FileNotFoundError:
            continue  # released meanwhile
        if owner is None:
            _take_over(path, text, "a process that never wrote its pid (unreadable lock)")
            continue
        pid, host, held = owner["pid"], owner["host"], owner.get("what", "another process")
        if host == me["host"] and not _process_alive(pid):
            _take_over(path, text, f"{held}, pid {pid} on host {host}, which is no longer running")
            continue
        holder = f"{held} (pid {pid} on host {host}, lock file {path.name})"
        now = time.monotonic()
        if waiting_since is None:
            waiting_since = now
            if wait != 0:
                print(f"{path.parent}: waiting for {holder}", file=sys.stderr)
        if wait is not None and now - waiting_since >= wait:
            raise LockHeld(
                path.parent,
                f"in use by {holder}; wait for it to end, or delete {path.name} if that "
                "process is gone",
                holder,
            ) from None
        time.sleep(poll)


def sha256_of(path: str | os.PathLike) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


__all__ = [
    "InputError",
    "LockHeld",
    "atomic_write",
    "current_umask",
    "exclusive_lock",
    "mkdtemp_honouring_umask",
    "remove_stale_temporaries",
    "sha256_of",
]

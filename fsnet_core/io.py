"""Small file helpers: atomic writes and errors that name the file at fault.

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
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any


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


def load_weights(path: str | os.PathLike) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU: tensors and containers, never code.

    A file that is not a checkpoint, or one holding other Python objects (which
    could run code when unpickled), raises :class:`InputError` with a one-line
    reason; PyTorch's advice to retry with ``weights_only=False`` is left out.
    """
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except IsADirectoryError:
        raise InputError(path, "is a folder, not a weights file") from None
    except Exception as exc:  # noqa: BLE001 - unpickling errors have no common base class
        raise InputError(path, _load_problem(exc)) from exc


def _load_problem(exc: BaseException) -> str:
    """The useful part of a ``torch.load`` error, on one line."""
    text = str(exc)
    found = re.search(r"WeightsUnpickler error:\s*(.+?)(?:\. Please use|\n\n|$)", text, re.S)
    if found:
        reason = " ".join(found.group(1).split()).rstrip(".")
        if "global" in reason.lower():
            return (
                "holds Python objects besides tensors, which could run code, "
                f"so it was not loaded: {reason}"
            )
        return reason
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    return first


NAME_DIGEST = re.compile(r"-([a-f0-9]{8,})\.")
"""torch.hub's file names: ``NAME-<SHA-256 prefix>.EXT``, e.g. ``resnet50-0676ba61.pth``."""


def sha256_of(path: str | os.PathLike) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def check_name_digest(path: str | os.PathLike) -> None:
    """InputError unless the file's SHA-256 starts with the digits its name carries (if any).

    torchvision's weight files name their digest, as torch.hub checks after a
    download; checking again before every load means a corrupt or planted file
    in the cache is refused instead of unpickled.
    """
    path = Path(path)
    found = NAME_DIGEST.search(path.name)
    if found is None:
        return
    actual = sha256_of(path)
    if not actual.startswith(found.group(1)):
        raise InputError(
            path,
            f"SHA-256 {actual[:16]}... does not start with {found.group(1)}, as the file's name "
            "says: a corrupt or substituted file, not loaded. Delete it; it is downloaded "
            "again when needed (or place the genuine file there)",
        )


MIRROR_ENV = "FSNET_LAB_MIRROR"
"""Environment variable naming a mirror: every file is fetched from ``<mirror>/<file name>``."""


def mirror_url(filename: str) -> str | None:
    """``$FSNET_LAB_MIRROR/filename`` when a mirror is set (a firewall, an institution's copy,
    a test server), else None: the file's own address is used."""
    base = os.environ.get(MIRROR_ENV, "").strip()
    return f"{base.rstrip('/')}/{filename}" if base else None


def hub_checkpoint_path(url: str) -> Path:
    """Where torch.hub keeps (and torchvision looks for) the file downloaded from ``url``."""
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]


def load_hub_weights(url: str, mirror: str | None = None) -> Any:
    """A torchvision weights file by address: from the hub cache, downloaded there if absent.

    Downloads (from ``mirror`` when given, else from ``$FSNET_LAB_MIRROR`` when set) check
    the digest in the file name;
    so does every load, including of a file that was already in the cache, and
    the file is loaded with ``weights_only=True``, so no file there can run code.
    Network failures raise OSError; a bad file raises :class:`InputError`.
    """
    import torch

    target = hub_checkpoint_path(url)
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        found = NAME_DIGEST.search(target.name)
        torch.hub.download_url_to_file(
            mirror or mirror_url(target.name) or url,
            str(target),
            hash_prefix=found.group(1) if found else None,
        )
    check_name_digest(target)
    return load_weights(target)

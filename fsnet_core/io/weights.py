"""Weight files: the one way the package reads, names and fetches them.

Every weight file (the authors' checkpoint, torchvision's ImageNet and RAFT
weights, a training run's ``.pt``) is read with ``weights_only=True``, so no
file can run code; files whose name carries a digest are checked before each
load; downloads go through :func:`fsnet_core.io.download.fetch`.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

from .files import InputError


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

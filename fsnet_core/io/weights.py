"""Weight files: the one way the package reads, names and fetches them.

Every weight file (the authors' checkpoint, torchvision's ImageNet and RAFT
weights, a training run's ``.pt``) is read with ``weights_only=True``, so no
file can run code. Published weights live in the torch hub cache, as
torchvision keeps them; :func:`weights_file` is the one way to get one: it
downloads a missing file through :func:`fsnet_core.io.download.fetch_file`,
and checks its digest (the prefix in its name, or a pinned SHA-256) on
download and before every load. Weights that cannot be had raise the one
:class:`WeightsUnavailable`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from .download import DownloadError, fetch_file, source_url
from .files import InputError, sha256_of


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


class WeightsUnavailable(FileNotFoundError):
    """Weights that are neither on disk nor downloadable now.

    The one-line message starts with the file and says where to put it and
    why it failed. A ``FileNotFoundError`` (so an ``OSError``): what callers
    catch for a missing file, and what the command line reports in one line.
    """

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def expected_digest(path: str | os.PathLike, sha256: str | None = None) -> str | None:
    """The digest a weights file must have: ``sha256`` when pinned, else its name's prefix."""
    found = NAME_DIGEST.search(Path(path).name)
    return sha256 or (found.group(1) if found else None)


def check_digest(path: str | os.PathLike, sha256: str | None = None) -> None:
    """InputError unless the file's SHA-256 is ``sha256`` (when pinned) or starts with the
    digits its name carries (torchvision's files); nothing to check when neither is known.

    torch.hub checks the name's digits after a download; checking again before
    every load means a corrupt or planted file in the cache is refused instead
    of unpickled.
    """
    path = Path(path)
    expected = expected_digest(path, sha256)
    if expected is None:
        return
    actual = sha256_of(path)
    if not actual.startswith(expected.lower()):
        rule = (
            f"is not {expected}, as pinned"
            if sha256
            else (f"does not start with {expected}, as the file's name says")
        )
        raise InputError(
            path,
            f"SHA-256 {actual} {rule}: a corrupt or substituted file, "
            "not loaded. Delete it; it is downloaded again when needed (or place the genuine "
            "file there)",
        )


def hub_checkpoint_path(url_or_name: str, folder: str | os.PathLike | None = None) -> Path:
    """Where torch.hub keeps (and torchvision looks for) the file of this address or name:
    ``<torch hub dir>/checkpoints/NAME``, or ``folder/NAME``."""
    import torch

    base = Path(folder) if folder is not None else Path(torch.hub.get_dir()) / "checkpoints"
    return base / url_or_name.rsplit("/", 1)[-1]


def weights_file(
    url: str,
    *,
    what: str,
    file_name: str | None = None,
    folder: str | os.PathLike | None = None,
    sha256: str | None = None,
    source: str | None = None,
    check_hash: bool = True,
    progress: bool = True,
    advice: str = "",
    retries: int = 2,
    retry_wait: float = 1.0,
) -> Path:
    """The local file of the weights published at ``url``, downloaded first when missing.

    The file is ``file_name`` (default: the address's last part) in the torch
    hub cache (or ``folder``). A missing one is fetched from ``source`` if
    given, else ``$FSNET_LAB_MIRROR`` if set, else ``url``, and must load as
    tensors only before it takes its name. With ``check_hash`` its SHA-256 is
    checked, on download and on every call, against ``sha256`` (a pinned full
    digest) or the digits in its name; a mismatch in the cache is an
    :class:`InputError`. A file that cannot be downloaded raises
    :class:`WeightsUnavailable` naming ``what``, the file, where to get it,
    why it failed and ``advice`` (other ways out).
    """
    target = hub_checkpoint_path(file_name or url, folder)
    digest = expected_digest(target, sha256) if check_hash else None
    if not target.is_file():
        try:
            fetch_file(
                source_url(url, target.name, source),
                target,
                own_url=url,
                sha256=digest,
                check=load_weights,
                progress=progress,
                retries=retries,
                retry_wait=retry_wait,
            )
        except (DownloadError, InputError, OSError) as exc:
            said = exc.reason if isinstance(exc, DownloadError) else str(exc)
            reason = " ".join(said.split()) or type(exc).__name__
            raise WeightsUnavailable(
                target,
                f"{what} not found and could not be downloaded ({reason}); download {url} and "
                f"save it as {target}{advice}",
            ) from exc
    if check_hash:
        check_digest(target, sha256)
    return target


def state_digest(module: Any) -> str:
    """SHA-256 (hex) of a module's state dict: every tensor's name and bytes, names sorted.

    What tells two sets of weights apart wherever no file names them (a model in
    memory, a predictor, the CPU engine's cache key).
    """
    import hashlib

    import torch

    digest = hashlib.sha256()
    for key, value in sorted(module.state_dict().items()):
        digest.update(key.encode())
        digest.update(value.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


__all__ = [
    "NAME_DIGEST",
    "WeightsUnavailable",
    "check_digest",
    "expected_digest",
    "hub_checkpoint_path",
    "load_weights",
    "state_digest",
    "weights_file",
]

"""``SMOKE = None``: which version of a notebook runs, chosen from the machine and said in one line.

Every notebook's parameters cell starts with ``SMOKE = None``, and the cell after it calls
:func:`choose_smoke`. None means: the real thing (SMOKE off: the authors' model on real video,
or the notebook's full version) where a CUDA GPU is available, as on a Colab GPU runtime
opened from a notebook's badge; the quick CPU version on the built-in clips (SMOKE on)
elsewhere. An explicit True or False wins: ``make run``, CI and the tests pass one (papermill
injects it after the parameters cell), so what they run never depends on the machine.

With SMOKE off, the files the real path needs are downloaded first, in that same cell, before
any later cell has read SMOKE. When SMOKE = None chose it and a download fails (offline, a
server's error), the notebook says so in one line and goes on with SMOKE on; an explicit
``SMOKE = False`` asked for the real path, so there the download's error is raised.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch

from ..data.assets import get_asset
from ..data.downloads import download
from ..io import DownloadError, InputError
from ..model.weights import FSNetWeights
from .model_cache import lab_path

AUTHORS_CHECKPOINT: str = FSNetWeights.DAVIS16_ICCV21.meta["asset"]
"""The registry name of the authors' released checkpoint (``fsnet download`` calls it so)."""
DOWNLOAD_ERRORS = (DownloadError, InputError, OSError)
"""What a failed download raises: the network or the server (``DownloadError``), a file that
is not what it should be (``InputError``), this machine (``OSError``: a full disk)."""
QUICK = "the quick version on the built-in clips"


def cuda_gpu() -> str | None:
    """The name of the CUDA GPU torch can use here (the set-up cell's ``DEVICE``), or None."""
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def flow_weights(method: str) -> tuple[str, ...]:
    """The registry assets flow ``method`` downloads: RAFT's weights (registered under the
    method's name); none for DIS and Farnebäck, which OpenCV computes without weights."""
    return (method,) if method.startswith("raft-") else ()


def course_download(name: str, *, progress: bool = True) -> Path:
    """Fetch the registry asset ``name`` where the notebooks read it: weights into the torch
    hub cache, data under the lab's folders (``lab_path("data")``, ``lab_path("results")``),
    once; a later call finds it there."""
    asset = get_asset(name)
    dest = None if asset.in_hub_cache else lab_path(asset.default_dest)
    return download(asset, dest, progress=progress)


def _one_line(exc: BaseException) -> str:
    """The failure alone, on one line (a ``DownloadError``'s reason, without its advice)."""
    said = exc.reason if isinstance(exc, DownloadError) else str(exc)
    return " ".join(said.split()) or type(exc).__name__


def choose_smoke(
    smoke: bool | None, real: str, needs: Iterable[str] = (), *, progress: bool = True
) -> bool:
    """The notebook's SMOKE: ``smoke`` when it is True or False, else whether no CUDA GPU is
    here. Prints one line saying which and why; ``real`` says what SMOKE off runs in this
    notebook ("the authors' model on real video").

    With SMOKE off, the registry assets ``needs`` are downloaded now (:func:`course_download`).
    If one fails and ``smoke`` was None, a second line names it and why, and the result is
    True (the quick version); with ``smoke=False`` the download's error is raised.
    """
    if smoke is not None and not isinstance(smoke, bool):
        raise ValueError(f"SMOKE must be None (choose), True or False, got {smoke!r}")
    gpu = cuda_gpu()
    chosen = smoke if smoke is not None else gpu is None
    if smoke is not None:
        why = f"SMOKE = {smoke} was set (in the parameters cell, or by `make run`, CI, papermill)"
    else:
        why = f"a CUDA GPU ({gpu}) is available" if gpu else "no CUDA GPU was found"
    if chosen:
        other = f"; set SMOKE = False for {real}" if smoke is None else ""
        print(f"SMOKE on: {why}, so this notebook runs {QUICK}{other}")
        return True
    slow = " (without a GPU: slow)" if gpu is None else ""
    other = f"; set SMOKE = True for {QUICK}" if smoke is None else ""
    print(f"SMOKE off: {why}, so this notebook runs {real}{slow}{other}")
    for name in needs:
        try:
            course_download(name, progress=progress)
        except DOWNLOAD_ERRORS as exc:
            if smoke is not None:
                raise
            asset = get_asset(name)
            print(
                f"SMOKE on after all: {asset.filename} ({name}) could not be downloaded "
                f"({_one_line(exc)}), so this notebook goes on with {QUICK}"
            )
            return True
    return False


__all__ = [
    "AUTHORS_CHECKPOINT",
    "DOWNLOAD_ERRORS",
    "choose_smoke",
    "course_download",
    "cuda_gpu",
    "flow_weights",
]

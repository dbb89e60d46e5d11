"""Which weights to run: the authors' checkpoint by default, fetched on first use.

``fsnet segment`` (and :func:`~fsnet_core.inference.video.segment_video`)
runs the authors' released FSNet unless given another checkpoint. When the
file is not in ``checkpoints/`` it is downloaded (``fsnet download
fsnet-checkpoint`` does the same); offline, the error says in one line what
to do instead.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..data.assets import get_asset
from ..data.download import DownloadError, download
from ..model.official import read_state_dict

CHECKPOINT_ASSET = "fsnet-checkpoint"


def default_checkpoint_path(dest: str | os.PathLike | None = None) -> Path:
    """Where the authors' checkpoint lives (``checkpoints/`` under the working directory)."""
    asset = get_asset(CHECKPOINT_ASSET)
    return asset.destination(dest) / asset.target


def default_checkpoint(
    dest: str | os.PathLike | None = None,
    *,
    url: str | None = None,
    progress: bool = True,
    retries: int = 2,
    retry_wait: float = 1.0,
) -> Path:
    """The authors' checkpoint, downloaded first if missing (from ``url``, a mirror, if given).

    Raises :class:`DownloadError` with a one-line message (what failed, and
    ``--checkpoint`` or a manual download as the way out) when it cannot be fetched.
    """
    path = default_checkpoint_path(dest)
    if path.is_file():
        return path
    try:
        return download(
            CHECKPOINT_ASSET,
            path.parent,
            url=url,
            progress=progress,
            retries=retries,
            retry_wait=retry_wait,
        )
    except DownloadError as exc:
        cause = exc.__cause__ or exc
        reason = " ".join(str(cause).split())  # one line, whatever the cause says
        raise DownloadError(
            f"{path}: the authors' checkpoint is missing and could not be downloaded ({reason}); "
            "pass --checkpoint CKPT, or run `fsnet download fsnet-checkpoint` where there is "
            f"internet and copy the file to {path}"
        ) from exc


def trained_size(checkpoint: str | os.PathLike) -> int | None:
    """The input side a checkpoint of this package was trained at, if it records one."""
    state = read_state_dict(checkpoint)
    config = (state.get("training") or {}).get("config") or {}
    size = config.get("size") if isinstance(config, dict) else None
    return int(size) if isinstance(size, int) else None


__all__ = ["CHECKPOINT_ASSET", "default_checkpoint", "default_checkpoint_path", "trained_size"]

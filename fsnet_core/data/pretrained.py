"""``fsnet(weights=...)``: a trained FSNet, its checkpoint fetched into the cache when missing.

The builder in torchvision's manner (``resnet50(weights=..., progress=True)``).
It lives in the data layer because fetching files is this layer's job: the
weights descriptor (:class:`fsnet_core.model.weights.FSNetWeights`) only
describes the file and reads it from disk; this module downloads it with the
package's resumable, verifying downloader (:mod:`fsnet_core.data.download`)
into the descriptor's default place, the torch hub cache.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..model import FSNet
from ..model.weights import FSNetWeights, WeightsNotFound
from .assets import get_asset
from .download import DownloadError, download


def weights_file(
    weights: FSNetWeights | str,
    path: str | Path | None = None,
    progress: bool = True,
    *,
    url: str | None = None,
    retries: int = 2,
    retry_wait: float = 1.0,
) -> Path:
    """The local checkpoint of ``weights``: ``path`` if given (never downloaded), else the
    cached file (:meth:`FSNetWeights.default_path`, the torch hub cache), downloaded first
    when missing: from ``url`` if given, else ``$FSNET_LAB_MIRROR`` if set, else the
    authors' address. The one fetcher of the authors' checkpoint (``fsnet segment``,
    ``fsnet download fsnet-checkpoint`` and the notebooks all use this place). Offline, a
    one-line :class:`WeightsNotFound` says which file to put where, and why it failed."""
    weights = FSNetWeights.verify(weights)
    if path is not None:
        return Path(path)  # read as given: a missing file is reported when it is loaded
    file = weights.default_path()
    if file.is_file():
        return file
    try:
        return download(
            get_asset(weights.meta["asset"]),
            file.parent,
            url=url,
            progress=progress,
            retries=retries,
            retry_wait=retry_wait,
        )
    except DownloadError as exc:
        lines = str(exc).splitlines()
        reason = " ".join(lines[0].split()) if lines else type(exc).__name__
        message = f"{weights.missing_message(file)}; download failed: {reason}"
        raise WeightsNotFound(message) from exc


def fsnet(
    weights: FSNetWeights | str | None = None,
    *,
    progress: bool = True,
    path: str | Path | None = None,
    **overrides: Any,
) -> FSNet:
    """An FSNet; with ``weights``, the trained model in eval mode.

    ``weights=None`` builds an untrained model (``overrides`` go to
    :class:`FSNet`, as for ablations). With weights the architecture is the
    one they fit (``overrides`` are refused), loaded strictly from ``path`` or
    from the torch hub cache, where a missing file is downloaded first
    (``progress`` shows a bar). Use ``weights.transforms()`` to prepare inputs.
    """
    weights = FSNetWeights.verify(weights)
    if weights is None:
        return FSNet(**overrides)
    if overrides:
        raise ValueError(
            f"{weights!r} fits {weights.config} only; got overrides {sorted(overrides)}"
        )
    return weights.build(weights_file(weights, path, progress))


__all__ = ["fsnet", "weights_file"]

"""What a checkpoint file says about itself (the input size it was trained at).

The authors' checkpoint, the default model of ``fsnet segment``, is fetched by
:meth:`fsnet_core.model.FSNetWeights.local_file` (the floor's one fetch path,
:func:`fsnet_core.io.weights_file`) into the torch hub cache, the one place
every part of the package looks for it.
"""

from __future__ import annotations

import os

from ..model.official import read_state_dict


def trained_size(checkpoint: str | os.PathLike) -> int | None:
    """The input side a checkpoint of this package was trained at, if it records one."""
    state = read_state_dict(checkpoint)
    config = (state.get("training") or {}).get("config") or {}
    size = config.get("size") if isinstance(config, dict) else None
    return int(size) if isinstance(size, int) else None


__all__ = ["trained_size"]

"""ipywidgets explorers for the notebooks, built by functions so they can be tested.

Each explorer is an ``ipywidgets.VBox`` (:class:`~.base.PictureViewer`):
set a control's ``value`` and read :attr:`picture_array` and :attr:`lines`
to see what it shows; :meth:`figure` gives the same state as a static
matplotlib figure for notebooks run without a live front end.

Submodules are imported on first use, so ``import fsnet_core.course.widgets`` is cheap:

* :mod:`.evaluation` - :func:`evaluation_viewer` (sequence, frame, threshold, CRF);
* :mod:`.flow` - :func:`flow_explorer` (flow methods side by side, end-point error);
* :mod:`.rcam` - :func:`rcam_explorer` (RCAM attention: frame, stage, channel);
* :mod:`.video` - :func:`video_scrubber` (a segmented video: frame, overlay, probability).
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "PictureViewer": "base",
    "EvaluationViewer": "evaluation",
    "ViewerSequence": "evaluation",
    "evaluation_viewer": "evaluation",
    "viewer_sequences": "evaluation",
    "FlowExplorer": "flow",
    "flow_explorer": "flow",
    "RCAMExplorer": "rcam",
    "rcam_explorer": "rcam",
    "VideoScrubber": "video",
    "video_scrubber": "video",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

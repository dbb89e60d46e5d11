"""ipywidgets explorers for the notebooks, built by functions so they can be tested.

Each explorer is an ``ipywidgets.VBox`` (:class:`~.base.PictureViewer`):
set a control's ``value`` and read :attr:`picture_array` and :attr:`lines`
to see what it shows; :meth:`figure` gives the same state as a static
matplotlib figure for notebooks run without a live front end.

* :mod:`.evaluation` - :func:`evaluation_viewer` (sequence, frame, threshold, CRF);
* :mod:`.flow` - :func:`flow_explorer` (flow methods side by side, end-point error);
* :mod:`.rcam` - :func:`rcam_explorer` (RCAM attention: frame, stage, channel);
* :mod:`.video` - :func:`video_scrubber` (a segmented video: frame, overlay, probability).
"""

from .base import (
    LONG_RANGE,
    PICTURE_WIDTH,
    PictureViewer,
    number_box,
)
from .evaluation import (
    EvaluationViewer,
    FrameScores,
    ViewerSequence,
    evaluation_viewer,
    viewer_sequences,
)
from .flow import (
    FlowExplorer,
    flow_explorer,
)
from .rcam import (
    RCAMExplorer,
    colourise,
    rcam_explorer,
)
from .video import (
    VideoScrubber,
    video_scrubber,
)

__all__ = [
    "EvaluationViewer",
    "FlowExplorer",
    "FrameScores",
    "LONG_RANGE",
    "PICTURE_WIDTH",
    "PictureViewer",
    "RCAMExplorer",
    "VideoScrubber",
    "ViewerSequence",
    "colourise",
    "evaluation_viewer",
    "flow_explorer",
    "number_box",
    "rcam_explorer",
    "video_scrubber",
    "viewer_sequences",
]

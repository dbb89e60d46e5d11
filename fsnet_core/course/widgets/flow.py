"""The flow explorer: one frame pair, every method's flow side by side, with its error.

Why: an end-point error averaged over a dataset hides *where* a method
fails. Stepping through the frames shows DIS and Farnebäck smearing a thin,
fast part, or a textureless region where no method can see motion, next to
the exact synthetic flow. Colours follow :func:`fsnet_core.flow.flow_to_color`
(each field normalised by its own fastest pixel, as FSNet's inputs are).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import ipywidgets as widgets
import numpy as np

from ...flow import end_point_error, flow_to_color
from ..viz import tile
from .base import LONG_RANGE, PICTURE_WIDTH, PictureViewer


class FlowExplorer(PictureViewer):
    """A frame slider over ``frames`` and the flow fields each method estimated for them.

    ``flows[method][t]`` is the field from frame t to t+1; ``ground_truth[t]``
    (optional) the exact one, against which each method's end-point error is shown.
    """

    def __init__(
        self,
        frames: Sequence[np.ndarray],
        flows: Mapping[str, Sequence[np.ndarray]],
        ground_truth: Sequence[np.ndarray] | None = None,
        *,
        width: int = PICTURE_WIDTH,
    ) -> None:
        pairs = {len(f) for f in flows.values()} | (
            {len(ground_truth)} if ground_truth is not None else set()
        )
        if not flows or len(pairs) != 1 or not pairs.pop() or len(frames) < 1:
            raise ValueError("every method (and the ground truth) needs one field per frame pair")
        self.frames = list(frames)
        self.flows = {name: list(fields) for name, fields in flows.items()}
        self.ground_truth = list(ground_truth) if ground_truth is not None else None
        count = len(next(iter(self.flows.values())))
        if len(self.frames) < count:
            raise ValueError(f"{count} flow fields but only {len(self.frames)} frames")
        self.frame = widgets.IntSlider(0, 0, count - 1, description="frame pair")
        long = [self.frame] if count - 1 > LONG_RANGE else []
        super().__init__([self.frame], number_boxes=long, width=width)
        self.refresh()

    def errors(self, index: int | None = None) -> dict[str, float]:
        """End-point error (pixels) of each method on pair ``index`` (NaN without ground truth)."""
        index = self.frame.value if index is None else index
        if self.ground_truth is None:
            return {name: math.nan for name in self.flows}
        gt = self.ground_truth[index]
        return {name: end_point_error(f[index], gt) for name, f in self.flows.items()}

    def render(self) -> tuple[np.ndarray, list[str]]:
        t = self.frame.value
        images = [self.frames[t]]
        titles = [f"frame {t}"]
        if self.ground_truth is not None:
            images.append(flow_to_color(self.ground_truth[t]))
            titles.append("ground truth")
        images += [flow_to_color(fields[t]) for fields in self.flows.values()]
        titles += list(self.flows)
        errors = self.errors(t)
        lines = [f"flow from frame {t} to frame {t + 1}"]
        if self.ground_truth is not None:
            lines.append(
                "end-point error: " + ", ".join(f"{k} {v:.2f} px" for k, v in errors.items())
            )
        return tile(images, titles, width=self.width), lines


def flow_explorer(
    frames: Sequence[np.ndarray],
    flows: Mapping[str, Sequence[np.ndarray]],
    ground_truth: Sequence[np.ndarray] | None = None,
    *,
    width: int = PICTURE_WIDTH,
) -> FlowExplorer:
    """A :class:`FlowExplorer` (kept as a function for symmetry with the other widgets)."""
    return FlowExplorer(frames, flows, ground_truth, width=width)


__all__ = ["FlowExplorer", "flow_explorer"]

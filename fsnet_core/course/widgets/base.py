"""The shape every explorer shares: controls, one picture, a few lines of text.

A viewer draws its current state as a NumPy picture plus text lines
(:meth:`PictureViewer.render`), so tests can set a control's value and read
exactly what is shown (:attr:`PictureViewer.picture_array`, :attr:`PictureViewer.lines`),
and a notebook without a live front end can still show and save the same
state as a static matplotlib figure (:meth:`PictureViewer.figure`).

Layout, for narrow outputs (a 1024-px window with JupyterLab's file browser
open leaves about 590 px): the controls wrap onto more lines instead of
shrinking, the picture is drawn :data:`PICTURE_WIDTH` pixels wide at most and
shown at that size, and a slider over a long range has a number box beside it.
Only APIs that ipywidgets 7.7 (Colab) and 8 share are used.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import ipywidgets as widgets
import numpy as np

from ..viz import png_bytes
from ..viz.audit import WIDEST

if TYPE_CHECKING:
    from matplotlib.figure import Figure


PICTURE_WIDTH = 560
"""Widest picture (pixels) an explorer draws: it fits the output of a 1024-px window."""

LONG_RANGE = 32
"""A slider with more steps than this gets a number box beside it (handles are coarse)."""


def number_box(slider: widgets.IntSlider) -> widgets.BoundedIntText:
    """A number box that moves with ``slider`` both ways (value and range), in the kernel,
    so it works with or without a live front end."""
    box = widgets.BoundedIntText(
        value=slider.value,
        min=slider.min,
        max=slider.max,
        step=slider.step,
        layout=widgets.Layout(width="76px", flex="0 0 auto"),
    )
    for name in ("min", "max", "value"):  # the range first, so the value is never clamped
        widgets.link((slider, name), (box, name))
    return box


class PictureViewer(widgets.VBox):
    """Controls in a row that wraps, the picture below them, text lines under the picture.

    Subclasses create their controls, call ``super().__init__(controls)`` and
    implement :meth:`render`; every change of a control's value redraws. An
    integer slider whose range may grow past :data:`LONG_RANGE` steps can be
    named in ``number_boxes``: it gets a linked :class:`~ipywidgets.BoundedIntText`
    (kept in :attr:`boxes` under the slider's description). ``width`` is the
    widest picture :meth:`render` should draw (pass it to :func:`~..viz.tile`).
    """

    def __init__(
        self,
        controls: Sequence[widgets.ValueWidget],
        *,
        number_boxes: Sequence[widgets.IntSlider] = (),
        width: int = PICTURE_WIDTH,
    ) -> None:
        self.width = width
        # Shown at the size it is drawn (not stretched to the output's width), scaled down
        # only where the output is narrower than the picture.
        self.image = widgets.Image(
            format="png",
            layout=widgets.Layout(max_width="100%", height="auto", align_self="flex-start"),
        )
        self.caption = widgets.HTML()
        self.picture_array: np.ndarray = np.zeros((1, 1, 3), np.uint8)
        self.lines: list[str] = []
        self._paused = False
        self.boxes: dict[str, widgets.BoundedIntText] = {}
        row: list[widgets.Widget] = []
        for control in controls:
            control.layout.flex = "0 0 auto"  # wrap to the next line rather than shrink
            if any(control is slider for slider in number_boxes):
                box = self.boxes[control.description] = number_box(control)
                group = widgets.HBox([control, box], layout=widgets.Layout(flex="0 0 auto"))
                row.append(group)
            else:
                row.append(control)
        controls_row = widgets.HBox(
            row, layout=widgets.Layout(flex_flow="row wrap", align_items="center", width="100%")
        )
        super().__init__([controls_row, self.image, self.caption])
        for control in controls:
            control.observe(self._on_change, names="value")

    def render(self) -> tuple[np.ndarray, list[str]]:
        """The picture (``H x W x 3`` uint8) and the text lines of the current state."""
        raise NotImplementedError

    def refresh(self) -> None:
        """Draw the current state into the picture and the caption."""
        self.picture_array, self.lines = self.render()
        self.image.value = png_bytes(self.picture_array)
        self.caption.value = "<br>".join(html.escape(line) for line in self.lines)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Change several controls at once and redraw once at the end."""
        self._paused = True
        try:
            yield
        finally:
            self._paused = False
        self.refresh()

    def _on_change(self, change: dict) -> None:
        if not self._paused:
            self.refresh()

    def figure(self, title: str | None = None, width: float = WIDEST) -> Figure:
        """The current picture and text as a matplotlib figure (for static output and files),
        ``width`` inches wide: by default as wide as a notebook shows a figure unshrunk."""
        import matplotlib.pyplot as plt

        h, w = self.picture_array.shape[:2]
        fig, ax = plt.subplots(figsize=(width, width * h / max(w, 1) + 0.3 * len(self.lines)))
        ax.imshow(self.picture_array)
        ax.axis("off")
        ax.set_title("\n".join(([title] if title else []) + self.lines), fontsize=9)
        fig.tight_layout()
        return fig


__all__ = ["LONG_RANGE", "PICTURE_WIDTH", "PictureViewer", "number_box"]

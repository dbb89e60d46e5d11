"""The shape every explorer shares: controls, one picture, a few lines of text.

A viewer draws its current state as a NumPy picture plus text lines
(:meth:`PictureViewer.render`), so tests can set a control's value and read
exactly what is shown (:attr:`PictureViewer.picture_array`, :attr:`PictureViewer.lines`),
and a notebook without a live front end can still show and save the same
state as a static matplotlib figure (:meth:`PictureViewer.figure`).
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import ipywidgets as widgets
import numpy as np

from ..viz import png_bytes

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class PictureViewer(widgets.VBox):
    """Controls in a row, the picture below them, text lines under the picture.

    Subclasses create their controls, call ``super().__init__(controls)`` and
    implement :meth:`render`; every change of a control's value redraws.
    """

    def __init__(self, controls: Sequence[widgets.Widget]) -> None:
        self.image = widgets.Image(format="png")
        self.caption = widgets.HTML()
        self.picture_array: np.ndarray = np.zeros((1, 1, 3), np.uint8)
        self.lines: list[str] = []
        self._paused = False
        super().__init__([widgets.HBox(list(controls)), self.image, self.caption])
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

    def figure(self, title: str | None = None, width: float = 10.0) -> Figure:
        """The current picture and text as a matplotlib figure (for static output and files)."""
        import matplotlib.pyplot as plt

        h, w = self.picture_array.shape[:2]
        fig, ax = plt.subplots(figsize=(width, width * h / max(w, 1) + 0.3 * len(self.lines)))
        ax.imshow(self.picture_array)
        ax.axis("off")
        ax.set_title("\n".join(([title] if title else []) + self.lines), fontsize=9)
        fig.tight_layout()
        return fig


__all__ = ["PictureViewer"]

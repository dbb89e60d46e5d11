"""Panels for figures and widgets: overlays, outlines, rows and tiles of images.

Images here are NumPy arrays: ``H x W x 3`` uint8 RGB frames, ``H x W``
boolean masks or float probability maps in [0, 1] (uint8 maps 0-255 are
accepted too).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ...flow import flow_to_color

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# The course's palette: Okabe & Ito's "Color Universal Design" (2008) less its bluish green
# (which reddish purple matches for deuteranopes). Every pair stays apart with the common
# colour-vision deficiencies (deuteranopia, protanopia), as red against green does not
# (tests/test_viz_audit.py checks each pair with fsnet_core.course.viz.audit's simulation).
# Figures and widgets name colours by role, below.
ORANGE = (230, 159, 0)
SKY_BLUE = (86, 180, 233)
YELLOW = (240, 228, 66)
DARK_BLUE = (0, 114, 178)
VERMILLION = (213, 94, 0)
PURPLE = (204, 121, 167)

PREDICTION = VERMILLION
"""A predicted mask: a tint over the frame (say "orange" in titles)."""
GROUND_TRUTH = SKY_BLUE
"""The true mask: an outline with a dark edge, which stays visible on any frame ("blue")."""
APPEARANCE = ORANGE
"""The appearance cue (the frame, the RGB stream) in plots of both cues."""
MOTION = DARK_BLUE
"""The motion cue (the flow, the flow stream) in plots of both cues."""
COLOUR_NAMES = {PREDICTION: "orange", GROUND_TRUTH: "blue", APPEARANCE: "yellow-orange",
                MOTION: "dark blue", YELLOW: "yellow", PURPLE: "pink"}  # fmt: skip
"""How titles and text name the palette's colours."""
PALETTE = (DARK_BLUE, ORANGE, SKY_BLUE, VERMILLION, PURPLE, YELLOW)
"""The palette in the order of matplotlib's colour cycle (C0, C1, ...) for the course."""

# The names the course used before the palette: kept (notebooks and widgets import them),
# now holding the safe colours of the roles they played.
RED = PREDICTION
GREEN = GROUND_TRUTH
BLUE = MOTION


def hex_colour(rgb: tuple[int, int, int]) -> str:
    """A palette colour as matplotlib takes it ("#rrggbb")."""
    return "#" + "".join(f"{int(c):02x}" for c in rgb)


def wrapped_suptitle(fig: Figure, text: str, fontsize: float = 11) -> None:
    """``fig.suptitle(text)``, its lines wrapped to the figure's width: a title wider than
    its figure widens the saved picture, which a notebook then shrinks, text and all."""
    import textwrap

    chars = max(20, int(fig.get_figwidth() * 72 / (fontsize * 0.6)))
    lines = [textwrap.fill(line, chars) for line in text.splitlines()]
    fig.suptitle("\n".join(lines), fontsize=fontsize)


def use_palette() -> None:
    """Make :data:`PALETTE` matplotlib's colour cycle, so that plots which pick colours by
    order (``"C0"``, seaborn's ``hue``) draw in the course's safe colours. Importing
    :mod:`fsnet_core.course.viz` does it."""
    import matplotlib
    from cycler import cycler

    matplotlib.rcParams["axes.prop_cycle"] = cycler(color=[hex_colour(c) for c in PALETTE])


def as_mpl(colour: tuple[int, int, int]) -> tuple[float, float, float]:
    """A named 0-255 colour (``RED``, ``GREEN``, ``BLUE``) as matplotlib's 0-1 RGB."""
    return tuple(c / 255.0 for c in colour)  # type: ignore[return-value]


def to_rgb(image: np.ndarray) -> np.ndarray:
    """Any frame (grey or RGB, uint8 or float in [0, 1]) as ``H x W x 3`` uint8."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = (np.clip(image.astype(np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an H x W or H x W x 3 image, got shape {image.shape}")
    return image


def to_unit(mask_or_prob: np.ndarray) -> np.ndarray:
    """A mask or probability map as float32 in [0, 1] (uint8 maps are read as 0-255)."""
    m = np.asarray(mask_or_prob)
    if m.ndim == 3 and m.shape[2] == 1:
        m = m[..., 0]
    if m.ndim != 2:
        raise ValueError(f"expected an H x W mask or probability map, got shape {m.shape}")
    if m.dtype == np.uint8:
        return m.astype(np.float32) / 255.0
    return np.clip(m.astype(np.float32), 0.0, 1.0)


def overlay(
    frame: np.ndarray,
    mask_or_prob: np.ndarray,
    color: tuple[int, int, int] = PREDICTION,
    alpha: float = 0.5,
) -> np.ndarray:
    """Tint ``frame`` with ``color`` where the mask is on, in proportion to the probability."""
    rgb = to_rgb(frame).astype(np.float32)
    weight = to_unit(mask_or_prob)
    if weight.shape != rgb.shape[:2]:
        raise ValueError(f"mask {weight.shape} and frame {rgb.shape[:2]} differ in size")
    weight = (alpha * weight)[..., None]
    tinted = rgb * (1.0 - weight) + np.asarray(color, np.float32) * weight
    return (tinted + 0.5).astype(np.uint8)


def draw_contours(
    frame: np.ndarray,
    mask: np.ndarray,
    color: tuple[int, int, int] = GROUND_TRUTH,
    thickness: int = 2,
    threshold: float = 0.5,
    edge: tuple[int, int, int] | None = None,
) -> np.ndarray:
    """``frame`` with the outline of ``mask`` (binarised at ``threshold``) drawn on a copy.

    With ``edge``, the line is first drawn two pixels wider in that colour, so that it keeps
    a dark (or light) border on frames of its own colour.
    """
    rgb = to_rgb(frame).copy()
    binary = (to_unit(mask) >= threshold).astype(np.uint8)
    if binary.shape != rgb.shape[:2]:
        raise ValueError(f"mask {binary.shape} and frame {rgb.shape[:2]} differ in size")
    contours, _ = cv2.findContours(binary, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    if edge is not None:
        cv2.drawContours(rgb, contours, -1, tuple(int(c) for c in edge), thickness + 2)
    cv2.drawContours(rgb, contours, -1, tuple(int(c) for c in color), thickness)
    return rgb


def outline_width(shape: Sequence[int]) -> int:
    """A line width (pixels) that stays visible when a frame of ``shape`` is shown a few
    inches wide: 2 pixels up to 200 pixels of height, one more per 100 beyond."""
    return max(2, round(min(shape[:2]) / 100))


def compare_overlay(
    frame: np.ndarray,
    prediction: np.ndarray,
    ground_truth: np.ndarray | None = None,
    threshold: float = 0.5,
) -> np.ndarray:
    """The prediction (binarised at ``threshold``) tinted in :data:`PREDICTION` (orange), the
    ground truth outlined in :data:`GROUND_TRUTH` (blue) with a black edge."""
    binary = to_unit(prediction) >= threshold
    image = overlay(frame, binary, PREDICTION, alpha=0.5)
    if ground_truth is not None:
        width = outline_width(image.shape)
        image = draw_contours(image, ground_truth, GROUND_TRUTH, width, edge=(0, 0, 0))
    return image


def show_row(
    images: Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    cmap: str = "gray",
    size: float = 3.0,
    suptitle: str | None = None,
    columns: int | None = None,
) -> Figure:
    """Images without axes in a row (or rows of ``columns``); grey maps use ``cmap`` on a
    fixed [0, 1] scale.

    Panels are ``size`` inches wide, narrower when a row would be wider than a notebook
    shows a figure at its own size (:data:`~.audit.WIDEST`), so the titles keep their size;
    ``columns`` wraps many panels into rows, so each stays large enough to see.
    """
    import matplotlib.pyplot as plt

    from .audit import WIDEST

    if not images:
        raise ValueError("show_row needs at least one image")
    titles = list(titles) if titles is not None else [""] * len(images)
    if len(titles) != len(images):
        raise ValueError(f"{len(images)} images but {len(titles)} titles")
    if columns is not None and columns < 1:
        raise ValueError(f"columns must be at least 1, got {columns}")
    cols = min(columns or len(images), len(images))
    rows = -(-len(images) // cols)
    size = min(size, WIDEST / cols)
    first = np.asarray(images[0])
    aspect = first.shape[0] / max(first.shape[1], 1)
    lines = max(str(t).count("\n") + 1 for t in titles)
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(size * cols, rows * (size * aspect + 0.2 + 0.2 * lines) + 0.3 * bool(suptitle)),
        squeeze=False,
        layout="constrained",  # leaves room for multi-line titles and the suptitle
    )
    for ax in axes.flat[len(images) :]:
        ax.axis("off")
    for ax, image, title in zip(axes.flat, images, titles, strict=False):
        image = np.asarray(image)
        if image.ndim == 2:
            ax.imshow(to_unit(image), cmap=cmap, vmin=0.0, vmax=1.0)
        else:
            ax.imshow(to_rgb(image))
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    if suptitle:
        wrapped_suptitle(fig, suptitle)
    return fig


def tile(
    images: Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    gap: int = 4,
    width: int | None = None,
) -> np.ndarray:
    """Images of one height side by side as one ``H x W x 3`` uint8 picture, titled above.

    For widgets, which show one picture (see :func:`png_bytes`) rather than a
    matplotlib figure; grey maps are drawn in grey on a fixed [0, 1] scale.
    With ``width`` (pixels), the panels wrap into rows of at least two (one if
    there is only one), shrunk where needed, so that the picture is no wider
    than ``width``: shown at the size it is drawn, its titles stay readable
    (a browser that scales a wider picture down scales the titles with it).
    """
    if not images:
        raise ValueError("tile needs at least one image")
    panels = [to_rgb(to_unit(im) if np.asarray(im).ndim == 2 else im) for im in images]
    height = panels[0].shape[0]
    if any(p.shape[0] != height for p in panels):
        raise ValueError(f"images must share a height, got {[p.shape[0] for p in panels]}")
    if titles is not None and len(titles) != len(panels):
        raise ValueError(f"{len(panels)} images but {len(titles)} titles")
    columns = len(panels)
    if width is not None:
        panels, columns = _fit_width(panels, gap, width)
    band = 18 if titles else 0
    rows = [panels[i : i + columns] for i in range(0, len(panels), columns)]
    row_height = band + panels[0].shape[0]
    canvas_width = max(sum(p.shape[1] for p in row) + gap * (len(row) - 1) for row in rows)
    canvas = np.full(
        (len(rows) * row_height + gap * (len(rows) - 1), canvas_width, 3), 255, np.uint8
    )
    for i, panel in enumerate(panels):
        r, c = divmod(i, columns)
        x = sum(p.shape[1] + gap for p in rows[r][:c])
        y = r * (row_height + gap)
        canvas[y + band : y + row_height, x : x + panel.shape[1]] = panel
        if titles:
            text, scale = _fitted_title(titles[i], panel.shape[1] - 2)
            cv2.putText(
                canvas,
                text,
                (x + 2, y + 13),
                cv2.FONT_HERSHEY_SIMPLEX,
                scale,
                (0, 0, 0),
                1,
                cv2.LINE_AA,
            )
    return canvas


TITLE_SCALES = (0.45, 0.4, 0.35)
"""OpenCV font scales :func:`tile` tries for a title, largest first. At 0.35 the capitals
are 8 pixels tall: text of about 8.5 points in a picture shown at its size (a widget's)."""


def _fitted_title(title: str, width: int) -> tuple[str, float]:
    """The title and font scale that fit ``width`` pixels: smaller type down to a readable
    minimum, then the end cut off (``..``), so that titles never run into the next panel."""
    for scale in TITLE_SCALES:
        if cv2.getTextSize(title, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0] <= width:
            return title, scale
    text, smallest = title, TITLE_SCALES[-1]
    while (
        len(text) > 1
        and cv2.getTextSize(text + "..", cv2.FONT_HERSHEY_SIMPLEX, smallest, 1)[0][0] > width
    ):
        text = text[:-1]
    return text + "..", smallest


def _fit_width(panels: list[np.ndarray], gap: int, width: int) -> tuple[list[np.ndarray], int]:
    """Panels (resized alike) and a column count whose rows are at most ``width`` wide."""
    if width < 16:
        raise ValueError(f"width must be at least 16 pixels, got {width}")
    widest = max(p.shape[1] for p in panels)
    fits = max(1, (width + gap) // (widest + gap))
    columns = min(len(panels), max(fits, 2))
    scale = min(1.0, (width - gap * (columns - 1)) / (columns * widest))
    if scale < 1.0:
        size = max(1, int(panels[0].shape[0] * scale))
        panels = [
            cv2.resize(p, (max(1, int(p.shape[1] * scale)), size), interpolation=cv2.INTER_AREA)
            for p in panels
        ]
    return panels, columns


def png_bytes(image: np.ndarray) -> bytes:
    """An image (see :func:`to_rgb`) encoded as PNG bytes, e.g. for ``ipywidgets.Image``."""
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(to_rgb(image), cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError(f"could not encode an image of shape {np.shape(image)} as PNG")
    return encoded.tobytes()


def flow_wheel(size: int = 129) -> np.ndarray:
    """The colour-wheel legend: the colour of every flow vector up to the largest speed.

    The centre is zero flow (white); hue gives the direction, saturation the
    speed relative to the fastest pixel, as :func:`fsnet_core.flow.flow_to_color`
    draws a field. Outside the unit disk the legend is white.
    """
    if size < 3:
        raise ValueError(f"the legend needs at least 3 pixels, got {size}")
    coords = np.linspace(-1.0, 1.0, size, dtype=np.float32)
    dx, dy = np.meshgrid(coords, coords)
    outside = dx**2 + dy**2 > 1.0
    field = np.stack([dx, dy], axis=2)
    field[outside] = 0.0
    wheel = flow_to_color(field)
    wheel[outside] = 255
    return wheel


use_palette()  # on import: every course figure and notebook plot draws in the palette

__all__ = [
    "APPEARANCE",
    "BLUE",
    "COLOUR_NAMES",
    "DARK_BLUE",
    "GREEN",
    "GROUND_TRUTH",
    "MOTION",
    "ORANGE",
    "PALETTE",
    "PREDICTION",
    "PURPLE",
    "RED",
    "as_mpl",
    "SKY_BLUE",
    "VERMILLION",
    "YELLOW",
    "compare_overlay",
    "draw_contours",
    "flow_wheel",
    "hex_colour",
    "outline_width",
    "overlay",
    "png_bytes",
    "show_row",
    "tile",
    "to_rgb",
    "to_unit",
    "use_palette",
    "wrapped_suptitle",
]

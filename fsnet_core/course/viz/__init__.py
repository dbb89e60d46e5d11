"""Figure helpers shared by the notebooks: where figures go, overlays, rows of panels.

Every notebook saves its figures by name through :func:`save_figure`, so the
README and the test suite find them in one folder (``figures/`` of the repo,
or ``$FSNET_FIGURES_DIR`` when set, as the tests do). Images here are NumPy
arrays: ``H x W x 3`` uint8 RGB frames, ``H x W`` boolean masks or float
probability maps in [0, 1] (uint8 maps 0-255 are accepted too).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ...flow import flow_to_color
from ...io import atomic_write

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FIGURES_ENV = "FSNET_FIGURES_DIR"
RED = (230, 60, 40)
GREEN = (40, 200, 80)
BLUE = (40, 110, 240)


def figures_dir() -> Path:
    """The folder figures are written to (created if missing).

    ``$FSNET_FIGURES_DIR`` when set; otherwise the ``figures/`` folder of a
    source checkout (beside ``pyproject.toml``); otherwise ``./figures``
    (an installed package, e.g. on Colab).
    """
    env = os.environ.get(FIGURES_ENV)
    if env:
        folder = Path(env)
    else:
        repo = Path(__file__).resolve().parents[3]
        folder = repo / "figures" if (repo / "pyproject.toml").is_file() else Path("figures")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_figure(fig: Figure, name: str, dpi: int = 100) -> Path:
    """Write ``fig`` as ``figures_dir()/name`` (PNG) atomically and return the path.

    ``name`` is a plain file name such as ``01_flow_methods.png`` (``.png`` is
    added when missing) so figures are found by name, never by a counter.
    """
    if Path(name).name != name or not name:
        raise ValueError(f"figure name must be a plain file name, got {name!r}")
    if not name.endswith(".png"):
        name += ".png"
    path = figures_dir() / name
    with atomic_write(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png", bbox_inches="tight")
    return path


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
    color: tuple[int, int, int] = RED,
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
    color: tuple[int, int, int] = GREEN,
    thickness: int = 2,
    threshold: float = 0.5,
) -> np.ndarray:
    """``frame`` with the outline of ``mask`` (binarised at ``threshold``) drawn on a copy."""
    rgb = to_rgb(frame).copy()
    binary = (to_unit(mask) >= threshold).astype(np.uint8)
    if binary.shape != rgb.shape[:2]:
        raise ValueError(f"mask {binary.shape} and frame {rgb.shape[:2]} differ in size")
    contours, _ = cv2.findContours(binary, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(rgb, contours, -1, tuple(int(c) for c in color), thickness)
    return rgb


def compare_overlay(
    frame: np.ndarray,
    prediction: np.ndarray,
    ground_truth: np.ndarray | None = None,
    threshold: float = 0.5,
) -> np.ndarray:
    """Prediction tinted red (binarised at ``threshold``) and ground truth outlined green."""
    binary = to_unit(prediction) >= threshold
    image = overlay(frame, binary, RED, alpha=0.5)
    if ground_truth is not None:
        image = draw_contours(image, ground_truth, GREEN)
    return image


def show_row(
    images: Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    cmap: str = "gray",
    size: float = 3.0,
    suptitle: str | None = None,
) -> Figure:
    """One row of images without axes; grey maps use ``cmap`` on a fixed [0, 1] scale."""
    import matplotlib.pyplot as plt

    if not images:
        raise ValueError("show_row needs at least one image")
    titles = list(titles) if titles is not None else [""] * len(images)
    if len(titles) != len(images):
        raise ValueError(f"{len(images)} images but {len(titles)} titles")
    first = np.asarray(images[0])
    aspect = first.shape[0] / max(first.shape[1], 1)
    fig, axes = plt.subplots(
        1,
        len(images),
        figsize=(size * len(images), size * aspect + 0.6),
        squeeze=False,
        layout="constrained",  # leaves room for multi-line titles and the suptitle
    )
    for ax, image, title in zip(axes[0], images, titles, strict=True):
        image = np.asarray(image)
        if image.ndim == 2:
            ax.imshow(to_unit(image), cmap=cmap, vmin=0.0, vmax=1.0)
        else:
            ax.imshow(to_rgb(image))
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def tile(
    images: Sequence[np.ndarray], titles: Sequence[str] | None = None, gap: int = 4
) -> np.ndarray:
    """Images of one height side by side as one ``H x W x 3`` uint8 picture, titled above.

    For widgets, which show one picture (see :func:`png_bytes`) rather than a
    matplotlib figure; grey maps are drawn in grey on a fixed [0, 1] scale.
    """
    if not images:
        raise ValueError("tile needs at least one image")
    panels = [to_rgb(to_unit(im) if np.asarray(im).ndim == 2 else im) for im in images]
    height = panels[0].shape[0]
    if any(p.shape[0] != height for p in panels):
        raise ValueError(f"images must share a height, got {[p.shape[0] for p in panels]}")
    band = 18 if titles else 0
    if titles is not None and len(titles) != len(panels):
        raise ValueError(f"{len(panels)} images but {len(titles)} titles")
    width = sum(p.shape[1] for p in panels) + gap * (len(panels) - 1)
    canvas = np.full((height + band, width, 3), 255, np.uint8)
    x = 0
    for i, panel in enumerate(panels):
        canvas[band:, x : x + panel.shape[1]] = panel
        if titles:
            cv2.putText(
                canvas,
                titles[i],
                (x + 2, 13),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.4,
                (0, 0, 0),
                1,
                cv2.LINE_AA,
            )
        x += panel.shape[1] + gap
    return canvas


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


__all__ = [
    "BLUE",
    "FIGURES_ENV",
    "GREEN",
    "RED",
    "compare_overlay",
    "draw_contours",
    "figures_dir",
    "flow_wheel",
    "overlay",
    "png_bytes",
    "save_figure",
    "show_row",
    "tile",
    "to_rgb",
    "to_unit",
]

"""Can every student read a figure? Colours for colour-blind readers, text size, colour bars.

:func:`audit_figure` inspects a matplotlib figure as :func:`~.figures.save_figure`
writes it and returns the :class:`Problem` s it finds; :func:`check_figure` raises
:class:`UnreadableFigure` naming the figure and each problem (``save_figure``
calls it on every figure, so ``make run`` fails on a figure a student cannot
read). The rules:

* ``colour``: two colours of the figure's data (lines, markers, bars and other
  patches, scatter points; greys, black and white left out) that are well apart
  for normal vision (CIE 1976 ΔE*ab at least :data:`FAR_APART`) but nearly the
  same under deuteranopia or protanopia (ΔE below :data:`CLOSE` and below a
  third of the normal ΔE), simulated with the matrices of Machado, Oliveira and
  Fernandes (2009) at full severity, applied in linear RGB. Colours drawn with
  transparency are compared as they appear over the axes' background. The
  colour map of every mapped image or collection is checked the same way on 33
  samples, comparing values at least :data:`MAP_SPAN` apart (red-to-green maps, jet,
  turbo and hsv fail; viridis, cividis, magma, RdBu and PuOr pass).
* ``text``: any text drawn (titles, labels, tick labels, legends, annotations)
  smaller than :data:`MIN_POINTS` as the figure is shown: a notebook shows the
  saved PNG (:data:`~.figures.save_figure`'s resolution, its tight bounding box)
  at its own size in CSS pixels (96 per inch) and shrinks a picture wider than
  its output area (:data:`DISPLAY_WIDTH` pixels) to fit, and the text with it.
* ``colour bar``: a colour bar that does not sit beside the axes it describes
  (its mappable's axes, or the axes it was made for), as drawn: more than
  :data:`BAR_GAP` bar widths away, or covering less than half of their length.
* ``overlap``: two pieces of text that overlap (crowded tick labels, an axis label
  running into its neighbour's; rotated text is compared as rotated rectangles), or that
  stand on one line less than :data:`TEXT_GAP` of a letter apart (the titles of
  neighbouring panels that read as one line).

RGB pictures (frames, flow images, overlays) are not inspected pixel by pixel:
their tints and outlines are drawn with the palette of :mod:`.panels`, whose
pairs are tested with :func:`confusable`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure
    from matplotlib.text import Text

MIN_POINTS = 8.0
"""The smallest text, in points as shown (a CSS point: 1/72 inch at 96 pixels per inch)."""
DISPLAY_WIDTH = 900
"""The output width (CSS pixels) a notebook shows figures in: classic Jupyter's output
area on a laptop screen (about 830-940 px); JupyterLab and Colab in a full window are wider."""
CSS_DPI = 96
SAVE_DPI = 100
"""The resolution :func:`~.figures.save_figure` writes figures at (pixels per inch)."""
WIDEST = DISPLAY_WIDTH / SAVE_DPI - 0.2
"""The widest figure (inches) a notebook shows at its own size: wider ones shrink, and their
text with them (the 0.2 inch is the padding of the saved figure's tight bounding box)."""
FAR_APART = 30.0
"""ΔE*ab from which two colours count as clearly different for normal vision."""
CLOSE = 20.0
"""ΔE*ab under which two colours count as nearly the same once simulated."""
TEXT_GAP = 0.5
"""The least room between two pieces of text, in ems of the larger (half its type size, more
than a word space): closer, two titles read as one line."""
BAR_GAP = 2.0
"""How far (in bar widths) a colour bar may sit from the axes it describes."""
SAMPLES = 33
"""Colours sampled from a colour map."""
MAP_SPAN = 0.15
"""Two samples of a colour map are compared when their values lie this far apart at least
(neighbours may look alike: the top of viridis does with protanopia, and reads well)."""
MODE_ENV = "FSNET_LAB_FIGURES"
"""``warn``: :func:`check_figure` prints its problems instead of raising; unset: it raises."""

# Machado, Oliveira & Fernandes (2009), "A physiologically-based model for simulation of
# color vision deficiency", IEEE TVCG 15(6): their matrices for severity 1.0 (dichromacy),
# applied to linear RGB.
DICHROMACIES: dict[str, np.ndarray] = {
    "deuteranopia": np.array(
        [
            [0.367322, 0.860646, -0.227968],
            [0.280085, 0.672501, 0.047413],
            [-0.011820, 0.042940, 0.968881],
        ]
    ),
    "protanopia": np.array(
        [
            [0.152286, 1.052583, -0.204868],
            [0.114503, 0.786281, 0.099216],
            [-0.003882, -0.048116, 1.051998],
        ]
    ),
}
# sRGB (D65) to CIE XYZ, and the D65 white point.
_RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_WHITE = np.array([0.95047, 1.0, 1.08883])
_GREY_CHROMA = 10.0  # C*ab below this: a grey, black or white (axes, references, text)


@dataclass(frozen=True)
class Problem:
    """One reason a figure is hard to read: the rule it breaks and what breaks it."""

    rule: str  # "colour", "text", "colour bar" or "overlap"
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.detail}"


class UnreadableFigure(ValueError):
    """A figure breaks one of the rules of :func:`audit_figure`."""


# ------------------------------------------------------------------ colour


def _linear(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb, dtype=float)
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def _lab(linear: np.ndarray) -> np.ndarray:
    xyz = np.asarray(linear) @ _RGB_TO_XYZ.T / _WHITE
    d = 6 / 29
    f = np.where(xyz > d**3, np.cbrt(xyz), xyz / (3 * d * d) + 4 / 29)
    return np.stack(
        [116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])],
        axis=-1,
    )


def lab(rgb: np.ndarray, vision: str | None = None) -> np.ndarray:
    """CIELAB of sRGB colours in [0, 1] (``... x 3``), as seen with ``vision``
    (a key of :data:`DICHROMACIES`; None: normal vision)."""
    linear = _linear(rgb)
    if vision is not None:
        linear = np.clip(linear @ DICHROMACIES[vision].T, 0.0, 1.0)
    return _lab(linear)


def _as_unit(colour: Sequence[float]) -> np.ndarray:
    c = np.asarray(colour, dtype=float)[:3]
    return c / 255.0 if c.max() > 1.0 else c


def confusable(a: Sequence[float], b: Sequence[float]) -> str | None:
    """The dichromacy under which colours ``a`` and ``b`` (RGB, 0-1 or 0-255) collapse
    although they differ clearly for normal vision; None if they stay apart (or were close)."""
    found = _confusions(np.stack([_as_unit(a), _as_unit(b)]))
    return found[0][2] if found else None


def _confusions(colours: np.ndarray) -> list[tuple[int, int, str, float, float]]:
    """Pairs ``(i, j, vision, normal ΔE, simulated ΔE)`` of ``colours`` (``N x 3`` in [0, 1])."""
    if len(colours) < 2:
        return []
    normal = lab(colours)
    far = np.linalg.norm(normal[:, None] - normal[None], axis=-1)
    found = []
    seen: set[tuple[int, int]] = set()
    for vision in DICHROMACIES:
        seen_as = lab(colours, vision)
        near = np.linalg.norm(seen_as[:, None] - seen_as[None], axis=-1)
        bad = (far >= FAR_APART) & (near < CLOSE) & (near < far / 3)
        for i, j in zip(*np.nonzero(np.triu(bad, 1)), strict=True):
            if (i, j) not in seen:
                seen.add((i, j))
                found.append((int(i), int(j), vision, float(far[i, j]), float(near[i, j])))
    return found


def _hex(c: np.ndarray) -> str:
    return "#" + "".join(f"{round(float(v) * 255):02x}" for v in c[:3])


def _over(rgba: np.ndarray, background: np.ndarray) -> np.ndarray:
    """RGBA colours as they appear over an opaque ``background``."""
    rgba = np.atleast_2d(np.asarray(rgba, dtype=float))
    alpha = rgba[:, 3:4]
    return rgba[:, :3] * alpha + background[:3] * (1 - alpha)


def _data_colours(ax: Axes) -> tuple[list[np.ndarray], list[Colormap]]:
    """The colours an axes draws its data in (over its background), and its colour maps."""
    from matplotlib.colors import to_rgba, to_rgba_array

    background = np.asarray(to_rgba(ax.get_facecolor()))
    colours: list[np.ndarray] = []
    cmaps: list[Colormap] = []

    def add(rgba) -> None:
        rgba = to_rgba_array(rgba)
        rgba = rgba[rgba[:, 3] > 0.05]
        if len(rgba):
            colours.extend(_over(rgba, background))

    for line in ax.get_lines():
        if line.get_visible():
            if line.get_linestyle() not in ("None", "none", "", " "):
                add([to_rgba(line.get_color(), line.get_alpha())])
            if line.get_marker() not in (None, "None", "none", "", " "):
                add([to_rgba(line.get_markerfacecolor(), line.get_alpha())])
    for patch in ax.patches:
        if not patch.get_visible():
            continue
        if patch.get_fill():
            add([patch.get_facecolor()])
        elif patch.get_linewidth() > 0:
            add([patch.get_edgecolor()])
    for coll in ax.collections:
        if not coll.get_visible():
            continue
        if coll.get_array() is not None and coll.get_cmap() is not None:
            cmaps.append(coll.get_cmap())
            continue
        faces = coll.get_facecolor()
        add(faces if len(faces) and np.any(np.asarray(faces)[:, 3] > 0) else coll.get_edgecolor())
    for image in ax.get_images():
        if image.get_visible() and np.ndim(image.get_array()) == 2:
            cmaps.append(image.get_cmap())
    return colours, cmaps


def _colour_problems(fig: Figure) -> list[Problem]:
    colours: list[np.ndarray] = []
    cmaps: dict[str, Colormap] = {}
    for ax in fig.axes:
        found, maps = _data_colours(ax)
        colours += found
        cmaps.update({cmap.name: cmap for cmap in maps})
    problems = []
    if colours:
        unique = np.unique(np.round(np.asarray(colours) * 255) / 255, axis=0)
        chroma = np.hypot(*lab(unique)[:, 1:].T)
        hues = unique[chroma >= _GREY_CHROMA]
        for i, j, vision, far, near in _confusions(hues):
            problems.append(
                Problem(
                    "colour",
                    f"{_hex(hues[i])} and {_hex(hues[j])} differ for normal vision (ΔE {far:.0f}) "
                    f"but look alike with {vision} (ΔE {near:.0f}); use the palette of "
                    "fsnet_core.course.viz.panels",
                )
            )
    span = int(np.ceil(MAP_SPAN * (SAMPLES - 1)))
    for name, cmap in sorted(cmaps.items()):
        samples = cmap(np.linspace(0.0, 1.0, SAMPLES))[:, :3]
        pairs = [p for p in _confusions(samples) if abs(p[1] - p[0]) >= span]
        if pairs:
            i, j, vision, far, near = max(pairs, key=lambda p: p[3] - p[4])
            problems.append(
                Problem(
                    "colour",
                    f"colour map {name!r}: its values {i / (SAMPLES - 1):.2f} and "
                    f"{j / (SAMPLES - 1):.2f} look alike with {vision} (ΔE {far:.0f} -> "
                    f"{near:.0f}); use viridis, cividis or magma (diverging: RdBu, PuOr)",
                )
            )
    return problems


# ------------------------------------------------------------------ drawing and text


@dataclass(frozen=True)
class _Drawn:
    text: str
    points: float
    artist: Text | None


def _draw(fig: Figure) -> tuple[object, list[_Drawn]]:
    """Draw ``fig`` (as saving does) and record every piece of text the renderer draws."""
    from matplotlib.backends.backend_agg import RendererAgg

    class Recorder(RendererAgg):
        def __init__(self, width: float, height: float, dpi: float) -> None:
            super().__init__(width, height, dpi)
            self.drawn: list[_Drawn] = []

        def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):  # noqa: ANN001
            if s.strip():
                self.drawn.append(_Drawn(s, float(prop.get_size_in_points()), mtext))
            return super().draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

    width, height = fig.get_size_inches() * fig.dpi
    renderer = Recorder(int(width), int(height), fig.dpi)
    fig.draw(renderer)
    return renderer, renderer.drawn


def display_scale(fig: Figure, renderer: object, dpi: float, display_width: float) -> float:
    """Points shown per point of text, for ``fig`` saved at ``dpi`` (tight bounding box,
    as :func:`~.figures.save_figure` saves) and shown ``display_width`` CSS pixels wide at most."""
    box = fig.get_tightbbox(renderer)
    width_px = (box.width + 0.2) * dpi  # savefig's tight box pads 0.1 inch each side
    return dpi / CSS_DPI * min(1.0, display_width / width_px)


def _text_problems(drawn: Iterable[_Drawn], scale: float, min_points: float) -> list[Problem]:
    small: dict[tuple[float, float], list[str]] = {}
    for d in drawn:
        shown = d.points * scale
        if shown < min_points - 1e-6:
            small.setdefault((d.points, shown), []).append(d.text)
    problems = []
    for (points, shown), texts in sorted(small.items()):
        examples = ", ".join(repr(t[:30]) for t in list(dict.fromkeys(texts))[:3])
        more = f" and {len(texts) - 3} more" if len(texts) > 3 else ""
        problems.append(
            Problem(
                "text",
                f"{examples}{more}: {points:.3g} pt, shown at {shown:.1f} pt (minimum "
                f"{min_points:g}); use larger type or a narrower figure",
            )
        )
    return problems


# ------------------------------------------------------------------ colour bars


def _name(ax: Axes, fig: Figure) -> str:
    """How a problem names an axes: its title, else its place among the figure's axes."""
    title = ax.get_title() or ax.get_title("left")
    return repr(title.splitlines()[0]) if title else f"axes {fig.axes.index(ax) + 1}"


def _colourbar_problems(fig: Figure) -> list[Problem]:
    from matplotlib.transforms import Bbox

    problems = []
    for cax in fig.axes:
        bar = getattr(cax, "_colorbar", None)
        if bar is None or bar.mappable is None or bar.mappable.axes is None:
            continue
        parents = getattr(cax, "_colorbar_info", {}).get("parents") or [bar.mappable.axes]
        target = Bbox.union([ax.get_position() for ax in parents])  # as drawn (aspect applied)
        box = cax.get_position()
        vertical = bar.orientation == "vertical"
        if vertical:
            thickness, gap = box.width, max(box.x0 - target.x1, target.x0 - box.x1)
            shared = min(box.y1, target.y1) - max(box.y0, target.y0)
            length = box.height
        else:
            thickness, gap = box.height, max(box.y0 - target.y1, target.y0 - box.y1)
            shared = min(box.x1, target.x1) - max(box.x0, target.x0)
            length = box.width
        what = f"the colour bar of {_name(bar.mappable.axes, fig)}"
        if gap > BAR_GAP * thickness:
            problems.append(
                Problem(
                    "colour bar",
                    f"{what} sits {gap / thickness:.1f} bar widths from its axes (at most "
                    f"{BAR_GAP:g}): draw it beside the picture (e.g. fig.colorbar(..., ax=ax, "
                    "shrink=...) with a layout that keeps the aspect, or an inset axes)",
                )
            )
        elif shared < 0.5 * length:
            problems.append(
                Problem("colour bar", f"{what} runs alongside its axes for under half its length")
            )
    return problems


# ------------------------------------------------------------------ overlapping text


def _corners(artist: Text, renderer: object) -> np.ndarray | None:
    """The four corners (display pixels) of ``artist``'s text, rotated as it is drawn."""
    box = artist.get_window_extent(renderer)
    angle = artist.get_rotation()
    if angle % 90 == 0:
        return np.array([[box.x0, box.y0], [box.x1, box.y0], [box.x1, box.y1], [box.x0, box.y1]])
    artist.set_rotation(0)
    flat = artist.get_window_extent(renderer)
    artist.set_rotation(angle)
    w, h = flat.width / 2, flat.height / 2
    t = np.deg2rad(angle)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    local = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) @ rot.T
    return local + [(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2]


def _overlap(a: np.ndarray, b: np.ndarray, gap: float) -> bool:
    """Whether two convex quadrilaterals come closer than ``gap`` pixels (a negative ``gap``:
    overlap by more than ``-gap``), by the separating axis theorem."""
    for quad in (a, b):
        for k in range(4):
            edge = quad[(k + 1) % 4] - quad[k]
            normal = np.array([-edge[1], edge[0]])
            norm = np.hypot(*normal)
            if norm == 0:
                continue
            normal /= norm
            pa, pb = a @ normal, b @ normal
            if max(pa.min(), pb.min()) - min(pa.max(), pb.max()) >= gap:
                return False
    return True


def _clash(a: Text, qa: np.ndarray, b: Text, qb: np.ndarray, gap: float) -> bool:
    """Whether two texts overlap, or, on one line (same rotation, same level), stand closer
    than ``gap`` pixels along it, where they would read as one phrase."""
    turn = a.get_rotation() % 180
    if turn == b.get_rotation() % 180 and turn in (0, 90):
        along = 0 if turn == 0 else 1  # the axis the line of text runs along
        lo_a, hi_a, lo_b, hi_b = qa.min(axis=0), qa.max(axis=0), qb.min(axis=0), qb.max(axis=0)
        across = 1 - along
        if min(hi_a[across], hi_b[across]) > max(lo_a[across], lo_b[across]):  # one line
            return max(lo_a[along], lo_b[along]) - min(hi_a[along], hi_b[along]) < gap
    return _overlap(qa, qb, -1.0)


def _overlap_problems(renderer: object, drawn: Sequence[_Drawn], dpi: float) -> list[Problem]:
    sizes: dict[int, float] = {}
    artists: dict[int, Text] = {}
    for d in drawn:
        if d.artist is not None:
            artists[id(d.artist)] = d.artist
            sizes[id(d.artist)] = max(sizes.get(id(d.artist), 0.0), d.points * dpi / 72)
    keys = list(artists)
    if len(keys) < 2:
        return []
    quads = [_corners(artists[k], renderer) for k in keys]
    gaps = TEXT_GAP * np.array([sizes[k] for k in keys])
    gaps = np.maximum(gaps[:, None], gaps[None])
    lo, hi = np.array([q.min(axis=0) for q in quads]), np.array([q.max(axis=0) for q in quads])
    apart = np.maximum(lo[:, None], lo[None]) - np.minimum(hi[:, None], hi[None])
    near = np.triu((apart < gaps[..., None]).all(axis=-1), 1)  # boxes close: look closer
    clashes = [
        f"{artists[keys[i]].get_text()[:30]!r}/{artists[keys[j]].get_text()[:30]!r}"
        for i, j in zip(*np.nonzero(near), strict=True)
        if _clash(artists[keys[i]], quads[i], artists[keys[j]], quads[j], gaps[i, j])
    ]
    if not clashes:
        return []
    more = f" and {len(clashes) - 3} more pairs" if len(clashes) > 3 else ""
    return [
        Problem(
            "overlap",
            f"{', '.join(clashes[:3])}{more} overlap, or stand on one line less than half a "
            "letter apart: fewer or rotated tick labels, shorter text (or on two lines), or "
            "more room",
        )
    ]


# ------------------------------------------------------------------ the audit


def audit_figure(
    fig: Figure,
    *,
    dpi: float = SAVE_DPI,
    display_width: float = DISPLAY_WIDTH,
    min_points: float = MIN_POINTS,
) -> list[Problem]:
    """Every :class:`Problem` of ``fig`` saved at ``dpi`` and shown ``display_width`` pixels
    wide at most (see the module's docstring for the rules); an empty list when it reads well."""
    renderer, drawn = _draw(fig)
    scale = display_scale(fig, renderer, dpi, display_width)
    return (
        _text_problems(drawn, scale, min_points)
        + _colour_problems(fig)
        + _colourbar_problems(fig)
        + _overlap_problems(renderer, drawn, fig.dpi)
    )


def warn_only() -> bool:
    """Whether ``$FSNET_LAB_FIGURES`` asks for problems to be printed rather than raised."""
    mode = os.environ.get(MODE_ENV, "").strip()
    if mode not in ("", "warn"):
        raise ValueError(f"${MODE_ENV} must be 'warn' or unset, got {mode!r}")
    return mode == "warn"


def check_figure(fig: Figure, name: str, *, dpi: float = SAVE_DPI) -> None:
    """Raise :class:`UnreadableFigure` naming ``name`` and every problem :func:`audit_figure`
    finds (printed instead with ``$FSNET_LAB_FIGURES=warn``)."""
    problems = audit_figure(fig, dpi=dpi)
    if not problems:
        return
    message = f"{name} is hard to read:\n" + "\n".join(f"  - {p}" for p in problems)
    if warn_only():
        print(f"⚠ {message}")
        return
    raise UnreadableFigure(message)


__all__ = [
    "CLOSE",
    "DICHROMACIES",
    "DISPLAY_WIDTH",
    "FAR_APART",
    "MIN_POINTS",
    "MODE_ENV",
    "SAVE_DPI",
    "WIDEST",
    "Problem",
    "UnreadableFigure",
    "audit_figure",
    "check_figure",
    "confusable",
    "display_scale",
    "lab",
]

"""Figures of what RCAM exchanges and what the BPMs change, from one :class:`FSNetTrace`.

At every stage k RCAM pools each stream's feature to one number per channel,
turns it into a gate in (0, 1) and hands the gate to the *other* stream:
``motion_to_appearance`` (Eq. 1, App. <= Mo.) re-weights the appearance
feature X_k, ``appearance_to_motion`` (Eq. 2, App. => Mo.) the motion feature
Y_k, and both gated features are added to the merge stream (the names are
tabled in :mod:`fsnet_core.model.rcam`). These plots show the gates
(:func:`plot_attention_vectors`, :func:`plot_attention_modes`), single
channels before and after the gating (:func:`plot_exchange`, built on
:func:`~fsnet_core.analysis.attention.exchange_maps`, which the RCAM explorer
widget shows too), and the two pyramids before and after the stack of BPMs
(:func:`plot_pyramids`), and what one BPM step (or the stack) changed at one
level, beside the frame and flow, with the regions outlined
(:func:`plot_bpm_change`; :func:`plot_contrast_frames` the same over many
frames). The numbers behind them are read off the trace by
:mod:`fsnet_core.analysis.attention` (re-exported here).

Traces come from ``model.forward_with_intermediates(image, flow)``; every
function takes ``sample`` to pick one item of the batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ...analysis.attention import (
    EXCHANGE_PANELS,
    attention_table,
    attention_vectors,
    cell_weights,
    energy_change,
    exchange_maps,
    gate_spread,
    inside_outside,
    object_contrast,
    pyramid_energy,
    pyramid_object_contrast,
    selective_channels,
)
from ...model import FSNetTrace
from ...model.rcam import APPEARANCE_TO_MOTION, MOTION_TO_APPEARANCE, RCAM_GATES, Gate
from .audit import WIDEST
from .panels import APPEARANCE, BLUE, GREEN, MOTION, RED, as_mpl, hex_colour, wrapped_suptitle

if TYPE_CHECKING:
    from matplotlib.figure import Figure

GATE_COLOURS = {
    MOTION_TO_APPEARANCE.name: hex_colour(APPEARANCE),
    APPEARANCE_TO_MOTION.name: hex_colour(MOTION),
}
"""One colour per gate (keyed by code name) in every figure: the colour of the cue whose
feature it re-weights (the palette's appearance and motion colours)."""

PANEL_TITLES: dict[str, str] = {
    "appearance": f"{MOTION_TO_APPEARANCE.feature} appearance",
    "gated_appearance": f"{MOTION_TO_APPEARANCE.gated_feature} gated X",
    "motion": f"{APPEARANCE_TO_MOTION.feature} motion",
    "gated_motion": f"{APPEARANCE_TO_MOTION.gated_feature} gated Y",
    "merged_before": "merge before",
    "merged_after": "merge after",
}
"""Short titles of the :data:`EXCHANGE_PANELS` in the paper's symbols (figures and widgets)."""
MIN_CELLS = 16
"""The coarsest feature map a figure or widget shows, in cells per side: below 16 x 16 a map
is a handful of blocks that nobody can read (the paper's model at 352 x 352 has 11 x 11 cells
at its deepest stage; the course model at 64 x 64 has 16 x 16 at stage 1, 2 x 2 at stage 4)."""
_GATE_OF_PANEL = {g.gated: g for g in RCAM_GATES}


def readable_stages(trace: FSNetTrace, min_cells: int = MIN_CELLS) -> list[int]:
    """The RCAM stages whose maps have at least ``min_cells`` cells per side."""
    return [k for k, st in enumerate(trace.stages) if min(st.appearance.shape[-2:]) >= min_cells]


def check_readable(shape: Sequence[int], what: str, min_cells: int = MIN_CELLS) -> None:
    """Refuse to draw a map smaller than ``min_cells`` x ``min_cells`` cells, naming it."""
    h, w = shape[-2:]
    if min(h, w) < min_cells:
        raise ValueError(
            f"{what} is {h}x{w} cells, smaller than {min_cells}x{min_cells}: too coarse to read; "
            "choose a shallower stage or a larger input"
        )


def gate_legend(gate: Gate) -> str:
    """How figures and widgets name a gate: plain English, then Table 5's arrow."""
    return f"{gate.label} ({gate.arrow})"


def _zoom_around_half(values: Sequence[np.ndarray]) -> tuple[float, float]:
    """Y limits centred on 0.5 (an untrained gate) that just hold every value (at least +-0.05)."""
    reach = max([0.05, *(float(np.abs(np.asarray(v) - 0.5).max()) * 1.15 for v in values)])
    return max(0.0, 0.5 - reach), min(1.0, 0.5 + reach)


def plot_attention_vectors(trace: FSNetTrace, sample: int = 0, title: str | None = None) -> Figure:
    """Both gates at each of the five stages, channels sorted from most to least open.

    A flat line means the gate treats every channel alike; a steep one means
    the other stream picks a few channels and mutes the rest. The y axis is
    centred on 0.5 (the gate of an untrained RCAM) and zooms to the values.
    """
    import matplotlib.pyplot as plt

    vectors = attention_vectors(trace, sample)
    limits = _zoom_around_half([g for gates in vectors.values() for g in gates if g is not None])
    n = len(trace.stages)
    fig, axes = plt.subplots(1, n, figsize=(min(3.0 * n, WIDEST), 3.0), sharey=True, squeeze=False)
    for k, ax in enumerate(axes[0]):
        for gate in RCAM_GATES:
            values = vectors[gate.name][k]
            if values is None:
                continue
            order = np.sort(values)[::-1]
            colour = GATE_COLOURS[gate.name]
            ax.plot(np.arange(len(order)), order, color=colour, label=gate_legend(gate))
        channels = trace.stages[k].appearance.shape[1]
        ax.set_title(f"stage {k}\n({channels} channels)", fontsize=9)
        ax.set_xlabel("channel (sorted)", fontsize=9)
        ax.tick_params(labelsize=9)
        ax.set_ylim(*limits)
        ax.axhline(0.5, color="grey", lw=0.5, ls=":")
    axes[0, 0].set_ylabel("gate value")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=9, frameon=False)
    wrapped_suptitle(fig, title or "RCAM channel attention, stage by stage")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def plot_attention_modes(traces: Mapping[str, FSNetTrace], title: str | None = None) -> Figure:
    """Gate values per stage for several models (e.g. full duplex and the two simplex modes).

    One panel per gate; boxes show the spread of the batch-averaged gate
    over channels. A gate a model does not have is simply absent. The y
    axis is centred on 0.5 and zooms to the values.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    table = attention_table(traces)
    if table.empty:
        raise ValueError("none of the traces has an attention vector (all RCAM modes 'none')")
    fig, axes = plt.subplots(1, 2, figsize=(WIDEST, 3.6), sharey=True)
    order = list(traces)
    limits = _zoom_around_half([table.value.to_numpy()])
    for ax, gate in zip(axes, RCAM_GATES, strict=True):
        part = table[table.direction == gate.name]
        if part.empty:
            ax.text(0.5, 0.5, "no model has this gate", ha="center", transform=ax.transAxes)
        else:
            sns.boxplot(
                data=part, x="stage", y="value", hue="model", hue_order=order, ax=ax,
                fliersize=1.5, linewidth=0.8,
            )  # fmt: skip
            ax.legend(fontsize=8.5, title=None)
        ax.set_title(f"{gate_legend(gate)}, {gate.equation}", fontsize=10)
        ax.set_ylim(*limits)
        ax.axhline(0.5, color="grey", lw=0.5, ls=":")
    wrapped_suptitle(fig, title or "RCAM gates: full duplex against simplex")
    fig.tight_layout()
    return fig


def plot_exchange(
    trace: FSNetTrace,
    stage: int,
    channels: Sequence[int] | None = None,
    sample: int = 0,
    title: str | None = None,
    frame: np.ndarray | None = None,
    min_cells: int = MIN_CELLS,
) -> Figure:
    """Rows of channels, columns of :data:`EXCHANGE_PANELS`; one colour scale per row.

    ``frame`` (the input, ``H x W x 3``) is drawn first in every row, with the
    stage's cell grid; each row's colour bar sits against its last panel. The
    gated panels give the gate's value for that channel under their titles. At most
    :data:`~.audit.WIDEST` inches wide, so that its text reads at the size a notebook
    shows it. Stages whose maps have fewer than
    ``min_cells`` cells per side are refused (the paper's model at 352 x 352 is drawn
    down to its 11 x 11 deepest stage, beside the frame).
    """
    import matplotlib.pyplot as plt

    check_readable(trace.stages[stage].appearance.shape, f"stage {stage}", min_cells)
    if channels is None:
        channels = selective_channels(trace, stage, 4, sample)
    channels = list(channels)
    if not channels:
        raise ValueError("no channels to plot")
    offset = 0 if frame is None else 1
    cols = len(EXCHANGE_PANELS) + offset
    side = min(1.9, (WIDEST - 0.7) / cols)
    fig, axes = plt.subplots(
        len(channels), cols, figsize=(side * cols + 0.7, (side + 0.45) * len(channels) + 0.5),
        squeeze=False,
    )  # fmt: skip
    for row, channel in enumerate(channels):
        maps = exchange_maps(trace, stage, channel, sample)
        images = [maps[name] for name in EXCHANGE_PANELS]
        vmax = max(float(np.abs(m).max()) for m in images) or 1.0  # type: ignore[arg-type]
        vmin = min(0.0, min(float(np.min(m)) for m in images))  # type: ignore[arg-type]
        if frame is not None:
            h, w = images[0].shape  # type: ignore[union-attr]
            axes[row, 0].imshow(frame, extent=(0, w, h, 0))
            axes[row, 0].set_xticks(np.arange(0, w + 1, max(1, w // 4)))
            axes[row, 0].set_yticks(np.arange(0, h + 1, max(1, h // 4)))
            axes[row, 0].tick_params(labelsize=8)
            if row == 0:
                axes[row, 0].set_title(f"input frame\n({h}x{w} cells)", fontsize=9)
        for col, (name, image) in enumerate(zip(EXCHANGE_PANELS, images, strict=True), offset):
            ax = axes[row, col]
            shown = ax.imshow(image, cmap="viridis", vmin=vmin, vmax=vmax)
            ax.set_xticks([])
            ax.set_yticks([])
            label = PANEL_TITLES[name]
            gate = _GATE_OF_PANEL.get(name)
            if gate is not None:
                label += f"\n(x{maps[gate.name]:.2f})"
            if row == 0 or gate is not None:
                ax.set_title(label, fontsize=9)
            if col == offset:
                ax.set_ylabel(f"channel {channel}", fontsize=9)
        bar = fig.colorbar(shown, ax=axes[row, -1], fraction=0.046, pad=0.04)
        bar.ax.tick_params(labelsize=8)
    wrapped_suptitle(fig, title or f"RCAM exchange at stage {stage}")
    fig.tight_layout()
    return fig


def plot_pyramids(
    trace: FSNetTrace,
    sample: int = 0,
    title: str | None = None,
    frame: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    min_cells: int = MIN_CELLS,
) -> Figure:
    """The fused (F) and motion (G) pyramids before and after the BPM stack, level by level.

    Each panel is the mean absolute activation of a level; the two rows of
    one pyramid share a colour scale per level (its colour bar is in the last
    row), so brighter after means the BPMs strengthened that place, darker
    means they suppressed it. Levels coarser than ``min_cells`` cells per side
    are left out (the title says which); ``frame`` and ``mask`` are drawn in a
    first column.
    """
    import matplotlib.pyplot as plt

    energy = pyramid_energy(trace, sample)
    rows = list(energy)
    shown = [i for i, m in enumerate(energy[rows[0]]) if min(m.shape) >= min_cells]
    if not shown:
        check_readable(energy[rows[0]][0].shape, "the finest pyramid level", min_cells)
    inputs = [im for im in (frame, mask) if im is not None]
    cols = len(shown) + (1 if inputs else 0)
    side = min(2.2, (WIDEST - 0.8) / cols)
    fig, axes = plt.subplots(
        len(rows), cols, figsize=(side * cols + 0.8, (side + 0.3) * len(rows) + 0.4), squeeze=False,
        layout="constrained",
    )  # fmt: skip
    for r, image in enumerate(inputs):
        axes[r, 0].imshow(image, cmap="gray" if image.ndim == 2 else None)
        axes[r, 0].set_title("input frame" if image is frame else "true mask", fontsize=9)
    if inputs:
        for r in range(len(inputs), len(rows)):
            axes[r, 0].axis("off")
    first = 1 if inputs else 0
    for col, level in enumerate(shown, first):
        for r, key in enumerate(rows):
            partner = key.split()[0] + (" after" if key.endswith("before") else " before")
            image = energy[key][level]
            vmax = max(float(image.max()), float(energy[partner][level].max())) or 1.0
            ax = axes[r, col]
            drawn = ax.imshow(image, cmap="magma", vmin=0, vmax=vmax)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                h, w = image.shape
                ax.set_title(f"level {level + 1}\n({h}x{w} cells)", fontsize=9)
            if col == first:
                ax.set_ylabel(key, fontsize=9)
            if r % 2 == 1:  # one bar per pyramid: before and after share the scale
                bar = fig.colorbar(drawn, ax=axes[r - 1 : r + 1, col], fraction=0.046, pad=0.04)
                bar.ax.tick_params(labelsize=8)
    for ax in axes[:, 0] if inputs else []:
        ax.set_xticks([])
        ax.set_yticks([])
    n_bpm = len(trace.pyramids) - 1
    left_out = len(energy[rows[0]]) - len(shown)
    note = (
        f"\n({left_out} coarser level(s) under {min_cells}x{min_cells} cells not drawn)"
        if left_out
        else ""
    )
    wrapped_suptitle(
        fig, (title + note) if title else f"Pyramids before and after {n_bpm} BPM(s){note}"
    )
    return fig


REGION_STYLES: tuple[tuple[tuple[int, int, int], str], ...] = (
    (GREEN, "-"),
    (BLUE, "--"),
    (RED, ":"),
)
"""Outline colour and line style of the first, second and third region a BPM figure marks
(the object first, drawn like the true mask's outline in every overlay)."""


def _outline(ax, mask: np.ndarray, style: int) -> None:
    """The outline of an input-size mask on an axis drawn in input pixel coordinates."""
    colour, line = REGION_STYLES[style]
    h, w = mask.shape
    ax.contour(
        np.arange(w) + 0.5,
        np.arange(h) + 0.5,
        np.asarray(mask, np.float32),
        levels=[0.5],
        colors=[as_mpl(colour)],
        linestyles=line,
        linewidths=1.6,
    )


def _signed(value: float, digits: int = 2) -> str:
    return "n/a" if np.isnan(value) else f"{value:+.{digits}f}"


def _bpm_span_name(trace: FSNetTrace, step: int | None) -> str:
    n_bpm = len(trace.pyramids) - 1
    if step is not None:
        return f"BPM {step} of {n_bpm}"
    return "the one BPM" if n_bpm == 1 else f"the stack of {n_bpm} BPMs"


def plot_bpm_change(
    trace: FSNetTrace,
    regions: Mapping[str, np.ndarray],
    frame: np.ndarray,
    flow: np.ndarray | None = None,
    level: int = 0,
    sample: int = 0,
    step: int | None = None,
    title: str | None = None,
    min_cells: int = MIN_CELLS,
) -> Figure:
    """What a BPM step (``step=None``: the whole stack) did to both pyramids at one level.

    Rows: the fused pyramid F beside the frame, the motion pyramid G beside the flow
    image (the frame again without ``flow``). Columns: the input, the level's energy
    before and after (one grey scale for all four maps, its bar below them), and after
    minus before (a diverging scale centred on zero, one bar per row: F's changes are
    often ten times G's). ``regions`` (name -> mask at the input size, the object
    first; up to three; a region without a pixel in this frame is left out) are
    outlined in every panel. The titles give each region's
    :func:`~fsnet_core.analysis.attention.object_contrast` before and after, and the
    mean change inside it and outside all of them ("rest"). A level under
    ``min_cells`` cells a side is refused.
    """
    import matplotlib.pyplot as plt

    masks = {name: np.asarray(m, bool) for name, m in regions.items() if np.any(m)}
    if not masks or len(masks) > len(REGION_STYLES):
        raise ValueError(f"mark 1 to {len(REGION_STYLES)} regions present in the frame")
    energy = pyramid_energy(trace, sample, step)
    change = energy_change(trace, sample, step)
    if not 0 <= level < len(energy["F before"]):
        raise ValueError(f"the pyramids have levels 0-{len(energy['F before']) - 1}, got {level}")
    shape = energy["F before"][level].shape
    check_readable(shape, f"pyramid level {level + 1}", min_cells)
    weights = {name: cell_weights(m, shape) for name, m in masks.items()}
    rest = 1.0 - cell_weights(np.any(list(masks.values()), axis=0), shape)
    h, w = next(iter(masks.values())).shape
    extent = (0, w, h, 0)
    vmax = max(float(energy[f"{p} {t}"][level].max()) for p in "FG" for t in ("before", "after"))

    def listed(values: Mapping[str, float], digits: int = 2) -> str:
        parts = [f"{name} {_signed(v, digits)}" for name, v in values.items()]
        return "\n".join(", ".join(parts[i : i + 2]) for i in range(0, len(parts), 2))

    fig, axes = plt.subplots(2, 4, figsize=(WIDEST, 6.4), layout="constrained")
    inputs = {"F": ("frame", frame), "G": ("frame", frame) if flow is None else ("flow", flow)}
    for r, (key, name) in enumerate((("F", "fused F"), ("G", "motion G"))):
        picture_name, picture = inputs[key]
        axes[r, 0].imshow(picture, extent=extent)
        axes[r, 0].set_title(f"{picture_name} (input, {h}x{w} px)", fontsize=9)
        axes[r, 0].set_ylabel(name, fontsize=11)
        for col, when in ((1, "before"), (2, "after")):
            image = energy[f"{key} {when}"][level]
            shown = axes[r, col].imshow(image, cmap="gray", vmin=0, vmax=vmax, extent=extent)
            contrast = {n: object_contrast(image, wt) for n, wt in weights.items()}
            axes[r, col].set_title(f"{name} {when}; contrast:\n{listed(contrast)}", fontsize=9)
        delta = change[key][level]
        reach = float(np.abs(delta).max()) or 1.0
        moved = axes[r, 3].imshow(delta, cmap="PuOr_r", vmin=-reach, vmax=reach, extent=extent)
        means = {n: inside_outside(delta, wt)[0] for n, wt in weights.items()}
        means["rest"] = inside_outside(delta, rest)[0]
        axes[r, 3].set_title(f"after - before; mean change:\n{listed(means, 3)}", fontsize=9)
        bar = fig.colorbar(moved, ax=axes[r, 3], fraction=0.08, pad=0.03)
        bar.set_label(f"change of {key}'s energy", fontsize=9)
        bar.ax.tick_params(labelsize=8)
        for ax in axes[r]:
            for style, mask in enumerate(masks.values()):
                _outline(ax, mask, style)
            ax.set_xticks([])
            ax.set_yticks([])
    bar = fig.colorbar(
        shown, ax=axes[:, 1:3], location="bottom", fraction=0.05, pad=0.02, aspect=40
    )
    bar.set_label("energy: mean |activation| over the level's channels", fontsize=9)
    bar.ax.tick_params(labelsize=8)
    handles = [
        plt.Line2D([], [], color=as_mpl(REGION_STYLES[i][0]), ls=REGION_STYLES[i][1], lw=1.6)
        for i in range(len(masks))
    ]
    fig.legend(
        handles, [f"{n} (outline)" for n in masks], loc="outside lower left",
        ncol=len(masks), fontsize=9, frameon=False,
    )  # fmt: skip
    cells = f"level {level + 1} ({shape[0]}x{shape[1]} cells)"
    headline = title or f"What {_bpm_span_name(trace, step)} changed at {cells}"
    fig.suptitle(
        f"{headline}\ncontrast = (inside - outside) / (inside + outside) of the energy",
        fontsize=11,
    )
    return fig


def plot_contrast_frames(
    table, level: int = 1, pyramids: Sequence[str] = ("F", "G"), title: str | None = None
) -> Figure:
    """Every frame's contrast before (x) and after (y) the BPMs, one panel per pyramid.

    ``table``: :func:`~fsnet_core.analysis.attention.pyramid_object_contrast` rows with a
    ``region`` column (the tables of several regions concatenated, the object first),
    one BPM span each. Points under the diagonal are frames where the BPMs lowered that
    pyramid's contrast on that region; the legends count them.
    """
    import matplotlib.pyplot as plt

    part = table[table.level == level].dropna(subset=["contrast before", "contrast after"])
    if part.empty:
        raise ValueError(f"no rows at level {level} with a contrast")
    both = part[["contrast before", "contrast after"]].to_numpy()
    pad = 0.05 * (float(both.max() - both.min()) or 1.0)
    limits = (float(both.min()) - pad, float(both.max()) + pad)
    fig, axes = plt.subplots(
        1,
        len(pyramids),
        figsize=(min(4.6 * len(pyramids), WIDEST), 4.6),
        squeeze=False,
        layout="constrained",
    )
    regions = list(dict.fromkeys(part.region))
    for ax, pyramid in zip(axes[0], pyramids, strict=True):
        ax.plot(limits, limits, color="grey", lw=0.8, ls=":")
        for style, region in enumerate(regions):
            rows = part[(part.pyramid == pyramid) & (part.region == region)]
            fell = int((rows["contrast after"] < rows["contrast before"]).sum())
            ax.scatter(
                rows["contrast before"], rows["contrast after"], s=20, alpha=0.8,
                color=as_mpl(REGION_STYLES[style][0]),
                label=f"{region}: lowered in {fell} of {len(rows)} frames",
            )  # fmt: skip
        ax.set(xlim=limits, ylim=limits, aspect="equal")
        ax.set_xlabel(f"{pyramid}'s contrast before the BPM(s)", fontsize=9)
        ax.set_ylabel(f"{pyramid}'s contrast after", fontsize=9)
        ax.tick_params(labelsize=8)
        ax.legend(fontsize=8, loc="upper left")
        name = "fused F" if pyramid == "F" else "motion G" if pyramid == "G" else pyramid
        ax.set_title(f"{name}, level {level}: one dot per frame and region", fontsize=9)
    fig.suptitle(
        title or "Contrast on each region before and after (under the diagonal: lowered)",
        fontsize=10,
    )
    return fig


__all__ = [
    "EXCHANGE_PANELS",
    "GATE_COLOURS",
    "MIN_CELLS",
    "PANEL_TITLES",
    "REGION_STYLES",
    "attention_table",
    "attention_vectors",
    "check_readable",
    "exchange_maps",
    "gate_legend",
    "gate_spread",
    "plot_attention_modes",
    "plot_attention_vectors",
    "plot_bpm_change",
    "plot_contrast_frames",
    "plot_exchange",
    "plot_pyramids",
    "pyramid_energy",
    "pyramid_object_contrast",
    "readable_stages",
    "selective_channels",
]

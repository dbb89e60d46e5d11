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
(:func:`plot_pyramids`). The numbers behind them are read off the trace by
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
    exchange_maps,
    gate_spread,
    pyramid_energy,
    pyramid_object_contrast,
    selective_channels,
)
from ...model import FSNetTrace
from ...model.rcam import APPEARANCE_TO_MOTION, MOTION_TO_APPEARANCE, RCAM_GATES, Gate
from .audit import WIDEST
from .panels import APPEARANCE, MOTION, hex_colour, wrapped_suptitle

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
    stage's cell grid; each row ends with its colour bar. The gated panels carry
    the gate's value for that channel in their titles. Stages whose maps have
    fewer than ``min_cells`` cells per side are refused (the paper's model at
    352 x 352 is drawn down to its 11 x 11 deepest stage, beside the frame).
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


__all__ = [
    "EXCHANGE_PANELS",
    "GATE_COLOURS",
    "MIN_CELLS",
    "PANEL_TITLES",
    "attention_table",
    "attention_vectors",
    "check_readable",
    "exchange_maps",
    "gate_legend",
    "gate_spread",
    "plot_attention_modes",
    "plot_attention_vectors",
    "plot_exchange",
    "plot_pyramids",
    "pyramid_energy",
    "pyramid_object_contrast",
    "readable_stages",
    "selective_channels",
]

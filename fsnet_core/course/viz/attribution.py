"""Figures for :mod:`fsnet_core.analysis.attribution`: where each cue's evidence sits, and how much.

:func:`plot_cue_attribution` puts, for one sample and several methods, the
attribution to the frame beside the attribution to the flow, on one
symmetric colour scale per method (red pushes the region's logit up, blue
pushes it down). :func:`plot_cue_summary` turns the per-region table of
:func:`fsnet_core.analysis.attribution.cue_contributions` into the answer to "which
cue drives the decision": the signed push of each input on each kind of
region, and the frame's share of all attribution.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...data.samples import Sample
from ...data.synthetic import DISTRACTOR, MOVING_BACKGROUND, MOVING_OBJECT, TARGET
from ...data.synthetic import REGION_SHORT_NAMES as SHORT_NAMES
from .audit import WIDEST
from .panels import (
    APPEARANCE,
    GROUND_TRUTH,
    MOTION,
    ORANGE,
    PURPLE,
    YELLOW,
    draw_contours,
    hex_colour,
    wrapped_suptitle,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ...analysis.attribution import CueAttribution

# Outline colours (RGB, the course palette) of the synthetic regions; the target is drawn
# as the ground truth is everywhere.
REGION_COLOURS = {
    TARGET: GROUND_TRUTH,
    DISTRACTOR: ORANGE,
    MOVING_BACKGROUND: YELLOW,
    MOVING_OBJECT: PURPLE,
}
CUE_COLOURS = {"frame (appearance)": hex_colour(APPEARANCE), "flow (motion)": hex_colour(MOTION)}


def outline_regions(sample: Sample, thickness: int = 1) -> np.ndarray:
    """The frame with each synthetic region it holds outlined in its :data:`REGION_COLOURS`
    (the legend of :func:`plot_cue_attribution` names them)."""
    image = sample.frame_rgb
    for label, colour in REGION_COLOURS.items():
        region = sample.region(label)
        if region.any():
            image = draw_contours(image, region, colour, thickness)
    return image


def region_legend(ax, sample: Sample) -> None:  # noqa: ANN001
    """A legend on ``ax`` naming the outline colour of each region ``sample`` holds."""
    from matplotlib.patches import Patch

    handles = [
        Patch(facecolor="none", edgecolor=hex_colour(colour), linewidth=2, label=SHORT_NAMES[k])
        for k, colour in REGION_COLOURS.items()
        if sample.regions is not None and sample.region(k).any()
    ]
    if handles:
        ax.legend(
            handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=2,
            fontsize=9, frameon=False, handlelength=1.2, columnspacing=0.8,
        )  # fmt: skip


def plot_cue_attribution(
    sample: Sample,
    attributions: Mapping[str, CueAttribution],
    index: int = 0,
    title: str | None = None,
) -> Figure:
    """Rows of methods; columns: frame (regions outlined), flow, attribution to each input.

    ``index`` picks the item of each attribution's batch. Maps are summed over
    colour channels; each row shares one symmetric scale, so the two inputs
    of a method can be compared by eye, different methods cannot.
    """
    import matplotlib.pyplot as plt

    if not attributions:
        raise ValueError("no attributions to plot")
    rows = len(attributions)
    fig, axes = plt.subplots(rows, 4, figsize=(WIDEST, 2.6 * rows + 0.9), squeeze=False)
    frame = outline_regions(sample)
    for r, (name, result) in enumerate(attributions.items()):
        image_map, flow_map = (m[index] for m in result.maps())
        reach = max(float(np.abs(image_map).max()), float(np.abs(flow_map).max())) or 1.0
        axes[r, 0].imshow(frame)
        axes[r, 1].imshow(sample.flow_rgb)
        for col, (cue, m) in enumerate(
            (("frame (appearance)", image_map), ("flow (motion)", flow_map)), start=2
        ):
            shown = axes[r, col].imshow(m, cmap="RdBu_r", vmin=-reach, vmax=reach)
            total = float(m.sum())
            axes[r, col].set_title(f"{name}\nto the {cue}:\nsum {total:+.3g}", fontsize=9)
        bar = fig.colorbar(shown, ax=axes[r, 3], fraction=0.046, pad=0.04)
        bar.ax.tick_params(labelsize=8)
        axes[r, 0].set_title("frame (regions outlined)" if r == 0 else "", fontsize=9)
        axes[r, 1].set_title("flow image" if r == 0 else "", fontsize=9)
        for ax in axes[r]:
            ax.set_xticks([])
            ax.set_yticks([])
    region_legend(axes[-1, 0], sample)
    wrapped_suptitle(fig, title or f"What each input contributes: {sample.name}")
    fig.tight_layout()
    return fig


def cue_long_table(table: pd.DataFrame) -> pd.DataFrame:
    """The per-region table reshaped: one row per (case, cue) with its signed ``contribution``."""
    parts = []
    for cue, column in (("frame (appearance)", "image_total"), ("flow (motion)", "flow_total")):
        part = table[["sequence", "frame", "label", "region", column]].rename(
            columns={column: "contribution"}
        )
        part.insert(4, "cue", cue)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def plot_cue_summary(table: pd.DataFrame, title: str | None = None) -> Figure:
    """Left: the mean signed push of frame and flow on each region's logit (bars, 95% CI).
    Right: the frame's share of all attribution per case (points) and its mean (bar)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    if table.empty:
        raise ValueError("no attributions to plot (no region had enough pixels)")
    names = [SHORT_NAMES.get(k, r) for k, r in zip(table.label, table.region, strict=True)]
    table = table.assign(region=names)
    order = list(dict.fromkeys(table.sort_values("label").region))
    fig, (left, right) = plt.subplots(1, 2, figsize=(WIDEST, 3.8))
    sns.barplot(
        data=cue_long_table(table), x="region", y="contribution", hue="cue", order=order,
        palette=CUE_COLOURS, saturation=1.0, errorbar=("ci", 95), ax=left,
    )  # fmt: skip
    left.axhline(0, color="black", lw=0.8)
    left.set(xlabel="", ylabel="push on the region's mean logit", title="signed contribution")
    left.legend(fontsize=9, title=None)
    frame = CUE_COLOURS["frame (appearance)"]
    sns.barplot(
        data=table, x="region", y="image_share", order=order, color=frame, saturation=1.0,
        alpha=0.35, errorbar=None, ax=right,
    )  # fmt: skip
    sns.stripplot(data=table, x="region", y="image_share", order=order, color=frame, ax=right)
    right.axhline(0.5, color="grey", lw=0.8, ls=":")
    right.set(xlabel="", ylabel="frame's share of |attribution|", ylim=(0, 1))
    right.set_title("how much of the evidence is appearance")
    for ax in (left, right):
        ax.tick_params(labelsize=9)
    wrapped_suptitle(fig, title or "Which cue drives the decision, by kind of region")
    fig.tight_layout()
    return fig


__all__ = [
    "CUE_COLOURS",
    "REGION_COLOURS",
    "SHORT_NAMES",
    "cue_long_table",
    "outline_regions",
    "plot_cue_attribution",
    "plot_cue_summary",
    "region_legend",
]

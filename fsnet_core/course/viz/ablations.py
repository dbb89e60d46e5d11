"""Figures of the ablation table: ours beside the paper on S-alpha, and the traps' hit rates.

Both read the committed table (:mod:`fsnet_core.course.ablation_results`) and draw
every seed as a dot and the mean with one standard deviation as a bar, on an axis
zoomed to the values, so that differences of a hundredth stay visible (on a 0-1
axis they vanish). A variant with fewer than ``MIN_SEEDS`` seeds is drawn hollow.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...train.ablations import VARIANTS, ablation_config
from ..ablation_results import TRAPS, paper_s_alpha, values_of
from ..claims import MIN_SEEDS
from .audit import WIDEST
from .panels import BLUE, GREEN, RED, as_mpl

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

OURS, PAPER, LIVE = BLUE, RED, GREEN
"""Named colours: our seeds' means, the paper's values, the notebook's own run."""


def _seed_rows(
    ax: Axes, results: pd.DataFrame, variants: Sequence[str], metric: str, scale: float = 1.0
) -> np.ndarray:
    """Each variant on its own row (the first on top): seeds as grey dots, the mean with
    one sd as a bar (hollow under ``MIN_SEEDS`` seeds). Returns the rows' y positions."""
    ys = np.arange(len(variants))[::-1].astype(float)
    for y, variant in zip(ys, variants, strict=True):
        values = np.asarray(values_of(results, variant, metric)) * scale
        ax.scatter(values, [y] * len(values), s=16, color="grey", alpha=0.6, zorder=2)
        if len(values):
            sd = float(values.std(ddof=1)) if len(values) > 1 else None
            filled = len(values) >= MIN_SEEDS
            ax.errorbar(
                float(values.mean()), y, xerr=sd, fmt="o", ms=7, capsize=4, zorder=3,
                color=as_mpl(OURS), mfc=as_mpl(OURS) if filled else "white",
            )  # fmt: skip
    ax.set_yticks(ys)
    ax.set_yticklabels([VARIANTS[v].label for v in variants], fontsize=9)
    ax.set_ylim(-0.6, len(variants) - 0.4)
    ax.tick_params(axis="x", labelsize=9)
    return ys


def _zoomed(values: Sequence[float], pad: float = 0.15) -> tuple[float, float]:
    """Limits that hold every value with ``pad`` of their range to spare."""
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    margin = pad * (high - low or abs(high) or 1.0)
    return low - margin, high + margin


def plot_s_beside_paper(
    results: pd.DataFrame, variants: Sequence[str] | None = None, reference: str = "full"
) -> Figure:
    """S-alpha of every variant: ours (seeds, mean ± sd) and the paper's, on one zoomed axis.

    Dotted lines mark ``reference`` (full FSNet) in each, so a variant left of its line
    scores below the full model there. The absolute levels differ (a small model on
    synthetic clips against ResNet-50 on DAVIS-2016): read the orderings.
    """
    import matplotlib.pyplot as plt

    variants = list(variants) if variants is not None else list(VARIANTS)
    s_alpha = paper_s_alpha()
    fig, ax = plt.subplots(figsize=(WIDEST, 0.45 * len(variants) + 1.9), layout="constrained")
    ys = _seed_rows(ax, results, variants, "S")
    ax.scatter(
        [s_alpha[v] for v in variants], ys, marker="D", s=46, facecolor="white",
        edgecolor=as_mpl(PAPER), linewidth=1.6, zorder=4,
    )  # fmt: skip
    ours_ref = float(np.mean(values_of(results, reference, "S")))
    ax.axvline(ours_ref, color=as_mpl(OURS), ls=":", lw=1.2)
    ax.axvline(s_alpha[reference], color=as_mpl(PAPER), ls=":", lw=1.2)
    drawn = [*results.S.astype(float), *(s_alpha[v] for v in variants)]
    ax.set_xlim(*_zoomed(drawn, 0.08))
    ax.set_xlabel("S-alpha (higher is better; axis zoomed)", fontsize=9)
    ax.legend(
        handles=[
            plt.Line2D([], [], color=as_mpl(OURS), marker="o", ls="-", label="ours: mean ± 1 sd"),
            plt.Line2D([], [], color="grey", marker="o", ls="", alpha=0.6, label="ours: one seed"),
            plt.Line2D([], [], color=as_mpl(PAPER), marker="D", mfc="white", ls="",
                       label="paper (DAVIS-2016, one run)"),  # fmt: skip
            plt.Line2D([], [], color="black", ls=":", label=f"{VARIANTS[reference].label}"),
        ],
        fontsize=8, loc="lower right", framealpha=0.9,
    )  # fmt: skip
    budget = ablation_config(reference)  # the budget the benchmark trains every variant with
    ax.set_title(
        f"S-alpha per variant: ours (synthetic clips, {budget.size} px, {budget.model.backbone}, "
        f"{budget.epochs} epochs) beside the paper's\n(DAVIS-2016 val, 352 px, ResNet-50). "
        "Absolute levels differ; compare the orders.",
        fontsize=9,
    )
    return fig


def plot_trap_hits(
    results: pd.DataFrame,
    variants: Sequence[str] | None = None,
    live: Mapping[str, Mapping[str, float]] | None = None,
    live_label: str = "your SMOKE run",
) -> Figure:
    """The share of each trap's pixels every variant calls target, in %, one panel per trap.

    ``live`` adds one point per trap for a run of another budget: variant ->
    ``{"look-alike": share, "mover": share}`` (0-1; a trap left out is not drawn), e.g.
    the notebook's own model.
    Each mean is written beside its bar.
    """
    import matplotlib.pyplot as plt

    variants = list(variants) if variants is not None else list(VARIANTS)
    traps = list(TRAPS)
    fig, axes = plt.subplots(
        1, len(traps), figsize=(WIDEST, 0.42 * len(variants) + 2.2), sharey=True,
        layout="constrained",
    )  # fmt: skip
    for ax, trap in zip(np.atleast_1d(axes), traps, strict=True):
        ys = _seed_rows(ax, results, variants, trap, scale=100.0)
        top = max(float(pd.to_numeric(results[trap]).max()) * 100.0, 1.0)
        for y, variant in zip(ys, variants, strict=True):
            values = values_of(results, variant, trap)
            if values:
                mean = 100.0 * float(np.mean(values))
                ax.annotate(
                    f"{mean:.1f}%", (mean, y), xytext=(0, 7), textcoords="offset points",
                    ha="center", fontsize=8,
                )  # fmt: skip
            if live and trap in live.get(variant, {}):
                ax.scatter(100.0 * live[variant][trap], y, marker="*", s=150,
                           color=as_mpl(LIVE), zorder=5)  # fmt: skip
        ax.set_xlim(-0.04 * top, 1.12 * top)
        ax.set_xlabel("share of the trap's pixels called target (%)", fontsize=9)
        ax.set_title(textwrap.fill(f"{trap}: {TRAPS[trap]}", 38), fontsize=9)
    if live:
        axes[0].scatter([], [], marker="*", s=110, color=as_mpl(LIVE), label=live_label)
        axes[0].legend(fontsize=8, loc="lower right")
    fig.suptitle(
        "Which trap catches which variant (synthetic val clips; dots: seeds; bar: ± 1 sd)",
        fontsize=10,
    )
    return fig


__all__ = ["LIVE", "OURS", "PAPER", "plot_s_beside_paper", "plot_trap_hits"]

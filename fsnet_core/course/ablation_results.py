"""The ablation benchmark's results table, summarised over seeds and set beside the paper.

``benchmarks/ablations.py`` trains every variant of the paper's Tables 3-5
(``fsnet_core.train.ablations.VARIANTS``) with several seeds and appends one
row per (variant, seed) to ``fsnet_core/course/results/ablations.csv``. The
table ships inside the package, so notebooks 02 and 03 find it wherever they
run (a checkout, ``$FSNET_LAB_HOME``, a pip install on Colab). It
may be partly filled (the runs take hours): every function here reports how
many seeds each variant has, and :mod:`.claims` makes no verdict about a
variant with fewer than ``MIN_SEEDS`` of them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..train.ablations import VARIANTS
from . import paper, tables
from .claims import MIN_SEEDS, Comparison, compare_seeds
from .viz.audit import WIDEST
from .viz.panels import DARK_BLUE, VERMILLION, hex_colour

# The variants of each of the paper's tables, in the paper's row order.
TABLES: dict[str, list[str]] = {
    "3": ["appearance", "motion", "vanilla", "rcam", "bpm", "full"],
    "4": ["rcam", "bpm2", "full"],
    "5": ["a2m_purify", "a2m_enrich", "m2a_purify", "m2a_enrich", "full"],
}
TABLE_TITLES = {
    "3": "Table 3: components",
    "4": "Table 4: number of BPMs (N = 0, 2, 4)",
    "5": "Table 5: directions (simplex vs. full duplex)",
}
NEEDED = ("variant", "seed", "final_J", "final_F", "S", "MAE")
METRICS = ("final_J", "best_J", "final_F", "S", "MAE", "look-alike", "mover")
TRAPS: dict[str, str] = {
    "look-alike": "static look-alikes of the target (they fool appearance)",
    "mover": "moving background-coloured objects (they fool motion)",
}
"""The two traps of the synthetic clips, by their column in the table: the share of the
trap's pixels a variant calls target (``fsnet_core.analysis.hazards.region_hit_rates``)."""


def results_path() -> Path:
    """The committed table: package data, next to this module (the benchmark's default output)."""
    return tables.results_path("ablations.csv")


def load_results(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """The table, one row per (variant, seed); empty (with the columns) when there is no file."""
    path = Path(path) if path is not None else results_path()
    return tables.read_results(
        path,
        NEEDED,
        "an ablation results table",
        ("variant", "seed"),
        known=("variant", VARIANTS, "variant"),
    )


def paper_s_alpha() -> dict[str, float]:
    """The paper's DAVIS-2016 S-measure of each variant (Tables 3-5; N = 2 from Table 4)."""
    t3 = paper.table3_components().set_index("variant").davis_s_alpha
    t4 = paper.table4_num_bpm().set_index("num_bpm").davis_s_alpha
    t5 = paper.table5_directions().set_index(["rcam", "bpm"]).davis_s_alpha
    names = {"App.": "appearance", "Mo.": "motion", "Vanilla": "vanilla", "Rel.": "rcam"}
    names |= {"Bi-Purf.": "bpm", "FSNet": "full"}
    values = {names[k]: float(v) for k, v in t3.items()}
    values["bpm2"] = float(t4[2])
    for variant in TABLES["5"][:-1]:
        changes = VARIANTS[variant].model
        values[variant] = float(t5[(changes["rcam"], changes["bpm"])])
    return values


def summarise(results: pd.DataFrame, metrics: Sequence[str] = ("final_J", "S")) -> pd.DataFrame:
    """Mean, sample standard deviation and seed count per variant, with the paper's S-alpha.

    Every known variant gets a row, ``seeds = 0`` when it has not been run yet.
    """
    rows = []
    s_alpha = paper_s_alpha()
    for variant, spec in VARIANTS.items():
        part = results[results.variant == variant]
        row: dict[str, object] = {"variant": variant, "paper name": spec.label}
        row["seeds"] = int(part.seed.nunique())
        for metric in metrics:
            values = pd.to_numeric(part[metric], errors="coerce").dropna()
            row[f"{metric} mean"] = float(values.mean()) if len(values) else np.nan
            row[f"{metric} sd"] = float(values.std(ddof=1)) if len(values) > 1 else np.nan
        row["paper S_alpha (DAVIS-16)"] = s_alpha[variant]
        rows.append(row)
    return pd.DataFrame(rows).set_index("variant")


def values_of(results: pd.DataFrame, variant: str, metric: str) -> list[float]:
    """One value per seed of ``variant``'s ``metric``."""
    part = results[results.variant == variant]
    return [float(v) for v in pd.to_numeric(part[metric], errors="coerce").dropna()]


def compare(results: pd.DataFrame, a: str, b: str, metric: str = "final_J") -> Comparison:
    """``a`` against ``b`` on ``metric``, over their seeds (see :func:`.claims.compare_seeds`)."""
    return compare_seeds(
        values_of(results, a, metric),
        values_of(results, b, metric),
        (VARIANTS[a].label, VARIANTS[b].label),
        metric,
    )


# The comparisons each notebook reads, robust lesson first: one cue against both.
LESSONS: dict[str, list[tuple[str, str]]] = {
    "cues": [("full", "appearance"), ("full", "motion")],
    "rcam": [("rcam", "vanilla"), ("full", "bpm")],
    "directions": [(v, "full") for v in TABLES["5"][:-1]],
    "bpm": [("full", "rcam"), ("bpm2", "rcam"), ("full", "bpm2"), ("bpm", "vanilla")],
    # The traps (metric "look-alike" or "mover"): one cue alone falls for its trap, and the
    # BPMs (with or without RCAM) let fewer movers through; then which BPM direction does.
    "look-alikes": [("appearance", "full")],
    "movers": [("motion", "full"), ("vanilla", "bpm"), ("rcam", "full")],
    "mover directions": [("a2m_enrich", "a2m_purify"), ("m2a_enrich", "m2a_purify")],
}


def lessons(results: pd.DataFrame, which: str, metric: str = "final_J") -> list[Comparison]:
    """The comparisons of one lesson (a key of :data:`LESSONS`) on ``metric``."""
    return [compare(results, a, b, metric) for a, b in LESSONS[which]]


def beside_paper(
    results: pd.DataFrame, reference: str = "full", variants: Sequence[str] | None = None
) -> pd.DataFrame:
    """Ours (S over seeds) beside the paper's DAVIS-2016 S-alpha, each against ``reference``.

    One row per variant (``variants``, default all but ``reference``): ``paper name``,
    ``seeds``, ``ours`` (mean S), ``paper``, ``ours - ref`` and ``paper - ref`` (the
    difference from the reference in each), ``same side`` (both differences have the
    same sign, i.e. the two agree on which of the pair scores higher) and ``verdict``
    (:func:`compare` on S: ``exceeds``, ``within`` or ``no verdict``); ``same side`` is
    ``None`` for a variant not run yet. Absolute levels
    are not comparable (synthetic clips against DAVIS-2016); the orderings are.
    """
    s_alpha = paper_s_alpha()
    names = list(variants) if variants is not None else [v for v in VARIANTS if v != reference]
    rows = []
    for variant in names:
        c = compare(results, variant, reference, "S")
        paper_gap = s_alpha[variant] - s_alpha[reference]
        verdict = "no verdict" if not c.measured else "exceeds" if c.exceeds_noise else "within"
        rows.append(
            {
                "variant": variant,
                "paper name": VARIANTS[variant].label,
                "seeds": c.n_a,
                "ours": c.mean_a,
                "paper": s_alpha[variant],
                "ours - ref": c.difference,
                "paper - ref": paper_gap,
                "same side": None
                if np.isnan(c.difference)
                else bool(np.sign(c.difference) == np.sign(paper_gap)),
                "verdict": verdict,
            }
        )
    return pd.DataFrame(rows).set_index("variant")


def seeds_per_variant(results: pd.DataFrame) -> pd.Series:
    """How many seeds each variant of ``VARIANTS`` has (0 for a variant not run yet)."""
    counts = results.groupby("variant").seed.nunique()
    return counts.reindex(list(VARIANTS), fill_value=0).astype(int)


def seed_counts(results: pd.DataFrame) -> str:
    """One line: how many seeds each variant has, and which have too few for a verdict."""
    counts = seeds_per_variant(results).to_dict()
    few = [v for v, n in counts.items() if n < MIN_SEEDS]
    text = ", ".join(f"{v} {n}" for v, n in counts.items())
    if few:
        text += f". Fewer than {MIN_SEEDS} seeds (shown hollow, no verdict): {', '.join(few)}"
    return f"seeds per variant: {text}"


def plot_ablations(
    results: pd.DataFrame,
    tables: Sequence[str] = ("3", "4", "5"),
    metric: str = "final_J",
    live: Mapping[str, float] | None = None,
    live_label: str = "your SMOKE run",
) -> Figure:
    """Ours (each seed, mean ± sd) beside the paper's DAVIS-2016 S-alpha, one row per table.

    Variants with fewer than ``MIN_SEEDS`` seeds are drawn hollow and labelled
    with their count; ``live`` adds points (variant -> value) from a run of
    another budget, e.g. the notebook's own SMOKE model.
    """
    import matplotlib.pyplot as plt

    s_alpha = paper_s_alpha()
    ours_colour, live_colour = hex_colour(DARK_BLUE), hex_colour(VERMILLION)
    fig, axes = plt.subplots(
        len(tables),
        2,
        figsize=(WIDEST, 1.0 + 0.55 * sum(len(TABLES[t]) for t in tables) + 0.4 * len(tables)),
        gridspec_kw={"width_ratios": [3, 2]},
        squeeze=False,
        height_ratios=[len(TABLES[t]) for t in tables],
    )
    for (ours, theirs), table in zip(axes, tables, strict=True):
        variants = TABLES[table]
        ys = np.arange(len(variants))[::-1]
        for y, variant in zip(ys, variants, strict=True):
            values = values_of(results, variant, metric)
            n = len(values)
            enough = n >= MIN_SEEDS
            ours.scatter(values, [y] * n, s=14, color="grey", alpha=0.6, zorder=2)
            if n:
                mean = float(np.mean(values))
                sd = float(np.std(values, ddof=1)) if n > 1 else 0.0
                ours.errorbar(
                    mean,
                    y,
                    xerr=sd if n > 1 else None,
                    fmt="o",
                    ms=8,
                    capsize=4,
                    color=ours_colour,
                    mfc=ours_colour if enough else "white",
                    zorder=3,
                )
            ours.annotate(
                f"n={n}" if n else "not run yet",
                (1.0, y),
                xycoords=("axes fraction", "data"),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=9,
                color="black" if enough else live_colour,
            )
            if live and variant in live:
                ours.scatter(live[variant], y, marker="*", s=160, color=live_colour, zorder=4)
        if live and any(v in live for v in variants):
            ours.scatter([], [], marker="*", s=120, color=live_colour, label=live_label)
            ours.legend(fontsize=9, loc="lower left")
        labels = [VARIANTS[v].label for v in variants]
        ours.set(yticks=ys, xlim=(0, 1))
        ours.set_title(f"{TABLE_TITLES[table]}: ours, {metric}", fontsize=10)
        ours.set_yticklabels(labels, fontsize=9)
        ours.set_ylim(-0.6, len(variants) - 0.4)
        theirs.barh(ys, [s_alpha[v] for v in variants], color="0.7")
        for y, v in zip(ys, variants, strict=True):
            theirs.text(s_alpha[v], y, f" {s_alpha[v]:.3f}", va="center", fontsize=9)
        theirs.set(yticks=ys, xlim=(0.8, 0.95))
        theirs.set_title("the paper: DAVIS-2016 S-alpha", fontsize=10)
        theirs.set_yticklabels([])
        theirs.set_ylim(-0.6, len(variants) - 0.4)
    axes[-1][0].set_xlabel(f"{metric} on the synthetic val split\n(dots: seeds; bar: ± 1 sd)")
    axes[-1][1].set_xlabel("S-alpha\n(ResNet-50, N = 4, Ji et al. 2021)")
    fig.tight_layout()
    return fig


__all__ = [
    "LESSONS",
    "TABLES",
    "TRAPS",
    "beside_paper",
    "compare",
    "lessons",
    "load_results",
    "paper_s_alpha",
    "plot_ablations",
    "results_path",
    "seed_counts",
    "seeds_per_variant",
    "summarise",
    "values_of",
]

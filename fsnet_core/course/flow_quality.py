"""Flow quality and segmentation: the course model's J with exact and with estimated flow.

The course model (:func:`.model_cache.notebook_config`) trains and is scored on
the synthetic set's exact flow (``gt``); a real video has only estimated flow
(DIS, Farnebäck, RAFT). ``benchmarks/flow_quality.py`` trains the course model
on each flow source over several seeds and scores every model with every
source at test time: one row per (training flow, seed) in
``results/flow_quality.csv`` (package data, so that notebooks 01 and 07 read it
wherever they run, through :func:`load_results`). :func:`scores_by_flow` is that
scoring, which notebook 01 also runs live on the cached course model.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from torch import nn

from ..io import InputError
from . import tables
from .claims import Comparison, compare_seeds

# The flow a model can train and be tested on: the synthetic set's exact flow, then estimates.
SOURCES: tuple[str, ...] = ("gt", "dis", "farneback")
LABELS: dict[str, str] = {"gt": "exact", "dis": "DIS", "farneback": "Farnebäck"}
RESULTS_NAME = "flow_quality.csv"
NEEDED = ("train", "seed", *(f"J_{s}" for s in SOURCES))


def results_path() -> Path:
    """The committed table: package data (the benchmark's default output)."""
    return tables.results_path(RESULTS_NAME)


def load_results(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """The table, one row per (training flow, seed); empty (with the columns) without a file.

    A training flow outside :data:`SOURCES` is an :class:`~fsnet_core.io.InputError`.
    """
    path = Path(path) if path is not None else results_path()
    return tables.read_results(
        path,
        NEEDED,
        "a flow-quality results table",
        ("train", "seed"),
        known=("train", SOURCES, "training flow"),
    )


def ensure_flow(
    root: str | os.PathLike, methods: Sequence[str] = SOURCES, split: str | None = None
) -> list[str]:
    """Compute (once; cached on disk) the estimated flow images ``methods`` need under ``root``.

    ``gt`` is the synthetic set's own and is skipped; ``split`` limits the work to one
    ImageSets list (``val``: what testing reads). Returns one summary line per method.
    """
    from ..data.flow_cache import compute_flow

    return [str(compute_flow(root, m, progress=False, split=split)) for m in methods if m != "gt"]


@torch.no_grad()
def scores_by_flow(
    model: nn.Module,
    root: str | os.PathLike,
    size: int,
    sources: Sequence[str] = SOURCES,
    split: str = "val",
    stage: str = "finetune",
) -> pd.DataFrame:
    """J and F of ``model`` on every frame of ``split``, once per flow source at test time.

    The frames and masks are the same each time; only the flow images differ (read
    from ``FlowImages/SOURCE``, resized to ``size`` as training reads them). One row per
    source: ``test`` (the source), ``J``, ``F``, ``frames``.
    """
    from torch.utils.data import DataLoader

    from ..data.datasets import VideoSegmentationDataset
    from ..train.data import collate
    from ..train.stages import dataset_inputs
    from ..train.validate import validation_scores

    device = next(model.parameters()).device
    rows = []
    for source in sources:
        data = VideoSegmentationDataset(
            root, split, flow_source=source, size=size, inputs=dataset_inputs(stage)
        )
        loader = DataLoader(data, batch_size=16, shuffle=False, collate_fn=collate)
        scores = validation_scores(model, loader, stage, device)
        rows.append(dict(test=source, J=scores.J, F=scores.F, frames=len(data)))
    return pd.DataFrame(rows)


def mean_epe(root: str | os.PathLike, method: str, split: str = "val") -> float:
    """The mean end-point error (px) of ``method``'s cached fields against the exact flow,
    over every frame pair of ``split`` (pairs weigh equally)."""
    from ..data.layouts import discover_sequences
    from ..flow.formats import end_point_error, read_flo

    truth = discover_sequences(root, split=split, flow_source="gt")
    estimate = discover_sequences(root, split=split, flow_source=method)
    errors = [
        end_point_error(read_flo(e), read_flo(t))
        for te, ee in zip(truth, estimate, strict=True)
        for t, e in zip(te.flow_fields, ee.flow_fields, strict=True)
        if t is not None and e is not None
    ]
    if not errors:
        raise InputError(Path(root), f"no {method} flow fields for the {split} split")
    return float(np.mean(errors))


def grid(results: pd.DataFrame, metric: str = "J") -> pd.DataFrame:
    """Mean and seed spread: one row per training flow, columns ``(test, mean|sd|n)``."""
    rows = {}
    for train in (s for s in SOURCES if s in set(results.train)):
        mine = results[results.train == train]
        row: dict[tuple[str, str], float] = {}
        for test in SOURCES:
            values = mine[f"{metric}_{test}"].astype(float)
            row[(test, "mean")] = values.mean()
            row[(test, "sd")] = values.std(ddof=1) if len(values) > 1 else np.nan
            row[(test, "n")] = len(values)
        rows[train] = row
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.columns = pd.MultiIndex.from_tuples(frame.columns)
    frame.index.name = "train"
    return frame


def plot_results(results: pd.DataFrame, live: pd.Series | None = None) -> Figure:
    """J by test flow (x) and training flow (colour): each seed a dot, the mean a diamond with
    a bar of ±1 sd; ``live`` (J per test source, e.g. from :func:`scores_by_flow`) adds this
    run's model as stars beside the exact-flow-trained models."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    trains = [s for s in SOURCES if s in set(results.train)]
    colours = dict(zip(SOURCES, sns.color_palette("colorblind", len(SOURCES)), strict=True))
    width = 0.22
    fig, ax = plt.subplots(figsize=(8.5, 3.8), layout="constrained")
    for j, train in enumerate(trains):
        mine = results[results.train == train]
        for i, test in enumerate(SOURCES):
            x = i + (j - (len(trains) - 1) / 2) * width
            values = mine[f"J_{test}"].astype(float).to_numpy()
            ax.plot(
                np.full(len(values), x - 0.05), values, "o", ms=4, alpha=0.5, color=colours[train]
            )
            sd = values.std(ddof=1) if len(values) > 1 else 0.0
            ax.errorbar(
                x + 0.03,
                values.mean(),
                yerr=sd,
                fmt="D",
                ms=7,
                capsize=3,
                color=colours[train],
                label=LABELS[train] if i == 0 else None,
            )
    if live is not None:
        j = trains.index("gt") if "gt" in trains else 0
        xs = [i + (j - (len(trains) - 1) / 2) * width + 0.1 for i in range(len(SOURCES))]
        ax.plot(
            xs,
            [float(live[s]) for s in SOURCES],
            "*",
            ms=11,
            color="black",
            label="this run's model",
        )
    seeds = results.groupby("train").seed.nunique()
    counts = f"{seeds.min()}" if seeds.min() == seeds.max() else f"{seeds.min()}-{seeds.max()}"
    ax.set_xticks(range(len(SOURCES)), [LABELS[s] for s in SOURCES])
    ax.set(
        xlabel="flow at test time",
        ylabel="val J",
        title=f"The course model, {counts} seeds per training flow (dots: seeds; bars: mean ± sd)",
    )
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda k: labels[k] == "this run's model")  # last
    ax.legend(
        [handles[k] for k in order],
        [labels[k] for k in order],
        title="trained on",
        loc="center left",
        bbox_to_anchor=(1.01, 0.5),
    )
    return fig


def compare_tests(
    results: pd.DataFrame, train: str, test: str, against: str, metric: str = "J"
) -> Comparison:
    """The models trained on ``train`` flow, tested on ``test`` vs. on ``against`` flow."""
    mine = results[results.train == train]
    return compare_seeds(
        mine[f"{metric}_{test}"].astype(float).tolist(),
        mine[f"{metric}_{against}"].astype(float).tolist(),
        (f"tested on {LABELS[test]}", f"on {LABELS[against]}"),
        f"{metric}, trained on {LABELS[train]} flow",
    )


def compare_trains(
    results: pd.DataFrame, test: str, train: str, against: str, metric: str = "J"
) -> Comparison:
    """Tested on ``test`` flow: the models trained on ``train`` vs. on ``against`` flow."""

    def values(source: str) -> list[float]:
        return results[results.train == source][f"{metric}_{test}"].astype(float).tolist()

    return compare_seeds(
        values(train),
        values(against),
        (f"trained on {LABELS[train]}", f"on {LABELS[against]}"),
        f"{metric}, tested on {LABELS[test]} flow",
    )


__all__ = [
    "LABELS",
    "RESULTS_NAME",
    "SOURCES",
    "compare_tests",
    "compare_trains",
    "ensure_flow",
    "grid",
    "load_results",
    "mean_epe",
    "plot_results",
    "results_path",
    "scores_by_flow",
]

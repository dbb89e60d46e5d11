"""Notebook 02's broken-cue experiment over seeds: does RCAM respond when one cue fails?

The course model (:func:`~fsnet_core.course.model_cache.notebook_config` in
SMOKE mode, cached) is run on two frames of every validation clip of the
built-in set, once as they are and once with one cue broken
(:data:`fsnet_core.analysis.degraded.DEGRADATIONS`), and RCAM's gate computed
from the broken cue is compared (:func:`fsnet_core.analysis.degraded.cue_response`).
One seed is one model; ``benchmarks/rcam_degraded.py`` trains the seeds
(through :func:`~fsnet_core.course.model_cache.train_or_load`, so seed 0 is
the notebooks' own model), measures each, and writes one row per (seed,
degradation, stage) to ``course/results/rcam_degraded.csv`` (package data,
like the ablation table, so the notebook reads it without training three
models). :func:`result_lines` is *the RCAM degraded-cue result*: the same
lines in the notebook and from ``python benchmarks/rcam_degraded.py --table``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from ..analysis.degraded import DEGRADATIONS, CueResponse, cue_response
from ..data.samples import Sample, load_samples, stack_inputs
from ..model import FSNet
from . import tables
from .claims import Comparison, compare_seeds

SEEDS = (0, 1, 2)
"""The course model's seeds the benchmark measures (seed 0 is the notebooks' model)."""
FRAMES_PER_CLIP = 2
"""Frames taken, evenly spaced, from each validation clip of the built-in set."""
NEGLIGIBLE_SHIFT = 0.01
"""A change of a stage's mean gate smaller than this re-weights the gated feature by under
2 % (0.01 against a gate of about 0.5): no decision a later layer could notice."""
RESULTS_NEEDED = (
    "seed",
    "degradation",
    "cue",
    "stage",
    "direction",
    "frames",
    "clean",
    "degraded",
    "shift",
    "shift_sd",
    "abs_shift",
    "frame_spread",
    "same_sign",
    "J_clean",
    "J_degraded",
)


def experiment_samples(
    root: str | os.PathLike, size: int, per_clip: int = FRAMES_PER_CLIP
) -> list[Sample]:
    """The frames the experiment uses: ``per_clip`` from every clip of ``root``'s val split."""
    return load_samples(root, "val", size=size, per_sequence=per_clip)


def measure(model: FSNet, samples: Sequence[Sample], seed: int = 0) -> dict[str, CueResponse]:
    """Every degradation's :class:`CueResponse` on ``samples`` (J scored on their masks);
    ``seed`` draws the noisy flow."""
    image, flow = stack_inputs(samples)
    masks = [s.mask for s in samples]
    return {
        how: cue_response(model, image, flow, how, masks=masks, seed=seed) for how in DEGRADATIONS
    }


def seed_rows(responses: Mapping[str, CueResponse], seed: int) -> pd.DataFrame:
    """One model's rows of the results table: per degradation and stage, the gate computed
    from the broken cue over the frames (:meth:`CueResponse.summary`), and mean J."""
    rows = []
    for how, response in responses.items():
        summary = response.summary().reset_index()
        summary = summary[summary.reads_broken_cue]
        for _, row in summary.iterrows():
            rows.append(
                {
                    "seed": seed,
                    "degradation": how,
                    "cue": DEGRADATIONS[how].cue,
                    "stage": int(row["stage"]),
                    "direction": row["direction"],
                    "frames": int(response.gates.frame.nunique()),
                    "clean": row["clean"],
                    "degraded": row["degraded"],
                    "shift": row["shift"],
                    "shift_sd": row["shift sd"],
                    "abs_shift": row["abs_shift"],
                    "frame_spread": row["frame_spread"],
                    "same_sign": row["same sign"],
                    "J_clean": float(response.scores.J_clean.mean()),
                    "J_degraded": float(response.scores.J_degraded.mean()),
                }
            )
    return pd.DataFrame(rows, columns=list(RESULTS_NEEDED))


def results_path(name: str = "rcam_degraded.csv") -> Path:
    """The committed table of the benchmark: package data, next to this module."""
    return tables.results_path(name)


def load_results(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """The benchmark's rows, one per (seed, degradation, stage); empty without a file."""
    path = Path(path) if path is not None else results_path()
    key = ("seed", "degradation", "stage")
    return tables.read_results(path, RESULTS_NEEDED, "an RCAM degraded-cue table", key)


def verdicts(results: pd.DataFrame) -> dict[str, dict[str, Comparison]]:
    """Per degradation, over the seeds: ``J`` (the prediction with the cue broken against
    clean) and ``gate`` (the gate computed from the broken cue, averaged over the stages,
    broken against clean)."""
    out = {}
    for how in DEGRADATIONS:
        part = results[results.degradation == how]
        per_seed = part.groupby("seed")[["clean", "degraded", "J_clean", "J_degraded"]].mean()
        gate = DEGRADATIONS[how].cue
        out[how] = {
            "J": compare_seeds(
                per_seed.J_degraded.tolist(),
                per_seed.J_clean.tolist(),
                (how, "clean"),
                f"{how}: J of the prediction",
            ),
            "gate": compare_seeds(
                per_seed.degraded.tolist(),
                per_seed.clean.tolist(),
                (how, "clean"),
                f"{how}: mean gate computed from the {gate} cue, over the stages",
            ),
        }
    return out


def largest_shifts(results: pd.DataFrame) -> pd.DataFrame:
    """Per degradation, over every seed and stage: the largest change of a stage's mean gate
    (``|shift|``), of a channel's gate on average (``abs_shift``), and the seeds counted."""
    table = results.assign(**{"|shift|": results["shift"].abs()})
    grouped = table.groupby("degradation", sort=False)
    return grouped.agg(
        seeds=("seed", "nunique"),
        largest_shift=("|shift|", "max"),
        largest_abs=("abs_shift", "max"),
    )


def result_lines(results: pd.DataFrame) -> list[str]:
    """The RCAM degraded-cue result in words, every number computed from ``results``."""
    if results.empty:
        return ["no rows yet: run `python benchmarks/rcam_degraded.py`"]
    seeds = sorted(int(s) for s in results.seed.unique())
    frames = int(results.frames.iloc[0])
    lines = [
        f"RCAM with one cue broken: the course model, seeds {seeds}, {frames} validation "
        "frames each (mean ± sd over seeds)"
    ]
    largest = largest_shifts(results)
    for how, pair in verdicts(results).items():
        lines += [f"• {pair['J'].sentence}", f"• {pair['gate'].sentence}"]
        row = largest.loc[how]
        lines.append(
            f"  {how}: the largest change of a stage's mean gate is {row.largest_shift:.4f} "
            f"(negligible under {NEGLIGIBLE_SHIFT}); of one channel's gate, "
            f"{row.largest_abs:.4f} on average"
        )
    return lines


__all__ = [
    "FRAMES_PER_CLIP",
    "NEGLIGIBLE_SHIFT",
    "RESULTS_NEEDED",
    "SEEDS",
    "experiment_samples",
    "largest_shifts",
    "load_results",
    "measure",
    "result_lines",
    "results_path",
    "seed_rows",
    "verdicts",
]

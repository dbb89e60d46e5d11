"""The course's finetuning experiment: the course model on a synthetic domain it has not seen.

The course model (:func:`.model_cache.notebook_config`, trained on the
default synthetic domain) is finetuned on a few training clips of another
domain (:data:`~fsnet_core.data.synthetic.DOMAINS`, ``vivid`` by default),
chooses its checkpoint on two others, and is scored on that domain's
validation clips before and after. The control trains the same clips with
the same budget from scratch (initialised as the course model was: randomly,
the smoke preset has no ImageNet weights offline). ``fsnet finetune --domain``,
``benchmarks/finetune.py`` and the notebook run it through :func:`run_domain`.

The benchmark's rows ship inside the package (``results/finetune.csv``, one
row per run and seed; ``results/finetune-domains.csv``, the course model per
validation clip of both domains), so a notebook finds them wherever it runs:
:func:`load_results` reads them, :func:`verdicts` compares the seeds.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..io import davis
from . import tables
from .claims import Comparison, compare_seeds
from .model_cache import lab_path, notebook_config, train_or_load

if TYPE_CHECKING:
    from ..train.finetuning import FinetuneResult

DOMAIN = "vivid"
TRAIN_CLIPS = 4  # the "few" training clips of the new domain
SELECT_CLIPS = 2  # the clips that choose best.pt
# The finetuning budget (on top of the course model's own options: 64 px, batch 8, lr 2e-2).
BUDGET: dict[str, Any] = {"epochs": 10}


def domain_data(domain: str = DOMAIN) -> Path:
    """The domain's synthetic set under :func:`.model_cache.lab_path` (made on first use)."""
    from ..data.synthetic import default_dir, ensure_synthetic_dataset

    return ensure_synthetic_dataset(lab_path(*default_dir(domain).parts), domain=domain)


def domain_splits(
    root: str | os.PathLike, train_clips: int | None = None, select_clips: int | None = None
) -> dict[str, list[str]]:
    """The first ``train_clips`` training clips (default :data:`TRAIN_CLIPS`) to train on,
    the next ``select_clips`` (:data:`SELECT_CLIPS`) to select with, and every validation
    clip to test on."""
    train_clips = TRAIN_CLIPS if train_clips is None else train_clips
    select_clips = SELECT_CLIPS if select_clips is None else select_clips
    names = davis.split_names(root, "train")
    if len(names) < train_clips + select_clips:
        raise ValueError(
            f"{root}: {len(names)} training clips, fewer than {train_clips} + {select_clips}"
        )
    return {
        "train": names[:train_clips],
        "select": names[train_clips : train_clips + select_clips],
        "test": davis.split_names(root, "val"),
    }


def course_checkpoint() -> Path:
    """The course model's ``last.pt`` (trained once, then cached: :func:`.train_or_load`)."""
    return train_or_load(notebook_config(smoke=True), "model").last_checkpoint


def run_domain(
    out: str | os.PathLike,
    *,
    seed: int = 0,
    from_scratch: bool = False,
    domain: str = DOMAIN,
    train_clips: int | None = None,
    select_clips: int | None = None,
    resume: bool | str = False,
    **overrides: Any,
) -> FinetuneResult:
    """Finetune the course model (or, ``from_scratch``, the control) on ``domain``.

    ``seed`` seeds the finetuning run (data order, augmentation; the initial
    weights of the control); ``overrides`` change the budget (:data:`BUDGET`).
    """
    from ..train.finetuning import finetune

    root = domain_data(domain)
    splits = domain_splits(root, train_clips, select_clips)
    options = {**BUDGET, "seed": seed, "progress": False, **overrides}
    return finetune(
        root,
        out,
        init=course_checkpoint(),
        from_scratch=from_scratch,
        resume=resume,
        **splits,
        **options,
    )


RESULTS_NEEDED = ("run", "seed", "before_J", "after_J", "gain_J")


def results_path(name: str = "finetune.csv") -> Path:
    """A committed table of the benchmark: package data, next to this module."""
    return tables.results_path(name)


def load_results(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """The benchmark's rows, one per (run, seed); empty (with the columns) without a file."""
    path = Path(path) if path is not None else results_path()
    return tables.read_results(path, RESULTS_NEEDED, "a finetuning results table", ("run", "seed"))


def verdicts(results: pd.DataFrame, metric: str = "J") -> dict[str, Comparison]:
    """``gain``: the finetuned runs' test score after against before; ``pretraining``: after
    finetuning against after the same budget from scratch; each over the seeds."""

    def values(run: str, when: str) -> list[float]:
        part = results[results.run == run]
        return [float(v) for v in pd.to_numeric(part[f"{when}_{metric}"], errors="coerce")]

    return {
        "gain": compare_seeds(
            values("finetuned", "after"),
            values("finetuned", "before"),
            ("after", "before"),
            f"test {metric}",
        ),
        "pretraining": compare_seeds(
            values("finetuned", "after"),
            values("scratch", "after"),
            ("finetuned", "from scratch"),
            f"test {metric} after the same budget",
        ),
    }


__all__ = [
    "BUDGET",
    "DOMAIN",
    "SELECT_CLIPS",
    "TRAIN_CLIPS",
    "course_checkpoint",
    "domain_data",
    "domain_splits",
    "load_results",
    "results_path",
    "run_domain",
    "verdicts",
]

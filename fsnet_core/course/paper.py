"""The paper's own numbers, to put beside the small experiments the notebooks run.

Source: G.-P. Ji, K. Fu, Z. Wu, D.-P. Fan, J. Shen, L. Shao, "Full-Duplex
Strategy for Video Object Segmentation", ICCV 2021 (arXiv 2108.03151).
Tables 3-5 are its ablations (S-measure S_alpha and MAE on DAVIS-2016 val and
MCL, ResNet-50, N = 4 BPMs unless stated); Fig. 2 plots DAVIS-2016 J and F for
N = 0, 2, 4 BPMs (values read off the plot, +-0.1); Table 1 gives J and F on
DAVIS-2016 val with and without CRF. The scores published for the released
checkpoint itself (Table 1 and the authors' README) are kept with its weights
descriptor, ``FSNetWeights.DAVIS16_ICCV21.meta["_metrics"]``, and read from there.

Each table is a :class:`pandas.DataFrame` whose ``rcam``, ``bpm`` and
``num_bpm`` columns use :class:`fsnet_core.FSNetConfig`'s names, so a
notebook can join the paper's rows to its own variants. A variant the
configuration cannot express (the single-stream baselines of Table 3) has
missing values there (``pd.isna``).
"""

from __future__ import annotations

import pandas as pd

from ..model.rcam import APPEARANCE_TO_MOTION, MOTION_TO_APPEARANCE, RCAM_MODE_ARROWS
from ..model.weights import FSNetWeights

CITATION = (
    "Ji, Fu, Wu, Fan, Shen, Shao. Full-Duplex Strategy for Video Object Segmentation. "
    "ICCV 2021, arXiv:2108.03151"
)

# The paper's arrows, in FSNetConfig's vocabulary; RCAM's come from the model's gate table.
RCAM_ARROWS = RCAM_MODE_ARROWS
BPM_ARROWS = {
    "both": "(App.+Mo.) <=> Mo.",
    "purify": "(App.+Mo.) => Mo.",
    "enrich": "(App.+Mo.) <= Mo.",
}

_SCORES = ["davis_s_alpha", "davis_mae", "mcl_s_alpha", "mcl_mae"]

TRAINING: dict[str, object] = {
    "gpu": "NVIDIA RTX TITAN",
    "stages": 3,
    "epochs": 20,
    "batch": 8,
    "last_stage_hours": 4,
}
"""How the paper trained FSNet (its Sections 3.6 and 4.1): three stages (appearance on
DUTS, motion on flow maps, then both end to end on DAVIS-2016 and FBMS), batch 8, 20
epochs, on an RTX TITAN; the last stage takes about 4 hours, the others' times are not
given (the authors' code trains on two GPUs). Each ablation row is one trained model:
the tables give no spread over seeds."""


def table3_components() -> pd.DataFrame:
    """Table 3: which components matter (S_alpha / MAE, DAVIS-2016 and MCL).

    App. and Mo. are single-stream networks (frames only / flow only); Vanilla
    fuses the streams by concatenation and one convolution; Rel. is RCAM
    without BPM; Bi-Purf. is BPM on vanilla fusion. The closest configuration
    of this package is given where one exists (``rcam="none"`` adds the two
    features ungated, the vanilla fusion's nearest relative).
    """
    rows = [
        ("App.", None, None, None, 0.834, 0.047, 0.754, 0.038),
        ("Mo.", None, None, None, 0.858, 0.039, 0.763, 0.053),
        ("Vanilla", "none", "both", 0, 0.894, 0.027, 0.808, 0.041),
        ("Rel.", "full", "both", 0, 0.900, 0.025, 0.833, 0.031),
        ("Bi-Purf.", "none", "both", 4, 0.904, 0.026, 0.855, 0.023),
        ("FSNet", "full", "both", 4, 0.920, 0.020, 0.864, 0.023),
    ]
    table = pd.DataFrame(rows, columns=["variant", "rcam", "bpm", "num_bpm", *_SCORES])
    return table.astype({"num_bpm": "Int64"})


def table4_num_bpm() -> pd.DataFrame:
    """Table 4: the number N of stacked BPMs; parameters and MACs ("FLOPs") of the BPM stack."""
    rows = [
        (0, 0.000, 0.000, 0.03, 0.900, 0.027, 0.833, 0.031),
        (2, 0.507, 1.582, 0.05, 0.911, 0.026, 0.843, 0.028),
        (4, 1.015, 3.163, 0.08, 0.920, 0.020, 0.864, 0.023),
        (6, 1.522, 4.745, 0.10, 0.918, 0.023, 0.863, 0.023),
        (8, 2.030, 6.327, 0.13, 0.920, 0.023, 0.864, 0.023),
    ]
    cols = ["num_bpm", "params_m", "gflops", "seconds_per_frame", *_SCORES]
    table = pd.DataFrame(rows, columns=cols)
    table.insert(1, "rcam", "full")
    table.insert(2, "bpm", "both")
    return table


def table5_directions() -> pd.DataFrame:
    """Table 5: direction of RCAM and of BPM, simplex against full duplex (N = 4).

    A simplex RCAM row names its one gate by code name; ``rcam_arrow`` is the
    paper's arrow for it (the table in :mod:`fsnet_core.model.rcam`).
    """
    a2m, m2a = APPEARANCE_TO_MOTION.name, MOTION_TO_APPEARANCE.name
    rows = [
        (a2m, "purify", 0.896, 0.026, 0.816, 0.038),
        (a2m, "enrich", 0.902, 0.025, 0.832, 0.031),
        (m2a, "purify", 0.891, 0.029, 0.806, 0.039),
        (m2a, "enrich", 0.897, 0.028, 0.840, 0.028),
        ("full", "both", 0.920, 0.020, 0.864, 0.023),
    ]
    table = pd.DataFrame(rows, columns=["rcam", "bpm", *_SCORES])
    table.insert(0, "mode", ["simplex"] * 4 + ["full-duplex"])
    table.insert(3, "num_bpm", 4)
    table.insert(1, "rcam_arrow", table.rcam.map(RCAM_ARROWS))
    table.insert(3, "bpm_arrow", table.bpm.map(BPM_ARROWS))
    return table


def fig2_num_bpm_jf() -> pd.DataFrame:
    """Fig. 2: DAVIS-2016 val J and F (in %) against the number of BPMs, read off the plot."""
    rows = [
        (0, False, 76.5, 76.7),
        (2, False, 80.4, 81.5),
        (4, False, 82.1, 83.0),
        (4, True, 83.4, 83.1),
    ]
    return pd.DataFrame(rows, columns=["num_bpm", "crf", "J", "F"])


def _published(name: str) -> dict[bool, dict[str, float]]:
    """Scores published for the released checkpoint, by ``crf`` (kept with its weights
    descriptor, :data:`fsnet_core.model.weights.FSNetWeights`)."""
    scores = FSNetWeights.DAVIS16_ICCV21.meta["_metrics"][name]
    return {True: scores["with_crf"], False: scores["without_crf"]}


def table1_fsnet() -> pd.DataFrame:
    """Table 1: FSNet on DAVIS-2016 val (J and F mean, in %), with and without DenseCRF."""
    rows = [
        (crf, round(100 * s["J_mean"], 1), round(100 * s["F_mean"], 1))
        for crf, s in _published("davis16_val_paper").items()
    ]
    return pd.DataFrame(rows, columns=["crf", "J", "F"])


def readme_davis16_uvos() -> pd.DataFrame:
    """The authors' README table for the released model on DAVIS-2016 val (not a paper table:
    "slight improvement" over the paper), in ``fsnet eval``'s keys and 0-1 scale, by ``crf``."""
    table = pd.DataFrame.from_dict(_published("davis16_val_readme"), orient="index")
    table.index.name = "crf"
    return table


__all__ = [
    "BPM_ARROWS",
    "CITATION",
    "RCAM_ARROWS",
    "TRAINING",
    "fig2_num_bpm_jf",
    "readme_davis16_uvos",
    "table1_fsnet",
    "table3_components",
    "table4_num_bpm",
    "table5_directions",
]

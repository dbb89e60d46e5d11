"""Notebook 02's broken-cue result over seeds: its rows, verdicts and printed lines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from fsnet_core.course import degraded_cues as D
from fsnet_core.io import InputError

pytestmark = pytest.mark.usefixtures("single_thread")


def table(j_drop: float = 0.5, gate_shift: float = 0.001, seeds=(0, 1, 2)) -> pd.DataFrame:
    """A results table as the benchmark writes it: every seed loses ``j_drop`` of J and moves
    the gate by ``gate_shift`` at every stage, the seeds' levels a little apart."""
    rows = []
    for seed in seeds:
        for how, cue in (
            ("still flow", "motion"),
            ("noisy flow", "motion"),
            ("flat frame", "appearance"),
        ):
            for stage in range(5):
                clean = 0.5 + 0.004 * seed - 0.002 * stage
                rows.append(
                    {
                        "seed": seed,
                        "degradation": how,
                        "cue": cue,
                        "stage": stage,
                        "direction": f"{'motion' if cue == 'motion' else 'appearance'}_to_x",
                        "frames": 24,
                        "clean": clean,
                        "degraded": clean + gate_shift * (stage + 1) / 5,
                        "shift": gate_shift * (stage + 1) / 5,
                        "shift_sd": 0.001,
                        "abs_shift": 0.01 * (stage + 1),
                        "frame_spread": 0.01,
                        "same_sign": 1.0,
                        "J_clean": 0.55 + 0.01 * seed,
                        "J_degraded": 0.55 + 0.01 * seed - j_drop + 0.003 * seed**2,
                    }
                )
    return pd.DataFrame(rows)


def test_verdicts_compare_the_seeds_broken_against_clean():
    pairs = D.verdicts(table())
    assert list(pairs) == ["still flow", "noisy flow", "flat frame"]
    j, gate = pairs["still flow"]["J"], pairs["still flow"]["gate"]
    assert (
        j.n_a == j.n_b == 3
        and j.exceeds_noise
        and j.difference == pytest.approx(-0.5 + 0.003 * 5 / 3)
    )
    assert gate.n_a == 3 and not gate.exceeds_noise  # 0.0006 against a seed spread of 0.004
    assert gate.difference == pytest.approx(0.001 * (1 + 2 + 3 + 4 + 5) / 25)
    assert "mean gate computed from the motion cue" in gate.what
    assert "appearance cue" in pairs["flat frame"]["gate"].what


def test_a_gate_that_moves_with_the_broken_cue_exceeds_seed_noise():
    moved = D.verdicts(table(gate_shift=0.2))["noisy flow"]["gate"]
    assert moved.exceeds_noise and moved.difference > 0.1


def test_result_lines_give_every_verdict_and_the_largest_changes():
    lines = D.result_lines(table())
    assert lines[0].startswith("RCAM with one cue broken: the course model, seeds [0, 1, 2], 24")
    assert len(lines) == 1 + 3 * 3
    assert (
        lines[1].startswith("• still flow: J of the prediction: still flow 0.0")
        and "exceeds" in lines[1]
    )
    assert "within seed noise" in lines[2]
    assert lines[3] == (
        "  still flow: the largest change of a stage's mean gate is 0.0010 (negligible under "
        "0.01); of one channel's gate, 0.0500 on average"
    )
    two = D.result_lines(table(seeds=(0, 1)))
    assert "no verdict" in two[1]
    assert D.result_lines(table().iloc[:0]) == [
        "no rows yet: run `python benchmarks/rcam_degraded.py`"
    ]


def test_largest_shifts_take_the_absolute_value():
    shifts = D.largest_shifts(table(gate_shift=-0.02))
    assert shifts.loc["flat frame", "largest_shift"] == pytest.approx(0.02)
    assert shifts.loc["flat frame", "seeds"] == 3


def test_the_committed_table_reads_and_a_wrong_one_is_named(tmp_path):
    path = tmp_path / "rcam.csv"
    table().to_csv(path, index=False)
    assert len(D.load_results(path)) == 45
    table().drop(columns=["abs_shift"]).to_csv(path, index=False)
    with pytest.raises(
        InputError, match="rcam.csv: not an RCAM degraded-cue table: no column abs_shift"
    ):
        D.load_results(path)
    assert D.load_results(tmp_path / "none.csv").empty


def test_seed_rows_keep_the_gate_that_reads_the_broken_cue(tiny_fsnet, tmp_path):
    from fsnet_core.data.samples import Sample

    g = torch.Generator().manual_seed(2)
    masks = [np.zeros((32, 32), bool), np.eye(32, dtype=bool)]
    samples = [
        Sample("clip", f"{i:05d}", torch.randn(1, 3, 32, 32, generator=g),
               torch.randn(1, 3, 32, 32, generator=g), masks[i])
        for i in range(2)
    ]  # fmt: skip
    responses = D.measure(tiny_fsnet(), samples, seed=1)
    rows = D.seed_rows(responses, seed=7)
    assert list(rows.columns) == list(D.RESULTS_NEEDED)
    assert len(rows) == 3 * 5 and set(rows.seed) == {7} and set(rows.frames) == {2}
    still = rows[rows.degradation == "still flow"]
    assert set(still.direction) == {"motion_to_appearance"} and set(still.cue) == {"motion"}
    flat = rows[rows.degradation == "flat frame"]
    assert set(flat.direction) == {"appearance_to_motion"}
    summary = responses["flat frame"].summary().loc[(3, "appearance_to_motion")]
    row = flat[flat.stage == 3].iloc[0]
    assert row["shift"] == pytest.approx(summary["shift"]) and row["abs_shift"] > 0
    assert row["J_degraded"] == pytest.approx(responses["flat frame"].scores.J_degraded.mean())


SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "rcam_degraded.py"


def run_script(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(SCRIPT.parents[1])}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_the_script_prints_the_committed_result_and_names_a_wrong_table(tmp_path):
    shown = run_script("--table")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == D.result_lines(D.load_results())
    bad = tmp_path / "bad.csv"
    bad.write_text("seed,degradation\n0,still flow\n")
    refused = run_script("--results", str(bad))
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.strip() == (
        f"rcam_degraded: error: {bad}: not an RCAM degraded-cue table: no column cue, stage, "
        "direction, frames, clean, degraded, shift, shift_sd, abs_shift, frame_spread, "
        "same_sign, J_clean, J_degraded"
    )
    assert bad.read_text() == "seed,degradation\n0,still flow\n"  # nothing written

"""benchmarks/ablations.py's bookkeeping: merging workers' rows and the Markdown summary."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from fsnet_core.train.ablations import VARIANTS

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "ablations.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("ablations_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def row(bench, variant, seed, final_j, command="python benchmarks/ablations.py"):
    values = dict.fromkeys(bench.FIELDS, "0.5")
    values.update(variant=variant, seed=str(seed), final_J=str(final_j), wall_s="100")
    values.update(torch="2.x", machine="x86_64, 2 cores", command=command)
    return values


def test_merge_adds_missing_runs_keeps_existing_ones_and_orders_seed_major(bench):
    main = [row(bench, "full", 0, 0.7), row(bench, "motion", 0, 0.6)]
    worker = [row(bench, "full", 0, 0.1), row(bench, "appearance", 1, 0.65)]
    worker += [row(bench, "motion", 1, 0.61)]
    merged = bench.merge_rows(main, worker)
    assert [(r["variant"], r["seed"]) for r in merged] == [
        ("motion", "0"),
        ("full", "0"),
        ("appearance", "1"),
        ("motion", "1"),
    ]
    assert next(r for r in merged if r["variant"] == "full")["final_J"] == "0.7"


def test_summary_rows_have_as_many_cells_as_the_header(bench):
    """Table 5's paper labels contain '|'; unescaped, they would shift every column after them."""
    rows = [row(bench, v, s, 0.7 + 0.01 * s) for v in VARIANTS for s in range(2)]
    table = [line for line in bench.summary_markdown(rows).splitlines() if line.startswith("|")]
    assert any("\\|" in line for line in table)

    def cells(line):
        return len(line.replace("\\|", "").strip("|").split("|"))

    assert {cells(line) for line in table} == {cells(table[0])}
    assert len(table) == 2 + len(VARIANTS)


def test_summary_names_every_command_that_trained_rows(bench):
    rows = [row(bench, "full", 0, 0.7), row(bench, "full", 1, 0.71, command="worker --seeds 1")]
    text = bench.summary_markdown(rows)
    assert "- `python benchmarks/ablations.py` (1)" in text
    assert "- `worker --seeds 1` (1)" in text


def test_merge_from_the_command_line_refuses_a_missing_file(bench, tmp_path, monkeypatch, capsys):
    main, missing = tmp_path / "a.csv", tmp_path / "b.csv"
    monkeypatch.setattr(
        sys, "argv", ["ablations.py", "--results", str(main), "--merge", str(missing)]
    )
    with pytest.raises(SystemExit):
        bench.main()
    assert "b.csv: no such results file" in capsys.readouterr().err
    assert not main.exists()


def test_a_workers_summary_goes_beside_its_file_the_committed_one_to_the_summary(bench, tmp_path):
    committed, summary = tmp_path / "results.csv", tmp_path / "summary.md"
    committed.write_text("")
    bench.write_summary("| a |\n", committed, committed.resolve(), summary)
    assert summary.read_text() == "| a |\n"
    worker = tmp_path / "worker" / "rows.csv"
    worker.parent.mkdir()
    bench.write_summary("| b |\n", worker, committed.resolve(), summary)
    assert (tmp_path / "worker" / "rows.md").read_text() == "| b |\n"
    assert summary.read_text() == "| a |\n"  # the committed summary is left alone

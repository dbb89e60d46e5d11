"""Flow quality and J: the course model trained and tested on exact and on estimated flow.

The course model (``fsnet_core.course.model_cache.notebook_config(smoke=True)``:
ResNet-18, 16 channels, 1 BPM, 64 px, 3 epochs on the built-in synthetic set)
is trained once per (training flow, seed), the training flow being the set's
exact flow (``gt``, what the course model trains on), DIS or Farnebäck (both
computed once over the whole set with ``fsnet_core.data.flow_cache.compute_flow``,
as ``fsnet flow`` does). Every trained model is then scored on every frame of
the 12 validation clips three times, with the exact, the DIS and the Farnebäck
flow images (``fsnet_core.course.flow_quality.scores_by_flow``): same frames,
same masks, only the flow differs.

One row per (training flow, seed) in ``fsnet_core/course/results/flow_quality.csv``
(package data: notebooks 01 and 07 read it wherever they run): J and F with
each test flow, the mean end-point error of DIS and Farnebäck on the
validation pairs, wall time and the machine. Rows are appended one at a time
(written to a temporary file, then renamed), so the script resumes where it
stopped: finished rows are skipped and an interrupted training run resumes
from its ``last.pt``. One thread, one process: it can run in the background
beside other work. ``--table`` writes ``benchmarks/results/flow_quality.md``
(mean ± sd per cell, Welch verdicts against the seed spread, provenance).

Usage::

    python benchmarks/flow_quality.py [--seeds 0 1 2 3 4] [--train gt dis farneback]
    python benchmarks/flow_quality.py --table
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd
import torch
from ablations import provenance, read_rows, run_record, write_rows, write_summary

from fsnet_core.course.flow_quality import (
    LABELS,
    SOURCES,
    compare_tests,
    compare_trains,
    ensure_flow,
    grid,
    mean_epe,
    results_path,
    scores_by_flow,
)
from fsnet_core.course.model_cache import notebook_config, synthetic_root
from fsnet_core.train import train

HERE = Path(__file__).resolve().parent
RESULTS = results_path()
SUMMARY = HERE / "results" / "flow_quality.md"
FIELDS = [
    "train",
    "seed",
    *(f"J_{s}" for s in SOURCES),
    *(f"F_{s}" for s in SOURCES),
    "epe_dis",
    "epe_farneback",
    "epochs",
    "size",
    "wall_s",
    "torch",
    "machine",
    "command",
]


def run_one(source: str, seed: int, runs: Path, command: str) -> dict:
    """Train the course model on ``source`` flow with ``seed``, then test it on every source."""
    config = notebook_config(
        smoke=True, flow_source=source, seed=seed, threads=1, progress=False
    ).replace(out=str(runs / f"{source}-seed{seed}"))
    start = time.perf_counter()
    result = train(config, resume="or-start")  # continues an interrupted run, else starts it
    wall = time.perf_counter() - start
    root = Path(config.data)
    scores = scores_by_flow(result.model, root, config.size, stage=config.stages[-1])
    scores = scores.set_index("test")
    return {
        "train": source,
        "seed": seed,
        **{f"J_{s}": f"{scores.J[s]:.4f}" for s in SOURCES},
        **{f"F_{s}": f"{scores.F[s]:.4f}" for s in SOURCES},
        "epe_dis": f"{mean_epe(root, 'dis'):.4f}",
        "epe_farneback": f"{mean_epe(root, 'farneback'):.4f}",
        "epochs": int(result.history.iloc[-1].epoch),
        "size": config.size,
        **run_record(wall, command),
    }


def summary_markdown(rows: list[dict[str, str]]) -> str:
    """J per (training flow, test flow), mean ± sd over seeds, and the verdicts."""
    lines = [
        "# Flow quality and J: the course model on exact and estimated flow",
        "",
        "The course model (64 px, 3 epochs, SMOKE size) trained on one flow (rows) and tested on",
        "every frame of the 12 validation clips with each flow (columns): val J, mean +- sample",
        "std over seeds (n). Made by `python benchmarks/flow_quality.py`; one row per run in",
        "`fsnet_core/course/results/flow_quality.csv`.",
        "",
        "| trained on | " + " | ".join(f"tested on {LABELS[s]}" for s in SOURCES) + " |",
        "| --- |" + " --- |" * len(SOURCES),
    ]
    if not rows:
        return "\n".join(lines) + "\n"
    results = pd.DataFrame(rows)
    table = grid(results)
    for train_source, row in table.iterrows():
        cells = [
            f"{row[(s, 'mean')]:.3f} +- {row[(s, 'sd')]:.3f} ({int(row[(s, 'n')])})"
            for s in SOURCES
        ]
        lines.append(f"| {LABELS[str(train_source)]} | " + " | ".join(cells) + " |")
    epe = {m: float(rows[-1][f"epe_{m}"]) for m in ("dis", "farneback")}
    lines += [
        "",
        "Mean end-point error on the validation pairs: "
        + ", ".join(f"{LABELS[m]} {v:.2f} px" for m, v in epe.items())
        + ".",
        "",
        "Differences against the seed spread (Welch's t-test, p < 0.05 exceeds it):",
        "",
    ]
    comparisons = [
        *(compare_tests(results, t, s, "gt") for t in SOURCES for s in SOURCES if s != "gt"),
        *(compare_tests(results, t, "farneback", "dis") for t in SOURCES),
        *(compare_trains(results, s, t, "gt") for s in SOURCES for t in SOURCES if t != "gt"),
    ]
    lines += [f"- {c.sentence}" for c in comparisons if c.n_a and c.n_b]
    lines += provenance(
        rows,
        lambda total: f"{total / 60:.0f} min of training in all",
        lambda mean: f"{mean:.0f} s each on average",
        "trained",
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--train", nargs="+", choices=SOURCES, default=list(SOURCES))
    parser.add_argument("--runs", type=Path, default=Path("runs/flow_quality"))
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--table", action="store_true", help="only write the summary table")
    args = parser.parse_args()
    command = ("python benchmarks/flow_quality.py " + " ".join(sys.argv[1:])).strip()
    if not args.table:
        torch.set_num_threads(1)
        root = synthetic_root()
        for line in ensure_flow(root):  # the whole set: training reads DIS/Farnebäck too
            print(line, flush=True)
        for seed in args.seeds:  # seed-major: every training flow gets a first point early
            for source in args.train:
                rows = read_rows(args.results)
                if any(r["train"] == source and int(r["seed"]) == seed for r in rows):
                    continue
                print(f"== trained on {source}, seed {seed}", flush=True)
                row = run_one(source, seed, args.runs, command)
                write_rows(args.results, read_rows(args.results) + [row], FIELDS)
                print({k: row[k] for k in FIELDS[:5]}, f"{row['wall_s']} s", flush=True)
    write_summary(summary_markdown(read_rows(args.results)), args.results, RESULTS, SUMMARY)


if __name__ == "__main__":
    main()

"""The paper's ablations (Tables 3, 4 and 5) on the synthetic set, several seeds each.

Every variant is trained with the ``smoke`` preset's budget (a ResNet-18
FSNet from scratch at 96 x 96, 16 epochs, augmentation, one thread) and
differs from the full model in one place only:

========================  ==========================================================
variant                   what changes (paper's name)
========================  ==========================================================
``appearance``            frame fed to both streams (Table 3 "App.")
``motion``                flow image fed to both streams (Table 3 "Mo.")
``vanilla``               ungated fusion, no BPM (Table 3 "Vanilla")
``rcam``                  RCAM, no BPM (Table 3 "Rel.", Table 4 N = 0)
``bpm``                   ungated fusion, 4 BPMs (Table 3 "Bi-Purf.")
``full``                  RCAM + 4 full-duplex BPMs (FSNet; Table 4 N = 4)
``bpm2``                  RCAM + 2 BPMs (Table 4 N = 2)
``a2m_purify``            App. => Mo. RCAM, (App.+Mo.) => Mo. BPM (Table 5, row 1)
``a2m_enrich``            App. => Mo. RCAM, (App.+Mo.) <= Mo. BPM (Table 5, row 2)
``m2a_purify``            App. <= Mo. RCAM, (App.+Mo.) => Mo. BPM (Table 5, row 3)
``m2a_enrich``            App. <= Mo. RCAM, (App.+Mo.) <= Mo. BPM (Table 5, row 4)
========================  ==========================================================

Each (variant, seed) is one row of ``fsnet_core/course/results/ablations.csv``
(package data: notebooks 02 and 03 read it wherever the package is installed):
final and best val J and F at 96 x 96 (as training validates), S-alpha and
MAE of the val probability maps (the paper's Table 3-5 metrics, scored by
``fsnet_core.metrics.vsod`` on every val frame), the share of each hazard
region called target, wall time and the machine. Rows are appended one at a
time (written to a temporary file, then renamed), so the script resumes
where it stopped: finished rows are skipped, and an interrupted training run
resumes from its ``last.pt``. ``--table`` prints the mean and spread per
variant into ``benchmarks/results/ablations.md``.

Runs in parallel (one worker per core) each write their own file with
``--results``; ``--merge`` then adds their rows to the main table (a
(variant, seed) already there is kept) and re-makes the summary.

Usage::

    python benchmarks/ablations.py [--seeds 0 1 2] [--only full rcam ...]
        [--runs runs/ablations] [--results fsnet_core/course/results/ablations.csv]
    python benchmarks/ablations.py --table
    python benchmarks/ablations.py --merge worker-a.csv worker-b.csv
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from fsnet_core.analysis.hazards import region_hit_rates
from fsnet_core.course.ablation_results import results_path
from fsnet_core.data.samples import load_samples
from fsnet_core.data.synthetic import REGION_SHORT_NAMES
from fsnet_core.io import atomic_write
from fsnet_core.metrics.vsod import aggregate_sequences, score_sequence
from fsnet_core.train import train
from fsnet_core.train.ablations import VARIANTS, ablation_config
from fsnet_core.train.data import data_root
from fsnet_core.train.stages import stage_inputs

HERE = Path(__file__).resolve().parent
RESULTS = results_path()
SUMMARY = HERE / "results" / "ablations.md"
FIELDS = [
    "variant",
    "seed",
    "final_J",
    "best_J",
    "final_F",
    "S",
    "MAE",
    "target",
    "look-alike",
    "ripple",
    "mover",
    "epochs",
    "wall_s",
    "torch",
    "machine",
    "command",
]


def read_rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def merge_rows(rows: list[dict], others: list[dict]) -> list[dict]:
    """``rows`` plus the (variant, seed) pairs of ``others`` they lack, seed-major in table order.

    Seed-major order is the order one worker trains in, so a merged table reads like
    one made by a single run.
    """
    have = {(r["variant"], int(r["seed"])) for r in rows}
    merged = list(rows)
    for row in others:
        key = (row["variant"], int(row["seed"]))
        if key not in have:
            have.add(key)
            merged.append(row)
    order = list(VARIANTS)
    return sorted(merged, key=lambda r: (int(r["seed"]), order.index(r["variant"])))


def write_rows(path: Path, rows: list[dict], fields: list[str] = FIELDS) -> None:
    """Write the rows as CSV atomically (``benchmarks/finetune.py`` passes its own fields)."""
    with atomic_write(path) as tmp:
        with Path(tmp).open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)


@torch.no_grad()
def sod_scores(model, samples, stage: str) -> dict[str, float]:
    """S-alpha and MAE of the val probability maps, per sequence then averaged."""
    model.eval()
    by_sequence: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for s in samples:
        batch = {"image": s.image, "flow": s.flow}
        prob = torch.sigmoid(model(*stage_inputs(stage, batch)).appearance.float())[0, 0]
        pred = (prob.numpy() * 255).round().astype(np.uint8)
        by_sequence.setdefault(s.sequence, []).append((pred, s.mask.astype(np.uint8) * 255))
    scores = {name: score_sequence(pairs) for name, pairs in by_sequence.items()}
    return aggregate_sequences(scores)


def write_summary(table: str, results: Path, committed: Path, summary: Path) -> None:
    """Write the Markdown ``table`` atomically and print it: to ``summary`` for the committed
    results file, beside ``results`` (``.md``) for a worker's own file."""
    path = summary if results.resolve() == committed else results.with_suffix(".md")
    with atomic_write(path) as tmp:
        Path(tmp).write_text(table)
    print(table)


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"


def run_record(wall: float, command: str) -> dict[str, str]:
    """The closing fields of every benchmark's result row: what one run cost, and where."""
    return {
        "wall_s": f"{wall:.0f}",
        "torch": torch.__version__,
        "machine": machine(),
        "command": command,
    }


def run_one(variant: str, seed: int, runs: Path, command: str) -> dict:
    config = ablation_config(variant, seed=seed, out=str(runs / f"{variant}-seed{seed}"))
    start = time.perf_counter()
    result = train(config, resume="or-start")  # continues an interrupted run, else starts it
    wall = time.perf_counter() - start
    history = result.history
    last = history.iloc[-1]
    samples = load_samples(
        data_root(config), config.val_split, config.size, flow_source=config.flow_source
    )
    stage = config.stages[-1]
    sod = sod_scores(result.model, samples, stage)
    rates = region_hit_rates(result.model, samples, stage=stage)
    names = [REGION_SHORT_NAMES[label] for label in rates.label]
    hits = dict(zip(names, rates.called_target, strict=True))
    return {
        "variant": variant,
        "seed": seed,
        "final_J": f"{last.val_J:.4f}",
        "best_J": f"{history.val_J.max():.4f}",
        "final_F": f"{last.val_F:.4f}",
        "S": f"{sod['S']:.4f}",
        "MAE": f"{sod['MAE']:.4f}",
        **{
            k: f"{hits.get(k, float('nan')):.4f}"
            for k in ("target", "look-alike", "ripple", "mover")
        },
        "epochs": int(last.epoch),
        **run_record(wall, command),
    }


def summary_markdown(rows: list[dict[str, str]]) -> str:
    """Mean and standard deviation over seeds of every variant, in table order."""
    lines = [
        "# Ablations on the synthetic set (smoke budget)",
        "",
        "Mean +- standard deviation over seeds (sample std, n - 1). Made by",
        "`python benchmarks/ablations.py` (or by workers in parallel, merged with `--merge`);",
        "one row per run in `fsnet_core/course/results/ablations.csv`.",
        "",
        "| variant | paper | table | seeds | final J | final F | S | MAE | look-alike | mover |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, variant in VARIANTS.items():
        mine = [r for r in rows if r["variant"] == name]
        if not mine:
            continue

        def cell(key: str, mine=mine) -> str:
            values = np.array([float(r[key]) for r in mine])
            if len(values) < 2:
                return f"{values.mean():.3f} (one seed)"
            return f"{values.mean():.3f} +- {values.std(ddof=1):.3f}"

        lines.append(
            f"| {name} | {markdown_cell(variant.label)} | {variant.table} | {len(mine)} | "
            f"{cell('final_J')} | "
            f"{cell('final_F')} | {cell('S')} | {cell('MAE')} | {cell('look-alike')} | "
            f"{cell('mover')} |"
        )
    lines += provenance(
        rows,
        lambda total: f"{total / 3600:.1f} h of training in all",
        lambda mean: f"{mean:.0f} s each on average",
        "trained",
    )
    return "\n".join(lines) + "\n"


def provenance(
    rows: list[dict[str, str]],
    total: Callable[[float], str],
    each: Callable[[float], str],
    verb: str,
) -> list[str]:
    """A summary's closing lines: how many runs, their wall time, torch, the machine, and
    every command that made rows (how many each). Nothing without rows."""
    if not rows:
        return []
    walls = [float(r["wall_s"]) for r in rows]
    commands = Counter(r["command"] for r in rows)
    return [
        "",
        f"{len(rows)} runs, {total(sum(walls))} ({each(float(np.mean(walls)))}); "
        f"torch {rows[-1]['torch']}, {rows[-1]['machine']}.",
        "",
        f"The commands that {verb} the rows (how many rows each):",
        "",
        *(f"- `{command}` ({count})" for command, count in commands.items()),
    ]


def markdown_cell(text: str) -> str:
    """Text safe inside a Markdown table cell (a bare ``|`` would start a new column)."""
    return text.replace("|", "\\|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--runs", type=Path, default=Path("runs/ablations"))
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--table", action="store_true", help="only write the summary table")
    parser.add_argument(
        "--merge", type=Path, nargs="+", metavar="CSV", help="add these files' rows, then --table"
    )
    args = parser.parse_args()
    command = "python benchmarks/ablations.py " + " ".join(sys.argv[1:])
    if args.merge:
        rows = read_rows(args.results)
        for other in args.merge:
            if not other.exists():
                parser.error(f"{other}: no such results file")
            rows = merge_rows(rows, read_rows(other))
        write_rows(args.results, rows)
    elif not args.table:
        for seed in args.seeds:  # seed-major: every variant gets a first point early
            for variant in args.only:
                rows = read_rows(args.results)
                if any(r["variant"] == variant and int(r["seed"]) == seed for r in rows):
                    continue
                print(f"== {variant} seed {seed}", flush=True)
                row = run_one(variant, seed, args.runs, command.strip())
                write_rows(args.results, read_rows(args.results) + [row])
                print({k: row[k] for k in FIELDS[:7]}, flush=True)
    write_summary(summary_markdown(read_rows(args.results)), args.results, RESULTS, SUMMARY)


if __name__ == "__main__":
    main()

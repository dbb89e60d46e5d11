"""Finetuning the course model on a synthetic domain it has not seen: the gain over seeds.

The course model (``fsnet_core.course.model_cache.notebook_config(smoke=True)``:
ResNet-18, 16 channels, 1 BPM, 64 px, 3 epochs on the default synthetic
domain; trained once and cached) is finetuned on a few training clips of the
``vivid`` domain, chooses ``best.pt`` on two others, and is scored on the
domain's 12 validation clips before and after
(``fsnet_core.course.finetuning.run_domain``, what ``fsnet finetune --domain
vivid`` runs). The control trains the same clips with the same budget from
scratch (randomly initialised, as the course model was). Each seed seeds one
finetuning run and one control (data order, augmentation, the control's
initial weights); the course model is the same for all.

One row per (run, seed) in ``fsnet_core/course/results/finetune.csv``
(package data, so that the notebook reads it wherever it runs), appended as
each run finishes (written to a temporary file, then renamed): the script
resumes where it stopped, finished rows are skipped and an interrupted run
resumes from its ``last.pt``. ``fsnet_core/course/results/finetune-domains.csv``
holds the course model's J and F per validation clip of both domains.
``--table`` writes ``benchmarks/results/finetune.md``: the course model on
both domains, before, after and gain (mean ± sd), the control, and Welch
verdicts (``fsnet_core.course.finetuning.verdicts``), with the commands,
machine, torch version and wall time.

Usage::

    python benchmarks/finetune.py [--seeds 0 1 2] [--epochs 10] [--train-clips 4]
    python benchmarks/finetune.py --table
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from ablations import markdown_cell, provenance, read_rows, run_record, write_rows

from fsnet_core.course.claims import compare_seeds
from fsnet_core.course.finetuning import (
    BUDGET,
    DOMAIN,
    SELECT_CLIPS,
    TRAIN_CLIPS,
    course_checkpoint,
    domain_data,
    results_path,
    run_domain,
    verdicts,
)
from fsnet_core.course.model_cache import notebook_config, synthetic_root
from fsnet_core.io import atomic_write
from fsnet_core.train.finetuning import load_checkpoint, score

HERE = Path(__file__).resolve().parent
RESULTS = results_path()
DOMAINS_CSV = results_path("finetune-domains.csv")
SUMMARY = HERE / "results" / "finetune.md"
RUNS = ("finetuned", "scratch")
FIELDS = [
    "run",
    "seed",
    "before_J",
    "after_J",
    "gain_J",
    "before_F",
    "after_F",
    "gain_F",
    "last_J",
    "selected_epoch",
    "epochs",
    "train_clips",
    "wall_s",
    "torch",
    "machine",
    "command",
]
DOMAIN_FIELDS = ["domain", "sequence", "frames", "J", "F"]


def run_one(run: str, seed: int, runs: Path, epochs: int, train_clips: int, command: str) -> dict:
    start = time.perf_counter()
    result = run_domain(
        runs / f"{run}-seed{seed}",
        seed=seed,
        from_scratch=run == "scratch",
        train_clips=train_clips,
        epochs=epochs,
        threads=1,  # a shared small machine: one thread each (see the smoke preset)
        resume="or-start",
    )
    wall = time.perf_counter() - start
    assert result.after_last is not None
    return {
        "run": run,
        "seed": seed,
        **{
            f"{k}_{m}": f"{result.overall(f'{m}_{k}'):.4f}"
            for k in ("before", "after", "gain")
            for m in "JF"
        },
        "last_J": f"{result.after_last['J']:.4f}",
        "selected_epoch": result.selected_epoch,
        "epochs": epochs,
        "train_clips": train_clips,
        **run_record(wall, command),
    }


def domain_rows() -> list[dict]:
    """The course model's J and F on every validation clip of the default domain and of
    :data:`DOMAIN`, scored as finetuning scores (all frames, at the model's size)."""
    config = notebook_config(smoke=True, progress=False)
    model = load_checkpoint(course_checkpoint())
    rows = []
    for domain, root in (("default", synthetic_root()), (DOMAIN, domain_data())):
        on = config.replace(data=str(root), flow_source="gt", val_max_frames=0)
        for r in score(model, on, "val").per_sequence.itertuples():
            rows.append({"domain": domain, "sequence": r.sequence, "frames": r.frames})
            rows[-1] |= {"J": f"{r.J:.4f}", "F": f"{r.F:.4f}"}
    return rows


def _cell(values: list[float]) -> str:
    if not values:
        return "not run"
    if len(values) < 2:
        return f"{values[0]:.3f} (one seed)"
    return f"{np.mean(values):.3f} ± {np.std(values, ddof=1):.3f}"


def summary_markdown(rows: list[dict[str, str]], domains: list[dict[str, str]]) -> str:
    """The results table and its verdicts, every number computed from the rows."""

    def values(run: str, key: str) -> list[float]:
        return [float(r[key]) for r in rows if r["run"] == run]

    lines = [
        f"# Finetuning the course model on the `{DOMAIN}` synthetic domain (smoke budget)",
        "",
        "Made by `python benchmarks/finetune.py` (rows in",
        "`fsnet_core/course/results/finetune.csv`; `--table` writes this file). The course",
        "model (ResNet-18, 16 channels, 1 BPM, 64 px, 3 epochs on the default synthetic domain)",
        f"is finetuned on the first training clips of the `{DOMAIN}` domain (busy saturated",
        "backgrounds, muted targets of new shapes and textures, a faster camera), chooses",
        f"`best.pt` on the next {SELECT_CLIPS} training clips, and is scored on the domain's 12",
        "validation clips (J and F per clip at 64 px, then averaged)",
        "before the first step and after the last. The control trains the same clips with",
        "the same budget from random weights. Mean ± sample standard deviation over seeds.",
        "",
    ]
    if domains:
        by = {d: [float(r["J"]) for r in domains if r["domain"] == d] for d in ("default", DOMAIN)}
        byf = {d: [float(r["F"]) for r in domains if r["domain"] == d] for d in ("default", DOMAIN)}
        shift = compare_seeds(by["default"], by[DOMAIN], ("default", DOMAIN), "J")
        p = "p < 0.001" if shift.p_value < 0.001 else f"p = {shift.p_value:.3f}"
        lines += [
            "## The course model on its own domain and on the new one",
            "",
            "| validation clips of | clips | J | F |",
            "| --- | --- | --- | --- |",
            *(
                f"| {d} | {len(by[d])} | {np.mean(by[d]):.3f} | {np.mean(byf[d]):.3f} |"
                for d in ("default", DOMAIN)
            ),
            "",
            f"J lower on `{DOMAIN}` by {shift.difference:.3f} (Welch's t-test over the clips, "
            f"{p}).",
            "",
        ]
    lines += [
        "## Before and after finetuning, and the control",
        "",
        "| run | seeds | epochs | train clips | test J before | test J after | J gain "
        "| test F after | F gain | best.pt epoch (on select) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in RUNS:
        mine = [r for r in rows if r["run"] == run]
        if not mine:
            continue
        label = "course model, finetuned" if run == "finetuned" else "from scratch (control)"
        epochs = ", ".join(sorted({r["epochs"] for r in mine}))
        clips = ", ".join(sorted({r["train_clips"] for r in mine}))
        chosen = ", ".join(r["selected_epoch"] for r in mine)
        lines.append(
            f"| {markdown_cell(label)} | {len(mine)} | {epochs} | {clips} | "
            f"{_cell(values(run, 'before_J'))} | {_cell(values(run, 'after_J'))} | "
            f"{_cell(values(run, 'gain_J'))} | {_cell(values(run, 'after_F'))} | "
            f"{_cell(values(run, 'gain_F'))} | {chosen} |"
        )
    found = verdicts(pd.DataFrame(rows, columns=FIELDS))
    gain, pretraining = found["gain"], found["pretraining"]
    lines += [
        "",
        "Verdicts (Welch's t-test, `fsnet_core.course.finetuning.verdicts`; the course model",
        "is the same for every seed, so its before J has no spread and the first test asks",
        "whether the seeds' after J lie above it):",
        "",
        f"- the gain: {gain.sentence}",
        f"- what pretraining buys: {pretraining.sentence}",
    ]
    lines += provenance(
        rows,
        lambda total: f"{total / 60:.1f} min in all",
        lambda mean: f"{mean:.0f} s each on average, the course model's own training not included",
        "made",
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--runs-of", nargs="+", choices=RUNS, default=list(RUNS))
    parser.add_argument("--epochs", type=int, default=BUDGET["epochs"])
    parser.add_argument("--train-clips", type=int, default=TRAIN_CLIPS)
    parser.add_argument("--runs", type=Path, default=Path("runs/finetune-bench"))
    parser.add_argument("--table", action="store_true", help="only write the summary table")
    args = parser.parse_args()
    command = ("python benchmarks/finetune.py " + " ".join(sys.argv[1:])).strip()
    if not args.table:
        if not DOMAINS_CSV.exists():
            write_rows(DOMAINS_CSV, domain_rows(), DOMAIN_FIELDS)
        for seed in args.seeds:
            for run in args.runs_of:
                rows = read_rows(RESULTS)
                if any(r["run"] == run and int(r["seed"]) == seed for r in rows):
                    continue
                print(f"== {run} seed {seed}", flush=True)
                row = run_one(run, seed, args.runs, args.epochs, args.train_clips, command)
                write_rows(RESULTS, read_rows(RESULTS) + [row], FIELDS)
                print({k: row[k] for k in FIELDS[:8]}, flush=True)
    table = summary_markdown(read_rows(RESULTS), read_rows(DOMAINS_CSV))
    with atomic_write(SUMMARY) as tmp:
        Path(tmp).write_text(table)
    print(table)


if __name__ == "__main__":
    main()

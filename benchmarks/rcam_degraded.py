"""RCAM with one cue broken, over seeds of the course model: do the gates respond?

Each seed is the notebooks' SMOKE course model
(``fsnet_core.course.model_cache.notebook_config(smoke=True, seed=SEED)``:
ResNet-18 streams, 16 channels, one BPM, 64 x 64 inputs, three epochs),
trained once and cached by ``train_or_load`` (seed 0 is the model the
notebooks load; each other seed trains in about a minute on two idle cores). Every model
is run on two frames of each validation clip, clean and with one cue broken
(still flow, noisy flow, a flat frame: ``fsnet_core.analysis.degraded``),
and the gate computed from the broken cue is compared stage by stage
(``fsnet_core.course.degraded_cues``). One row per (seed, degradation,
stage) goes to ``fsnet_core/course/results/rcam_degraded.csv`` (package
data: notebook 02 reads it), written whole after every seed (to a
temporary file, then renamed); a seed already in the table is not measured
again. The script then prints the RCAM degraded-cue result, as notebook 02
does.

Usage::

    python benchmarks/rcam_degraded.py [--seeds 0 1 2]   # train or load, measure, print
    python benchmarks/rcam_degraded.py --table           # print the committed result only
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd
import torch
from ablations import machine

from fsnet_core.course import degraded_cues
from fsnet_core.course.model_cache import notebook_config, synthetic_root, train_or_load
from fsnet_core.io import InputError, atomic_write


def measure_seed(seed: int, command: str) -> pd.DataFrame:
    """Train or load seed ``seed`` of the course model and measure its rows."""
    start = time.perf_counter()
    result = train_or_load(notebook_config(smoke=True, seed=seed, progress=False), name="notebook")
    samples = degraded_cues.experiment_samples(synthetic_root(), result.config.size)
    rows = degraded_cues.seed_rows(degraded_cues.measure(result.model, samples, seed=seed), seed)
    return rows.assign(
        wall_s=round(time.perf_counter() - start, 1),
        torch=torch.__version__,
        machine=machine(),
        command=command,
    )


def write_table(path: Path, table: pd.DataFrame) -> None:
    with atomic_write(path) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(degraded_cues.SEEDS))
    parser.add_argument("--results", type=Path, default=degraded_cues.results_path())
    parser.add_argument("--table", action="store_true", help="only print the committed result")
    args = parser.parse_args()
    command = "python benchmarks/rcam_degraded.py " + " ".join(sys.argv[1:])
    try:
        table = degraded_cues.load_results(args.results)
    except InputError as error:
        sys.exit(f"rcam_degraded: error: {error}")  # one line naming the file, nothing written
    if not args.table:
        for seed in args.seeds:
            if seed in set(table.seed.astype(int)):
                print(f"seed {seed}: already in {args.results.name}")
                continue
            rows = measure_seed(seed, command.strip())
            table = pd.concat([table, rows], ignore_index=True) if len(table) else rows
            write_table(args.results, table)
            print(f"seed {seed}: measured in {rows.wall_s.iloc[0]:.0f} s")
    print("\n".join(degraded_cues.result_lines(table)))


if __name__ == "__main__":
    main()

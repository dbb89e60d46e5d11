"""``fsnet run-all``: execute the course notebooks in order (SMOKE mode by default)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run-all",
        help="execute the notebooks top to bottom (SMOKE mode), figures to figures/",
        description="Execute notebooks/*.ipynb in order with papermill, writing executed "
        "copies to build/notebooks/ and figures to figures/ (or $FSNET_FIGURES_DIR). "
        "Stops at the first error, naming the notebook and the cell.",
    )
    p.add_argument(
        "--only", nargs="+", metavar="NAME", help="notebooks whose name starts with NAME (e.g. 01)"
    )
    p.add_argument(
        "--no-smoke", action="store_true", help="full sizes (SMOKE = False): for a GPU, slow on CPU"
    )
    p.add_argument("--out", type=Path, help="folder for executed copies (default build/notebooks)")
    p.add_argument("--figures", type=Path, help="folder for figures (default figures/)")
    p.add_argument("--cell-timeout", type=float, help="seconds one cell may run")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..harness.budgets import timing_table
    from ..harness.notebooks import NotebookFailed, run_all

    try:
        runs = run_all(
            args.only,
            smoke=not args.no_smoke,
            out_dir=args.out,
            figures_dir=args.figures,
            timeout=args.cell_timeout,
        )
    except NotebookFailed as exc:
        print(f"fsnet run-all: error: {exc}")
        return 1
    print(timing_table(runs))
    return 0

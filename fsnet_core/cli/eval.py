"""``fsnet eval``: score predicted maps against ground truth (DAVIS-2016 U-VOS or DAVSOD V-SOD)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="score PRED_DIR/SEQ/FRAME.png against ground truth (J, F, T or S, E, F, MAE)",
        description="Score predicted maps against ground truth with the official protocols: "
        "DAVIS-2016 J/F/T for U-VOS (maps binarised at 0.5), the DAVSOD toolbox for V-SOD. "
        "The first and last ground-truth frame of each sequence are not scored. "
        "A file whose largest value is 1 (8 or 16 bit) is read as a 0/1 mask (1 = foreground), "
        "ground truth and predictions alike; a note counts such files.",
    )
    p.add_argument("pred_dir", type=Path, help="predictions: PRED_DIR/SEQ/FRAME.png")
    p.add_argument(
        "gt_dir",
        type=Path,
        help="ground truth: GT_DIR/SEQ/FRAME.png, a DAVIS root (Annotations/480p/SEQ) "
        "or a test-set root (SEQ/GT/FRAME.png)",
    )
    p.add_argument("--task", choices=("uvos", "vsod"), default="uvos", help="default: uvos")
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the results as JSON")
    p.add_argument(
        "--sequences", nargs="+", metavar="SEQ", help="score (and require) only these sequences"
    )
    p.add_argument(
        "--split",
        default=None,
        help="DAVIS split list to score (train, val; 'all': every ground-truth sequence); "
        "default: val where GT_DIR has ImageSets/2016/val.txt, else every sequence",
    )
    p.add_argument(
        "--allow-missing",
        action="store_true",
        help="score the sequences that have predictions and warn about the others "
        "(default: a sequence without predictions is an error)",
    )
    p.add_argument(
        "--t-all-sequences",
        action="store_true",
        help="U-VOS: compute T on every sequence (DAVIS-2016 skips 23 occluded ones)",
    )
    p.add_argument("--summary", action="store_true", help="print only the overall row")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..metrics.evaluate import evaluate_folder

    result = evaluate_folder(
        args.pred_dir,
        args.gt_dir,
        args.task,
        sequences=args.sequences,
        split=args.split,
        allow_missing=args.allow_missing,
        t_all_sequences=args.t_all_sequences,
        progress=not args.no_progress,
    )
    print(result.table(per_sequence=not args.summary))
    for note in result.notes:
        print(f"note: {note}")
    for warning in result.warnings:
        print(f"fsnet eval: warning: {warning}", file=sys.stderr)
    if args.json:
        print(f"wrote {result.to_json(args.json)}")
    return 0

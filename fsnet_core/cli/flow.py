"""``fsnet flow``: optical flow fields and colour-coded flow images for a dataset folder."""

from __future__ import annotations

import argparse
from pathlib import Path

METHODS = ("dis", "farneback", "raft-small", "raft-large")  # fsnet_core.flow.METHODS, unimported


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "flow",
        help="compute optical flow (fields and colour images) for every sequence of a dataset",
        description="Writes Flow/METHOD/SEQ/*.flo and FlowImages/METHOD/SEQ/*.png for a DAVIS-"
        "layout folder, or SEQ/OF_METHOD/*.{png,flo} for the authors' test layout "
        "(SEQ/Frame/*.jpg). Existing outputs are kept unless --force.",
    )
    p.add_argument("data_dir", type=Path, metavar="DATA_DIR", help="dataset folder")
    p.add_argument("--method", default="dis", choices=METHODS, help="estimator (default: dis)")
    p.add_argument("--force", action="store_true", help="recompute outputs that already exist")
    p.add_argument("--device", default=None, help="torch device for RAFT (default: cuda if any)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data.flow_cache import compute_flow

    summary = compute_flow(
        args.data_dir, args.method, force=args.force, progress=not args.quiet, device=args.device
    )
    print(summary)
    return 0

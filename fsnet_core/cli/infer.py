"""``fsnet infer``: probability maps of a model over a dataset, as ``PRED_DIR/SEQ/FRAME.png``."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "infer",
        help="run a model over a dataset and write 8-bit probability maps (optionally DenseCRF)",
        description="Writes PRED_DIR/SEQ/FRAME.png for every frame that has a flow (all but each "
        "sequence's last), at the frame's original resolution: the sigmoid of the appearance "
        "(fused) output, as the authors' result files. Existing maps are kept unless --force, "
        "so an interrupted run can be continued; PRED_DIR/fsnet_infer.json records the "
        "checkpoint and settings, and a run with others refuses to mix its maps in.",
    )
    p.add_argument(
        "--checkpoint",
        type=Path,
        required=True,
        metavar="CKPT",
        help="checkpoint written by fsnet (train) or the authors' .pth",
    )
    p.add_argument(
        "--data",
        type=Path,
        required=True,
        metavar="DATA_DIR",
        help="dataset folder in any supported layout (DAVIS, authors' test set, ...)",
    )
    p.add_argument(
        "--out", type=Path, required=True, metavar="PRED_DIR", help="folder for the maps"
    )
    p.add_argument(
        "--crf",
        action="store_true",
        help="refine each map with DenseCRF (the authors' DSS-CRF settings)",
    )
    p.add_argument(
        "--minmax",
        action="store_true",
        help="stretch each map to 0-255 as the authors' infer.py does",
    )
    p.add_argument("--split", default=None, help="DAVIS split list to use (train, val)")
    p.add_argument(
        "--layout",
        default="auto",
        choices=("auto", "davis", "testset", "trainset"),
        help="dataset layout",
    )
    p.add_argument(
        "--flow-source",
        default=None,
        help="flow images to read: gt, dis, raft-small, OF_FlowNet2, ... "
        "(default: gt or OF_FlowNet2, else the only one present)",
    )
    p.add_argument("--size", type=int, default=352, help="network input side (paper: 352)")
    p.add_argument("--batch-size", type=int, default=4, help="frames per forward pass")
    p.add_argument("--workers", type=int, default=0, help="data-loading processes")
    p.add_argument("--device", default=None, help="torch device (default: cuda if any, else cpu)")
    p.add_argument(
        "--no-fast",
        dest="fast",
        action="store_false",
        help="plain float32 network instead of the fast predictor "
        "(folded BN, channels-last, bf16/fp16 autocast)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="rewrite the maps, also those made with another checkpoint or settings",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..inference.runner import run_inference

    if args.batch_size < 1 or args.size < 32:
        raise ValueError("--batch-size must be >= 1 and --size >= 32")
    summary = run_inference(
        args.checkpoint,
        args.data,
        args.out,
        split=args.split,
        layout=args.layout,
        flow_source=args.flow_source,
        size=args.size,
        crf=args.crf,
        minmax=args.minmax,
        force=args.force,
        batch_size=args.batch_size,
        workers=args.workers,
        device=args.device,
        fast=args.fast,
        progress=not args.quiet,
    )
    print(summary)
    return 0

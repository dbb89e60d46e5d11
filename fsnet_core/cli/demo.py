"""``fsnet demo``: one forward pass of FSNet on a drawn frame pair, saved as a figure."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="forward pass on a drawn frame pair, figure of both outputs")
    p.add_argument("--out", type=Path, default=Path("figures"), help="folder for the figure")
    p.add_argument("--backbone", default="resnet50", choices=("resnet18", "resnet34", "resnet50"))
    p.add_argument("--size", type=int, default=352, help="input side in pixels")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..course.demo import forward_pass_figure

    path = forward_pass_figure(args.out, backbone=args.backbone, size=args.size)
    print(f"wrote {path}")
    return 0

"""``fsnet segment``: masks, probability maps and an overlay video for a video of your own."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from .flow import METHODS  # the estimators, named without importing torch


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "segment",
        help="segment a video file (mp4, mov, avi, webm) or a folder of frames",
        description="Computes the optical flow of every frame (DIS on a CPU, RAFT on a GPU), runs "
        "FSNet and writes OUT/masks/NAME.png, OUT/probs/NAME.png for every frame (the last one "
        "with the negated backward flow), OUT/overlay.mp4 (H.264, plays in browsers) and "
        "OUT/overlay.gif. Without --checkpoint the authors' model is used, downloaded into "
        "the torch hub cache when missing ($FSNET_LAB_MIRROR: from a mirror). Running again "
        "(also after Ctrl-C) keeps the frames already done; OUT/segment.json records the video, "
        "model and settings that made them, and a run with others is refused (--force: start "
        "again).",
    )
    p.add_argument("input", type=Path, metavar="INPUT", help="video file or folder of frames")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    p.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        metavar="CKPT",
        help="checkpoint written by fsnet train, or the authors' .pth "
        "(default: the authors' model, downloaded when missing)",
    )
    p.add_argument(
        "--checkpoint-url", default=None, help="download the authors' checkpoint from this mirror"
    )
    p.add_argument(
        "--size",
        type=int,
        default=None,
        help="network input side (default: the checkpoint's training size, else 352)",
    )
    p.add_argument(
        "--flow",
        default=None,
        choices=METHODS,
        help="flow estimator (default: dis on a CPU, raft-small on a GPU)",
    )
    p.add_argument("--crf", type=int, default=23, help="H.264 quality of the overlay (0-51)")
    p.add_argument("--device", default=None, help="torch device (default: cuda if any, else cpu)")
    p.add_argument("--every", type=int, default=1, metavar="N", help="segment every N-th frame")
    p.add_argument("--max-frames", type=int, default=None, help="segment at most this many")
    p.add_argument("--start", type=float, default=0.0, help="first second to segment")
    p.add_argument("--end", type=float, default=None, help="second to stop at")
    p.add_argument(
        "--fps", type=positive_number, default=25.0, help="frame rate of a folder of frames"
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="remove what segment wrote in OUT (also with another video, model or settings) "
        "and segment every frame again",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="a video with fewer frames than its container declares (truncated) is an error, "
        "not a warning",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def positive_number(text: str) -> float:
    """An argparse type: a finite number above 0 (a frame rate)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number above 0")
    return value


def run(args: argparse.Namespace) -> int:
    from ..inference.frames import Selection
    from ..inference.segment import SegmentInterrupted, segment_video

    if args.size is not None and args.size < 32:
        raise ValueError("--size must be at least 32")
    if not 0 <= args.crf <= 51:
        raise ValueError("--crf must be between 0 and 51")
    try:
        summary = segment_video(
            args.input,
            args.out,
            args.checkpoint,
            size=args.size,
            selection=Selection(args.start, args.end, args.every, args.max_frames),
            flow=args.flow,
            crf=args.crf,
            fps=args.fps,
            device=args.device,
            force=args.force,
            progress=not args.quiet,
            checkpoint_url=args.checkpoint_url,
            strict=args.strict,
        )
    except SegmentInterrupted as exc:
        print(
            f"fsnet segment: interrupted: the masks and maps of {exc.kept} frames are kept in "
            f"{exc.out_dir}; run the same command again to segment the rest",
            file=sys.stderr,
        )
        return 130
    except KeyboardInterrupt:  # before the pipeline started
        print("fsnet segment: interrupted before the first frame; nothing written", file=sys.stderr)
        return 130
    for warning in summary.warnings:
        print(f"fsnet segment: warning: {warning}", file=sys.stderr)
    print(summary)
    return 0

"""``fsnet train``: the authors' three-stage schedule, from a CPU smoke run to the paper's.

Examples::

    fsnet train --preset smoke --out runs/smoke            # built-in synthetic data, CPU
    fsnet train --preset colab --data DAVIS --init FSNet.pth --out runs/colab
    fsnet train --preset paper --data DAVIS --static-data DUTS-TR --out runs/paper
    fsnet train --out runs/smoke --resume                   # continue a stopped run
    fsnet train --out runs/smoke --resume --max-steps 500   # ... for 500 more steps
    torchrun --nproc_per_node 2 -m fsnet_core train --preset paper ...
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

# (flag, TrainConfig field, type, help): options that override the preset when given.
# The model's fields (backbone ... bpm) change ``TrainConfig.model``.
OVERRIDES: tuple[tuple[str, str, type, str], ...] = (
    ("--epochs", "epochs", int, "epochs per stage"),
    ("--batch-size", "batch_size", int, "samples per batch (per process under torchrun)"),
    ("--size", "size", int, "input side before multi-scale (paper: 352)"),
    ("--lr", "lr", float, "initial SGD learning rate (paper: 2e-3)"),
    ("--lr-step", "lr_step", int, "epochs between learning-rate decays (paper: 20)"),
    ("--accumulate", "accumulate", int, "passes (batch x scale) summed per optimizer step"),
    ("--backbone", "backbone", str, "depth of the ResNet streams (paper: resnet50)"),
    ("--channels", "channels", int, "width of the BPM pyramid (paper: 32)"),
    ("--num-bpm", "num_bpm", int, "number of BPMs (paper: 4)"),
    ("--rcam", "rcam", str, "which attention RCAM exchanges (paper: full)"),
    ("--bpm", "bpm", str, "which purification each BPM does (paper: both)"),
    ("--precision", "precision", str, "auto, float32, bfloat16 or float16"),
    ("--seed", "seed", int, "seed for weights, data order and RNGs"),
    ("--threads", "threads", int, "torch CPU threads"),
    ("--device", "device", str, "auto, cpu, cuda or cuda:N"),
    ("--num-workers", "num_workers", int, "DataLoader worker processes"),
    ("--flow-source", "flow_source", str, "FlowImages/<source> to read (default: the only one)"),
    ("--static-data", "static_data", str, "DUTS-style still images added to stage 1"),
    ("--init", "init_weights", str, "checkpoint to start from (this package's or the authors')"),
    ("--rgb-weights", "rgb_weights", str, "stage 1 checkpoint for the stage 3 merge"),
    ("--flow-weights", "flow_weights", str, "stage 2 checkpoint for the stage 3 merge"),
    ("--checkpoint-every", "checkpoint_every", int, "also save last.pt every N steps"),
    ("--val-max-frames", "val_max_frames", int, "validate on at most N frames (0: all)"),
)


def register(sub: argparse._SubParsersAction) -> None:
    from ..model.config import BACKBONES, BPM_MODES, RCAM_MODES
    from ..train.config import PRESETS, STAGE_HELP, STAGES

    choices = {"backbone": BACKBONES, "rcam": RCAM_MODES, "bpm": BPM_MODES}

    p = sub.add_parser(
        "train",
        help="train FSNet (presets smoke / colab / paper), resumable, multi-GPU under torchrun",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--preset", default="smoke", choices=sorted(PRESETS), help="starting point")
    p.add_argument("--data", help="dataset root (DAVIS layout); default: built-in synthetic set")
    p.add_argument("--out", type=Path, help="run folder (default: the preset's)")
    p.add_argument(
        "--stage",
        action="append",
        choices=STAGES,
        help="run only this stage (repeatable); "
        + "; ".join(f"{k}: {v}" for k, v in STAGE_HELP.items()),
    )
    resume = p.add_mutually_exclusive_group()
    resume.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out exactly (an error when --out holds none)",
    )
    resume.add_argument(
        "--resume-or-start",
        action="store_true",
        help="continue the run in --out, or start it when there is none yet",
    )
    p.add_argument(
        "--max-steps",
        type=int,
        help="stop (and save) after this many optimizer steps of this command; not kept "
        "with the run, so a later --resume goes on to the end",
    )
    for flag, field, kind, text in OVERRIDES:
        p.add_argument(
            flag, dest=field, type=kind, default=None, choices=choices.get(field), help=text
        )
    p.add_argument(
        "--scales", type=float, nargs="+", help="multi-scale factors (paper: 0.75 1 1.25)"
    )
    imagenet = p.add_mutually_exclusive_group()
    imagenet.add_argument("--imagenet", dest="imagenet", action="store_true", default=None)
    imagenet.add_argument(
        "--no-imagenet",
        dest="imagenet",
        action="store_false",
        help="train the streams from scratch",
    )
    p.add_argument("--no-channels-last", dest="channels_last", action="store_false", default=None)
    p.add_argument("--deterministic", action="store_true", default=None, help="see docs")
    p.add_argument("--no-progress", dest="progress", action="store_false", default=None)
    p.set_defaults(func=run)


def build_config(args: argparse.Namespace):
    """The preset (or, with --resume, the run's saved config) with the given options applied."""
    from ..train.config import TrainConfig

    fields = [f for _, f, _, _ in OVERRIDES] + ["scales", "imagenet", "channels_last"]
    fields += ["deterministic", "progress", "data"]
    changes = {f: getattr(args, f) for f in fields if getattr(args, f, None) is not None}
    if args.stage:
        changes["stages"] = tuple(dict.fromkeys(args.stage))
    saved = args.out / "config.json" if args.out is not None else None
    if (args.resume or args.resume_or_start) and saved is not None and saved.is_file():
        base = TrainConfig.from_dict(json.loads(saved.read_text()))
    else:
        base = TrainConfig.preset(args.preset)
    if args.out is not None:
        changes["out"] = str(args.out)
    return base.replace(**changes)


def run(args: argparse.Namespace) -> int:
    from ..train.trainer import train

    config = build_config(args)
    resume = "or-start" if args.resume_or_start else args.resume
    result = train(config, resume=resume, max_steps=args.max_steps)
    for stage, r in result.stages.items():
        state = "finished" if r.finished else f"stopped after step {r.steps} (resume with --resume)"
        score = f"best val J {r.best_j:.3f}" if r.validated else "no epoch validated yet"
        print(f"{stage}: {state}; {score}; history {r.history_csv}")
        print(
            f"  last {r.last_checkpoint}"
            + (f", best {r.best_checkpoint}" if r.best_checkpoint else "")
        )
    for stage in config.stages:
        if stage not in result.stages:
            print(f"{stage}: not started (resume with --resume)")
    return 0

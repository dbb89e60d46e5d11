"""``fsnet finetune``: finetune a trained FSNet on a small dataset, scored before and after.

Examples::

    fsnet finetune --domain vivid --out runs/ft-vivid          # the course model, new domain
    fsnet finetune --domain vivid --out runs/ft-scratch --scratch  # the from-scratch control
    fsnet finetune --data my-clips --out runs/ft-mine              # the authors' model, own data
    fsnet finetune --data my-clips --init runs/smoke/finetune/last.pt --test cat,dog --out runs/ft
    fsnet finetune --out runs/ft-mine --resume                     # continue a stopped run

Your data: the authors' test layout (``SEQ/Frame/*.jpg`` and ``SEQ/GT/*.png``
with masks for only some frames) or the DAVIS layout, at least three
sequences. Flow is computed where missing (DIS on a CPU, RAFT on a GPU).
``--train``/``--select``/``--test`` take a file of names (one a line) or
comma-separated names; parts not given are a seeded split (``--split-seed``),
written to ``RUN/splits.json``. The before/after table is ``RUN/finetune.csv``
(and ``.json``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

# (flag, TrainConfig field, type, help): options that override the starting run's.
OVERRIDES: tuple[tuple[str, str, type, str], ...] = (
    ("--epochs", "epochs", int, "finetuning epochs"),
    ("--lr", "lr", float, "SGD learning rate (the authors' model: 2e-4)"),
    ("--batch-size", "batch_size", int, "samples per batch"),
    ("--size", "size", int, "input side (default: the starting run's)"),
    ("--precision", "precision", str, "auto, float32, bfloat16 or float16"),
    ("--seed", "seed", int, "seed of the finetuning run (order, augmentation)"),
    ("--threads", "threads", int, "torch CPU threads"),
    ("--device", "device", str, "auto, cpu, cuda or cuda:N"),
    ("--num-workers", "num_workers", int, "DataLoader worker processes"),
)


DEFAULTS = {"init": "authors"}


def register(sub: argparse._SubParsersAction) -> None:
    from ..data.synthetic.scenes import DEFAULT_DOMAIN, DOMAINS

    p = sub.add_parser(
        "finetune",
        help="finetune a trained FSNet on a small dataset; test scored before and after",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument("--data", type=Path, help="dataset (authors' test layout or DAVIS)")
    source.add_argument(
        "--domain",
        choices=[d for d in DOMAINS if d != DEFAULT_DOMAIN],
        help="the built-in experiment: the course model on this synthetic domain",
    )
    p.add_argument("--out", type=Path, required=True, help="run folder")
    p.add_argument(
        "--init",
        default=DEFAULTS["init"],
        help="checkpoint to start from: 'authors' (default) or a file (e.g. RUN/finetune/last.pt)",
    )
    p.add_argument("--scratch", action="store_true", help="the control: no starting weights")
    for part in ("train", "select", "test"):
        p.add_argument(f"--{part}", help=f"{part} sequences: a file of names or name,name,...")
    p.add_argument("--split-seed", type=int, default=0, help="seed of the split of the rest")
    p.add_argument(
        "--flow-source", help="flow folder or method (default: the data's, else DIS/RAFT)"
    )
    p.add_argument("--resume", action="store_true", help="continue the run in --out exactly")
    p.add_argument("--max-steps", type=int, help="stop (and save) after this many steps")
    for flag, name, kind, text in OVERRIDES:
        p.add_argument(flag, dest=name, type=kind, default=None, help=text)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    overrides = {n: getattr(args, n) for _, n, _, _ in OVERRIDES if getattr(args, n) is not None}
    if args.domain:
        from ..course.finetuning import run_domain

        own = ("init", "train", "select", "test", "flow_source")
        given = [f"--{n.replace('_', '-')}" for n in own if getattr(args, n) != DEFAULTS.get(n)]
        if given:
            raise ValueError(
                f"--domain runs the built-in experiment (the course model, its own split); "
                f"{', '.join(given)} go with --data"
            )
        result = run_domain(
            args.out,
            domain=args.domain,
            from_scratch=args.scratch,
            resume=args.resume,
            max_steps=args.max_steps,
            progress=True,
            **overrides,
        )
    else:
        from ..train.finetuning import finetune

        result = finetune(
            args.data,
            args.out,
            init=args.init,
            train=args.train,
            select=args.select,
            test=args.test,
            split_seed=args.split_seed,
            from_scratch=args.scratch,
            flow_source=args.flow_source,
            resume=args.resume,
            max_steps=args.max_steps,
            **overrides,
        )
    parts = ", ".join(f"{k} {len(v)}" for k, v in result.splits.items())
    print(f"started from {result.start}; sequences: {parts}")
    print(result.summary())
    if result.finished:
        print(f"table: {result.out / 'finetune.csv'} (and finetune.json)")
    return 0

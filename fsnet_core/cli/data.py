"""``fsnet data``: make the synthetic teaching set, or check a dataset folder."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="synthetic teaching set; dataset checks")
    actions = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    syn = actions.add_parser("synthetic", help="generate the seeded synthetic set (DAVIS layout)")
    from ..data.synthetic.scenes import DEFAULT_DOMAIN, DOMAINS

    syn.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder (default data/synthetic, data/synthetic-DOMAIN for another domain)",
    )
    syn.add_argument("--smoke", action="store_true", help="tiny set for tests")
    syn.add_argument("--seed", type=int, default=0)
    syn.add_argument(
        "--domain",
        default=DEFAULT_DOMAIN,
        choices=list(DOMAINS),
        help="what the clips look like: the default (what the course model learns from) or "
        "another, for finetuning on clips that model has not seen",
    )
    syn.add_argument(
        "--force",
        action="store_true",
        help="regenerate even if present, replacing a set of another seed or size (only the "
        "files it wrote for that set go, its clips' computed flows too; other files stay)",
    )
    syn.set_defaults(func=run_synthetic)

    check = actions.add_parser("check", help="discover and decode every file of a dataset")
    check.add_argument("root", type=Path)
    check.add_argument("--layout", default="auto", help="auto, davis, testset, trainset, duts")
    check.add_argument("--split", default=None)
    check.add_argument("--flow-source", default=None, help="e.g. gt, dis, OF_FlowNet2")
    check.add_argument("--require-flows", action="store_true")
    check.add_argument("--require-masks", action="store_true")
    check.set_defaults(func=run_check)


def run_synthetic(args: argparse.Namespace) -> int:
    import time

    from ..data.synthetic import (
        default_dir,
        ensure_synthetic_dataset,
        make_synthetic_dataset,
        read_meta,
    )

    out = args.out or default_dir(args.domain)
    before = read_meta(out)
    start, cpu_start = time.perf_counter(), time.process_time()
    if args.force:
        path = make_synthetic_dataset(
            out, smoke=args.smoke, seed=args.seed, overwrite=True, domain=args.domain
        )
    else:
        path = ensure_synthetic_dataset(out, smoke=args.smoke, seed=args.seed, domain=args.domain)
    meta = read_meta(path) or {}
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    splits = ", ".join(f"{len(v)} {k}" for k, v in meta.get("splits", {}).items())
    done = (
        "already there (--force regenerates)"
        if meta == before and not args.force
        else f"made in {seconds:.1f} s ({cpu:.1f} s of CPU)"
    )
    frames = meta.get("frames_per_clip")
    train_frames = meta.get("train_frames_per_clip", frames)
    length = f"{frames}" if train_frames == frames else f"{train_frames} (train) / {frames}"
    print(
        f"{path}: {splits} clips of {length} frames at "
        f"{meta.get('height')}x{meta.get('width')} (seed {meta.get('seed')}"
        f"{'' if args.domain == 'default' else ', domain ' + args.domain}), {done}"
    )
    return 0


def run_check(args: argparse.Namespace) -> int:
    from ..data.layouts import check_dataset_files, detect_layout

    layout = detect_layout(args.root) if args.layout == "auto" else args.layout
    records = check_dataset_files(
        args.root,
        layout,
        args.split,
        args.flow_source,
        require_flows=args.require_flows,
        require_masks=args.require_masks,
    )
    frames = sum(len(r) for r in records)
    flows = sum(f is not None for r in records for f in r.flows)
    masks = sum(m is not None for r in records for m in r.masks)
    print(
        f"{args.root}: {layout} layout, {len(records)} sequences, {frames} frames, "
        f"{flows} flow images, {masks} masks; every file decodes"
    )
    return 0

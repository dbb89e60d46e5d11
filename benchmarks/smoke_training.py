"""The ``smoke`` preset on the synthetic set: learning curve, time to J >= 0.7, and ablations.

Three runs with the same budget (the smoke preset: a ResNet-18 FSNet trained
from scratch at 96 x 96 for 16 epochs), differing only in what the two
streams see, as in the authors' three stages:

* **full duplex**: frame -> appearance stream, flow image -> motion stream
  (stage 3 inputs; this *is* the smoke preset);
* **appearance only**: the frame fed to both streams (stage 1 inputs);
* **motion only**: the flow image fed to both streams (stage 2 inputs).

Each is validated on the val split with its own inputs (J and F of the
appearance/fused output at 96 x 96, threshold 0.5). The synthetic set holds
static look-alikes of the target (which fool appearance) and background-
coloured objects that move like the target (which fool motion), so only the
pair should do well.

Printed: the learning curve of every run (loss, val J and F, elapsed
seconds), the time at which val J first reached 0.7, the load average of the
machine before and after (other processes slow the runs down), the three
numbers side by side, and which trap caught each run: the share of the
target, the look-alikes, the rippling patches and the moving background
objects of the val split that it calls target.

``--flow-source dis`` trains and validates on OpenCV DIS flow estimated from
the frames (computed once into ``FlowImages/dis``) instead of the exact
ground-truth flow: the realistic case, where the flow is blurred at object
edges and wrong in places, and the appearance stream has something to fix.

Usage::

    python benchmarks/smoke_training.py [--data DIR] [--out DIR] [--threads N]
        [--only full appearance motion] [--epochs N] [--flow-source gt|dis]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import torch

from fsnet_core.analysis.hazards import region_hit_rates
from fsnet_core.data.samples import load_samples
from fsnet_core.data.synthetic import REGION_SHORT_NAMES
from fsnet_core.train import TrainConfig, train
from fsnet_core.train.data import data_root

TARGET_J = 0.7
RUNS = {"full": "finetune", "appearance": "rgb", "motion": "flow"}
LABELS = {
    "full": "full duplex (frame | flow)",
    "appearance": "appearance only (frame | frame)",
    "motion": "motion only (flow | flow)",
}


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="dataset root (default: the built-in synthetic set)")
    parser.add_argument("--out", type=Path, help="keep the runs here (default: a temporary folder)")
    parser.add_argument("--threads", type=int, help="torch threads (default: the preset's, 1)")
    parser.add_argument("--epochs", type=int, help="override the preset's epochs")
    parser.add_argument("--only", nargs="+", choices=list(RUNS), default=list(RUNS))
    parser.add_argument("--flow-source", default="gt", help="gt (exact) or an estimator: dis")
    args = parser.parse_args()

    out = args.out or Path(tempfile.mkdtemp(prefix="fsnet-smoke-bench-"))
    changes: dict = {"progress": False}
    for name in ("data", "threads", "epochs"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    if args.flow_source != "gt":
        from fsnet_core.data.flow_cache import compute_flow

        root = data_root(TrainConfig.preset("smoke", **changes))
        print(compute_flow(root, args.flow_source, progress=False))
        changes.update(data=str(root), flow_source=args.flow_source)
    base = TrainConfig.preset("smoke", **changes)
    print(
        f"smoke preset: {base.model.backbone} FSNet (channels {base.model.channels}, "
        f"{base.model.num_bpm} BPMs) "
        f"from scratch, {base.size}x{base.size}, batch {base.batch_size}, {base.epochs} epochs, "
        f"lr {base.lr} (x{base.lr_gamma} from epoch {base.lr_step}), precision {base.precision}, "
        f"threads {base.threads or torch.get_num_threads()}, flow {args.flow_source}"
    )
    print(f"before: {load()}")
    finals: dict[str, tuple[float, float, float, float, float | None]] = {}
    hit_rates = {}
    samples = None
    try:
        for name in args.only:
            start = time.perf_counter()
            result = train(base.replace(out=str(out / name), stages=(RUNS[name],)))
            wall = time.perf_counter() - start
            h = result.history
            print(f"\n== {LABELS[name]}: {wall:.0f} s wall")
            print(h[["epoch", "lr", "loss", "val_J", "val_F", "elapsed_s"]].to_string(index=False))
            reached = h[h.val_J >= TARGET_J]
            when = float(reached.elapsed_s.iloc[0]) if len(reached) else None
            print(
                f"val J >= {TARGET_J} first after epoch {int(reached.epoch.iloc[0])}, "
                f"{when:.0f} s of training"
                if when is not None
                else f"val J never reached {TARGET_J}"
            )
            last = h.iloc[-1]
            finals[name] = (last.val_J, h.val_J.max(), last.val_F, wall, when)
            if samples is None:
                samples = load_samples(
                    data_root(base), base.val_split, base.size, flow_source=base.flow_source
                )
            rates = region_hit_rates(result.model, samples, stage=RUNS[name])
            names = [REGION_SHORT_NAMES[label] for label in rates.label]
            hit_rates[name] = dict(zip(names, rates.called_target, strict=True))
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)
    print(f"\nafter: {load()}")
    print(f"\n{'run':<34}{'final J':>9}{'best J':>9}{'final F':>9}{'wall s':>9}{'J>=0.7 at s':>13}")
    for name, (j, best, f, wall, when) in finals.items():
        at = f"{when:.0f}" if when is not None else "never"
        print(f"{LABELS[name]:<34}{j:>9.3f}{best:>9.3f}{f:>9.3f}{wall:>9.0f}{at:>13}")
    regions = list(next(iter(hit_rates.values())))
    print("\nshare of each val region called target (the target's is its recall):")
    print(f"{'run':<34}" + "".join(f"{r:>11}" for r in regions))
    for name, rates in hit_rates.items():
        print(f"{LABELS[name]:<34}" + "".join(f"{rates[r]:>11.3f}" for r in regions))
    for name in (n for n in finals if n != "full" and "full" in finals):
        dj, df = (finals["full"][i] - finals[name][i] for i in (0, 2))
        print(f"full duplex - {name} only: final J {dj:+.3f}, final F {df:+.3f}")


if __name__ == "__main__":
    main()

"""Optical flow accuracy and speed: DIS presets and Farnebäck (RAFT too when it can run).

1. Average end-point error (EPE, pixels) against the exact flow of the
   synthetic teaching set (``Flow/gt``): over all pixels, on the target, the
   rippling background patch and the moving background object (the synthetic
   ``Regions`` labels).
2. Pairs per second at 480 x 854 on ``../shared/davis_sample`` (skipped when
   absent). The methods run side by side, interleaved pair by pair, so load
   from other processes slows them alike and the ratios stay meaningful.
   RAFT runs on the CPU here; without its weights in the torch hub cache it
   runs with untrained weights, which changes nothing about its speed.

Usage::

    python benchmarks/flow.py [--smoke] [--pairs 12] [--raft-pairs 2] [--synthetic DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from fsnet_core import WeightsUnavailable
from fsnet_core import flow as F
from fsnet_core.data.synthetic import (
    MOVING_BACKGROUND,
    MOVING_OBJECT,
    TARGET,
    make_synthetic_dataset,
)
from fsnet_core.data.synthetic.storage import read_regions
from fsnet_core.io.images import read_rgb

REGIONS = (("target", TARGET), ("ripple", MOVING_BACKGROUND), ("mover", MOVING_OBJECT))

DAVIS_SAMPLE = Path(__file__).resolve().parents[1].parent / "shared" / "davis_sample"
DIS_PRESETS = {
    "dis (medium, default)": cv2.DISOpticalFlow_PRESET_MEDIUM,
    "dis (fast)": cv2.DISOpticalFlow_PRESET_FAST,
    "dis (ultrafast)": cv2.DISOpticalFlow_PRESET_ULTRAFAST,
}


class ZeroFlow(F.FlowEstimator):
    """The reference every estimator must beat: no motion anywhere."""

    name = "zero flow (reference)"

    def _estimate(self, firsts, seconds):
        return [np.zeros((*a.shape[:2], 2), np.float32) for a in firsts]


def opencv_estimators() -> dict[str, F.FlowEstimator]:
    ests: dict[str, F.FlowEstimator] = {k: F.DISEstimator(p) for k, p in DIS_PRESETS.items()}
    ests["farneback"] = F.FarnebackEstimator()
    return ests


def raft_estimators() -> dict[str, F.FlowEstimator]:
    """RAFT small and large on the CPU; pretrained if the weights are cached, else untrained."""
    ests: dict[str, F.FlowEstimator] = {}
    for size in ("small", "large"):
        try:
            ests[f"raft-{size}"] = F.RAFTEstimator(size, device="cpu")
        except WeightsUnavailable:
            torch.manual_seed(0)
            ests[f"raft-{size} (untrained)"] = F.RAFTEstimator(size, "cpu", pretrained=False)
    return ests


def synthetic_epe(root: Path, ests: dict[str, F.FlowEstimator]) -> dict[str, dict[str, float]]:
    """EPE per method: frame-averaged over all pixels, pixel-averaged on two regions; pairs/s."""
    sums = {k: {"all": [], "time": 0.0, **{r: [0.0, 0] for r, _ in REGIONS}} for k in ests}
    pairs = 0
    for job in F.flow_jobs(root, "gt"):
        frames = [read_rgb(p) for p in job.frames]
        for i in range(len(frames) - 1):
            gt = F.read_flo(job.outputs(i)[0])
            regions = read_regions(root, job.name, job.frames[i].stem)
            pairs += 1
            for name, est in ests.items():
                start = time.perf_counter()
                flow = est(frames[i], frames[i + 1])
                s = sums[name]
                s["time"] += time.perf_counter() - start
                err = np.linalg.norm(flow - gt, axis=2)
                s["all"].append(float(err.mean()))
                for key, label in REGIONS:
                    s[key][0] += float(err[regions == label].sum())
                    s[key][1] += int((regions == label).sum())
    return {
        name: {
            "EPE all": float(np.mean(s["all"])),
            **{f"EPE {key}": s[key][0] / max(s[key][1], 1) for key, _ in REGIONS},
            "pairs/s synthetic": pairs / s["time"],
            "pairs": pairs,
        }
        for name, s in sums.items()
    }


def davis_pairs(count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``count`` consecutive frame pairs at 480 x 854, a few from each sample sequence."""
    jobs = F.flow_jobs(DAVIS_SAMPLE, "benchmark")
    per_seq = max(1, -(-count // len(jobs)))
    pairs = []
    for job in jobs:
        frames = [read_rgb(p) for p in job.frames[: per_seq + 1]]
        pairs += list(zip(frames[:-1], frames[1:], strict=True))
    return pairs[:count]


def speed(ests: dict[str, F.FlowEstimator], pairs: list) -> dict[str, float]:
    """Pairs per second of each estimator, interleaved pair by pair (one warm-up call each)."""
    for est in ests.values():
        est(*pairs[0])
    spent = dict.fromkeys(ests, 0.0)
    for a, b in pairs:
        for name, est in ests.items():
            start = time.perf_counter()
            est(a, b)
            spent[name] += time.perf_counter() - start
    return {name: len(pairs) / t for name, t in spent.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny synthetic set, few pairs")
    parser.add_argument("--pairs", type=int, default=20, help="480x854 pairs for DIS/Farnebäck")
    parser.add_argument("--raft-pairs", type=int, default=2, help="480x854 pairs for RAFT")
    parser.add_argument("--synthetic", type=Path, default=None, help="existing synthetic set")
    args = parser.parse_args()
    print(f"threads: OpenCV {cv2.getNumThreads()}, torch {torch.get_num_threads()}")

    with tempfile.TemporaryDirectory() as tmp:
        root = args.synthetic or make_synthetic_dataset(Path(tmp) / "synthetic", smoke=args.smoke)
        ests = opencv_estimators()
        rows = synthetic_epe(root, {**ests, ZeroFlow.name: ZeroFlow()})
    n = next(iter(rows.values()))["pairs"]
    print(f"\nEnd-point error against the exact synthetic flow ({n} pairs, val and train)\n")
    print(
        f"{'method':24s} {'EPE all':>8s}" + "".join(f" {k:>8s}" for k, _ in REGIONS) + "  pairs/s"
    )
    for name, r in rows.items():
        epe = "".join(f" {r['EPE ' + key]:8.3f}" for key, _ in REGIONS)
        print(f"{name:24s} {r['EPE all']:8.3f}{epe} {r['pairs/s synthetic']:8.1f}")

    if not (DAVIS_SAMPLE / "JPEGImages").is_dir():
        print(f"\n{DAVIS_SAMPLE} not found: 480x854 speed skipped")
        return
    count = 4 if args.smoke else args.pairs
    pairs = davis_pairs(count)
    h, w = pairs[0][0].shape[:2]
    fast = speed(ests, pairs)
    raft_pairs = pairs[: 1 if args.smoke else args.raft_pairs]
    raft = speed(raft_estimators(), raft_pairs)
    print(
        f"\nSpeed at {h}x{w} on the DAVIS sample ({len(pairs)} pairs interleaved; "
        f"RAFT on the CPU, {len(raft_pairs)} pairs after one warm-up)\n"
    )
    print(f"{'method':30s} {'pairs/s':>8s} {'ms/pair':>8s}")
    for name, rate in {**fast, **raft}.items():
        print(f"{name:30s} {rate:8.2f} {1000 / rate:8.0f}")


if __name__ == "__main__":
    main()

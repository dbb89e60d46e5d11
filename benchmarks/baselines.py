"""Why FSNet needs both cues, in numbers: single-cue baselines on the synthetic teaching set.

Each baseline segments every val frame that has a flow (frame 0 is skipped:
the appearance model learns from it):

* **motion only**: remove the dominant (camera) motion, an affine field fitted
  to the flow by iteratively re-weighted least squares, and keep pixels whose
  residual motion exceeds 1 px. Run on the exact ground-truth flow and on
  OpenCV DIS flow computed from the frames.
* **appearance only**: a colour histogram model (16 levels per channel) of the
  target and of the rest, learnt from the first frame and its mask; a pixel is
  target where its colour is likelier under the target's histogram.
* **motion AND appearance**: both at once, the crudest fusion.
* **ground truth**: the masks themselves, a sanity reference.

Printed per baseline: mean region similarity J (mean over frames, then over
sequences, as DAVIS does), J on the clips with look-alikes, with a rippling
patch and with a moving background object, and the false-positive rate
inside the synthetic ``Regions`` labels 2 (static look-alikes), 3 (rippling
background) and 5 (moving background object): the share of those pixels
wrongly called target. The look-alikes fool appearance, the ripple and the
moving background object fool motion; only the two together avoid both.

Usage::

    python benchmarks/baselines.py [--data DIR] [--smoke] [--split val] [--no-dis]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from fsnet_core.data.layouts import discover_sequences
from fsnet_core.data.synthetic import (
    DISTRACTOR,
    MOVING_BACKGROUND,
    MOVING_OBJECT,
    ensure_synthetic_dataset,
    read_meta,
    read_regions,
)
from fsnet_core.flow import make_estimator, read_flo
from fsnet_core.io.images import read_mask, read_rgb
from fsnet_core.metrics.uvos import jaccard

RESIDUAL_PX = 1.0
COLOUR_LEVELS = 16
# (region label, short key, the meta.json hazard that puts it in a clip, column name)
HAZARDS = (
    (DISTRACTOR, "lookalike", "distractors", "look-alikes (2)"),
    (MOVING_BACKGROUND, "ripple", "ripple", "ripple (3)"),
    (MOVING_OBJECT, "mover", "mover", "mover (5)"),
)


def dominant_motion(flow: np.ndarray, rounds: int = 4, step: int = 4) -> np.ndarray:
    """The affine flow field that best explains most of ``flow`` (the camera's)."""
    h, w = flow.shape[:2]
    yy, xx = np.mgrid[0:h:step, 0:w:step]
    design = np.stack([xx.ravel(), yy.ravel(), np.ones(xx.size)], axis=1).astype(np.float64)
    target = flow[::step, ::step].reshape(-1, 2).astype(np.float64)
    keep = np.ones(len(target), bool)
    for _ in range(rounds):  # refit on the pixels the previous fit explains (inliers)
        coef, *_ = np.linalg.lstsq(design[keep], target[keep], rcond=None)
        residual = np.linalg.norm(design @ coef - target, axis=1)
        keep = residual < max(RESIDUAL_PX, 2.0 * float(np.median(residual)))
    full_y, full_x = np.mgrid[0:h, 0:w]
    grid = np.stack([full_x, full_y, np.ones_like(full_x)], axis=-1).astype(np.float64)
    return (grid @ coef).astype(np.float32)


def motion_only(flow: np.ndarray) -> np.ndarray:
    """Pixels that move, relative to the camera, by more than :data:`RESIDUAL_PX`."""
    return np.linalg.norm(flow - dominant_motion(flow), axis=-1) > RESIDUAL_PX


class ColourModel:
    """Target-vs-rest colour histograms from one annotated frame."""

    def __init__(self, frame: np.ndarray, mask: np.ndarray) -> None:
        bins = self._bins(frame)
        size = COLOUR_LEVELS**3
        fg = np.bincount(bins[mask], minlength=size) + 0.1
        bg = np.bincount(bins[~mask], minlength=size) + 0.1
        self.is_target = fg / fg.sum() > bg / bg.sum()

    @staticmethod
    def _bins(frame: np.ndarray) -> np.ndarray:
        q = (frame.astype(np.int64) * COLOUR_LEVELS) // 256
        return (q[..., 0] * COLOUR_LEVELS + q[..., 1]) * COLOUR_LEVELS + q[..., 2]

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        return self.is_target[self._bins(frame)]


def evaluate(root: Path, split: str, use_dis: bool) -> dict[str, dict[str, float]]:
    meta = read_meta(root)
    records = discover_sequences(root, split=split, flow_source="gt", require_masks=True)
    dis = make_estimator("dis") if use_dis else None
    scores: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        hazards = meta["sequences"][record.name]["hazards"]
        frames = [read_rgb(p) for p in record.frames]
        colour = ColourModel(frames[0], read_mask(record.masks[0]))
        per_method: dict[str, list[float]] = defaultdict(list)
        for t in range(1, len(record) - 1):  # frames with a flow, frame 0 taught the colours
            gt = read_mask(record.masks[t])
            regions = read_regions(root, record.name, record.frames[t].stem)
            appearance = colour(frames[t])
            moving = motion_only(read_flo(record.flow_fields[t]))
            predictions = {
                "motion only (GT flow)": moving,
                "appearance only (colour model)": appearance,
                "motion AND appearance (GT flow)": moving & appearance,
                "ground truth": gt,
            }
            if dis is not None:
                dis_moving = motion_only(dis(frames[t], frames[t + 1]))
                predictions["motion only (DIS flow)"] = dis_moving
                predictions["motion AND appearance (DIS flow)"] = dis_moving & appearance
            for name, pred in predictions.items():
                per_method[name].append(jaccard(pred, gt))
                for label, key, _, _ in HAZARDS:
                    inside = regions == label
                    scores[name][f"fp_{key}_hits"].append(int(np.count_nonzero(pred & inside)))
                    scores[name][f"fp_{key}_area"].append(int(np.count_nonzero(inside)))
        for name, values in per_method.items():
            j = float(np.mean(values))
            scores[name]["J"].append(j)
            for _, key, hazard, _ in HAZARDS:
                if hazards[hazard]:
                    scores[name][f"J_{key}"].append(j)
    table = {}
    for name, s in scores.items():
        row = {"J": float(np.mean(s["J"]))}
        for _, key, _, _ in HAZARDS:
            row[f"J_{key}"] = float(np.mean(s[f"J_{key}"])) if s[f"J_{key}"] else float("nan")
            row[f"fp_{key}"] = sum(s[f"fp_{key}_hits"]) / max(1, sum(s[f"fp_{key}_area"]))
        table[name] = row
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        help="synthetic set (default data/synthetic, with --smoke data/synthetic-smoke)",
    )
    parser.add_argument("--smoke", action="store_true", help="the tiny set (for a quick look)")
    parser.add_argument("--split", default="val")
    parser.add_argument("--no-dis", action="store_true", help="skip the DIS-flow baseline")
    args = parser.parse_args()
    start = time.perf_counter()
    default = Path("data") / ("synthetic-smoke" if args.smoke else "synthetic")
    root = ensure_synthetic_dataset(args.data or default, smoke=args.smoke)
    meta = read_meta(root)
    print(
        f"synthetic set {root} ({meta['height']}x{meta['width']}, seed {meta['seed']}), "
        f"split {args.split}: {len(meta['splits'][args.split])} clips"
    )
    table = evaluate(root, args.split, use_dis=not args.no_dis)
    header = f"{'baseline':34s} {'J':>6s}" + "".join(
        f" {'J ' + key:>9s}" for _, key, _, _ in HAZARDS
    )
    header += "".join(f" {'FP ' + column:>18s}" for _, _, _, column in HAZARDS)
    print(header)
    print("-" * len(header))
    for name, row in table.items():
        line = f"{name:34s} {row['J']:6.3f}"
        line += "".join(f" {row['J_' + key]:9.3f}" for _, key, _, _ in HAZARDS)
        line += "".join(f" {row['fp_' + key]:18.3f}" for _, key, _, _ in HAZARDS)
        print(line)
    print(
        f"(J: mean over frames then sequences; FP: share of the region's pixels called target; "
        f"{time.perf_counter() - start:.1f} s)"
    )


if __name__ == "__main__":
    main()

"""What DenseCRF does to a coarse map, and what it costs per frame.

    .venv/bin/python benchmarks/crf.py [--data DIR] [--every 10] [--grid 44]

Stands in for a network's output without needing trained weights: each
ground-truth mask is shrunk to ``grid x grid`` (352 / 8 = 44, the resolution
of FSNet's finest decoder level), blown back up bilinearly and blurred, which
gives the soft, slightly bloated edges of a real prediction. Each map is then
refined with the authors' DSS-CRF settings (one mean-field iteration) and,
side by side, with five iterations. Prints mean J and F (DAVIS, maps
binarised at 0.5) before and after, and the seconds per frame of the CRF.

Data: ``../shared/davis_sample`` (real 480 x 854 DAVIS frames) when present,
else the synthetic teaching set (generated on the fly, 240 x 320).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from fsnet_core.data.layouts import discover_sequences
from fsnet_core.inference.crf import DSS_CRF, CRFParams, refine
from fsnet_core.io.images import read_mask, read_rgb
from fsnet_core.metrics.uvos import f_boundary, jaccard

DAVIS_SAMPLE = Path(__file__).resolve().parents[1].parent / "shared" / "davis_sample"


def coarse_map(mask: np.ndarray, grid: int) -> np.ndarray:
    """A soft probability map with the blur of a low-resolution decoder."""
    h, w = mask.shape
    small = cv2.resize(mask.astype(np.float32), (grid, grid), interpolation=cv2.INTER_AREA)
    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(cv2.GaussianBlur(big, (0, 0), max(h, w) / grid / 2), 0.0, 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="DAVIS-layout folder")
    parser.add_argument("--every", type=int, default=10, help="use every N-th annotated frame")
    parser.add_argument("--grid", type=int, default=44, help="side of the coarse map")
    args = parser.parse_args()

    data = args.data
    if data is None and DAVIS_SAMPLE.is_dir():
        data = DAVIS_SAMPLE
    if data is None:
        from fsnet_core.data.synthetic import make_synthetic_dataset

        data = make_synthetic_dataset(Path(tempfile.mkdtemp()) / "synthetic")
    settings = {
        "coarse map": None,
        "DSS-CRF (1 it.)": DSS_CRF,
        "5 iterations": CRFParams(iterations=5),
    }
    scores: dict[str, list[tuple[float, float]]] = {name: [] for name in settings}
    seconds: dict[str, list[float]] = {name: [] for name in settings}
    shape = None
    for record in discover_sequences(data):
        annotated = [t for t, m in enumerate(record.masks) if m is not None][:: args.every]
        for t in annotated:
            frame, mask = read_rgb(record.frames[t]), read_mask(record.masks[t])
            shape = mask.shape
            prob = coarse_map(mask, args.grid)
            for name, params in settings.items():
                start = time.perf_counter()
                out = prob if params is None else refine(frame, prob, params)
                seconds[name].append(time.perf_counter() - start)
                scores[name].append((jaccard(out >= 0.5, mask), f_boundary(out >= 0.5, mask)))

    frames = len(scores["coarse map"])
    print(f"{data}: {frames} frames of {shape[0]}x{shape[1]}, coarse grid {args.grid}")
    print(f"{'map':<18}{'J mean':>8}{'F mean':>8}{'s/frame':>9}")
    for name in settings:
        j, f = np.mean(scores[name], axis=0)
        print(f"{name:<18}{j:>8.3f}{f:>8.3f}{statistics.median(seconds[name]):>9.3f}")


if __name__ == "__main__":
    main()

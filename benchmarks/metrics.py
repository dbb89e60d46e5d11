"""Speed of the U-VOS metrics against straightforward and official implementations.

Prints, measured side by side in one run (so machine load affects both):

* J and F per 480x854 frame: ``fsnet_core.metrics`` against the
  ``davis2017-evaluation`` functions (``davis2017/metrics.py``; pass
  ``--davis2017 PATH`` to a checkout to time the real ones, otherwise a plain
  re-implementation of them here: full-frame ``seg2bmap`` and ``cv2.dilate``
  with a disk);
* T per pair of frames: ``fsnet_core.metrics.stability`` against a
  straightforward port of the official DAVIS-2016 T (per-point shape
  contexts, the official broadcast chi-square cost, SciPy's Dijkstra on the
  matching grid) and, with ``--official-t CMD``, the official Python + C++
  code itself: CMD gets an ``.npz`` with a ``masks`` array and must print
  JSON ``{"values": [...], "seconds": s}`` (T of consecutive pairs, x5).

Frames come from ``../shared/davis_sample`` when present (predictions are
the ground truth eroded, shifted and speckled), else from a drawn sequence.

    .venv/bin/python benchmarks/metrics.py [--frames 12] [--sequences dog goat]
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fsnet_core.io.images import image_files, read_mask  # noqa: E402
from fsnet_core.metrics import reference, stability  # noqa: E402
from fsnet_core.metrics.uvos import f_boundary, jaccard  # noqa: E402

DAVIS_SAMPLE = ROOT.parent / "shared" / "davis_sample" / "Annotations" / "480p"


# ----------------------------------------------------------------------------- data
def load_sequences(names: list[str], n_frames: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(ground truth, prediction) mask stacks per sequence, 480x854."""
    out = {}
    if DAVIS_SAMPLE.is_dir():
        for name in names:
            files = list(image_files(DAVIS_SAMPLE / name).values())[1 : n_frames + 1]
            gt = np.stack([read_mask(f) for f in files])
            out[name] = (gt, perturb(gt))
        return out
    y, x = np.mgrid[:480, :854]
    frames = [
        ((y - 240) / 120.0) ** 2 + ((x - 300 - 6 * t) / (180.0 + 2 * t)) ** 2 <= 1
        for t in range(n_frames)
    ]
    gt = np.stack(frames)
    return {"drawn": (gt, perturb(gt))}


def perturb(masks: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(0)
    out = []
    for t, m in enumerate(masks):
        p = cv2.erode(m.astype(np.uint8), np.ones((5, 5), np.uint8))
        p = np.roll(p, (t % 3, -(t % 4)), axis=(0, 1)) > 0
        out.append(p ^ (rng.random(m.shape) < 0.0005))
    return np.stack(out)


def timed(fn: Callable[[], object], repeat: int = 1) -> tuple[float, object]:
    best, result = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


# ---------------------------------------------------- J and F: davis2017-evaluation style
def davis2017_metrics(path: str | None) -> tuple[Callable, Callable, str]:
    if path:
        sys.path.insert(0, path)
        module = importlib.import_module("davis2017.metrics")
        return module.db_eval_iou, module.f_measure, f"davis2017-evaluation ({path})"
    return reference.db_eval_iou, reference.f_measure, "davis2017-evaluation style (plain)"


def bench_jf(sequences, davis2017: str | None) -> None:
    ref_iou, ref_f, label = davis2017_metrics(davis2017)
    gts = np.concatenate([g for g, _ in sequences.values()])
    preds = np.concatenate([p for _, p in sequences.values()])
    n = len(gts)

    # Interleaved frame by frame (best of 3 each), so that load changes hit both alike.
    t_ours = t_ref = 0.0
    our_vals, ref_vals = [], []
    for p, g in zip(preds, gts, strict=True):
        dt, ours = timed(lambda p=p, g=g: (jaccard(p, g), f_boundary(p, g)), repeat=3)
        t_ours += dt
        dt, ref = timed(lambda p=p, g=g: (ref_iou(g, p), ref_f(p, g)), repeat=3)
        t_ref += dt
        our_vals.append(ours)
        ref_vals.append(ref)
    diff = np.max(np.abs(np.asarray(ref_vals, float) - np.asarray(our_vals, float)))
    print(f"J+F per {gts.shape[2]}x{gts.shape[1]} frame ({n} frames):")
    print(f"  fsnet_core.metrics        {1e3 * t_ours / n:8.2f} ms")
    speedup = f"-> fsnet_core is {t_ref / t_ours:.1f}x faster"
    print(f"  {label}\n  {'':<25} {1e3 * t_ref / n:8.2f} ms   {speedup}")
    print(f"  largest |difference| in J or F: {diff:.2e}")


def official_t(command: str, masks: np.ndarray) -> tuple[float, np.ndarray]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "masks.npz"
        np.savez(path, masks=masks)
        out = subprocess.run([*shlex.split(command), str(path)], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"--official-t command failed:\n{out.stderr}")
    data = json.loads(out.stdout)
    return data["seconds"], np.array([np.nan if v is None else v for v in data["values"]])


def bench_t(sequences, official_cmd: str | None, with_plain: bool) -> None:
    print("T per pair of consecutive frames:")
    totals = {"ours": 0.0, "plain": 0.0, "official": 0.0}
    n_pairs = 0
    for name, (_, preds) in sequences.items():
        t_ours, ours = timed(lambda p=preds: stability.sequence_temporal_stability(p))
        totals["ours"] += t_ours
        n_pairs += len(ours)
        line = f"  {name:<15} {len(ours):3d} pairs  fsnet_core {t_ours / len(ours):6.3f} s/pair"
        if with_plain:
            t_plain, plain = timed(
                lambda p=preds: [reference.t_pair(a, b) for a, b in zip(p[:-1], p[1:], strict=True)]
            )
            totals["plain"] += t_plain
            line += f" | straightforward {t_plain / len(ours):6.3f} s/pair"
            line += f" ({t_plain / t_ours:.1f}x)"
            line += f" max|dT| {np.nanmax(np.abs(np.asarray(plain) - ours)):.1e}"
        if official_cmd:
            t_off, off = official_t(official_cmd, preds)
            totals["official"] += t_off
            line += f" | official {t_off / len(ours):6.3f} s/pair ({t_off / t_ours:.1f}x)"
            line += f" max|dT| {np.nanmax(np.abs(off - ours)):.1e}"
        print(line)
    summary = f"  all             {n_pairs:3d} pairs  fsnet_core"
    summary += f" {totals['ours'] / n_pairs:6.3f} s/pair"
    for key, label in (("plain", "straightforward"), ("official", "official")):
        if totals[key]:
            summary += f" | {label} {totals[key] / n_pairs:6.3f} s/pair"
            summary += f" -> fsnet_core is {totals[key] / totals['ours']:.1f}x faster"
    print(summary)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sequences", nargs="+", default=["car-shadow", "dog", "libby"])
    parser.add_argument("--frames", type=int, default=10, help="frames per sequence for T")
    parser.add_argument("--jf-frames", type=int, default=30, help="frames per sequence for J and F")
    parser.add_argument("--davis2017", help="path to a davis2017-evaluation checkout")
    parser.add_argument("--official-t", metavar="CMD", help="command running the official T")
    parser.add_argument("--no-plain-t", action="store_true", help="skip the straightforward T")
    args = parser.parse_args()
    source = "../shared/davis_sample" if DAVIS_SAMPLE.is_dir() else "a drawn sequence"
    print(f"frames from {source}\n")
    bench_jf(load_sequences(args.sequences, args.jf_frames), args.davis2017)
    print()
    bench_t(load_sequences(args.sequences, args.frames), args.official_t, not args.no_plain_t)


if __name__ == "__main__":
    main()

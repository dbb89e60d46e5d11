"""Inference speed: float32 eager FSNet against the fast predictor, side by side.

    .venv/bin/python benchmarks/inference.py [--size 352] [--rounds 5] [--compile]
        [--checkpoint CKPT] [--backbone resnet50]

Both run in this process on the same inputs; rounds alternate between them so
that load from elsewhere on the machine hits both alike. Prints frames/s, the
ratio, and (for trained weights, ``--checkpoint``) the IoU of the binarised
masks (logit > 0) against float32 eager. The "unpacked" row is the predictor
without pre-packed oneDNN convolutions.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch

from fsnet_core import FSNet, FSNetPredictor, load_model
from fsnet_core.course.demo import drawn_pair
from fsnet_core.flow import flow_to_color
from fsnet_core.model.inputs import to_model_input


def _seconds(fn, image, flow) -> float:
    start = time.perf_counter()
    fn(image, flow)
    return time.perf_counter() - start


def _iou(a: torch.Tensor, b: torch.Tensor) -> float:
    union = (a | b).sum().item()
    return (a & b).sum().item() / union if union else 1.0  # both empty: they agree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=352)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backbone", default="resnet50")
    parser.add_argument("--checkpoint", help="trained weights (this package's or the authors')")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile")
    args = parser.parse_args()

    torch.manual_seed(0)
    model = load_model(args.checkpoint) if args.checkpoint else FSNet(backbone=args.backbone)
    model.eval()
    frame, flow_field, _ = drawn_pair(args.size, seed=1)
    image, flow = to_model_input(frame), to_model_input(flow_to_color(flow_field))

    def eager(x, y):
        with torch.inference_mode():
            return model(x, y)

    runners = {
        "float32 eager": eager,
        "predictor, unpacked": FSNetPredictor(model, pack=False),
        "predictor": FSNetPredictor(model),
    }
    if args.compile:
        compiled = FSNetPredictor(model, compile=True)
        start = time.perf_counter()
        compiled(image, flow)
        print(f"torch.compile warm-up: {time.perf_counter() - start:.0f} s (once per process)")
        runners["predictor + compile"] = compiled
    for run in runners.values():  # warm-up: oneDNN primitive caches, allocator
        run(image, flow)
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(args.rounds):
        for name, run in runners.items():
            times[name].append(_seconds(run, image, flow))

    reference = eager(image, flow).appearance > 0
    base = statistics.median(times["float32 eager"])
    print(
        f"FSNet {model.config.backbone} at {args.size}x{args.size}, batch 1, "
        f"{torch.get_num_threads()} threads, {platform.processor() or platform.machine()}, "
        f"torch {torch.__version__}"
    )
    if not args.checkpoint:
        print(
            "untrained weights: their masks say nothing, so no mask IoU is printed "
            "(pass --checkpoint; tests/test_predictor.py checks IoU >= 0.99 on a trained model)"
        )
    print(f"{'runner':<22}{'s/frame':>10}{'frames/s':>10}{'speed-up':>10}{'mask IoU':>10}")
    for name, run in runners.items():
        median = statistics.median(times[name])
        mask = run(image, flow).appearance > 0
        iou = f"{_iou(mask, reference):>10.4f}" if args.checkpoint else ""
        print(f"{name:<22}{median:>10.3f}{1 / median:>10.2f}{base / median:>9.2f}x{iou}")


if __name__ == "__main__":
    main()

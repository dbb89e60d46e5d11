"""``fsnet segment`` end to end against the network alone, on a 480p clip.

    .venv/bin/python benchmarks/segment.py [--frames 24] [--size 352] [--threads 2]
        [--backbone resnet50] [--checkpoint CKPT|course] [--backend auto] [--flow dis]

The clip is 854 x 480: the first ``--frames`` frames of DAVIS ``blackswan``
from ``../shared/davis_sample`` when present, else built-in synthetic frames
scaled up. The model is the paper's architecture (ResNet-50 streams, four
BPMs; random weights, which cost the same time as trained ones) at
``--size`` (352, as the paper), through the fast predictor (its default backend:
OpenVINO when installed); ``--checkpoint`` takes trained weights instead (``course``:
the notebooks' shared model, at the size it was trained at unless ``--size``). Three
figures, each per frame:

* model only: the predictor on the very inputs the run prepares, nothing else running;
* sequential: decode + flow + model + write one after the other (the sum of the stages);
* end to end: :func:`segment_video` (its pipeline overlaps the stages), after a warm-up run.

Model only and end to end alternate for ``--rounds`` rounds in this one process; the
table gives their medians.

The issue's target is end to end <= 1.3 x model only on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from fsnet_core.course.model_cache import newest_course_checkpoint
from fsnet_core.flow import make_estimator
from fsnet_core.inference import frames as FR
from fsnet_core.inference import segment as S
from fsnet_core.inference.checkpoints import trained_size
from fsnet_core.inference.predictor import FSNetPredictor
from fsnet_core.inference.writers import OverlayWriter, write_video
from fsnet_core.io.images import image_files, read_rgb
from fsnet_core.model import FSNet
from fsnet_core.model.serialization import load_model

DAVIS = Path(__file__).resolve().parents[2] / "shared" / "davis_sample"
SIDE = (854, 480)


def clip_frames(count: int) -> tuple[list[np.ndarray], str]:
    import cv2

    folder = DAVIS / "JPEGImages" / "480p" / "blackswan"
    if folder.is_dir():
        files = list(image_files(folder).values())[:count]
        return [read_rgb(p) for p in files], "DAVIS blackswan"
    from fsnet_core.data.layouts import discover_sequences
    from fsnet_core.data.synthetic import make_synthetic_dataset

    root = make_synthetic_dataset(Path(tempfile.mkdtemp()) / "synthetic", smoke=False)
    paths = [p for clip in discover_sequences(root, split="val") for p in clip.frames][:count]
    frames = [cv2.resize(read_rgb(p), SIDE, interpolation=cv2.INTER_CUBIC) for p in paths]
    return frames, "synthetic clips scaled to 854x480"


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """OpenCV and PyTorch on one thread for the block (then as they were)."""
    import cv2

    before = cv2.getNumThreads(), torch.get_num_threads()
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(before[0])
        torch.set_num_threads(before[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--size", type=int, default=None)
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--backbone", default="resnet50")
    parser.add_argument("--checkpoint", help="trained weights, or 'course' (the notebooks' model)")
    parser.add_argument("--backend", default="auto", help="auto, openvino or torch")
    parser.add_argument("--flow", default="dis")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.checkpoint:
        path = Path(args.checkpoint)
        if args.checkpoint == "course":
            path = newest_course_checkpoint()
        net, what_model = load_model(path).eval(), str(path)
        args.size = args.size or trained_size(path) or 352
    else:
        net, what_model = FSNet(backbone=args.backbone).eval(), f"FSNet {args.backbone}"
    args.size = args.size or 352

    frames, what = clip_frames(args.frames)
    work = Path(tempfile.mkdtemp(prefix="segment-bench-"))
    clip = write_video(frames, work / "clip.mp4", fps=24, crf=18)
    predictor = FSNetPredictor(net, device="cpu", backend=args.backend)
    n = len(frames)

    # Each stage alone, one after the other (the run without a pipeline).
    stage = dict.fromkeys(("decode", "flow", "model", "write"), 0.0)

    def timed(name: str, work):
        start = time.perf_counter()
        result = work()
        stage[name] += time.perf_counter() - start
        return result

    def decode() -> tuple[float, list]:
        fps, decoded = FR.open_frames(clip)
        return fps, list(FR.frame_pairs(decoded, fps, FR.Selection()))

    def write(folder: Path) -> None:
        outputs = S.FrameOutputs(folder, OverlayWriter(folder / "o.mp4", folder / "o.gif", fps, 23))
        for item, logit in zip(inputs, logits, strict=True):
            outputs.write((item.frame, logit))
        outputs.overlay.close()

    fps, pairs = timed("decode", decode)
    prepare = S.InputPreparer(make_estimator(args.flow), args.size, lambda frame: False)
    inputs = timed("flow", lambda: [prepare(pair) for pair in pairs])
    predictor(inputs[0].image, inputs[0].flow)  # warm-up
    logits = timed("model", lambda: [predictor(i.image, i.flow).appearance for i in inputs])
    timed("write", lambda: write(work / "seq"))

    # The same stages but the network on one thread each: their CPU time is the work itself
    # (threads waiting for each other spin, and that would count), which no pipeline avoids.
    work_done = {}
    with single_threaded():
        for name, run in (("decode", decode), ("flow", lambda: [prepare(p) for p in pairs]),
                          ("write", lambda: write(work / "one"))):  # fmt: skip
            start = time.process_time()
            run()
            work_done[name] = time.process_time() - start

    S.segment_video(clip, work / "warm", predictor, size=args.size, flow=args.flow,
                    selection=FR.Selection(max_frames=3), progress=False)  # fmt: skip
    # The network alone and the whole run alternate, so that load from elsewhere hits both alike.
    alone, whole = [], []
    for r in range(args.rounds):
        start = time.perf_counter()
        for item in inputs:
            predictor(item.image, item.flow)
        alone.append((time.perf_counter() - start) / n)
        summary = S.segment_video(clip, work / f"run{r}", predictor, size=args.size,
                                  flow=args.flow, progress=False)  # fmt: skip
        whole.append(summary.seconds / summary.frames)
    model_only, end_to_end = statistics.median(alone), statistics.median(whole)
    sequential = sum(stage.values()) / n
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{args.threads} torch threads; {n} frames of {what} (854x480), "
          f"{what_model} at {args.size}x{args.size}, flow {args.flow}; "
          f"network: {predictor.describe()}")  # fmt: skip
    print("stages alone, s/frame: " + ", ".join(f"{k} {v / n:.3f}" for k, v in stage.items()))
    print("their work on one thread, s/frame: "
          + ", ".join(f"{k} {v / n:.3f}" for k, v in work_done.items()))  # fmt: skip
    cores = os.cpu_count() or 1
    others = sum(work_done.values()) / n
    print(f"{'':24s}{'s/frame':>10s}{'x model':>10s}  (medians of {args.rounds} rounds)")
    for label, value in (("model only", model_only), ("sequential stages", sequential),
                         ("end to end (pipeline)", end_to_end)):  # fmt: skip
        print(f"{label:24s}{value:10.3f}{value / model_only:10.2f}")
    rounds = ", ".join(f"{w / a:.2f}" for a, w in zip(alone, whole, strict=True))
    print(f"end to end / model only, round by round: {rounds}")
    bound = (others + model_only) / cores  # the network does at least its own wall time of work
    print(f"decode, flow and write need {others:.3f} s of CPU a frame, the network at least "
          f"{model_only:.3f}: on {cores} cores no pipeline beats {bound:.3f} s/frame "
          f"= {bound / model_only:.2f}x model only")  # fmt: skip


if __name__ == "__main__":
    main()

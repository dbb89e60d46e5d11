"""CPU inference speed: the authors' float32 eager FSNet against every backend and precision.

    .venv/bin/python benchmarks/inference.py [--size 352] [--rounds 5] [--threads 2]
        [--checkpoint CKPT|course ...] [--frames 8] [--no-cap] [--compile] [--onnxruntime]

Every runner is timed in this one process on the same inputs (batch 1), rounds
alternating between them so that load from elsewhere hits all alike; the
table gives each one's median seconds per frame and its speed-up over the
authors' float32 eager model (this package's FSNet, which reproduces their
code to 1e-14, run as their ``infer.py`` runs it). The row ``FSNetPredictor()``
would choose on this machine is marked ``*``. Rows: PyTorch's predictor
(folded batch norm, pre-packed oneDNN convolutions) and OpenVINO (the ``cpu-engine``
extra), each in float32 and, where the CPU computes it natively, bfloat16;
``--compile`` adds the PyTorch predictor under ``torch.compile`` (minutes to compile),
``--onnxruntime`` ONNX Runtime (``pip install onnxruntime onnxscript``), the other
well-kept CPU engine, for comparison.

The CPU's instruction sets are detected and printed. On a CPU with more than
AVX2 (AVX-512, AMX), the same table is printed a second time from a child
process capped to AVX2 (``ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2``), the
machines most students have; ``--no-cap`` skips it.

Weights: the paper's architecture with random weights by default (they cost the
time trained ones do; their masks mean nothing). ``--checkpoint`` (repeatable;
``course``: the notebooks' shared model from the lab's cache) times the
checkpoint at ``--size`` instead of the paper model, and adds a mask
agreement table: the IoU of each runner's masks (logit > 0) with float32
eager on ``--frames`` drawn scenes, at the size the checkpoint was trained at
and at 352.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

from fsnet_core import FSNet, FSNetPredictor, load_model
from fsnet_core.course.demo import drawn_pair
from fsnet_core.course.model_cache import newest_course_checkpoint
from fsnet_core.flow import flow_to_color
from fsnet_core.inference import engine as E
from fsnet_core.inference.checkpoints import trained_size
from fsnet_core.inference.onednn import packing_supported
from fsnet_core.inference.predictor import choose_backend, default_precision
from fsnet_core.model.inputs import PAPER_SIZE, to_model_input

CAP = {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}
Runner = Callable[[torch.Tensor, torch.Tensor], object]


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return set(line.split(":", 1)[-1].split())


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def isa_line() -> str:
    """What the CPU offers and what oneDNN and OpenVINO use of it (a cap shows here)."""
    flags = cpu_flags()
    has = [n for n in ("avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16") if n in flags]
    text = f"{cpu_name()}; flags: {', '.join(has) or 'unknown'}; "
    text += f"PyTorch uses {torch.backends.cpu.get_cpu_capability()}"
    if E.engine_available():
        import openvino as ov

        caps = ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
        text += f", OpenVINO {', '.join(caps)}"
    capped = {k: os.environ[k] for k in CAP if k in os.environ}
    if capped:
        text += " (capped: " + " ".join(f"{k}={v}" for k, v in capped.items()) + ")"
    return text


def beyond_avx2() -> bool:
    """Whether the CPU has more than AVX2 for inference (AVX-512 or AMX)."""
    return bool({"avx512f", "amx_tile"} & cpu_flags())


def inputs(size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    frame, flow, _ = drawn_pair(size, seed=seed, random_position=True)
    return to_model_input(frame), to_model_input(flow_to_color(flow))


def native_torch_bf16() -> bool:
    """PyTorch's own test reads the CPU, not oneDNN's cap: capped to AVX2 there is no bf16."""
    return packing_supported(torch.bfloat16) and "ONEDNN_MAX_CPU_ISA" not in os.environ


def onnxruntime_runner(model: torch.nn.Module, size: int, threads: int) -> Runner:
    """ONNX Runtime on the CPU, for comparison (not a backend of the predictor).

    The graph comes from ``torch.onnx.export``'s dynamo exporter (the TorchScript one
    refuses the pyramid pooling's adaptive pools at this size); exporting takes about
    a minute and is not cached.
    """
    import onnxruntime as ort

    folder = Path(tempfile.mkdtemp(prefix="fsnet-onnx-"))
    example = torch.zeros(1, 3, size, size)
    with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (example, example), folder / "fsnet.onnx",
                          input_names=["image", "flow"], dynamo=True)  # fmt: skip
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    session = ort.InferenceSession(str(folder / "fsnet.onnx"), options,
                                   providers=["CPUExecutionProvider"])  # fmt: skip
    shutil.rmtree(folder, ignore_errors=True)

    def run(image: torch.Tensor, flow: torch.Tensor) -> object:
        return session.run(None, {"image": image.numpy(), "flow": flow.numpy()})

    return run


def runners(model: torch.nn.Module, compile: bool = False) -> dict[str, Runner]:
    """Every backend and precision this machine computes natively, eager first."""

    def eager(x, y):
        with torch.inference_mode():
            return model(x, y)

    found: dict[str, Runner] = {"authors' fp32 eager": eager}
    found["PyTorch predictor float32"] = FSNetPredictor(model, precision="float32", backend="torch")
    if native_torch_bf16():
        found["PyTorch predictor bfloat16"] = FSNetPredictor(
            model, precision="bfloat16", backend="torch"
        )
    if compile:
        found["PyTorch predictor + compile"] = FSNetPredictor(model, compile=True)
    if E.engine_available():
        found["OpenVINO float32"] = FSNetPredictor(model, precision="float32", backend="openvino")
        if E.engine_precision("bfloat16") == torch.bfloat16:
            found["OpenVINO bfloat16"] = FSNetPredictor(
                model, precision="bfloat16", backend="openvino"
            )
    return found


def default_row() -> str:
    """The row ``FSNetPredictor(model)`` runs on this machine."""
    cpu = torch.device("cpu")
    backend = choose_backend("auto", cpu)
    dtype = default_precision(cpu)
    if backend == "torch" and not native_torch_bf16():
        dtype = torch.float32
    precision = str(dtype).removeprefix("torch.")
    return f"{'OpenVINO' if backend == E.ENGINE else 'PyTorch predictor'} {precision}"


def conversions(found: dict[str, Runner]) -> list[str]:
    lines = []
    for name, run in found.items():
        engine = getattr(run, "engine", None)
        for c in engine.conversions if engine is not None else []:
            how = "from the cache" if c.cached else f"converted in {c.seconds:.1f} s"
            lines.append(f"{name}: {how} ({c.folder})")
    return lines


def time_table(
    model: torch.nn.Module, size: int, rounds: int, compile: bool, onnx: bool = False
) -> None:
    image, flow = inputs(size, seed=1)
    found = runners(model, compile)
    if onnx:
        found["ONNX Runtime float32"] = onnxruntime_runner(model, size, torch.get_num_threads())
    for run in found.values():  # warm-up: conversion, compilation, oneDNN primitive caches
        run(image, flow)
    times: dict[str, list[float]] = {name: [] for name in found}
    cpu: dict[str, list[float]] = {name: [] for name in found}
    matmul, rates = matmul_runner(), []
    for _ in range(rounds):
        rates.append(matmul())
        for name, run in found.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            run(image, flow)
            times[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    base = statistics.median(times["authors' fp32 eager"])
    base_cpu = statistics.median(cpu["authors' fp32 eager"])
    chosen = default_row()
    print(f"{'':2}{'runner':<30}{'s/frame':>9}{'frames/s':>10}{'speed-up':>10}"
          f"{'CPU s':>9}{'CPU ratio':>11}")  # fmt: skip
    for name, spent in times.items():
        median, work = statistics.median(spent), statistics.median(cpu[name])
        mark = "*" if name == chosen else " "
        print(f"{mark:2}{name:<30}{median:>9.3f}{1 / median:>10.2f}{base / median:>9.2f}x"
              f"{work:>9.3f}{base_cpu / work:>10.2f}x")  # fmt: skip
    print("* FSNetPredictor(model)'s default here; " + "; ".join(conversions(found)))
    best = min(min(spent) for spent in times.values())
    for line in ceiling_lines(model_gflops(model, size), max(rates), base, best):
        print(line)
    print("CPU s: CPU time of all the process's threads per frame (the work done, which load "
          "from other processes does not inflate as it does wall time)")  # fmt: skip


def model_gflops(model: torch.nn.Module, size: int) -> float:
    """Floating-point operations of one frame pair (a multiply-add counts two), in GFLOP."""
    from torch.utils.flop_counter import FlopCounterMode

    image, flow = inputs(size, seed=1)
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        model(image, flow)
    return counter.get_total_flops() / 1e9


def matmul_runner(side: int = 2048) -> Callable[[], float]:
    """A large float32 matrix product; each call returns the GFLOP/s it ran at.

    Convolutions computed as products run no faster than the machine's own GEMM, so
    its best rate bounds every float32 backend here. It is timed in the same
    alternating rounds as the runners, so others' load hits it alike.
    """
    a, b = torch.randn(side, side), torch.randn(side, side)
    torch.mm(a, b)

    def rate() -> float:
        start = time.perf_counter()
        torch.mm(a, b)
        return 2 * side**3 / (time.perf_counter() - start) / 1e9

    return rate


def ceiling_lines(work: float, rate: float, eager: float, best: float) -> list[str]:
    """What the float32 ceiling allows: ``work`` GFLOP a frame at ``rate`` GFLOP/s.

    ``rate`` is the matrix product's best round, ``best`` the fastest runner's best round
    and ``eager`` the authors' eager model's median, as in the table.
    """
    floor = work / rate
    return [
        f"work: {work:.1f} GFLOP a frame; float32 matrix product here: {rate:.0f} GFLOP/s "
        f"({torch.get_num_threads()} threads, best round): at that rate the frame's products "
        f"take at least {floor:.3f} s, {eager / floor:.2f}x the authors' eager (a float32 ceiling)",
        f"the authors' eager computes at {work / eager:.0f} GFLOP/s (median), the fastest row at "
        f"{work / best:.0f} GFLOP/s in its best round ({work / best / rate:.0%} of the matrix "
        "product's)",
    ]


def _iou(a: torch.Tensor, b: torch.Tensor) -> float:
    union = (a | b).sum().item()
    return (a & b).sum().item() / union if union else 1.0  # both empty: they agree


def agreement_table(model: torch.nn.Module, sizes: list[int], frames: int) -> None:
    """IoU of each runner's masks with float32 eager's, over ``frames`` scenes, per size."""
    found = runners(model)
    eager = found.pop("authors' fp32 eager")
    print(f"{'':2}{'runner':<30}" + "".join(f"{f'IoU @{s}':>11}" for s in sizes))
    ious: dict[str, list[float]] = {name: [] for name in found}
    for size in sizes:
        batch = [inputs(size, seed=100 + i) for i in range(frames)]
        reference = [eager(x, y).appearance > 0 for x, y in batch]
        for name, run in found.items():
            masks = [run(x, y).appearance > 0 for x, y in batch]
            inter = sum((m & r).sum().item() for m, r in zip(masks, reference, strict=True))
            union = sum((m | r).sum().item() for m, r in zip(masks, reference, strict=True))
            ious[name].append(inter / union if union else 1.0)
    chosen = default_row()
    for name, values in ious.items():
        mark = "*" if name == chosen else " "
        print(f"{mark:2}{name:<30}" + "".join(f"{v:>11.4f}" for v in values))


def load(spec: str) -> tuple[torch.nn.Module, Path, int]:
    try:
        path = newest_course_checkpoint() if spec == "course" else Path(spec)
    except FileNotFoundError as exc:
        sys.exit(str(exc))
    model = load_model(path).eval()
    return model, path, trained_size(path) or PAPER_SIZE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=None, help="timed input side (default 352)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="torch and OpenVINO threads")
    parser.add_argument("--backbone", default="resnet50", help="of the random-weight model")
    parser.add_argument(
        "--checkpoint", action="append", default=[], help="trained weights, or 'course'"
    )
    parser.add_argument("--frames", type=int, default=8, help="scenes for the mask agreement")
    parser.add_argument("--no-cap", action="store_true", help="skip the AVX2-capped table")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile")
    parser.add_argument(
        "--onnxruntime", action="store_true", help="also time ONNX Runtime (needs onnxruntime)"
    )
    parser.add_argument("--capped", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    if not args.capped:
        from fsnet_core.harness.openmp import others_cpu_use

        others = others_cpu_use(1.0)
        policy = os.environ.get("OMP_WAIT_POLICY", "default")
        load_text = "unknown" if others is None else f"{others:.1f} of {os.cpu_count()} cores"
        print(
            f"torch {torch.__version__}, {args.threads} threads, batch 1; others' load before "
            f"the run: {load_text}; OMP_WAIT_POLICY {policy}"
        )
        if not E.engine_available():
            print(E.engine_missing_note())
    print(f"CPU: {isa_line()}")
    if args.checkpoint:
        models = [load(spec) for spec in args.checkpoint]
    else:
        models = [(FSNet(backbone=args.backbone).eval(), None, PAPER_SIZE)]
    for model, path, trained in models:
        size = args.size or (trained if path is not None else PAPER_SIZE)
        what = path or f"random weights, {model.config.backbone}"
        print(f"\nFSNet ({what}) at {size}x{size}:")
        time_table(model, size, args.rounds, args.compile, args.onnxruntime)
        if path is None:
            print(
                "random weights: their masks say nothing, so no agreement is measured (pass "
                "--checkpoint; tests/test_engine.py checks IoU >= 0.99 on a trained model)"
            )
        else:
            sizes = sorted({trained, PAPER_SIZE})
            print(f"masks (logit > 0) against fp32 eager, {args.frames} drawn scenes, "
                  f"trained at {trained}:")  # fmt: skip
            agreement_table(model, sizes, args.frames)
    if args.capped or args.no_cap:
        return
    if not beyond_avx2():
        print("\nThis CPU is AVX2-only: the table above is the AVX2 figure.")
        return
    print(f"\nThe same, capped to AVX2 ({' '.join(f'{k}={v}' for k, v in CAP.items())}):")
    sys.stdout.flush()
    child = [sys.executable, __file__, "--capped", *sys.argv[1:]]
    subprocess.run(child, env={**os.environ, **CAP}, check=True)


if __name__ == "__main__":
    main()

"""Training throughput: float32 against mixed precision + channels-last, side by side.

One training step is what ``fsnet train`` does per scale: forward, the two
BCE losses, backward, an SGD step (momentum, weight decay; gradient scaling
for float16). The two configurations are timed in alternation (ABAB...) in
one process, so that load from other processes disturbs both alike; the
median step time gives images/s and the ratio.

* ``float32``: contiguous (NCHW) tensors, no autocast;
* ``mixed``: channels-last tensors under autocast, bfloat16 on CPU, float16
  (with a GradScaler) on CUDA.

Usage::

    python benchmarks/train.py [--size 352] [--batch 2] [--backbone resnet50] [--rounds 4]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch

from fsnet_core.model import FSNet
from fsnet_core.runtime import resolve_device
from fsnet_core.train.losses import forward_losses


class Stepper:
    """A model, its optimizer and one fixed batch in one memory layout and precision."""

    def __init__(self, args: argparse.Namespace, device: torch.device, mixed: bool) -> None:
        torch.manual_seed(0)
        self.device = device
        self.dtype = (torch.float16 if device.type == "cuda" else torch.bfloat16) if mixed else None
        self.layout = torch.channels_last if mixed else torch.contiguous_format
        self.model = FSNet(backbone=args.backbone).to(device, memory_format=self.layout).train()
        self.optimizer = torch.optim.SGD(
            self.model.parameters(), lr=2e-3, momentum=0.9, weight_decay=5e-4, foreach=True
        )
        use_scaler = self.dtype == torch.float16
        self.scaler = torch.amp.GradScaler("cuda") if use_scaler else None
        shape = (args.batch, 3, args.size, args.size)
        self.image = torch.randn(shape, device=device).contiguous(memory_format=self.layout)
        self.flow = torch.randn(shape, device=device).contiguous(memory_format=self.layout)
        mask = torch.zeros(args.batch, 1, args.size, args.size, device=device)
        mask[..., args.size // 4 : args.size // 2, args.size // 3 :] = 1.0
        self.mask = mask.contiguous(memory_format=self.layout)

    def step(self) -> float:
        """Seconds for one training step."""
        self._sync()
        start = time.perf_counter()
        loss = forward_losses(self.model, self.image, self.flow, self.mask, self.device, self.dtype)
        loss = loss.sum()
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self._sync()
        return time.perf_counter() - start

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=352)
    parser.add_argument("--batch", type=int, default=2, help=">= 2 (batch norm in train mode)")
    parser.add_argument(
        "--backbone", default="resnet50", choices=("resnet18", "resnet34", "resnet50")
    )
    parser.add_argument("--rounds", type=int, default=4, help="timed steps per configuration")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)

    steppers = {"float32": Stepper(args, device, False), "mixed": Stepper(args, device, True)}
    for stepper in steppers.values():  # warm-up: kernel selection, allocator, oneDNN caches
        stepper.step()
    times: dict[str, list[float]] = {name: [] for name in steppers}
    for _ in range(args.rounds):
        for name, stepper in steppers.items():
            times[name].append(stepper.step())

    cpu = f"CPU ({platform.processor() or platform.machine()})"
    where = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"{cpu}, threads: {torch.get_num_threads()}"
    )
    mixed_name = f"{'float16' if device.type == 'cuda' else 'bfloat16'} autocast + channels-last"
    print(
        f"FSNet {args.backbone} training step at {args.size}x{args.size}, batch {args.batch}, "
        f"{where}, torch {torch.__version__}; median of {args.rounds} alternating steps"
    )
    print(f"{'configuration':<40}{'s/step':>10}{'images/s':>10}")
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, label in (("float32", "float32, contiguous"), ("mixed", mixed_name)):
        print(f"{label:<40}{medians[name]:>10.3f}{args.batch / medians[name]:>10.2f}")
    print(f"speed-up (mixed / float32 images/s): {medians['float32'] / medians['mixed']:.2f}x")


if __name__ == "__main__":
    main()

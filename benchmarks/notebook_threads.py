"""OpenMP wait policy in a notebook kernel: spinning against passive waiting, idle and shared.

    .venv/bin/python benchmarks/notebook_threads.py [--steps 30] [--rounds 2]

Starts Jupyter kernels of this interpreter, as ``fsnet run-all`` does, and times
the same work in each: forward and backward passes of a ResNet-18 on a batch of
8 frames at 64 x 64 (the course model's streams and input size), with torch's
default thread count. Each policy (the OpenMP runtime's default, which spins a
while before sleeping, and ``OMP_WAIT_POLICY=PASSIVE``) runs on the idle machine
and next to one process that keeps a core busy; rounds alternate the policies.
Prints seconds per case and the ratios that ``fsnet_core.harness.openmp`` acts on.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

from jupyter_client.manager import start_new_kernel

WORK = """
import time, torch, torchvision
model, x = torchvision.models.resnet18(), torch.randn(8, 3, 64, 64)
for _ in range(3):
    model(x).sum().backward()
start = time.perf_counter()
for _ in range({steps}):
    model(x).sum().backward()
print("SECONDS", time.perf_counter() - start, torch.get_num_threads())
"""


def in_kernel(code: str, policy: str | None) -> float:
    """Run ``code`` in a fresh kernel with ``OMP_WAIT_POLICY=policy`` (None: unset)."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    printed: list[str] = []

    def keep_text(msg: dict) -> None:
        if msg["msg_type"] == "stream":
            printed.append(msg["content"]["text"])

    manager, client = start_new_kernel(kernel_name="python3", env=env)
    try:
        reply = client.execute_interactive(code, timeout=1800, output_hook=keep_text)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"the kernel failed: {reply['content'].get('evalue')}")
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    line = next(t for t in "".join(printed).splitlines() if t.startswith("SECONDS"))
    return float(line.split()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    code = WORK.format(steps=args.steps)
    policies = {"default": None, "PASSIVE": "PASSIVE"}
    times: dict[tuple[str, str], list[float]] = {}
    for load in ("idle", "one busy core"):
        spinner = None
        if load != "idle":
            spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            for _ in range(args.rounds):
                for name, policy in policies.items():
                    times.setdefault((load, name), []).append(in_kernel(code, policy))
        finally:
            if spinner:
                spinner.kill()
                spinner.wait()
    print(f"{os.cpu_count()} cores; {args.steps} ResNet-18 steps (8 x 3 x 64 x 64) per kernel")
    print(f"{'machine':<14} {'policy':<8} seconds (median of {args.rounds})")
    median = {key: statistics.median(values) for key, values in times.items()}
    for (load, name), seconds in median.items():
        print(f"{load:<14} {name:<8} {seconds:7.2f}")
    for load in ("idle", "one busy core"):
        ratio = median[(load, "PASSIVE")] / median[(load, "default")]
        print(f"{load}: PASSIVE takes {ratio:.2f}x the default's time")


if __name__ == "__main__":
    main()

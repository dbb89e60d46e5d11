"""The speed benchmarks run, and the bounds they print follow from the figures beside them."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_float32_ceiling_is_the_work_at_the_matrix_products_rate():
    first, second = load("inference").ceiling_lines(work=70.0, rate=175.0, eager=0.8, best=0.5)
    assert "70.0 GFLOP a frame" in first and "175 GFLOP/s" in first
    assert "at least 0.400 s, 2.00x the authors' eager" in first
    assert "eager computes at 88 GFLOP/s" in second
    assert "fastest row at 140 GFLOP/s in its best round (80% of" in second


def test_the_matrix_product_reports_a_plausible_rate():
    rate = load("inference").matmul_runner(side=256)()
    assert 0.01 < rate < 1e5  # GFLOP/s: a number, not a time or a count


def run(script: str, *args: str, home: Path) -> str:
    env = {**os.environ, "FSNET_LAB_HOME": str(home), "FSNET_LAB_BACKEND": "torch"}
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_segment_benchmark_prints_the_bound_its_own_figures_give(tmp_path):
    out = run("segment.py", "--frames", "4", "--size", "64", "--backbone", "resnet18",
              "--rounds", "1", "--backend", "torch", home=tmp_path)  # fmt: skip
    model_only = float(re.search(r"^model only\s+([\d.]+)", out, re.M).group(1))
    assert re.search(r"^end to end \(pipeline\)\s+[\d.]+", out, re.M)
    work = re.search(r"one thread, s/frame: decode ([\d.]+), flow ([\d.]+), write ([\d.]+)", out)
    others = sum(float(v) for v in work.groups())
    bound = re.search(
        r"need ([\d.]+) s of CPU a frame, the network at least ([\d.]+): on (\d+) cores no "
        r"pipeline beats ([\d.]+) s/frame = ([\d.]+)x model only",
        out,
    )
    assert bound, out
    need, network, cores, floor, ratio = (float(v) for v in bound.groups())
    assert need == pytest.approx(others, abs=0.002)
    assert network == pytest.approx(model_only, abs=0.0005)
    assert floor == pytest.approx((need + network) / cores, abs=0.002)
    assert ratio == pytest.approx(floor / model_only, rel=0.1)

"""Shared fixtures: the official parity vectors and the optional DAVIS sample."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
REFERENCE_DIR = REPO / "tests" / "data" / "fsnet_reference"
DAVIS_SAMPLE = REPO.parent / "shared" / "davis_sample"


def _reference_module():
    spec = importlib.util.spec_from_file_location(
        "reference_weights", REFERENCE_DIR / "reference_weights.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def official_reference_state() -> dict[str, torch.Tensor]:
    """The deterministic official-format weights, keys as in the authors' DataParallel file."""
    ref = _reference_module()
    return {"module." + k: torch.from_numpy(v) for k, v in ref.official_state_dict().items()}


@pytest.fixture(scope="session")
def official_keys() -> list[tuple[str, tuple[int, ...]]]:
    return _reference_module().official_keys(REFERENCE_DIR / "official_keys.txt")


@pytest.fixture(scope="session")
def parity_cases() -> dict[str, np.ndarray]:
    with np.load(REFERENCE_DIR / "cases.npz") as data:
        return dict(data)


@pytest.fixture(scope="session")
def davis_sample() -> Path:
    if not (DAVIS_SAMPLE / "JPEGImages").is_dir():
        pytest.skip("../shared/davis_sample is not present")
    return DAVIS_SAMPLE

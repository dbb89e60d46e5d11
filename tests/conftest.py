"""Shared fixtures: the official parity vectors and the optional DAVIS sample."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from colab_env import colab_installed, colab_python  # noqa: F401 (session fixtures)
from drawn import train_tiny

# Predictors in the suite run on PyTorch (the reference), so that a test does not convert its
# model for OpenVINO first; tests/test_engine.py chooses the engine itself. A value set outside
# wins, and the notebooks' kernels inherit it.
os.environ.setdefault("FSNET_LAB_BACKEND", "torch")

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


@pytest.fixture()
def single_thread():
    """One torch thread for the test: two threads on a busy 2-core machine are many times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_fsnet():
    """A factory of tiny eval-mode FSNets (ResNet-18, 8 channels) with PyTorch's default conv
    init, so that outputs and gates depend on the inputs clearly (the authors' N(0, 0.01)
    head init makes an untrained model almost constant). Keyword arguments go to FSNet."""
    from torch import nn

    from fsnet_core import FSNet

    def make(**overrides) -> FSNet:
        torch.manual_seed(0)
        model = FSNet(**{"backbone": "resnet18", "channels": 8, "num_bpm": 1, **overrides})
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                module.reset_parameters()
        return model.eval()

    return make


@pytest.fixture(scope="session")
def trained_model():
    """A small FSNet (ResNet-18, 16 channels) trained for a few steps at 64 px, so that its
    masks mean something: agreement between backends is then not vacuous."""
    return train_tiny()

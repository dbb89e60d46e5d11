"""Where and in what precision to compute: one policy for training, validation and inference.

A device ``auto`` is the GPU when CUDA is available, else the CPU. A precision
``auto`` is the fastest dtype the device computes natively: float16 on CUDA
(training adds gradient scaling), bfloat16 on CPUs with native bfloat16
(AVX512-BF16, AMX), float32 elsewhere, where emulated bfloat16 would be slower.

Where the lab keeps its files (:func:`lab_path`) is decided here too, so that every
layer (the course models, the CPU engine's converted models) finds the same folder.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Literal

import torch

Precision = Literal["auto", "float32", "bfloat16", "float16"]
PRECISIONS: tuple[str, ...] = ("auto", "float32", "bfloat16", "float16")


def resolve_device(
    device: str | torch.device = "auto", local_rank: int | None = None
) -> torch.device:
    """The device to compute on: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.

    ``auto`` is the GPU when CUDA is available, else the CPU. ``local_rank`` is
    this process's place on its machine under ``torchrun``: a bare ``cuda``
    then means that GPU. Asking for CUDA where there is none is an error here,
    not a failure deep inside the first forward pass.
    """
    name = str(device)
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and local_rank is not None:
        name = f"cuda:{local_rank}"
    resolved = torch.device(name)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} requested but CUDA is not available")
    return resolved


def resolve_precision(precision: Precision | str, device: torch.device) -> torch.dtype:
    """The dtype to compute in for ``precision`` on ``device``."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "float32":
        return torch.float32
    if precision == "bfloat16":
        return torch.bfloat16
    if precision == "float16":
        return torch.float16
    if device.type == "cuda":
        return torch.float16
    if device.type == "cpu" and torch.backends.mkldnn.is_available():
        if torch.ops.mkldnn._is_mkldnn_bf16_supported():
            return torch.bfloat16
    return torch.float32


def autocast_dtype(precision: Precision | str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for training and validation; ``None`` for float32 (no autocast)."""
    dtype = resolve_precision(precision, device)
    return None if dtype == torch.float32 else dtype


def autocast_context(device: torch.device, dtype: torch.dtype | None):
    """``torch.autocast`` for ``dtype`` on ``device``, or nothing for float32."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)


HOME_ENV = "FSNET_LAB_HOME"
CHECKOUT = Path(__file__).resolve().parents[1]
"""The folder holding ``pyproject.toml`` when the package runs from a source checkout."""


def checkout_root() -> Path | None:
    """The source checkout's root, or ``None`` for an installed package (e.g. on Colab)."""
    return CHECKOUT if (CHECKOUT / "pyproject.toml").is_file() else None


def lab_path(*parts: str) -> Path:
    """``parts`` under ``$FSNET_LAB_HOME`` when set, else under the checkout root when
    running from a source checkout, else under ``.``."""
    home = os.environ.get(HOME_ENV)
    return (Path(home) if home else checkout_root() or Path.cwd()).joinpath(*parts)


__all__ = [
    "CHECKOUT",
    "HOME_ENV",
    "PRECISIONS",
    "Precision",
    "autocast_context",
    "autocast_dtype",
    "checkout_root",
    "lab_path",
    "resolve_device",
    "resolve_precision",
]

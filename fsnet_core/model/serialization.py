"""Saving and loading models: this package's checkpoints and the authors' files alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..io import atomic_write
from .config import FSNetConfig
from .fsnet import FSNet
from .official import CheckpointMismatch, load_official_weights, read_state_dict

FORMAT = "fsnet-lab/1"


def save_model(model: FSNet, path: str | Path, **extra: Any) -> Path:
    """Write ``{"format", "config", "model", **extra}`` atomically (temporary file, then rename)."""
    payload = {"format": FORMAT, "config": model.config.to_dict(), "model": model.state_dict()}
    payload.update(extra)
    with atomic_write(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


def load_model(path: str | Path, map_location: str | torch.device = "cpu") -> FSNet:
    """An :class:`FSNet` from a file written by :func:`save_model` or the authors' checkpoint."""
    state = read_state_dict(path)
    if state.get("format") == FORMAT:
        model = FSNet(FSNetConfig.from_dict(state["config"]))
        try:
            model.load_state_dict(state["model"], strict=True)
        except RuntimeError as exc:
            raise CheckpointMismatch(f"{path}: {exc}") from exc
    else:
        try:
            model = load_official_weights(FSNet(), state)
        except CheckpointMismatch as exc:
            raise CheckpointMismatch(f"{path}: {exc}") from exc
    return model.to(map_location).eval()

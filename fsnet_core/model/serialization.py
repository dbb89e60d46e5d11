"""Saving and loading models: this package's checkpoints and the authors' files alike."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ..io import atomic_write
from .architecture import FSNet
from .config import FSNetConfig
from .official import CheckpointMismatch, load_official_weights, mismatches, read_state_dict

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
        config, weights = FSNetConfig.from_dict(state["config"]), state["model"]
        disagree = config_disagreements(config, weights)
        if disagree:
            raise CheckpointMismatch(
                f"{path}: its configuration does not match its weights: " + "; ".join(disagree)
            )
        model = FSNet(config)
        parts = mismatches(model.state_dict(), weights)
        if parts:
            raise CheckpointMismatch(
                f"{path}: its weights do not fit its configuration {config}: " + "; ".join(parts)
            )
        model.load_state_dict(weights, strict=True)
    else:
        try:
            model = load_official_weights(FSNet(), state)
        except CheckpointMismatch as exc:
            raise CheckpointMismatch(f"{path}: {exc}") from exc
    return model.to(map_location).eval()


def _distinct(state: Mapping[str, Any], prefix: str, part: int) -> set[str]:
    """The names at dot-position ``part`` of the keys starting with ``prefix``."""
    return {k.split(".")[part] for k in state if k.startswith(prefix)}


def weights_architecture(state: Mapping[str, torch.Tensor]) -> dict[str, Any]:
    """The configuration fields a state dict of this package's FSNet determines by itself.

    ``backbone`` (bottleneck blocks, or the depth of stage 3), ``channels``,
    ``num_bpm``, ``rcam`` (which gates have weights), ``bpm`` and the number
    of pyramid-pooling bins (their sizes carry no weights).
    """
    found: dict[str, Any] = {}
    if "appearance.layer1.0.conv3.weight" in state:
        found["backbone"] = "resnet50"
    elif depth := len(_distinct(state, "appearance.layer3.", 2)):
        found["backbone"] = {2: "resnet18", 6: "resnet34"}.get(depth, f"{depth} blocks deep")
    if "reduce_fused.0.0.conv.weight" in state:
        found["channels"] = state["reduce_fused.0.0.conv.weight"].shape[0]
    found["num_bpm"] = len(_distinct(state, "bpms.", 1))
    gates = _distinct(state, "rcam.0.", 2)
    found["rcam"] = "full" if len(gates) == 2 else next(iter(gates), "none")
    kinds = _distinct(state, "bpms.0.", 2)
    if kinds:
        found["bpm"] = "both" if len(kinds) == 2 else next(iter(kinds))
    found["ppm_bins"] = len(_distinct(state, "decoder_fused.ppm.0.branches.", 4))
    return found


def config_disagreements(config: FSNetConfig, state: Mapping[str, torch.Tensor]) -> list[str]:
    """Each configuration field the weights contradict, e.g. ``channels 32 but weights have 64``."""
    said = config.to_dict()
    said["ppm_bins"] = len(config.ppm_bins)
    out = []
    for field, theirs in weights_architecture(state).items():
        if said[field] != theirs:
            ours = f"{config.ppm_bins} ({said[field]} bins)" if field == "ppm_bins" else said[field]
            verb = "are" if field == "backbone" else "have"
            unit = " bins" if field == "ppm_bins" else ""
            out.append(f"{field} {ours} but weights {verb} {theirs}{unit}")
    return out

"""What made an output folder's files, recorded beside them and checked before a run adds more.

``fsnet infer`` and ``fsnet segment`` resume an interrupted run by keeping the
files already there. That is right only when the same model, input and
settings made them, so each writes a manifest (JSON) before its first file,
and a later run into the same folder compares its own with
:func:`check_made_alike`: a difference is refused, naming what differs,
rather than mixing two runs' files under one manifest.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from torch import nn

from ..io import InputError, sha256_of, state_digest
from .predictor import FSNetPredictor

ModelSource = str | os.PathLike | nn.Module | FSNetPredictor
"""A checkpoint path (this package's or the authors'), an FSNet, or a predictor."""


def model_digest(model: ModelSource) -> str:
    """SHA-256 of a checkpoint file, or of a model's (or predictor's) weights."""
    if isinstance(model, (str, os.PathLike)):
        return "file:" + sha256_of(model)
    if isinstance(model, FSNetPredictor):
        return "weights:" + model.digest()
    return "weights:" + state_digest(model)


def model_entry(model: ModelSource) -> dict[str, Any]:
    """The manifest's ``model``: its digest, and for a file its path and size."""
    entry: dict[str, Any] = {"digest": model_digest(model)}
    if isinstance(model, (str, os.PathLike)):
        entry |= {"checkpoint": str(Path(model).resolve()), "bytes": Path(model).stat().st_size}
    return entry


def package_version() -> str | None:
    """This package's version, None when run from a source tree that is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("fsnet-lab")
    except PackageNotFoundError:
        return None


def _compared(value: Any) -> Any:
    """What decides sameness: an entry with a ``digest`` (a model, a video) is its digest."""
    return value.get("digest") if isinstance(value, dict) else value


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("path") or value.get("checkpoint") or "an in-memory model")
    return repr(value)


def differences(
    found: Mapping[str, Any],
    wanted: Mapping[str, Any],
    keys: Sequence[str],
    labels: Mapping[str, str] | None = None,
) -> list[str]:
    """``"label (X before, Y now)"`` for each of ``keys`` whose value differs."""
    out = []
    for key in keys:
        before, now = found.get(key), wanted.get(key)
        if _compared(before) == _compared(now):
            continue
        label = (labels or {}).get(key, key)
        if isinstance(now, dict) and _shown(before) == _shown(now):
            out.append(f"{label} ({_shown(now)}, whose content has changed)")
        else:
            out.append(f"{label} ({_shown(before)} before, {_shown(now)} now)")
    return out


def read_manifest(path: Path, *, has_outputs: bool, outputs: str = "maps") -> dict | None:
    """The manifest at ``path``; None when there is none and nothing it would describe.

    InputError when outputs are there without a manifest (what made them is
    unknown) or when it cannot be read.
    """
    if not path.is_file():
        if has_outputs:
            raise InputError(
                path.parent,
                f"holds {outputs} but no {path.name}, so what made them is unknown: "
                f"use another --out, or --force to rewrite the {outputs}",
            )
        return None
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(path, f"unreadable ({exc}); --force rewrites the {outputs}") from None
    if not isinstance(found, dict):
        raise InputError(path, f"not a manifest (a JSON object); --force rewrites the {outputs}")
    return found


def check_made_alike(
    path: Path,
    wanted: Mapping[str, Any],
    keys: Sequence[str],
    *,
    has_outputs: bool,
    outputs: str = "maps",
    labels: Mapping[str, str] | None = None,
) -> dict | None:
    """Refuse (InputError) when the manifest at ``path`` records other ``keys`` than ``wanted``.

    Returns the manifest found (None when there is none and no outputs).
    """
    found = read_manifest(path, has_outputs=has_outputs, outputs=outputs)
    if found is None:
        return None
    changed = differences(found, wanted, keys, labels)
    if changed:
        raise InputError(
            path.parent,
            f"holds {outputs} made with another {'; '.join(changed)}: refusing to mix "
            f"{outputs}; use another --out, or --force to rewrite the {outputs}",
        )
    return found


__all__ = [
    "ModelSource",
    "check_made_alike",
    "differences",
    "model_digest",
    "model_entry",
    "package_version",
    "read_manifest",
]

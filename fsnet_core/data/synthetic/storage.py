"""The set on disk: writing the DAVIS-layout folder and ``meta.json``, reading regions back.

See :mod:`fsnet_core.data.synthetic` for the layout. A set is built in a
hidden folder and renamed into place, ``meta.json`` last, so an interrupted
run never leaves a set that looks complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from ...flow import flow_to_color, write_flo
from ...io import InputError, atomic_write
from .regions import REGION_NAMES, TARGET
from .renderer import Scene
from .scenes import SyntheticConfig, clip_hazards, clip_rng, make_scene

GENERATOR_VERSION = 2
DEFAULT_SYNTHETIC_DIR = Path("data") / "synthetic"
FLOW_SOURCE = "gt"
JPEG_QUALITY = 95


def _write_clip(root: Path, name: str, scene: Scene, frames: int) -> None:
    folders = {
        key: root / sub / name
        for key, sub in (
            ("img", "JPEGImages/480p"),
            ("ann", "Annotations/480p"),
            ("reg", "Regions/480p"),
            ("flo", f"Flow/{FLOW_SOURCE}"),
            ("flow_img", f"FlowImages/{FLOW_SOURCE}"),
        )
    }
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    for t in range(frames):
        frame, labels, flow = scene.render(t)
        stem = f"{t:05d}"
        cv2.imwrite(
            str(folders["img"] / f"{stem}.jpg"),
            cv2.cvtColor(frame, cv2.COLOR_RGB2BGR),
            [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY],
        )
        cv2.imwrite(
            str(folders["ann"] / f"{stem}.png"), np.where(labels == TARGET, 255, 0).astype(np.uint8)
        )
        cv2.imwrite(str(folders["reg"] / f"{stem}.png"), labels)
        if t < frames - 1:  # the last frame has no successor, hence no flow
            write_flo(folders["flo"] / f"{stem}.flo", flow)
            colour = cv2.cvtColor(flow_to_color(flow), cv2.COLOR_RGB2BGR)
            cv2.imwrite(str(folders["flow_img"] / f"{stem}.png"), colour)


def _make_clip(root: Path, cfg: SyntheticConfig, seed: int, split: str, index: int) -> dict:
    """Render and write one clip; return its meta entry (with its name)."""
    scene = make_scene(clip_rng(seed, split, index), cfg, clip_hazards(index))
    d = scene.description
    name = f"{split}-{index:02d}-{d['shape']}-{d['texture']}"
    frames = cfg.clip_frames(split)
    _write_clip(root, name, scene, frames)
    return {"name": name, "split": split, "frames": frames, **d}


def _build(root: Path, cfg: SyntheticConfig, seed: int, smoke: bool) -> dict:
    counts = {"train": cfg.train_clips, "val": cfg.val_clips}
    clips = [
        _make_clip(root, cfg, seed, split, i) for split in counts for i in range(counts[split])
    ]
    splits = {split: [c["name"] for c in clips if c["split"] == split] for split in counts}
    sequences = {c.pop("name"): c for c in clips}
    lists = root / "ImageSets" / "2016"
    lists.mkdir(parents=True, exist_ok=True)
    for split, names in splits.items():
        (lists / f"{split}.txt").write_text("".join(f"{n}\n" for n in names))
    return {
        "generator": "fsnet_core.data.synthetic",
        "version": GENERATOR_VERSION,
        "seed": seed,
        "smoke": smoke,
        "height": cfg.height,
        "width": cfg.width,
        "frames_per_clip": cfg.frames,
        "train_frames_per_clip": cfg.train_frames,
        "flow_source": FLOW_SOURCE,
        "regions": {str(k): v for k, v in REGION_NAMES.items()},
        "splits": splits,
        "sequences": sequences,
    }


@contextlib.contextmanager
def _one_torch_thread() -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def read_regions(root: str | os.PathLike, sequence: str, frame: str) -> np.ndarray:
    """The ``H x W`` uint8 region labels (see :data:`REGION_NAMES`) of one synthetic frame."""
    path = Path(root) / "Regions" / "480p" / sequence / f"{frame}.png"
    labels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if labels is None:
        raise InputError(path, "region labels missing or unreadable")
    return labels


def read_meta(path: str | os.PathLike) -> dict | None:
    """The dataset's ``meta.json``, or None when the set is missing or incomplete."""
    meta = Path(path) / "meta.json"
    try:
        data = json.loads(meta.read_text())
    except (OSError, ValueError):
        return None
    return data if data.get("generator") == "fsnet_core.data.synthetic" else None


def make_synthetic_dataset(
    out_dir: str | os.PathLike,
    *,
    smoke: bool = False,
    seed: int = 0,
    overwrite: bool = False,
) -> Path:
    """Generate the teaching set into ``out_dir`` (DAVIS layout, exact flow); return its path.

    The set is built in a hidden folder beside ``out_dir`` and renamed into
    place, so ``out_dir`` is either absent, the previous set, or complete. An
    existing synthetic set is replaced only with ``overwrite=True``; a folder
    that is not a synthetic set is never replaced.
    """
    out = Path(out_dir)
    if out.exists():
        if read_meta(out) is None and any(out.iterdir()):
            raise InputError(
                out,
                "exists and is not a complete synthetic dataset (no meta.json); "
                "refusing to replace it: remove it or choose another folder",
            )
        if read_meta(out) is not None and not overwrite:
            raise InputError(out, "a synthetic dataset is already there (pass overwrite=True)")
    out.parent.mkdir(parents=True, exist_ok=True)
    cfg = SyntheticConfig.for_size(smoke)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        with _one_torch_thread():  # torch's colour coding thrashes when threads oversubscribe
            meta = _build(work, cfg, seed, smoke)
        with atomic_write(work / "meta.json") as tmp:
            tmp.write_text(json.dumps(meta, indent=1, sort_keys=True))
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            os.replace(out, old)
            os.replace(work, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            try:
                os.replace(work, out)
            except OSError:
                if read_meta(out) is None:
                    raise
                # another process finished the same job first; its set is as good as ours
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return out


def ensure_synthetic_dataset(
    path: str | os.PathLike | None = None, smoke: bool = False, seed: int = 0
) -> Path:
    """Return the synthetic set at ``path`` (default ``data/synthetic``), generating it only
    when it is missing, incomplete, or was made with another seed, size or generator version."""
    out = Path(path) if path is not None else DEFAULT_SYNTHETIC_DIR
    meta = read_meta(out)
    wanted = {"seed": seed, "smoke": smoke, "version": GENERATOR_VERSION}
    if meta is not None and all(meta.get(k) == v for k, v in wanted.items()):
        return out
    if meta is None and out.exists() and not any(out.iterdir()):
        out.rmdir()
    return make_synthetic_dataset(out, smoke=smoke, seed=seed, overwrite=meta is not None)

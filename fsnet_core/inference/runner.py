"""Run a model over a dataset and save its probability maps the way the authors' results are.

Each frame that has a flow (every frame but a sequence's last) becomes
``OUT/SEQ/FRAME.png``: the sigmoid of the appearance (fused) logits, resized
back to the frame's original resolution and stored as 8-bit (0-255), which is
what the authors' ``infer.py`` writes and what ``fsnet eval`` reads. As there,
the logits are resized bilinearly (corners aligned) *before* the sigmoid.
``minmax=True`` additionally stretches each map to its own full range, as the
authors' script does before saving; ``crf=True`` refines each map with
DenseCRF (:mod:`fsnet_core.inference.crf`) guided by the original frame.

Files are written atomically and existing ones are skipped unless ``force``,
so an interrupted run picks up where it stopped. ``OUT/fsnet_infer.json``
records what produces the maps (the model's digest, data folder, size, CRF,
min-max, flow source, precision, package version); a run whose settings
differ refuses to add its maps to that folder unless ``force``, which deletes
the old maps it replaces first, so an interrupted forced run never leaves
maps of two models side by side.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from ..data.datasets import VideoSegmentationDataset
from ..data.layouts import check_same_size
from ..extras import require
from ..io import InputError, atomic_write
from ..io.images import image_size, read_rgb, write_png
from .manifest import ModelSource, check_made_alike, model_entry, package_version
from .predictor import FSNetPredictor


@dataclass(frozen=True)
class InferenceSummary:
    """What :func:`run_inference` did and how fast.

    ``seconds`` is the whole run (reading, network, CRF, writing); ``model_seconds``
    the network alone, the figure the paper quotes (0.08 s/frame on a TITAN RTX).
    """

    frames: int
    skipped: int
    sequences: int
    seconds: float
    model_seconds: float
    out_dir: Path
    single_frame: tuple[str, ...] = ()
    """Sequences with one frame: no next frame, so no flow and no map."""
    network: str = ""
    """What ran the network (:meth:`FSNetPredictor.describe`), when it ran."""

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def model_fps(self) -> float:
        return self.frames / self.model_seconds if self.model_seconds > 0 else 0.0

    def __str__(self) -> str:
        text = (
            f"{self.frames} maps written to {self.out_dir} ({self.sequences} sequences, "
            f"{self.skipped} already there) in {self.seconds:.1f} s: {self.fps:.2f} frames/s "
            f"overall, {self.model_fps:.2f} frames/s for the network alone"
        )
        if self.network:
            text += f"\nnetwork: {self.network}"
        if self.single_frame:
            text += (
                f"\nnote: no maps for {len(self.single_frame)} sequence(s) of one frame "
                f"(no next frame, so no flow): {', '.join(self.single_frame)}"
            )
        return text


def make_predictor(
    source: ModelSource, *, device: str | torch.device | None = None, fast: bool = True
) -> FSNetPredictor:
    """A predictor from a checkpoint path (ours or the authors'), a model, or a predictor.

    ``fast``: the fast predictor (on the CPU OpenVINO when installed, else PyTorch
    with folded batch norm, channels-last and pre-packed convolutions; bfloat16 where
    the CPU computes it natively, float16 on CUDA); ``fast=False`` runs the plain
    float32 network on PyTorch. A predictor passed in is used as it is.
    """
    if isinstance(source, FSNetPredictor):
        return source
    if isinstance(source, (str, os.PathLike)):
        from ..model.serialization import load_model

        source = load_model(source)
    if not isinstance(source, nn.Module):
        raise TypeError(f"expected a checkpoint path, an FSNet or a predictor, got {type(source)}")
    if fast:
        return FSNetPredictor(source, device=device)
    return FSNetPredictor(
        source,
        device=device,
        precision="float32",
        channels_last=False,
        fold_bn=False,
        backend="torch",
    )


def to_uint8(prob: np.ndarray) -> np.ndarray:
    """Probabilities in [0, 1] to the 0-255 levels of a prediction PNG (rounded)."""
    return np.clip(np.rint(prob * 255.0), 0, 255).astype(np.uint8)


def full_size_probability(logits: torch.Tensor, size: tuple[int, int]) -> np.ndarray:
    """``1 x 1 x h x w`` logits as an ``H x W`` float32 probability map at the frame's size.

    The logits are resized (bilinear, corners aligned) *before* the sigmoid, as the
    authors' ``infer.py`` does.
    """
    full = F.interpolate(logits.float(), size=tuple(size), mode="bilinear", align_corners=True)
    return torch.sigmoid(full)[0, 0].cpu().numpy()


def _stretch(prob: np.ndarray) -> np.ndarray:
    """The authors' per-map min-max normalisation."""
    low, high = float(prob.min()), float(prob.max())
    return (prob - low) / (high - low + 1e-8)


def _frame_path(dataset: VideoSegmentationDataset, index: int) -> Path:
    record, t = dataset.samples[index]
    return record.frames[t]


def _collate(items: list[dict]) -> dict:
    return {
        "image": torch.stack([it["image"] for it in items]),
        "flow": torch.stack([it["flow"] for it in items]),
        "index": [it["index"] for it in items],
        "orig_size": [it["orig_size"] for it in items],
    }


@dataclass
class _Clock:
    model_seconds: float = 0.0


def _predict(
    predictor: FSNetPredictor,
    dataset: VideoSegmentationDataset,
    indices: Sequence[int],
    *,
    crf: bool,
    minmax: bool,
    batch_size: int,
    workers: int,
    clock: _Clock,
) -> Iterator[tuple[int, np.ndarray]]:
    """``(dataset index, H x W float32 probability map)`` for each index, in order."""
    if crf:
        from .crf import refine
    loader = DataLoader(
        torch.utils.data.Subset(dataset, list(indices)),
        batch_size=batch_size,
        num_workers=workers,
        collate_fn=_collate,
    )
    sync = torch.cuda.synchronize if predictor.device.type == "cuda" else (lambda: None)
    for batch in loader:
        start = time.perf_counter()
        logits = predictor(batch["image"], batch["flow"]).appearance
        sync()
        clock.model_seconds += time.perf_counter() - start
        for i, index in enumerate(batch["index"]):
            prob = full_size_probability(logits[i : i + 1], batch["orig_size"][i])
            if minmax:
                prob = _stretch(prob)
            if crf:
                prob = refine(read_rgb(_frame_path(dataset, index)), prob)
            yield index, prob


def _check_mask_sizes(dataset: VideoSegmentationDataset) -> None:
    """Every mask the dataset will read has its frame's size (image headers only).

    Done before any map is written, so a bad mask does not stop a run halfway.
    """
    for record, t in dataset.samples:
        if record.masks[t] is not None:
            frame = record.frames[t]
            check_same_size(record.masks[t], image_size(record.masks[t]), image_size(frame), frame)


MANIFEST = "fsnet_infer.json"
"""What produced the maps of a prediction folder (written by :func:`run_inference`)."""


def _flow_source_name(dataset: VideoSegmentationDataset) -> str | None:
    record, t = dataset.samples[0]
    flow = record.flows[t]
    if flow is None:
        return None
    parts = flow.parts
    return parts[parts.index("FlowImages") + 1] if "FlowImages" in parts else flow.parent.name


def _manifest(model: ModelSource, dataset: VideoSegmentationDataset, **settings) -> dict:
    return {
        "format": "fsnet-infer/1",
        "model": model_entry(model),
        "data": str(Path(dataset.root).resolve()),
        "flow_source": _flow_source_name(dataset),
        **settings,
        "fsnet_lab": package_version(),
    }


_COMPARED = ("model", "data", "flow_source", "size", "crf", "minmax", "fast")
_LABELS = {"model": "checkpoint/model"}


def _dataset(
    data_root: str | os.PathLike,
    split: str | None,
    layout: str,
    flow_source: str | None,
    size: int,
) -> VideoSegmentationDataset:
    return VideoSegmentationDataset(
        data_root,
        split=split,
        layout=layout,
        flow_source=flow_source,
        size=size,
        augment=False,
        require_masks=False,
    )


def run_inference(
    model: ModelSource,
    data_root: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    split: str | None = None,
    layout: str = "auto",
    flow_source: str | None = None,
    size: int = 352,
    crf: bool = False,
    minmax: bool = False,
    force: bool = False,
    batch_size: int = 4,
    workers: int = 0,
    device: str | torch.device | None = None,
    fast: bool = True,
    progress: bool = True,
) -> InferenceSummary:
    """Predict every frame with a flow under ``data_root`` and write ``out_dir/SEQ/FRAME.png``.

    ``model`` is a checkpoint path (this package's or the authors'), an FSNet
    or an :class:`FSNetPredictor`. ``flow_source`` picks the flow images (None:
    the dataset's ground truth or ``OF_FlowNet2``, else the only source). Maps
    already on disk are kept unless ``force``.
    """
    from tqdm.auto import tqdm

    if crf:  # say so before any work, not after the model has loaded
        require("pydensecrf.densecrf", "DenseCRF (--crf)")
    if isinstance(model, (str, os.PathLike)) and not Path(model).is_file():
        raise InputError(model, "checkpoint file not found")
    dataset = _dataset(data_root, split, layout, flow_source, size)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(out, "output path exists and is not a folder")
    _check_mask_sizes(dataset)
    targets = [out / record.name / f"{record.frames[t].stem}.png" for record, t in dataset.samples]
    manifest = _manifest(model, dataset, size=size, crf=crf, minmax=minmax, fast=fast, split=split)
    if force:  # rewrite: drop the maps this run replaces first, then record the new settings
        for path in targets:
            path.unlink(missing_ok=True)
    elif out.is_dir():
        has_maps = any(out.glob("*/*.png"))
        check_made_alike(out / MANIFEST, manifest, _COMPARED, has_outputs=has_maps, labels=_LABELS)
    pending = [i for i, path in enumerate(targets) if force or not path.is_file()]
    predicted = {record.name for record, _ in dataset.samples}
    single = tuple(r.name for r in dataset.records if r.name not in predicted)
    summary = InferenceSummary(
        0, len(targets) - len(pending), len(predicted), 0.0, 0.0, out, single_frame=single
    )
    if not pending:  # all done already: no need to load the model
        return summary
    predictor = make_predictor(model, device=device, fast=fast)
    manifest["backend"] = predictor.backend  # recorded, not compared: float32 maps agree
    with atomic_write(out / MANIFEST) as tmp:  # before the first map, so a resume is checked
        tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    clock = _Clock()
    start = time.perf_counter()
    maps = _predict(
        predictor,
        dataset,
        pending,
        crf=crf,
        minmax=minmax,
        batch_size=batch_size,
        workers=workers,
        clock=clock,
    )
    for index, prob in tqdm(
        maps, total=len(pending), desc="infer", unit="frame", disable=not progress
    ):
        write_png(targets[index], to_uint8(prob))
    return dataclasses.replace(
        summary,
        frames=len(pending),
        seconds=time.perf_counter() - start,
        model_seconds=clock.model_seconds,
        network=predictor.describe(),
    )


def predict_sequence(
    model: ModelSource,
    data_root: str | os.PathLike,
    sequence: str,
    *,
    split: str | None = None,
    layout: str = "auto",
    flow_source: str | None = None,
    size: int = 352,
    crf: bool = False,
    minmax: bool = False,
    batch_size: int = 4,
    device: str | torch.device | None = None,
    fast: bool = True,
) -> dict[str, np.ndarray]:
    """Probability maps of one sequence in memory, ``{frame stem: H x W float32}``, in order.

    For notebooks and widgets; the maps are those :func:`run_inference` would
    save, before the conversion to 8 bits. Pass a predictor to reuse it across calls.
    """
    dataset = _dataset(data_root, split, layout, flow_source, size)
    indices = [i for i, (record, _) in enumerate(dataset.samples) if record.name == sequence]
    if not indices:
        names = ", ".join(r.name for r in dataset.records)
        raise InputError(data_root, f"no sequence {sequence!r} with flow here (found: {names})")
    predictor = make_predictor(model, device=device, fast=fast)
    maps = _predict(
        predictor,
        dataset,
        indices,
        crf=crf,
        minmax=minmax,
        batch_size=batch_size,
        workers=0,
        clock=_Clock(),
    )
    return {_frame_path(dataset, i).stem: prob for i, prob in maps}


__all__ = [
    "InferenceSummary",
    "full_size_probability",
    "make_predictor",
    "predict_sequence",
    "run_inference",
    "to_uint8",
]

"""Segment a video of your own: frames in, a mask and a probability map per frame out.

:func:`segment_video` reads a video file or a folder of frames
(:mod:`.frames`), computes the optical flow of each frame (DIS on a CPU, RAFT
on a GPU), runs FSNet and writes, under ``OUT``::

    masks/NAME.png    binary mask (0/255) at the frame's size
    probs/NAME.png    8-bit probability map, as ``fsnet infer`` writes them
    overlay.mp4       the frames with the mask tinted red (H.264, yuv420p: plays in browsers)
    overlay.gif       the same, smaller and at most 10 frames/s
    segment.json      what made the maps (see below) and, once finished, the frames' names

``NAME`` is the frame's number in the video (``00042``) or the frame file's stem.

**Every frame gets a map, the last one included.** The authors' code (and
``fsnet infer``) pairs frame *t* with the flow from *t* to *t + 1*, so the
last frame of a sequence has no flow and no prediction. Here the last frame
gets the flow from *t* to *t - 1*, negated: at each pixel of frame *t* it
points where that pixel came from, so its opposite is where the pixel goes if
it keeps its speed, which is what the forward flow would show, laid out on
frame *t*'s own pixels. (The forward flow of *t - 1* as it is would be laid
out on frame *t - 1*'s pixels, shifted by the motion itself.)

**The flow is computed at the model's scale.** FSNet sees the flow as a
``size x size`` colour image, so the frames are first scaled (aspect kept)
until their shorter side is ``size`` (but not below 240 pixels, where DIS
starts to lose objects); finer motion detail would be thrown away by the
resize anyway. At 480p and ``size=352`` that halves DIS's work.

**Decoding, flow, the network and writing overlap** (:mod:`.pipeline`): each
runs in its own thread, linked by short queues, so the run takes little longer
than the network alone once it is the slowest stage (``benchmarks/segment.py``
measures both).

**Re-running with the same ``OUT`` keeps the maps already written** and loads
no model when there is nothing left to predict, so an interrupted run
(Ctrl-C) resumes. That is right only for maps of the same video, model, size,
precision and flow method: ``segment.json`` records them (the video by its
size and first MiB, the model by its digest) before the first map is written,
and a run with any of them changed is refused, naming what differs.
``force`` removes what segment wrote (the PNGs in ``masks/`` and ``probs/``,
the overlays, the manifest; nothing else in ``OUT``) and starts again.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from ..data.transforms import PairTransform
from ..flow import default_method, flow_to_color, make_estimator
from ..io import InputError, atomic_write, read_map, write_png
from ..model.inputs import PAPER_SIZE
from ..runtime import resolve_device
from .frames import FOLDER_FPS, Frame, Pair, Selection, frame_pairs, open_frames, source_identity
from .manifest import ModelSource, check_made_alike, model_entry, package_version
from .pipeline import Worker, in_background
from .predictor import FSNetPredictor, choose_backend, default_precision
from .runner import full_size_probability, make_predictor, to_uint8
from .writers import OverlayWriter, tint

MANIFEST = "segment.json"
FORMAT = "fsnet-segment/2"
_COMPARED = ("format", "source", "model", "size", "precision", "flow")
"""What must match for a run to add maps to a folder (the selection of frames need not)."""
_LABELS = {"format": "manifest format", "source": "video", "model": "checkpoint/model"}


@dataclass
class SegmentSummary:
    """What :func:`segment_video` did and how fast (``model_seconds``: the network alone).

    ``warnings``: one line each, e.g. a video shorter than its container declares.
    """

    out_dir: Path
    frames: int = 0
    computed: int = 0
    seconds: float = 0.0
    model_seconds: float = 0.0
    size: int = PAPER_SIZE
    names: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    network: str = ""
    """What ran the network (:meth:`FSNetPredictor.describe`), when it ran."""

    @property
    def seconds_per_frame(self) -> float:
        return self.seconds / self.computed if self.computed else 0.0

    @property
    def model_seconds_per_frame(self) -> float:
        return self.model_seconds / self.computed if self.computed else 0.0

    def __str__(self) -> str:
        done = self.frames - self.computed
        text = f"{self.frames} frames segmented into {self.out_dir} ({done} already there)"
        if self.computed:
            text += (
                f": {self.seconds_per_frame:.3f} s/frame overall, "
                f"{self.model_seconds_per_frame:.3f} s/frame in the network"
            )
        if self.network:
            text += f"\nnetwork: {self.network}"
        return text


class SegmentInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`segment_video`, raised once its threads have stopped.

    ``kept``: frames whose mask and map are in ``out_dir`` (a re-run keeps them).
    """

    def __init__(self, out_dir: Path, kept: int) -> None:
        super().__init__(f"{out_dir}: interrupted with the maps of {kept} frames kept")
        self.out_dir = out_dir
        self.kept = kept


@dataclass(frozen=True)
class _Prepared:
    frame: Frame
    image: torch.Tensor | None = None
    flow: torch.Tensor | None = None


FLOW_MIN_SIDE = 240
"""Flow is never computed on frames smaller than this (shorter side): DIS's 8-pixel
patches need that many to follow a DAVIS-sized object."""


def flow_scale(height: int, width: int, size: int) -> float:
    """The factor that brings a frame's shorter side down to ``size``, or to 240 if larger."""
    return min(1.0, max(size, FLOW_MIN_SIDE) / min(height, width))


class InputPreparer:
    """Turns a :class:`Pair` into the model's two inputs (the flow stage of the pipeline)."""

    def __init__(self, estimator: Any, size: int, done: Callable[[Frame], bool]) -> None:
        self.estimator = estimator
        self.size = size
        self.transform = PairTransform(size)
        self.done = done

    def __call__(self, pair: Pair) -> _Prepared:
        if self.done(pair.frame):
            return _Prepared(pair.frame)
        a, b = pair.frame.rgb, pair.partner.rgb
        scale = flow_scale(*a.shape[:2], self.size)
        if scale < 1.0:
            small = (round(a.shape[1] * scale), round(a.shape[0] * scale))
            a = cv2.resize(a, small, interpolation=cv2.INTER_AREA)
            b = cv2.resize(b, small, interpolation=cv2.INTER_AREA)
        flow = self.estimator(a, b)
        if pair.backward:
            flow = -flow
        image, flow_image, _ = self.transform(pair.frame.rgb, flow_to_color(flow), None)
        return _Prepared(pair.frame, image[None], flow_image[None])


class FrameOutputs:
    """Writes one frame's results: mask and probability PNGs, and its overlay frame."""

    def __init__(self, out: Path, overlay: OverlayWriter) -> None:
        self.out = out
        self.overlay = overlay

    def paths(self, frame: Frame) -> tuple[Path, Path]:
        return self.out / "masks" / f"{frame.name}.png", self.out / "probs" / f"{frame.name}.png"

    def exist(self, frame: Frame) -> bool:
        return all(p.is_file() for p in self.paths(frame))

    def write(self, item: tuple[Frame, torch.Tensor | None]) -> None:
        """``(frame, logits)``; logits None: the maps are on disk already, only the overlay."""
        frame, logits = item
        mask_path, prob_path = self.paths(frame)
        if logits is None:
            levels = read_map(prob_path)
        else:
            levels = to_uint8(full_size_probability(logits, frame.rgb.shape[:2]))
            write_png(prob_path, levels)
        mask = levels > 127  # probability > 0.5, i.e. logit > 0
        if logits is not None:
            write_png(mask_path, mask.astype(np.uint8) * 255)
        self.overlay.add(tint(frame.rgb, mask))


def authors_checkpoint(url: str | None = None, progress: bool = True) -> Path:
    """The authors' checkpoint, downloaded into the torch hub cache first if missing.

    Offline, the one-line :class:`~fsnet_core.io.WeightsUnavailable` also
    names the way round: a checkpoint of one's own.
    """
    from ..io import WeightsUnavailable
    from ..model.weights import FSNetWeights

    try:
        return FSNetWeights.DAVIS16_ICCV21.local_file(progress=progress, source=url)
    except WeightsUnavailable as exc:
        raise WeightsUnavailable(
            exc.path, f"{exc.problem}; or pass --checkpoint CKPT (model=...)"
        ) from exc


def _precision(model: ModelSource, device: torch.device) -> str:
    """The dtype the network will compute in (a predictor passed in keeps its own)."""
    dtype = model.dtype if isinstance(model, FSNetPredictor) else default_precision(device)
    return str(dtype).removeprefix("torch.")


def _backend(model: ModelSource, device: torch.device) -> str:
    """What will run the network: ``openvino`` or ``torch`` (a predictor passed in: its own)."""
    return model.backend if isinstance(model, FSNetPredictor) else choose_backend("auto", device)


def _kept(out: Path) -> int:
    """Frames with both their mask and their map on disk."""
    masks = {p.stem for p in (out / "masks").glob("*.png")}
    return len(masks & {p.stem for p in (out / "probs").glob("*.png")})


def _remove_outputs(out: Path) -> None:
    """Delete what segment writes in ``out`` (and its temporaries), nothing else."""
    for kind in ("masks", "probs"):
        for pattern in ("*.png", ".*.png.*.tmp"):
            for path in (out / kind).glob(pattern):
                path.unlink()
    for name in ("overlay.mp4", ".overlay.mp4.part", "overlay.gif", MANIFEST):
        (out / name).unlink(missing_ok=True)


def _finished_run(out: Path, found: dict | None, record: dict[str, Any]) -> list[str] | None:
    """The frame names of a complete earlier run of the same frames (no warnings), else None."""
    if not found or found.get("warnings"):
        return None
    names = found.get("frames")
    same = all(found.get(key) == record[key] for key in ("selection", "fps"))
    if not same or not isinstance(names, list) or not names:
        return None
    files = [out / "overlay.mp4", out / "overlay.gif"]
    files += [out / kind / f"{name}.png" for name in names for kind in ("masks", "probs")]
    return names if all(f.is_file() for f in files) else None


def _write_manifest(out: Path, record: dict[str, Any]) -> None:
    with atomic_write(out / MANIFEST) as tmp:
        tmp.write_text(json.dumps(record, indent=1) + "\n")


def segment_video(
    source: str | os.PathLike,
    out_dir: str | os.PathLike,
    model: ModelSource | None = None,
    *,
    size: int | None = None,
    selection: Selection | None = None,
    flow: str | None = None,
    crf: int = 23,
    fps: float = FOLDER_FPS,
    device: str | torch.device | None = None,
    force: bool = False,
    progress: bool = True,
    checkpoint_url: str | None = None,
    strict: bool = False,
) -> SegmentSummary:
    """Segment every selected frame of ``source`` (a video file or a folder of frames).

    ``model``: a checkpoint path (this package's or the authors'), an FSNet or
    a predictor; None downloads the authors' checkpoint when it is missing
    (from ``checkpoint_url`` if given). ``size``: the network's input side
    (default: the size the checkpoint was trained at if it says so, else 352).
    ``flow``: an estimator of :data:`fsnet_core.flow.METHODS` (default DIS on a
    CPU, RAFT small on a GPU). ``fps`` is the frame rate of a folder of frames.
    A video that ends before the frame count its container declares is a line
    in ``warnings`` of the summary, or an :class:`InputError` if ``strict``.
    Ctrl-C stops every thread and raises :class:`SegmentInterrupted`.
    """
    from tqdm.auto import tqdm

    from .checkpoints import trained_size

    start_time = time.perf_counter()
    selection = selection or Selection()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(out, "output path exists and is not a folder")
    source_id = source_identity(source)  # checks the source before any download
    if model is None:
        model = authors_checkpoint(checkpoint_url, progress)
    if isinstance(model, (str, os.PathLike)):
        if not Path(model).is_file():
            raise InputError(model, "checkpoint file not found")
        size = size or trained_size(model)
    size = size or PAPER_SIZE
    target = resolve_device(device or "auto")
    method = flow or default_method(target)
    record = {
        "format": FORMAT,
        "source": source_id,
        "model": model_entry(model),
        "size": size,
        "precision": _precision(model, target),
        "flow": method,
        "backend": _backend(model, target),  # recorded, not compared: float32 maps agree
        "selection": asdict(selection),
        "fps": fps,
        "fsnet_lab": package_version(),
    }
    has_maps = any(out.glob("masks/*.png")) or any(out.glob("probs/*.png"))
    if force:
        _remove_outputs(out)
        found = None
    else:
        found = check_made_alike(
            out / MANIFEST, record, _COMPARED, has_outputs=has_maps, labels=_LABELS
        )
    if (finished := _finished_run(out, found, record)) is not None:
        seconds = time.perf_counter() - start_time
        return SegmentSummary(out, len(finished), 0, seconds, 0.0, size, finished)

    summary = SegmentSummary(out, size=size)
    video_fps, frames = open_frames(source, fps, strict=strict, warn=summary.warnings.append)
    estimator = make_estimator(method, device=target)
    outputs = FrameOutputs(
        out,
        OverlayWriter(out / "overlay.mp4", out / "overlay.gif", video_fps / selection.every, crf),
    )
    pairs = in_background(frame_pairs(frames, video_fps, selection), name="decode")
    prepared = in_background(map(InputPreparer(estimator, size, outputs.exist), pairs), name="flow")
    writer = Worker(outputs.write)
    predictor: FSNetPredictor | None = None
    sync = torch.cuda.synchronize if target.type == "cuda" else (lambda: None)
    try:
        bar = tqdm(prepared, desc="segment", unit="frame", disable=not progress)
        with bar:
            for item in bar:
                summary.frames += 1
                summary.names.append(item.frame.name)
                logits = None
                if item.image is not None:
                    if predictor is None:
                        predictor = make_predictor(model, device=target)
                        _write_manifest(out, record)  # before the first map: a re-run checks it
                    tick = time.perf_counter()
                    logits = predictor(item.image, item.flow).appearance
                    sync()
                    summary.model_seconds += time.perf_counter() - tick
                    summary.computed += 1
                writer.submit((item.frame, logits))
        writer.close()
    except BaseException as exc:
        # Stop the stages upstream first, let the writer finish the maps it was
        # handed (whole files, kept for a re-run), then drop the partial overlay.
        for stage in (prepared, pairs, frames):
            stage.close()
        try:
            writer.close()
        except Exception:  # noqa: BLE001 - the error that stopped the run is the one to report
            pass
        outputs.overlay.abandon()
        if isinstance(exc, KeyboardInterrupt):
            raise SegmentInterrupted(out, _kept(out)) from None
        raise
    if summary.frames == 0:
        raise InputError(source, "no frames to segment (empty video or folder, or start too late)")
    outputs.overlay.close()
    summary.seconds = time.perf_counter() - start_time
    summary.network = predictor.describe() if predictor is not None else ""
    _write_manifest(out, {**record, "frames": summary.names, "warnings": summary.warnings})
    return summary


__all__ = [
    "FLOW_MIN_SIDE",
    "FrameOutputs",
    "InputPreparer",
    "SegmentInterrupted",
    "SegmentSummary",
    "authors_checkpoint",
    "flow_scale",
    "segment_video",
]

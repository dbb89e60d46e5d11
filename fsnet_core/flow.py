"""Optical flow: estimation, file formats and the colour coding FSNet's motion stream reads.

FSNet never sees raw flow vectors: like the authors' FlowNet2 images, each
field is drawn with the Middlebury colour wheel (hue = direction, saturation =
speed relative to the fastest pixel of the frame) and fed as an RGB image.

Three families of estimators produce the fields: OpenCV's DIS (the CPU
default: fast and good enough for teaching), OpenCV's Farnebäck (the classic
dense baseline) and torchvision's RAFT (small and large; accurate, on the GPU
when there is one, with weights downloaded by torchvision). :func:`compute_flow`
runs one of them over every sequence of a dataset folder and caches the
results on disk.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torchvision.utils import flow_to_image

from .io import InputError, atomic_write

FLO_MAGIC = 202021.25  # the Middlebury .flo tag ("PIEH" as a float32)
UNKNOWN_FLOW = 1e9  # Middlebury convention: components above this are "no ground truth"
METHODS: tuple[str, ...] = ("dis", "farneback", "raft-small", "raft-large")


# ---------------------------------------------------------------- file formats and colour


def flow_to_color(flow: np.ndarray) -> np.ndarray:
    """``H x W x 2`` flow (dx, dy in pixels) to an ``H x W x 3`` uint8 colour image.

    Uses torchvision's ``flow_to_image``, which normalises by the largest
    magnitude in the frame, as the FlowNet2 images of the authors are.
    """
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f"flow must be H x W x 2, got shape {flow.shape}")
    tensor = torch.from_numpy(np.ascontiguousarray(flow, dtype=np.float32)).permute(2, 0, 1)
    return flow_to_image(tensor).permute(1, 2, 0).numpy()


def write_flo(path: str | Path, flow: np.ndarray) -> Path:
    """Write a Middlebury ``.flo`` file atomically."""
    flow = np.asarray(flow, dtype=np.float32)
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f"flow must be H x W x 2, got shape {flow.shape}")
    h, w = flow.shape[:2]
    with atomic_write(path) as tmp, open(tmp, "wb") as f:
        np.array([FLO_MAGIC], np.float32).tofile(f)
        np.array([w, h], np.int32).tofile(f)
        flow.tofile(f)
    return Path(path)


def read_flo(path: str | Path) -> np.ndarray:
    """Read a Middlebury ``.flo`` file as ``H x W x 2`` float32; clear error if malformed."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "flow file not found")
    data = path.read_bytes()
    if len(data) < 12 or np.frombuffer(data[:4], np.float32)[0] != np.float32(FLO_MAGIC):
        raise InputError(path, "not a Middlebury .flo file (bad magic number)")
    w, h = (int(v) for v in np.frombuffer(data[4:12], np.int32))
    expected = 12 + w * h * 2 * 4
    if w <= 0 or h <= 0 or len(data) != expected:
        raise InputError(path, f"truncated or corrupt .flo: {len(data)} bytes, expected {expected}")
    return np.frombuffer(data[12:], np.float32).reshape(h, w, 2).copy()


def write_png(path: str | Path, rgb: np.ndarray) -> Path:
    """Write an RGB (or grey) uint8 image as PNG atomically.

    Encoded in memory first because OpenCV picks the format from the file
    name, and the temporary name of an atomic write has no image suffix.
    """
    image = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR) if rgb.ndim == 3 else rgb
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise ValueError(f"could not encode an image of shape {rgb.shape} as PNG")
    with atomic_write(path) as tmp:
        tmp.write_bytes(encoded.tobytes())
    return Path(path)


def end_point_error(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean Euclidean distance between two ``H x W x 2`` flow fields, in pixels.

    Pixels where ``mask`` is False, or where the ground truth is unknown
    (NaN or above the Middlebury 1e9 threshold), are left out.
    """
    if pred.shape != gt.shape or pred.ndim != 3 or pred.shape[2] != 2:
        raise ValueError(f"flow fields must both be H x W x 2, got {pred.shape} and {gt.shape}")
    valid = np.all(np.isfinite(gt) & (np.abs(gt) < UNKNOWN_FLOW), axis=2)
    if mask is not None:
        if mask.shape != gt.shape[:2]:
            raise ValueError(f"mask must be H x W = {gt.shape[:2]}, got {mask.shape}")
        valid &= mask.astype(bool)
    if not valid.any():
        raise ValueError("no valid pixel to compare (empty mask or unknown ground truth)")
    diff = pred[valid].astype(np.float64) - gt[valid].astype(np.float64)
    return float(np.sqrt((diff**2).sum(axis=1)).mean())


# ---------------------------------------------------------------- estimators


class FlowEstimator(abc.ABC):
    """Dense optical flow from frame ``a`` to frame ``b`` (``a(x) ~ b(x + flow(x))``).

    Frames are ``H x W x 3`` uint8 RGB arrays; fields are ``H x W x 2``
    float32 (dx, dy) in pixels. ``batch_size`` is how many pairs
    :meth:`estimate_batch` handles at once efficiently.
    """

    name: str = ""
    batch_size: int = 1

    def __call__(self, frame_a: np.ndarray, frame_b: np.ndarray) -> np.ndarray:
        return self.estimate_batch([frame_a], [frame_b])[0]

    def estimate_batch(
        self, firsts: Sequence[np.ndarray], seconds: Sequence[np.ndarray]
    ) -> list[np.ndarray]:
        """Flow for each pair ``(firsts[i], seconds[i])``."""
        if len(firsts) != len(seconds):
            raise ValueError(f"{len(firsts)} first frames but {len(seconds)} second frames")
        for a, b in zip(firsts, seconds, strict=True):
            if a.shape != b.shape or a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3:
                raise ValueError(
                    f"frames must be matching H x W x 3 uint8 arrays, got {a.shape} {a.dtype} "
                    f"and {b.shape} {b.dtype}"
                )
        return self._estimate(firsts, seconds)

    @abc.abstractmethod
    def _estimate(
        self, firsts: Sequence[np.ndarray], seconds: Sequence[np.ndarray]
    ) -> list[np.ndarray]: ...


class _GreyPairEstimator(FlowEstimator):
    """OpenCV methods: one pair at a time, on 8-bit grey images."""

    def _estimate(
        self, firsts: Sequence[np.ndarray], seconds: Sequence[np.ndarray]
    ) -> list[np.ndarray]:
        grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in (*firsts, *seconds)]
        n = len(firsts)
        return [self._pair(grey[i], grey[n + i]).astype(np.float32) for i in range(n)]

    @abc.abstractmethod
    def _pair(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: ...


class DISEstimator(_GreyPairEstimator):
    """OpenCV's Dense Inverse Search (Kroeger et al., ECCV 2016), the CPU default.

    The MEDIUM preset (8x8 patches every 3 pixels, searched down to half
    resolution, then 5 variational iterations) is used because at DAVIS
    sizes (240x320 to 480x854) the FAST preset stops at quarter resolution
    and smears thin, fast-moving parts: on the synthetic set's exact flow
    MEDIUM cuts the end-point error on the target by 40% (1.4 px against
    2.4 px; 0.29 against 0.48 px over all pixels) for a 4-5x cost, and still
    computes 8-12 pairs/s at 480x854 on 2 busy cores, so a DAVIS-2016
    sequence takes seconds (figures from ``benchmarks/flow.py``).
    """

    name = "dis"

    def __init__(self, preset: int = cv2.DISOpticalFlow_PRESET_MEDIUM) -> None:
        self._dis = cv2.DISOpticalFlow_create(preset)

    def _pair(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self._dis.calc(a, b, None)


class FarnebackEstimator(_GreyPairEstimator):
    """OpenCV's Farnebäck polynomial-expansion flow, the classic dense baseline.

    Five pyramid levels at scale 0.5 reach displacements of a few dozen
    pixels (DAVIS motions at 480p); a 15-pixel window with Gaussian
    weighting trades a little blur for robustness to JPEG noise.
    """

    name = "farneback"

    def __init__(
        self,
        pyr_scale: float = 0.5,
        levels: int = 5,
        winsize: int = 15,
        iterations: int = 3,
        poly_n: int = 5,
        poly_sigma: float = 1.2,
    ) -> None:
        self._params = (pyr_scale, levels, winsize, iterations, poly_n, poly_sigma)

    def _pair(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        flags = cv2.OPTFLOW_FARNEBACK_GAUSSIAN
        return cv2.calcOpticalFlowFarneback(a, b, None, *self._params, flags)


class WeightsUnavailableError(RuntimeError):
    """Pretrained weights could not be downloaded (typically: no internet)."""


def _raft_builder(size: str):
    from torchvision.models.optical_flow import (
        Raft_Large_Weights,
        Raft_Small_Weights,
        raft_large,
        raft_small,
    )

    if size == "small":
        return raft_small, Raft_Small_Weights.DEFAULT
    if size == "large":
        return raft_large, Raft_Large_Weights.DEFAULT
    raise ValueError(f"RAFT size must be 'small' or 'large', got {size!r}")


def torch_hub_checkpoint(url: str) -> Path:
    """Where torchvision keeps (and looks for) the weights file downloaded from ``url``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]


def load_torchvision_state(url: str, label: str, mirror: str | None = None) -> dict:
    """Load a torchvision weights file from the torch hub cache, downloading it if needed.

    ``mirror`` replaces the download address (the file keeps its official
    name, so torchvision's hash check still applies). Failure to download
    raises :class:`WeightsUnavailableError` saying where to put the file.
    """
    target = torch_hub_checkpoint(url)
    source = mirror or url
    try:
        return torch.hub.load_state_dict_from_url(
            source, map_location="cpu", progress=True, check_hash=True, file_name=target.name
        )
    except (OSError, RuntimeError) as exc:  # URLError and socket errors are OSErrors
        raise WeightsUnavailableError(
            f"could not download the {label} weights from {source} ({exc}). "
            "This machine may be offline. Either use a method that needs no weights "
            "(--method dis or --method farneback), or download the file on a machine with "
            f"internet access ({url}, or `fsnet download` there) and place it at {target}"
        ) from exc


class RAFTEstimator(FlowEstimator):
    """torchvision's RAFT (Teed and Deng, ECCV 2020), small or large, with ``DEFAULT`` weights.

    Frames are padded (edge replication) to multiples of 8 and at least
    128 pixels, which RAFT's 1/8-resolution correlation pyramid needs, and
    the flow is cropped back.
    Runs on the GPU when there is one, several pairs per batch.
    """

    def __init__(
        self,
        size: str = "small",
        device: str | torch.device | None = None,
        pretrained: bool = True,
        weights_mirror: str | None = None,
        num_flow_updates: int = 12,
        batch_size: int | None = None,
    ) -> None:
        builder, weights = _raft_builder(size)
        self.name = f"raft-{size}"
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.batch_size = batch_size or (4 if self.device.type == "cuda" else 1)
        self.num_flow_updates = num_flow_updates
        self._preprocess = weights.transforms()
        model = builder(weights=None, progress=False)
        if pretrained:
            model.load_state_dict(load_torchvision_state(weights.url, self.name, weights_mirror))
        self.model = model.eval().to(self.device)

    MIN_SIDE = 128  # 1/8 resolution, pooled 3 times, must keep 2 cells: RAFT refuses less

    @classmethod
    def padding(cls, height: int, width: int) -> tuple[int, int]:
        """Rows and columns to add (bottom, right) to reach multiples of 8, at least 128."""
        return (
            max(height + -height % 8, cls.MIN_SIDE) - height,
            max(width + -width % 8, cls.MIN_SIDE) - width,
        )

    def _to_batch(self, frames: Sequence[np.ndarray]) -> torch.Tensor:
        x = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2)
        pad_h, pad_w = self.padding(*x.shape[-2:])
        if pad_h or pad_w:
            x = torch.nn.functional.pad(x.float(), (0, pad_w, 0, pad_h), mode="replicate")
            x = x.round().to(torch.uint8)
        return x.to(self.device)

    @torch.inference_mode()
    def _estimate(
        self, firsts: Sequence[np.ndarray], seconds: Sequence[np.ndarray]
    ) -> list[np.ndarray]:
        h, w = firsts[0].shape[:2]
        out: list[np.ndarray] = []
        for start in range(0, len(firsts), self.batch_size):
            a = self._to_batch(firsts[start : start + self.batch_size])
            b = self._to_batch(seconds[start : start + self.batch_size])
            a, b = self._preprocess(a, b)
            flow = self.model(a, b, num_flow_updates=self.num_flow_updates)[-1]
            flow = flow[:, :, :h, :w].permute(0, 2, 3, 1).float().cpu().numpy()
            out.extend(np.ascontiguousarray(f) for f in flow)
        return out


def make_estimator(method: str = "dis", device: str | torch.device | None = None) -> FlowEstimator:
    """The estimator for ``method`` (one of :data:`METHODS`); ``device`` matters for RAFT only."""
    if method == "dis":
        return DISEstimator()
    if method == "farneback":
        return FarnebackEstimator()
    if method in ("raft-small", "raft-large"):
        return RAFTEstimator(method.split("-", 1)[1], device=device)
    raise ValueError(f"unknown flow method {method!r}; choose one of {', '.join(METHODS)}")


def estimate_flow(frame_a: np.ndarray, frame_b: np.ndarray, method: str = "dis") -> np.ndarray:
    """Flow from ``frame_a`` to ``frame_b`` (``H x W x 3`` uint8 RGB) as ``H x W x 2`` float32.

    Builds the estimator each call; for many pairs keep one from :func:`make_estimator`.
    """
    return make_estimator(method)(frame_a, frame_b)


# ---------------------------------------------------------------- datasets and caching


@dataclass(frozen=True)
class FlowJob:
    """One sequence to process: its frames and where the fields and images go."""

    name: str
    frames: tuple[Path, ...]
    field_dir: Path
    image_dir: Path

    def outputs(self, i: int) -> tuple[Path, Path]:
        """The ``.flo`` and ``.png`` of the pair (frame i, frame i+1), named after frame i."""
        stem = self.frames[i].stem
        return self.field_dir / f"{stem}.flo", self.image_dir / f"{stem}.png"


@dataclass
class FlowSummary:
    """What :func:`compute_flow` did."""

    method: str
    root: Path
    sequences: int = 0
    computed: int = 0
    skipped: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        rate = self.computed / self.seconds if self.seconds > 0 else 0.0
        return (
            f"{self.method}: {self.sequences} sequences, {self.computed} flows computed, "
            f"{self.skipped} already there, {self.seconds:.1f} s ({rate:.1f} pairs/s)"
        )


def flow_jobs(root: str | Path, method: str) -> list[FlowJob]:
    """Sequences under ``root`` and the output folders of ``method``, for either layout.

    * DAVIS layout (``JPEGImages/480p/SEQ/*.jpg``): fields in
      ``Flow/METHOD/SEQ/00000.flo``, images in ``FlowImages/METHOD/SEQ/00000.png``.
    * The authors' test layout (``SEQ/Frame/*.jpg``, one dataset such as
      ``TestSet/DAVIS``): images ``SEQ/OF_METHOD/NAME.png`` and fields
      ``SEQ/OF_METHOD/NAME.flo`` in one folder beside the authors'
      ``SEQ/OF_FlowNet2`` (the loaders read its images and skip the fields).

    Sequences are found by :func:`fsnet_core.data.layouts.discover_sequences`.
    """
    from .data.layouts import detect_layout, discover_sequences

    root = Path(root)
    layout = detect_layout(root)
    if layout == "davis":
        records = discover_sequences(root, layout, flow_source=method)
        return [
            FlowJob(
                r.name,
                tuple(r.frames),
                root / "Flow" / method / r.name,
                root / "FlowImages" / method / r.name,
            )
            for r in records
        ]
    if layout == "testset":
        records = discover_sequences(root, layout, flow_source=f"OF_{method}")
        out = [root / r.name / f"OF_{method}" for r in records]
        return [FlowJob(r.name, tuple(r.frames), o, o) for r, o in zip(records, out, strict=True)]
    raise InputError(
        root,
        f"flow is computed for the DAVIS and the authors' test layouts, not the {layout} "
        "layout (the authors' training sets come with their flow images)",
    )


def _pending(job: FlowJob, force: bool) -> list[int]:
    pairs = range(len(job.frames) - 1)
    if force:
        return list(pairs)
    return [i for i in pairs if not all(p.is_file() for p in job.outputs(i))]


def _batches(indices: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(indices), size):
        yield indices[start : start + size]


def compute_flow(
    root: str | Path,
    method: str = "dis",
    force: bool = False,
    progress: bool = True,
    device: str | torch.device | None = None,
    estimator: FlowEstimator | None = None,
) -> FlowSummary:
    """Flow fields and colour-coded flow images for every frame pair of a dataset.

    Frame t gets the flow from t to t+1 (named after t); the last frame of a
    sequence gets none. Existing outputs are kept unless ``force``; every file
    is written atomically, so an interrupted run leaves only whole files and
    a re-run finishes the rest. See :func:`flow_jobs` for the folders.
    """
    from tqdm.auto import tqdm

    from .data.layouts import read_image

    jobs = flow_jobs(root, method)
    todo = [(job, _pending(job, force)) for job in jobs]
    summary = FlowSummary(method, Path(root), sequences=len(jobs))
    summary.skipped = sum(max(len(j.frames) - 1, 0) - len(p) for j, p in todo)
    total = sum(len(p) for _, p in todo)
    if total == 0:
        return summary
    estimator = estimator or make_estimator(method, device=device)
    start = time.perf_counter()
    with tqdm(total=total, desc=f"flow ({method})", unit="pair", disable=not progress) as bar:
        for job, pending in todo:
            bar.set_postfix_str(job.name)
            frames: dict[int, np.ndarray] = {}
            for batch in _batches(pending, estimator.batch_size):
                needed = sorted({i for b in batch for i in (b, b + 1)})
                frames = {  # the previous batch's last frame is reused, not read again
                    i: frames[i] if i in frames else read_image(job.frames[i]) for i in needed
                }
                flows = estimator.estimate_batch(
                    [frames[i] for i in batch], [frames[i + 1] for i in batch]
                )
                for i, flow in zip(batch, flows, strict=True):
                    field_path, image_path = job.outputs(i)
                    write_flo(field_path, flow)
                    write_png(image_path, flow_to_color(flow))
                bar.update(len(batch))
    summary.computed = total
    summary.seconds = time.perf_counter() - start
    return summary

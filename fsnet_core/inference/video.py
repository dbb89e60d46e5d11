"""Segment a video of your own: frames in, a mask and a probability map per frame out.

:func:`segment_video` reads a video file (decoded by PyAV, whose wheels carry
FFmpeg's codecs) or a folder of frames, computes the optical flow of each
frame (DIS on a CPU, RAFT on a GPU), runs FSNet and writes, under ``OUT``::

    masks/NAME.png    binary mask (0/255) at the frame's size
    probs/NAME.png    8-bit probability map, as ``fsnet infer`` writes them
    overlay.mp4       the frames with the mask tinted red (H.264, yuv420p: plays in browsers)
    overlay.gif       the same, smaller and at most 10 frames/s

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

**Decoding, flow, the network and writing overlap**: each runs in its own
thread, linked by short queues (OpenCV, PyTorch and FFmpeg release the GIL),
so the run takes little longer than the network alone once it is the slowest
stage (``benchmarks/segment.py`` measures both).

Re-running with the same ``OUT`` keeps the maps already written (unless
``force``) and loads no model when there is nothing left to predict.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from ..data.transforms import PairTransform
from ..flow import default_method, flow_to_color, make_estimator
from ..io import InputError, atomic_write
from ..io.images import image_files, read_rgb, write_png
from ..model.inputs import PAPER_SIZE
from .predictor import FSNetPredictor
from .runner import ModelSource, full_size_probability, make_predictor, to_uint8

VIDEO_EXTS = (".mp4", ".mov", ".avi", ".webm", ".mkv", ".m4v")
FOLDER_FPS = 25.0
"""Frame rate assumed for a folder of frames (for ``start``/``end`` and the overlay video)."""
GIF_MAX_FPS = 10.0
GIF_WIDTH = 320
GIF_MAX_FRAMES = 600
MANIFEST = "segment.json"


# ----------------------------------------------------------------------------- reading frames


@dataclass(frozen=True)
class Frame:
    """One decoded frame: its number in the video, its output name, its ``H x W x 3`` pixels."""

    index: int
    name: str
    rgb: np.ndarray


def _video_frames(path: Path) -> tuple[float, Iterator[Frame]]:
    """The frame rate and the frames of a video file, decoded by PyAV."""
    import av

    try:
        container = av.open(str(path))
    except (av.FFmpegError, UnicodeDecodeError) as exc:
        raise InputError(path, f"not a readable video ({exc})") from exc
    if not container.streams.video:
        container.close()
        raise InputError(path, "has no video stream")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    fps = float(stream.average_rate or stream.guessed_rate or FOLDER_FPS)

    def frames() -> Iterator[Frame]:
        index = 0
        try:
            for decoded in container.decode(stream):
                yield Frame(index, f"{index:05d}", decoded.to_ndarray(format="rgb24"))
                index += 1
        except av.FFmpegError as exc:
            raise InputError(path, f"cannot decode frame {index} ({exc})") from exc
        finally:
            container.close()

    return fps, frames()


def _folder_frames(path: Path) -> Iterator[Frame]:
    files = list(image_files(path, "frame").values())  # natural order: 1, 2, ..., 10
    first: tuple[int, ...] | None = None
    for index, file in enumerate(files):
        rgb = read_rgb(file)
        if first is None:
            first = rgb.shape
        elif rgb.shape != first:
            raise InputError(
                file,
                f"is {rgb.shape[1]}x{rgb.shape[0]} but {files[0].name} is {first[1]}x{first[0]}: "
                "every frame of a folder must have the same size",
            )
        yield Frame(index, file.stem, rgb)


def open_frames(path: str | os.PathLike, fps: float = FOLDER_FPS) -> tuple[float, Iterator[Frame]]:
    """The frame rate and a lazy iterator over the frames of a video file or a folder of images."""
    path = check_source(path)
    return (fps, _folder_frames(path)) if path.is_dir() else _video_frames(path)


def check_source(path: str | os.PathLike) -> Path:
    """``path`` if it is a folder or a file with a video suffix; InputError otherwise."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such video file or folder of frames")
    if not path.is_dir() and path.suffix.lower() not in VIDEO_EXTS:
        raise InputError(path, f"not a video ({', '.join(VIDEO_EXTS)}) nor a folder of frames")
    return path


@dataclass(frozen=True)
class Selection:
    """Which frames to segment: a time window (seconds), every N-th frame, at most M of them."""

    start: float = 0.0
    end: float | None = None
    every: int = 1
    max_frames: int | None = None

    def __post_init__(self) -> None:
        if self.every < 1 or (self.max_frames is not None and self.max_frames < 1):
            raise ValueError("every and max_frames must be at least 1")
        if self.start < 0 or (self.end is not None and self.end <= self.start):
            raise ValueError("need 0 <= start < end")


@dataclass(frozen=True)
class Pair:
    """A frame to segment and the frame its flow goes to; ``backward``: the frame before it."""

    frame: Frame
    partner: Frame
    backward: bool


def frame_pairs(frames: Iterable[Frame], fps: float, selection: Selection) -> Iterator[Pair]:
    """Each selected frame with its flow partner: the next frame of the video if there is one.

    Only the last frame of the video (or of the ``end`` window) pairs with the
    frame before it; skipped frames (``every``) still serve as partners.
    """
    first = math.ceil(selection.start * fps - 1e-6)
    last = math.inf if selection.end is None else selection.end * fps
    limit = selection.max_frames or math.inf
    pending: Frame | None = None
    previous: Frame | None = None
    before_pending: Frame | None = None
    chosen = 0
    for frame in frames:
        if frame.index < first:
            continue
        if frame.index >= last:
            break
        if pending is not None:
            yield Pair(pending, frame, backward=False)
            pending = None
            if chosen >= limit:
                return
        if (frame.index - first) % selection.every == 0 and chosen < limit:
            pending, before_pending = frame, previous
            chosen += 1
        previous = frame
    if pending is not None:
        if before_pending is None:
            raise InputError(
                f"frame {pending.name}", "a single frame: FSNet needs two to see motion"
            )
        yield Pair(pending, before_pending, backward=True)


# ----------------------------------------------------------------------------- the pipeline


class _Stop(Exception):
    """Raised inside a stage when the consumer has gone away."""


_END = object()


def in_background(items: Iterable[Any], maxsize: int = 4, name: str = "stage") -> Iterator[Any]:
    """Iterate ``items`` in a thread, ``maxsize`` items ahead; errors re-raise in the consumer."""
    box: queue.Queue = queue.Queue(maxsize)
    stop = threading.Event()

    def put(item: Any) -> None:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        raise _Stop

    def work() -> None:
        try:
            for item in items:
                put(item)
            put(_END)
        except _Stop:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            try:
                put(exc)
            except _Stop:
                pass

    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item = box.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


class Worker:
    """A thread that calls ``fn`` on each submitted item in order (a bounded queue in front)."""

    def __init__(self, fn: Callable[[Any], None], maxsize: int = 4, name: str = "writer") -> None:
        self._fn = fn
        self._box: queue.Queue = queue.Queue(maxsize)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._box.get()) is not _END:
            if self._error is None:
                try:
                    self._fn(item)
                except BaseException as exc:  # noqa: BLE001 - re-raised by submit/close
                    self._error = exc

    def submit(self, item: Any) -> None:
        if self._error is not None:
            raise self._error
        self._box.put(item)

    def close(self) -> None:
        """Wait for every submitted item; re-raise the first error."""
        self._box.put(_END)
        self._thread.join()
        if self._error is not None:
            raise self._error


# ----------------------------------------------------------------------------- writing


def tint(frame: np.ndarray, mask: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """The frame with the mask blended in red (what the overlay video shows)."""
    red = np.zeros_like(frame)
    red[..., 0] = 255
    blended = cv2.addWeighted(frame, 1.0 - alpha, red, alpha, 0.0)
    return np.where(mask[..., None], blended, frame)


class H264Writer:
    """Writes frames as an H.264 mp4 that browsers play (yuv420p, index first: ``+faststart``).

    The file appears under its name only when :meth:`close` succeeds. yuv420p
    needs even sides, so an odd last row or column is dropped.
    """

    def __init__(self, path: str | os.PathLike, fps: float, crf: int = 23) -> None:
        self.path = Path(path)
        self.fps = fps
        self.crf = crf
        self._tmp = self.path.with_name(f".{self.path.name}.part")
        self._container: Any = None
        self._stream: Any = None

    def _open(self, height: int, width: int) -> None:
        import av

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._container = av.open(
            str(self._tmp), "w", format="mp4", container_options={"movflags": "+faststart"}
        )
        stream = self._container.add_stream(
            "libx264", rate=Fraction(self.fps).limit_denominator(1001)
        )
        stream.width, stream.height = width - width % 2, height - height % 2
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(self.crf), "preset": "veryfast"}
        self._stream = stream

    def add(self, rgb: np.ndarray) -> None:
        import av

        if self._container is None:
            self._open(*rgb.shape[:2])
        even = np.ascontiguousarray(rgb[: self._stream.height, : self._stream.width])
        self._container.mux(self._stream.encode(av.VideoFrame.from_ndarray(even, format="rgb24")))

    def close(self) -> Path:
        if self._container is None:
            raise ValueError(f"{self.path}: no frame to write")
        self._container.mux(self._stream.encode(None))
        self._container.close()
        os.replace(self._tmp, self.path)
        return self.path

    def abandon(self) -> None:
        if self._container is not None:
            self._container.close()
            self._tmp.unlink(missing_ok=True)


def write_video(
    frames: Iterable[np.ndarray], path: str | os.PathLike, fps: float = FOLDER_FPS, crf: int = 23
) -> Path:
    """Encode ``H x W x 3`` uint8 frames as an H.264 mp4 (e.g. to make a clip to segment)."""
    writer = H264Writer(path, fps, crf)
    try:
        for rgb in frames:
            writer.add(rgb)
        return writer.close()
    except BaseException:
        writer.abandon()
        raise


class OverlayWriter:
    """The overlay frames as an H.264 mp4 and a small GIF (at most 10 frames/s, 320 wide)."""

    def __init__(self, path: Path, gif_path: Path, fps: float, crf: int) -> None:
        self.video = H264Writer(path, fps, crf)
        self.gif_path = gif_path
        self.fps = fps
        self._gif: list[Any] = []
        self._gif_step = max(1, math.ceil(fps / GIF_MAX_FPS))
        self._count = 0

    def add(self, rgb: np.ndarray) -> None:
        self.video.add(rgb)
        if self._count % self._gif_step == 0 and len(self._gif) < GIF_MAX_FRAMES:
            self._gif.append(self._gif_frame(rgb))
        self._count += 1

    @staticmethod
    def _gif_frame(rgb: np.ndarray) -> Any:
        from PIL import Image

        h, w = rgb.shape[:2]
        if w > GIF_WIDTH:
            small = (GIF_WIDTH, round(h * GIF_WIDTH / w))
            rgb = cv2.resize(rgb, small, interpolation=cv2.INTER_AREA)
        return Image.fromarray(rgb).quantize(colors=128)

    def close(self) -> None:
        """Finish both files and move them into place (nothing is left half-written)."""
        if not self._count:
            return
        self.video.close()
        with atomic_write(self.gif_path) as tmp:
            self._gif[0].save(
                tmp,
                format="GIF",
                save_all=True,
                append_images=self._gif[1:],
                duration=round(1000 * self._gif_step / self.fps),
                loop=0,
            )

    def abandon(self) -> None:
        self.video.abandon()


# ----------------------------------------------------------------------------- the run


@dataclass
class SegmentSummary:
    """What :func:`segment_video` did and how fast (``model_seconds``: the network alone)."""

    out_dir: Path
    frames: int = 0
    computed: int = 0
    seconds: float = 0.0
    model_seconds: float = 0.0
    size: int = PAPER_SIZE
    names: list[str] = field(default_factory=list)

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
        return text


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
            levels = read_rgb(prob_path)[..., 0]
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
) -> SegmentSummary:
    """Segment every selected frame of ``source`` (a video file or a folder of frames).

    ``model``: a checkpoint path (this package's or the authors'), an FSNet or
    a predictor; None downloads the authors' checkpoint when it is missing
    (from ``checkpoint_url`` if given). ``size``: the network's input side
    (default: the size the checkpoint was trained at if it says so, else 352).
    ``flow``: an estimator of :data:`fsnet_core.flow.METHODS` (default DIS on a
    CPU, RAFT small on a GPU). ``fps`` is the frame rate of a folder of frames.
    """
    from tqdm.auto import tqdm

    from .checkpoints import trained_size

    start_time = time.perf_counter()
    selection = selection or Selection()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(out, "output path exists and is not a folder")
    check_source(source)  # before any download
    if model is None:
        model = authors_checkpoint(checkpoint_url, progress)
    if isinstance(model, (str, os.PathLike)):
        if not Path(model).is_file():
            raise InputError(model, "checkpoint file not found")
        size = size or trained_size(model)
    size = size or PAPER_SIZE
    checkpoint = str(Path(model).resolve()) if isinstance(model, (str, os.PathLike)) else None
    record = {"source": str(Path(source).resolve()), "checkpoint": checkpoint, "size": size}
    record.update(asdict(selection))
    finished = _finished_run(out, record) if checkpoint and not force else None
    if finished is not None:
        return SegmentSummary(
            out, len(finished), 0, time.perf_counter() - start_time, 0.0, size, finished
        )
    video_fps, frames = open_frames(source, fps)
    target = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    estimator = make_estimator(flow or default_method(target), device=target)
    summary = SegmentSummary(out, size=size)

    outputs = FrameOutputs(
        out,
        OverlayWriter(out / "overlay.mp4", out / "overlay.gif", video_fps / selection.every, crf),
    )
    overlay = outputs.overlay

    def done(frame: Frame) -> bool:
        return not force and outputs.exist(frame)

    pairs = in_background(frame_pairs(frames, video_fps, selection), name="decode")
    prepared = in_background(map(InputPreparer(estimator, size, done), pairs), name="flow")
    writer = Worker(outputs.write)
    predictor: FSNetPredictor | None = None
    sync = torch.cuda.synchronize if target.type == "cuda" else (lambda: None)
    try:
        for item in tqdm(prepared, desc="segment", unit="frame", disable=not progress):
            summary.frames += 1
            summary.names.append(item.frame.name)
            logits = None
            if item.image is not None:
                predictor = predictor or make_predictor(model, device=target)
                tick = time.perf_counter()
                logits = predictor(item.image, item.flow).appearance
                sync()
                summary.model_seconds += time.perf_counter() - tick
                summary.computed += 1
            writer.submit((item.frame, logits))
        writer.close()
    except BaseException:
        overlay.abandon()
        with contextlib.suppress(BaseException):
            writer.close()
        raise
    if summary.frames == 0:
        raise InputError(source, "no frames to segment (empty video or folder, or start too late)")
    overlay.close()
    summary.seconds = time.perf_counter() - start_time
    with atomic_write(out / MANIFEST) as tmp:
        tmp.write_text(json.dumps({**record, "frames": summary.names}, indent=1))
    return summary


def _finished_run(out: Path, record: dict[str, Any]) -> list[str] | None:
    """The frame names of a complete earlier run with the same settings, else None."""
    try:
        manifest = json.loads((out / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    names = manifest.pop("frames", None)
    if manifest != record or not names:
        return None
    files = [out / "overlay.mp4", out / "overlay.gif"]
    files += [out / kind / f"{name}.png" for name in names for kind in ("masks", "probs")]
    return names if all(f.is_file() for f in files) else None


__all__ = [
    "FOLDER_FPS",
    "VIDEO_EXTS",
    "check_source",
    "Frame",
    "FrameOutputs",
    "InputPreparer",
    "H264Writer",
    "OverlayWriter",
    "Pair",
    "SegmentSummary",
    "Selection",
    "Worker",
    "flow_scale",
    "frame_pairs",
    "in_background",
    "open_frames",
    "segment_video",
    "tint",
    "write_video",
]

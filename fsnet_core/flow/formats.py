"""Flow fields on disk and on screen: Middlebury ``.flo`` files, the colour wheel, error.

FSNet never sees raw flow vectors: each field is drawn with the Middlebury
colour wheel (hue = direction, saturation = speed relative to the fastest pixel
of the frame) and fed as an RGB image. The authors' FlowNet2 flow images are
colour-wheel JPEGs too, but how they were made (their normalisation included)
is not known: their conversion script was not released.

Without the true flow (real video), :func:`photometric_error` grades a field by
how well it carries one frame onto the next.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torchvision.utils import flow_to_image

from ..io import InputError, atomic_write

FLO_MAGIC = 202021.25  # the Middlebury .flo tag ("PIEH" as a float32)
UNKNOWN_FLOW = 1e9  # Middlebury convention: components above this are "no ground truth"


def photometric_error(first: np.ndarray, second: np.ndarray, flow: np.ndarray) -> float:
    """Mean absolute colour difference (0-255 per channel) between ``first`` and ``second``
    looked up where ``flow`` says each pixel of ``first`` went: a grade for a flow field
    without the true flow. A zero field gives the plain frame difference, to compare with.

    Pixels sent outside the frame are left out; a flat region scores well whatever
    flow it is given (the aperture problem), so this grades motion only where there is texture.
    """
    import cv2

    if first.shape != second.shape or first.ndim != 3 or flow.shape != (*first.shape[:2], 2):
        raise ValueError(
            f"need two H x W x C frames and an H x W x 2 flow, got {first.shape}, "
            f"{second.shape} and {flow.shape}"
        )
    h, w = flow.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    map_x, map_y = xs + flow[..., 0].astype(np.float32), ys + flow[..., 1].astype(np.float32)
    inside = (map_x >= 0) & (map_x <= w - 1) & (map_y >= 0) & (map_y <= h - 1)
    if not inside.any():
        raise ValueError("the flow sends every pixel outside the frame")
    moved = cv2.remap(second.astype(np.float32), map_x, map_y, cv2.INTER_LINEAR)
    diff = np.abs(moved - first.astype(np.float32)).mean(axis=2)
    return float(diff[inside].mean())


def flow_to_color(flow: np.ndarray) -> np.ndarray:
    """``H x W x 2`` flow (dx, dy in pixels) to an ``H x W x 3`` uint8 colour image.

    Uses torchvision's ``flow_to_image``, which normalises by the largest
    magnitude in the frame (whether the authors' FlowNet2 images were normalised
    so is not known; see the module's docstring).
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

"""Images, masks and maps: the one reader and writer every layer uses.

One rule for every mask or map file, whoever reads it (the training loader,
validation, ``fsnet eval``, the widgets):

* the file is decoded to **levels** ``0..255`` (:func:`read_levels`): grey
  values as stored; a bilevel image as 0/255; a palette of greys as its grey
  values, any other palette as a label image (non-zero labels become 255);
  an RGB(A) image only when its colour channels are equal. A 0/1 mask (largest
  value exactly 1) is read as 0/255. A 16-bit file is read on its stored
  values like an 8-bit one (a 0/255 map saved in 16 bits is the same map, a
  0/2 label stays a label); only values above 255 mean the 16-bit scale,
  and are divided by 257.
* a **mask** (ground truth) is foreground where its level is non-zero, as the
  official DAVIS evaluation reads its annotations (:func:`read_mask`);
* a **map** (a prediction) is a probability ``level / 255``, binarised at
  half its range by the metrics.

Frames are listed in natural order (``1.png, 2.png, ..., 10.png``, as ffmpeg's
``%d`` names them; ``00000.jpg``-style names sort the same either way) by
:func:`natural_sorted`, the one sort of frame names in the package.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from .files import InputError, atomic_write

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
"""File name endings read as images (any case)."""

T = TypeVar("T")
_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple:
    """Sort key reading runs of digits as numbers: ``frame2`` before ``frame10``."""
    parts = _DIGITS.split(name)
    return tuple((0, int(p), p) if p.isdigit() else (1, 0, p.lower()) for p in parts if p != "")


def natural_sorted(items: Iterable[T], key: Callable[[T], str] | None = None) -> list[T]:
    """``items`` in natural order of their names (of ``key(item)``, else the path's name)."""

    def name(item: T) -> str:
        if key is not None:
            return key(item)
        return item.name if isinstance(item, Path) else str(item)

    return sorted(items, key=lambda item: natural_key(name(item)))


def is_image_file(path: Path) -> bool:
    """A visible file whose name ends in one of :data:`IMAGE_SUFFIXES`."""
    return (
        path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".") and path.is_file()
    )


def image_files(folder: str | os.PathLike, what: str = "image") -> dict[str, Path]:
    """The image files of ``folder`` by stem, in natural order.

    Hidden files are ignored; two images with one stem (``00001.jpg`` and
    ``00001.png``) are an :class:`InputError`, since a frame name must say
    which file it is. A missing folder is an InputError naming it.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, f"{what} folder not found")
    found: dict[str, Path] = {}
    for path in natural_sorted(p for p in folder.iterdir() if is_image_file(p)):
        if path.stem in found:
            raise InputError(
                path, f"another {what} has the same frame name ({found[path.stem].name})"
            )
        found[path.stem] = path
    return found


# --------------------------------------------------------------------------- reading


def _open(path: Path):
    """Decode ``path`` completely with Pillow; InputError naming it when it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise InputError(path, "file not found" if not path.exists() else "not a file")
    try:
        im = Image.open(path)
        im.load()  # decode everything now: a truncated file fails here, not later
    except UnidentifiedImageError:
        raise InputError(path, "not a readable image") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(path, f"corrupt or truncated image ({exc})") from None
    return im


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """``(H, W)`` from the image's header, without decoding its pixels; InputError if unreadable."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.height, im.width
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except OSError as exc:
        raise InputError(path, f"not a readable image ({exc})") from None


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    """An image fully decoded as ``H x W x 3`` uint8 RGB; InputError if unreadable or truncated."""
    with _open(Path(path)) as im:
        return np.array(im.convert("RGB"))


@dataclass(frozen=True)
class Levels:
    """A mask or map file decoded by the one rule (module docstring).

    ``values``: ``H x W`` uint8 levels 0-255. ``note``: how an unusual file (its
    depth or range) was read, one of :data:`NOTES`' values, or None; a reader
    that scores files says so, e.g. "3 file(s) read as 0/1 masks ...".
    """

    values: np.ndarray
    note: str | None = None


NOTES = {
    "zero_one": "read as 0/1 masks (largest value 1, so 1 = foreground)",
    "16bit_as_8bit": "in 16 bits with values within 0-255, read as stored (the 8-bit scale)",
    "16bit_scaled": "in 16 bits with values above 255, divided by 257 to 0-255",
}
"""The ways a file can be unusual, in the words a report uses."""


def read_levels(path: str | os.PathLike) -> Levels:
    """Decode a mask or map file to levels 0-255 by the one rule; InputError names the file."""
    path = Path(path)
    with _open(path) as im:
        mode = im.mode
        if mode == "P":
            palette = np.asarray(im.getpalette() or [], dtype=np.int64).reshape(-1, 3)
            if not np.all(palette == palette[:, :1]):  # a label image: labels > 0 are objects
                return Levels(np.where(np.asarray(im) > 0, 255, 0).astype(np.uint8))
            data = np.asarray(im.convert("L"))
        else:
            data = np.asarray(im)
    if mode == "1":
        return Levels(np.where(data, 255, 0).astype(np.uint8))
    if mode in ("RGB", "RGBA", "LA"):
        channels = data[..., :1] if mode == "LA" else data[..., :3]
        if not np.all(channels == channels[..., :1]):
            raise InputError(
                path, "colour image (channels differ): expected a mask or a grey probability map"
            )
        data = np.ascontiguousarray(channels[..., 0])
    if data.ndim != 2 or not (mode in ("L", "P", "RGB", "RGBA", "LA", "I") or "I;16" in mode):
        raise InputError(path, f"unsupported image mode {mode!r}: expected a mask or grey map")
    sixteen = data.dtype != np.uint8
    if sixteen and data.size and data.min() < 0:
        raise InputError(path, f"negative values (down to {data.min()}): not a mask or map")
    top = int(data.max(initial=0))
    if top == 1:
        return Levels(np.where(data > 0, 255, 0).astype(np.uint8), NOTES["zero_one"])
    if not sixteen:
        return Levels(data)
    if top <= 255:  # stored on the 8-bit scale: the same map as its 8-bit twin
        return Levels(data.astype(np.uint8), NOTES["16bit_as_8bit"])
    scaled = np.round(data.astype(np.float64) / 257.0).astype(np.uint8)
    return Levels(scaled, NOTES["16bit_scaled"])


def read_labels(path: str | os.PathLike) -> np.ndarray:
    """A label image's ``H x W`` values as stored (region ids, palette indices), unscaled."""
    with _open(Path(path)) as im:
        data = np.asarray(im)
    if data.ndim != 2:
        raise InputError(path, f"expected a one-channel label image, got mode {im.mode!r}")
    return data


def read_map(path: str | os.PathLike) -> np.ndarray:
    """A probability map's (or mask's) ``H x W`` uint8 levels 0-255 (:func:`read_levels`)."""
    return read_levels(path).values


def read_mask(path: str | os.PathLike) -> np.ndarray:
    """A mask as ``H x W`` bool: foreground where its level is non-zero (the DAVIS rule)."""
    return read_levels(path).values > 0


# --------------------------------------------------------------------------- writing


def write_png(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write an ``H x W x 3`` RGB or ``H x W`` grey uint8 array as PNG, atomically."""
    import cv2

    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"expected an H x W (x 3) uint8 image, got {image.dtype} {image.shape}")
    # Encoded in memory: OpenCV picks the format from the name, and the temporary has none.
    ok, encoded = cv2.imencode(
        ".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    )
    if not ok:
        raise ValueError(f"could not encode an image of shape {image.shape} as PNG")
    with atomic_write(path) as tmp:
        tmp.write_bytes(encoded.tobytes())
    return Path(path)


__all__ = [
    "IMAGE_SUFFIXES",
    "NOTES",
    "Levels",
    "image_files",
    "image_size",
    "is_image_file",
    "natural_key",
    "natural_sorted",
    "read_labels",
    "read_levels",
    "read_map",
    "read_mask",
    "read_rgb",
    "write_png",
]

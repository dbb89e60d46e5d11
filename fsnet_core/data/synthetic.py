"""A seeded teaching dataset whose every hazard is known: why FSNet needs both cues.

Each clip has one primary moving object (the target, label 1) and, in chosen
clips, the things that fool a single cue:

* **static look-alikes** (label 2): exact copies of the target's shape and
  texture that do not move in the world, so *appearance alone* cannot tell
  them from the target;
* a **rippling textured patch** (label 3) that moves non-rigidly but is
  background;
* a **moving background object** (label 5): a rigid sprite of the same kind
  of shape, size and speed as the target, but cut from the background's own
  texture (camouflaged: only its edge shows it in a single frame). Its flow
  looks like the target's, so *motion alone* cannot tell them apart: only the
  two cues together single out the target (salient *and* moving);
* **static occluders** (label 4) that the target passes behind;

plus camera pan and zoom, affine target motion with scale change and rotation,
and motion blur. Every frame is rendered by *backward warping* each layer
with a known transform (``cv2.remap``), so the ground-truth optical flow
(frame t to t+1, camera motion included) is exact, not estimated.

Folder layout (DAVIS-2016, see ``docs/design.md``)::

    JPEGImages/480p/SEQ/00000.jpg      frames (the 480p name is DAVIS's, not the size)
    Annotations/480p/SEQ/00000.png     target masks, 0/255
    Regions/480p/SEQ/00000.png         labels 0 background, 1 target, 2 look-alike,
                                       3 rippling background, 4 occluder,
                                       5 moving background object
    Flow/gt/SEQ/00000.flo              exact flow from frame t to t+1 (named after t)
    FlowImages/gt/SEQ/00000.png        its Middlebury colour image (what FSNet reads)
    ImageSets/2016/train.txt, val.txt  sequence names
    meta.json                          generator version, seed, sizes, per-clip contents

``meta.json`` is written last and the whole set is built in a hidden folder
beside ``out_dir`` and renamed into place, so an interrupted run never leaves
a set that looks complete.

Sizes (chosen for CPU training). Generating the default set takes about 8 s
of CPU time, single-threaded (``fsnet data synthetic`` prints it).

* default: 48 train clips of 6 frames + 12 val clips of 12 frames at
  240 x 320 (H x W), i.e. 240 train and 132 val frame/flow pairs, about
  250 MB (mostly ``.flo``). Training clips are short and many: what a small
  model learns from is the variety of scenes (colours, shapes, textures),
  not the length of each; a training clip is the start of a clip as long as
  the others, with the same motion;
* ``smoke=True``: 2 train + 2 val clips of 5 frames at 120 x 160, for tests.

Each split contains every hazard (the schedule in :func:`_hazards` repeats
every four clips and its first two clips already cover all of them).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..flow import flow_to_color, write_flo
from ..io import InputError, atomic_write

GENERATOR_VERSION = 2
DEFAULT_SYNTHETIC_DIR = Path("data") / "synthetic"
FLOW_SOURCE = "gt"
REGION_NAMES = {
    0: "background",
    1: "target",
    2: "static look-alike distractor",
    3: "moving non-target background",
    4: "static occluder",
    5: "moving background-coloured object",
}
BACKGROUND, TARGET, DISTRACTOR, MOVING_BACKGROUND, OCCLUDER, MOVING_OBJECT = range(6)
REGION_SHORT_NAMES = {  # for table columns and plot axes
    0: "background",
    1: "target",
    2: "look-alike",
    3: "ripple",
    4: "occluder",
    5: "mover",
}
JPEG_QUALITY = 95
BLUR_TIMES = (-0.4, -0.2, 0.2, 0.4)  # sub-frame times added to t for motion blur


@dataclass(frozen=True)
class SyntheticConfig:
    """How many clips of what size; ``smoke`` is the tiny set for tests."""

    height: int = 240
    width: int = 320
    frames: int = 12  # per validation clip; motion speeds are set for this length
    train_clips: int = 48
    val_clips: int = 12
    train_frames: int = 6  # per training clip: the first frames of a clip as long as the rest

    @classmethod
    def for_size(cls, smoke: bool) -> SyntheticConfig:
        return cls(120, 160, 5, 2, 2, 5) if smoke else cls()

    def clip_frames(self, split: str) -> int:
        return self.train_frames if split == "train" else self.frames


# --------------------------------------------------------------------------- geometry


def _affine(scale: float = 1.0, angle: float = 0.0, tx: float = 0.0, ty: float = 0.0) -> np.ndarray:
    """3x3 matrix of ``p -> R(angle) * scale * p + t``."""
    c, s = math.cos(angle) * scale, math.sin(angle) * scale
    return np.array([[c, -s, tx], [s, c, ty], [0.0, 0.0, 1.0]])


def _translate(tx: float, ty: float) -> np.ndarray:
    return _affine(tx=tx, ty=ty)


def _apply(matrix: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map points by an affine matrix, keeping the points' dtype (float32 grids stay float32)."""
    (a, b, c), (d, e, f) = matrix[:2].tolist()
    return a * x + b * y + c, d * x + e * y + f


@dataclass
class Camera:
    """World-to-frame map at (continuous) time t: pan then zoom about the frame centre."""

    centre: tuple[float, float]
    pan: tuple[float, float]  # world pixels per frame
    zoom: float  # log scale change per frame

    def matrix(self, t: float) -> np.ndarray:
        cx, cy = self.centre
        zoom = _affine(scale=math.exp(self.zoom * t))
        return _translate(cx, cy) @ zoom @ _translate(-cx - self.pan[0] * t, -cy - self.pan[1] * t)


@dataclass
class Layer:
    """A textured sprite: texture/alpha in its own pixels, placed in the world over time.

    ``placement(t)`` maps texture pixels to world pixels (a 3x3 affine).
    Subclasses may add a non-rigid warp (see :class:`RippleLayer`).
    """

    label: int
    texture: np.ndarray  # h x w x 3 float32 in [0, 1]
    alpha: np.ndarray  # h x w float32 in [0, 1]
    placement_start: np.ndarray
    velocity: tuple[float, float] = (0.0, 0.0)  # world pixels per frame
    acceleration: tuple[float, float] = (0.0, 0.0)
    spin: float = 0.0  # radians per frame
    growth: float = 0.0  # log scale change per frame
    blur: bool = False
    rgba: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # premultiplied colour + coverage: the form that interpolates and averages correctly
        self.rgba = np.dstack([self.texture * self.alpha[..., None], self.alpha]).astype(np.float32)

    def placement(self, t: float) -> np.ndarray:
        vx, vy = self.velocity
        ax, ay = self.acceleration
        h, w = self.alpha.shape
        centre = _apply(self.placement_start, (w - 1) / 2, (h - 1) / 2)
        moved = _translate(
            centre[0] + vx * t + 0.5 * ax * t * t, centre[1] + vy * t + 0.5 * ay * t * t
        )
        turn = _affine(scale=math.exp(self.growth * t), angle=self.spin * t)
        return moved @ turn @ _translate(-centre[0], -centre[1]) @ self.placement_start

    def frame_box(
        self, camera: Camera, times: list[float], height: int, width: int
    ) -> tuple[slice, slice] | None:
        """Frame rows and columns the layer may cover at these times (None if none):
        rendering only there keeps small sprites cheap."""
        h, w = self.alpha.shape
        pad = 2.0 + self.reach()
        xs, ys = [], []
        for t in times:
            x, y = _apply(
                camera.matrix(t) @ self.placement(t), np.array([0, w, 0, w]), np.array([0, 0, h, h])
            )
            xs += [x.min(), x.max()]
            ys += [y.min(), y.max()]
        x0, x1 = max(0, int(min(xs) - pad)), min(width, int(max(xs) + pad) + 1)
        y0, y1 = max(0, int(min(ys) - pad)), min(height, int(max(ys) + pad) + 1)
        if x0 >= x1 or y0 >= y1:
            return None
        return slice(y0, y1), slice(x0, x1)

    def reach(self) -> float:
        """How far (frame pixels) the texture may stray outside its placed rectangle."""
        return 0.0

    def texture_coords(
        self, camera: Camera, t: float, x: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Texture pixel seen at frame pixel (x, y) at time t (for backward warping)."""
        frame_from_texture = camera.matrix(t) @ self.placement(t)
        return _apply(np.linalg.inv(frame_from_texture), x, y)

    def flow(self, camera: Camera, t: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Where the layer's point under (x, y) at time t is at t+1, minus (x, y)."""
        tex_x, tex_y = self.texture_coords(camera, t, x, y)
        nx, ny = _apply(camera.matrix(t + 1) @ self.placement(t + 1), tex_x, tex_y)
        return np.stack([nx - x, ny - y], axis=-1).astype(np.float32)


@dataclass
class RippleLayer(Layer):
    """A patch fixed in the world whose texture slides in a travelling wave.

    In the patch's own axes (u along the wave's displacement, v across it) the
    texture point at u' appears at ``u = u' + amplitude * sin(k v + omega t)``:
    the displacement depends on v only, so the inverse needed for backward
    warping is exact and so is the flow.
    """

    amplitude: float = 4.0
    wavenumber: float = 0.1
    omega: float = 1.0

    def _axes(
        self, camera: Camera, t: float, x: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The patch's (u, v) under frame pixel (x, y), and v measured from its centre line."""
        u, v = _apply(np.linalg.inv(camera.matrix(t) @ self.placement(t)), x, y)
        return u, v, v - (self.alpha.shape[0] - 1) / 2

    def reach(self) -> float:
        return 2.0 * abs(self.amplitude)  # generous: the camera may zoom in a little

    def _shift(self, v_centred: np.ndarray, t: float) -> np.ndarray:
        return self.amplitude * np.sin(self.wavenumber * v_centred + self.omega * t)

    def texture_coords(
        self, camera: Camera, t: float, x: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        u, v, v_centred = self._axes(camera, t, x, y)
        return u - self._shift(v_centred, t), v

    def flow(self, camera: Camera, t: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        u, v, v_centred = self._axes(camera, t, x, y)
        u_next = u - self._shift(v_centred, t) + self._shift(v_centred, t + 1)
        nx, ny = _apply(camera.matrix(t + 1) @ self.placement(t + 1), u_next, v)
        return np.stack([nx - x, ny - y], axis=-1).astype(np.float32)


@dataclass
class Scene:
    """Layers back to front over a background layer, seen by a moving camera."""

    camera: Camera
    layers: list[Layer]  # layers[0] is the background
    height: int
    width: int
    description: dict = field(default_factory=dict)

    def render(self, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Frame (H x W x 3 uint8 RGB), region labels (H x W uint8), flow t -> t+1."""
        yy, xx = np.mgrid[0 : self.height, 0 : self.width].astype(np.float32)
        colour = np.zeros((self.height, self.width, 3), np.float32)
        labels = np.zeros((self.height, self.width), np.uint8)
        for layer in self.layers:
            times = [float(t)] + ([t + d for d in BLUR_TIMES] if layer.blur else [])
            box = layer.frame_box(self.camera, times, self.height, self.width)
            if box is None:
                continue  # off screen
            rgba = _sample(layer, self.camera, float(t), xx[box], yy[box])
            labels[box][rgba[..., 3] > 0.5] = layer.label  # the mask: the sharp shape at t
            if layer.blur:  # average the layer over the exposure time
                for when in times[1:]:
                    rgba += _sample(layer, self.camera, when, xx[box], yy[box])
                rgba /= len(times)
            colour[box] = colour[box] * (1.0 - rgba[..., 3:]) + rgba[..., :3]
        flow = np.zeros((self.height, self.width, 2), np.float32)
        for layer in self.layers:
            visible = labels == layer.label
            if visible.any():
                flow[visible] = layer.flow(self.camera, t, xx[visible], yy[visible])
        frame = np.clip(colour * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return frame, labels, flow


def _sample(layer: Layer, camera: Camera, t: float, xx: np.ndarray, yy: np.ndarray) -> np.ndarray:
    """The layer's premultiplied RGBA at every frame pixel at time t (backward warping)."""
    map_x, map_y = layer.texture_coords(camera, t, xx, yy)
    # the background is larger than any view of it; reflect rather than fade at its edge
    border = cv2.BORDER_REFLECT if layer.label == BACKGROUND else cv2.BORDER_CONSTANT
    return cv2.remap(
        layer.rgba,
        map_x.astype(np.float32),
        map_y.astype(np.float32),
        cv2.INTER_LINEAR,
        borderMode=border,
        borderValue=0.0,
    )


# --------------------------------------------------------------------------- appearance


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    """One RGB colour in [0, 1] from hue in turns, saturation, value."""
    pixel = np.array([[[h % 1.0 * 180.0, s * 255.0, v * 255.0]]], np.float32)
    return cv2.cvtColor(pixel.astype(np.uint8), cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32) / 255


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cell: float) -> np.ndarray:
    """Band-limited noise in [0, 1]: a coarse random grid, cubic-upsampled."""
    grid = rng.random((max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)), dtype=np.float32)
    return np.clip(cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC), 0.0, 1.0)


def _mix(weight: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a * (1.0 - weight[..., None]) + b * weight[..., None]


TEXTURES = ("stripes", "checker", "dots", "blotches")
SHAPES = ("ellipse", "rounded-box", "star", "blob")


def _pattern(rng: np.random.Generator, kind: str, size: int, period: float) -> np.ndarray:
    """A two-tone pattern weight in [0, 1] on a ``size x size`` grid, smooth at the pixel scale."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    angle = rng.uniform(0, math.pi)
    u = xx * math.cos(angle) + yy * math.sin(angle)
    v = -xx * math.sin(angle) + yy * math.cos(angle)
    k = 2 * math.pi / period
    if kind == "stripes":
        wave = np.sin(k * u)
    elif kind == "checker":
        wave = np.sin(k * u) * np.sin(k * v) * 2.0
    elif kind == "dots":
        wave = (np.cos(k * u) + np.cos(k * v)) - 0.6
    else:
        wave = _smooth_noise(rng, size, size, period / 2) * 2.0 - 1.0
    return 0.5 + 0.5 * np.tanh(2.5 * wave)


def _antialias(texture: np.ndarray, scale: float) -> np.ndarray:
    """Blur a texture to be drawn at ``scale`` frame pixels per texture pixel so that its
    edges span about a frame pixel: bilinear sampling then neither aliases nor
    leaves sub-pixel steps, and warping a frame with the exact flow reproduces the next."""
    return cv2.GaussianBlur(texture.astype(np.float32), (0, 0), 0.7 / min(scale, 1.0))


def _shape_alpha(rng: np.random.Generator, kind: str, size: int) -> np.ndarray:
    """Anti-aliased star-shaped silhouette (polar radius function) filling ~80% of the grid."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) - (size - 1) / 2
    rho = np.hypot(xx, yy)
    theta = np.arctan2(yy, xx)
    if kind == "ellipse":
        b = rng.uniform(0.55, 0.9)
        radius = 1.0 / np.sqrt(np.cos(theta) ** 2 + (np.sin(theta) / b) ** 2)
    elif kind == "rounded-box":
        b, n = rng.uniform(0.5, 0.9), rng.uniform(3.5, 6.0)
        radius = (np.abs(np.cos(theta)) ** n + np.abs(np.sin(theta) / b) ** n) ** (-1.0 / n)
    elif kind == "star":
        points = int(rng.integers(4, 7))
        radius = 0.72 + 0.28 * np.cos(points * theta + rng.uniform(0, 2 * math.pi))
    else:
        radius = np.ones_like(theta)
        for harmonic in (2, 3, 4):
            radius += rng.uniform(0.05, 0.2) * np.cos(harmonic * theta + rng.uniform(0, 6.3))
        radius /= radius.max()
    return np.clip(0.4 * size * radius - rho + 0.5, 0.0, 1.0).astype(np.float32)


# --------------------------------------------------------------------------- scenes


def _hazards(index: int) -> dict[str, bool]:
    """Which hazards clip ``index`` of a split has; clips 0 and 1 together have all.

    Every clip has a moving background object (the motion trap), three clips in
    four have look-alikes (the appearance trap), every other one a ripple.
    """
    return {
        "distractors": index % 4 != 3,
        "ripple": index % 2 == 1,
        "mover": True,
        "occluder": index % 2 == 0,
        "motion_blur": index % 2 == 1,
        "camera_zoom": index % 2 == 1,
    }


def _background_palette(hue: float) -> tuple[np.ndarray, np.ndarray]:
    """The background's two dull tones."""
    return _hsv(hue, 0.35, 0.35), _hsv(hue + 0.08, 0.45, 0.75)


def _background_texture(
    rng: np.random.Generator, h: int, w: int, hue: float, scale: float = 1.0
) -> np.ndarray:
    """Blotchy noise in the background's tones; ``scale`` frame pixels per texture pixel."""
    coarse = _smooth_noise(rng, h, w, 48 / scale)
    fine = _smooth_noise(rng, h, w, 6 / scale)
    base = _mix(coarse, *_background_palette(hue))
    return np.clip(base + (fine[..., None] - 0.5) * 0.25, 0, 1).astype(np.float32)


def _background(rng: np.random.Generator, h: int, w: int, hue: float) -> Layer:
    texture = _background_texture(rng, h, w, hue)
    return Layer(BACKGROUND, texture, np.ones((h, w), np.float32), _translate(-w / 4, -h / 4))


def _far_from(points: list[np.ndarray], candidate: np.ndarray, gap: float) -> bool:
    return all(np.linalg.norm(candidate - p) >= gap for p in points)


def _heading(rng: np.random.Generator) -> float:
    """A direction within 0.5 rad of the horizontal, either way: how a target crosses."""
    return rng.uniform(-0.5, 0.5) + (0 if rng.random() < 0.5 else math.pi)


def _speed(rng: np.random.Generator, cfg: SyntheticConfig) -> float:
    """A target's speed in frame pixels per frame, set for a full-length (``cfg.frames``) clip."""
    return rng.uniform(4.0, 7.0) * cfg.width / 320 * 12 / cfg.frames


def _wobble(rng: np.random.Generator, frames: int) -> dict[str, object]:
    """A target's acceleration, spin and scale change, as :class:`Layer` keywords."""
    return {
        "acceleration": (rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1)),
        "spin": rng.uniform(-0.05, 0.05),
        "growth": rng.choice([-1.0, 1.0]) * rng.uniform(0.02, 0.035) * 12 / frames,
    }


def _moving_background_object(
    rng: np.random.Generator, cfg: SyntheticConfig, bg_hue: float, target_path: list[np.ndarray]
) -> tuple[Layer, list[np.ndarray]] | None:
    """A rigid sprite moving like a target but textured like the background, and its path.

    Shape kind, size, speed, heading, acceleration, spin and scale change are
    drawn as the target's are, so that its flow is no different from the
    target's (a mover heading anywhere, or never growing, would be told apart
    by its flow alone). It keeps clear of the target at every
    time (``target_path`` holds the target's centre at five evenly spaced
    times) and inside the frame; None when no such path was found.
    """
    h, w, frames = cfg.height, cfg.width, cfg.frames
    tex_size, radius = 96, rng.uniform(0.13, 0.17) * h
    scale = radius / (0.4 * tex_size)
    speed = _speed(rng, cfg)
    for _ in range(100):
        start = np.array([rng.uniform(0.15, 0.85) * w, rng.uniform(0.15, 0.85) * h])
        heading = _heading(rng)
        velocity = np.array([math.cos(heading), math.sin(heading)]) * speed
        path = [start + velocity * (frames - 1) * f for f in np.linspace(0, 1, 5)]
        inside = all(0.1 * w < x < 0.9 * w and 0.12 * h < y < 0.88 * h for x, y in path)
        apart = all(
            np.linalg.norm(a - b) >= 2.2 * radius for a, b in zip(path, target_path, strict=True)
        )
        if inside and apart:
            break
    else:
        return None
    paint = _antialias(_background_texture(rng, tex_size, tex_size, bg_hue, scale), scale)
    layer = Layer(
        MOVING_OBJECT,
        paint.astype(np.float32),
        _shape_alpha(rng, str(rng.choice(SHAPES)), tex_size),
        _translate(*start)
        @ _affine(scale=scale, angle=rng.uniform(0, 2 * math.pi))
        @ _translate(-(tex_size - 1) / 2, -(tex_size - 1) / 2),
        velocity=tuple(velocity),
        **_wobble(rng, frames),
    )
    return layer, path


def _scene(rng: np.random.Generator, cfg: SyntheticConfig, hazards: dict[str, bool]) -> Scene:
    h, w, frames = cfg.height, cfg.width, cfg.frames
    bg_hue = rng.random()
    camera = Camera(
        centre=((w - 1) / 2, (h - 1) / 2),
        pan=(rng.uniform(-1.0, 1.0) * w / 320, rng.uniform(-0.6, 0.6) * h / 240),
        zoom=rng.choice([-1.0, 1.0]) * rng.uniform(0.008, 0.015) if hazards["camera_zoom"] else 0.0,
    )
    layers: list[Layer] = [_background(rng, int(h * 1.5), int(w * 1.5), bg_hue)]

    # the target: its look (shared with the distractors) and its path across the frame
    shape, texture_kind = str(rng.choice(SHAPES)), str(rng.choice(TEXTURES))
    tex_size = 96
    tgt_hue = bg_hue + rng.uniform(0.3, 0.7)  # far from the background on the hue circle
    radius = rng.uniform(0.13, 0.17) * h  # in frame pixels
    scale = radius / (0.4 * tex_size)  # frame pixels per texture pixel
    # a pattern period of 9-14 frame pixels whatever the frame size: coarse enough to warp cleanly
    weight = _pattern(rng, texture_kind, tex_size, rng.uniform(9, 14) / scale)
    look = _mix(weight, _hsv(tgt_hue, 0.8, 0.95), _hsv(tgt_hue + 0.1, 0.9, 0.35)).astype(np.float32)
    look = _antialias(look, scale * math.exp(-0.4))  # the smallest the target gets
    silhouette = _shape_alpha(rng, shape, tex_size)
    angle0 = rng.uniform(0, 2 * math.pi)
    start = np.array([rng.uniform(0.25, 0.4) * w, rng.uniform(0.3, 0.7) * h])
    heading = _heading(rng)
    speed = _speed(rng, cfg)
    velocity = np.array([math.cos(heading), math.sin(heading)]) * speed
    if velocity[0] < 0:
        start[0] = w - start[0]
    end = start + velocity * (frames - 1)
    centred = _translate(-(tex_size - 1) / 2, -(tex_size - 1) / 2)
    target = Layer(
        TARGET,
        look,
        silhouette,
        _translate(*start) @ _affine(scale=scale, angle=angle0) @ centred,
        velocity=tuple(velocity),
        **_wobble(rng, frames),
        blur=hazards["motion_blur"],
    )
    path = [start + (end - start) * f for f in np.linspace(0, 1, 5)]
    description: dict = {
        "shape": shape,
        "texture": texture_kind,
        "target_speed_px_per_frame": round(float(speed), 2),
        "target_scale_change_per_frame": round(math.exp(target.growth) - 1, 4),
        "camera_pan_px_per_frame": [round(v, 2) for v in camera.pan],
        "camera_zoom_per_frame": round(math.exp(camera.zoom) - 1, 4),
        "hazards": dict(hazards),
    }

    back: list[Layer] = []
    taken = list(path)
    if hazards["ripple"]:
        pw, ph = int(w * rng.uniform(0.3, 0.4)), int(h * rng.uniform(0.3, 0.4))
        for _ in range(50):
            centre = np.array([rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h])
            if _far_from(path, centre, radius * 1.2 + 0.3 * max(pw, ph)):
                break
        ripple_hue = bg_hue + rng.uniform(-0.2, 0.2) + 0.5
        # a 2-D pattern, so the sliding is visible whatever the wave's direction
        kind = str(rng.choice(["checker", "blotches"]))
        waves = _pattern(rng, kind, max(pw, ph), rng.uniform(10, 16))[:ph, :pw]
        box = np.ones((ph, pw), np.float32)
        box[:, :2] = box[:, -2:] = box[:2] = box[-2:] = 0.5
        amplitude = rng.uniform(3.0, 5.0) * w / 320 * 12 / frames
        back.append(
            RippleLayer(
                MOVING_BACKGROUND,
                _antialias(_mix(waves, _hsv(ripple_hue, 0.6, 0.8), _hsv(ripple_hue, 0.3, 0.4)), 1),
                box,
                _translate(*centre)
                @ _affine(angle=rng.uniform(0, math.pi))
                @ _translate(-(pw - 1) / 2, -(ph - 1) / 2),
                amplitude=amplitude,
                wavenumber=2 * math.pi / rng.uniform(20, 40),
                omega=rng.uniform(0.8, 1.4),
            )
        )
        taken.append(centre)
        description["ripple_amplitude_px"] = round(amplitude, 2)
    distractors = 0
    if hazards["distractors"]:
        for _ in range(int(rng.integers(1, 3))):
            for _ in range(50):
                spot = np.array([rng.uniform(0.12, 0.88) * w, rng.uniform(0.15, 0.85) * h])
                if _far_from(taken, spot, radius * 2.4):
                    taken.append(spot)
                    back.append(
                        Layer(
                            DISTRACTOR,
                            look,
                            silhouette,
                            _translate(*spot)
                            @ _affine(
                                scale=scale * rng.uniform(0.85, 1.15), angle=rng.uniform(0, 6.3)
                            )
                            @ centred,
                        )
                    )
                    distractors += 1
                    break
    description["distractors"] = distractors
    description["movers"] = 0
    if hazards["mover"]:
        # after the look-alikes, so that it passes in front of them rather than behind
        found = _moving_background_object(rng, cfg, bg_hue, path)
        if found is not None:
            back.append(found[0])
            description["movers"] = 1
    front: list[Layer] = []
    if hazards["occluder"]:
        across = rng.random() < 0.5  # a post across the path's main direction
        thick, length = int(radius * rng.uniform(0.4, 0.7)), int(h * 0.75)
        post = np.ones((length, thick), np.float32)
        post[:, 0] = post[:, -1] = 0.5
        tone = _hsv(bg_hue + rng.uniform(0.15, 0.3), 0.2, rng.choice([0.15, 0.9]))
        stripes = _pattern(rng, "stripes", length, 18)[:, :thick]
        paint = _mix(stripes * 0.3, np.broadcast_to(tone, (length, thick, 3)), np.ones(3) * 0.5)
        middle = (start + end) / 2
        angle = heading + (math.pi / 2 if across else math.pi / 2 + rng.uniform(-0.4, 0.4))
        front.append(
            Layer(
                OCCLUDER,
                paint.astype(np.float32),
                post,
                _translate(*middle)
                @ _affine(angle=angle - math.pi / 2)
                @ _translate(-(thick - 1) / 2, -(length - 1) / 2),
            )
        )
    description["text"] = _describe(description)
    return Scene(camera, layers + back + [target] + front, h, w, description)


def _describe(d: dict) -> str:
    hz = d["hazards"]
    parts = [f"a {d['texture']} {d['shape']} moving at {d['target_speed_px_per_frame']} px/frame"]
    if hz["motion_blur"]:
        parts.append("with motion blur")
    if d["distractors"]:
        parts.append(f"{d['distractors']} static look-alike(s)")
    if hz["ripple"]:
        parts.append("a rippling background patch")
    if d["movers"]:
        parts.append("a background-coloured object moving like the target")
    if hz["occluder"]:
        parts.append("a static post it passes behind")
    parts.append("camera pan" + (" and zoom" if hz["camera_zoom"] else ""))
    return "; ".join(parts)


# --------------------------------------------------------------------------- writing


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


def _clip_rng(seed: int, split: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, ("train", "val").index(split), index])


def _make_clip(root: Path, cfg: SyntheticConfig, seed: int, split: str, index: int) -> dict:
    """Render and write one clip; return its meta entry (with its name)."""
    scene = _scene(_clip_rng(seed, split, index), cfg, _hazards(index))
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

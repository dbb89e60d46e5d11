"""Drawing a scene: affine layers seen by a moving camera, rendered by backward warping.

Each layer is warped from its own texture with a known transform
(``cv2.remap``), so the flow from frame t to t+1 (camera motion included) is
exact, not estimated. Nothing here draws random numbers: a scene is fixed
before it is rendered (see :mod:`.scenes`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from .regions import BACKGROUND

BLUR_TIMES = (-0.4, -0.2, 0.2, 0.4)  # sub-frame times added to t for motion blur


def affine(scale: float = 1.0, angle: float = 0.0, tx: float = 0.0, ty: float = 0.0) -> np.ndarray:
    """3x3 matrix of ``p -> R(angle) * scale * p + t``."""
    c, s = math.cos(angle) * scale, math.sin(angle) * scale
    return np.array([[c, -s, tx], [s, c, ty], [0.0, 0.0, 1.0]])


def translate(tx: float, ty: float) -> np.ndarray:
    return affine(tx=tx, ty=ty)


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
        zoom = affine(scale=math.exp(self.zoom * t))
        return translate(cx, cy) @ zoom @ translate(-cx - self.pan[0] * t, -cy - self.pan[1] * t)


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
        moved = translate(
            centre[0] + vx * t + 0.5 * ax * t * t, centre[1] + vy * t + 0.5 * ay * t * t
        )
        turn = affine(scale=math.exp(self.growth * t), angle=self.spin * t)
        return moved @ turn @ translate(-centre[0], -centre[1]) @ self.placement_start

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

"""Appearance: colours, seeded two-tone patterns, silhouettes and the background's texture.

Every function draws from the generator it is given, in a fixed order, so a
seed fixes every texture (the generated set is reproducible byte for byte).
"""

from __future__ import annotations

import math

import cv2
import numpy as np


def hsv(h: float, s: float, v: float) -> np.ndarray:
    """One RGB colour in [0, 1] from hue in turns, saturation, value."""
    pixel = np.array([[[h % 1.0 * 180.0, s * 255.0, v * 255.0]]], np.float32)
    return cv2.cvtColor(pixel.astype(np.uint8), cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32) / 255


def smooth_noise(rng: np.random.Generator, h: int, w: int, cell: float) -> np.ndarray:
    """Band-limited noise in [0, 1]: a coarse random grid, cubic-upsampled."""
    grid = rng.random((max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)), dtype=np.float32)
    return np.clip(cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC), 0.0, 1.0)


def mix(weight: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a * (1.0 - weight[..., None]) + b * weight[..., None]


TEXTURES = ("stripes", "checker", "dots", "blotches")
SHAPES = ("ellipse", "rounded-box", "star", "blob")
# Drawn only in other domains than the default (see :data:`.scenes.DOMAINS`).
NEW_TEXTURES = ("rings", "zigzag")
NEW_SHAPES = ("cross", "triangle", "ring")


def pattern(rng: np.random.Generator, kind: str, size: int, period: float) -> np.ndarray:
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
    elif kind == "rings":  # concentric about a random point of the grid
        cx, cy = rng.uniform(0, size, 2)
        wave = np.sin(k * np.hypot(xx - cx, yy - cy))
    elif kind == "zigzag":
        wave = np.sin(k * (u + 0.5 * period * np.abs(((v / period) % 2.0) - 1.0)))
    else:
        wave = smooth_noise(rng, size, size, period / 2) * 2.0 - 1.0
    return 0.5 + 0.5 * np.tanh(2.5 * wave)


def antialias(texture: np.ndarray, scale: float) -> np.ndarray:
    """Blur a texture to be drawn at ``scale`` frame pixels per texture pixel so that its
    edges span about a frame pixel: bilinear sampling then neither aliases nor
    leaves sub-pixel steps, and warping a frame with the exact flow reproduces the next."""
    return cv2.GaussianBlur(texture.astype(np.float32), (0, 0), 0.7 / min(scale, 1.0))


def shape_alpha(rng: np.random.Generator, kind: str, size: int) -> np.ndarray:
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
    elif kind == "cross":  # a plus sign of arms ``arm`` wide, turned by a random angle
        turn, arm = rng.uniform(0, math.pi / 2), rng.uniform(0.3, 0.45)
        c, s = np.abs(np.cos(theta - turn)), np.abs(np.sin(theta - turn))
        radius = np.minimum(1.0, arm / np.maximum(np.minimum(c, s), 1e-6))
    elif kind == "triangle":  # polar radius of a regular triangle, apothem 1/2
        turn = rng.uniform(0, 2 * math.pi)
        sector = (theta - turn) % (2 * math.pi / 3) - math.pi / 3
        radius = 0.5 / np.cos(sector)
    elif kind == "ring":  # a disc with a hole: the background shows through the target
        hole = rng.uniform(0.35, 0.55)
        outer = np.clip(0.4 * size - rho + 0.5, 0.0, 1.0)
        return (outer * np.clip(rho - hole * 0.4 * size + 0.5, 0.0, 1.0)).astype(np.float32)
    else:
        radius = np.ones_like(theta)
        for harmonic in (2, 3, 4):
            radius += rng.uniform(0.05, 0.2) * np.cos(harmonic * theta + rng.uniform(0, 6.3))
        radius /= radius.max()
    return np.clip(0.4 * size * radius - rho + 0.5, 0.0, 1.0).astype(np.float32)


def background_palette(hue: float) -> tuple[np.ndarray, np.ndarray]:
    """The background's two dull tones."""
    return hsv(hue, 0.35, 0.35), hsv(hue + 0.08, 0.45, 0.75)


def vivid_background(
    rng: np.random.Generator, h: int, w: int, hue: float, scale: float = 1.0
) -> np.ndarray:
    """A busy, saturated two-tone pattern (any of :data:`TEXTURES`): the background of the
    ``vivid`` domain looks like the default domain's targets."""
    kind = str(rng.choice(TEXTURES))
    side = max(h, w)
    weight = pattern(rng, kind, side, rng.uniform(14, 24) / scale)[:h, :w]
    fine = smooth_noise(rng, h, w, 6 / scale)
    base = mix(weight, hsv(hue, 0.85, 0.95), hsv(hue + 0.15, 0.9, 0.45))
    return np.clip(base + (fine[..., None] - 0.5) * 0.2, 0, 1).astype(np.float32)


def background_texture(
    rng: np.random.Generator, h: int, w: int, hue: float, scale: float = 1.0
) -> np.ndarray:
    """Blotchy noise in the background's tones; ``scale`` frame pixels per texture pixel."""
    coarse = smooth_noise(rng, h, w, 48 / scale)
    fine = smooth_noise(rng, h, w, 6 / scale)
    base = mix(coarse, *background_palette(hue))
    return np.clip(base + (fine[..., None] - 0.5) * 0.25, 0, 1).astype(np.float32)

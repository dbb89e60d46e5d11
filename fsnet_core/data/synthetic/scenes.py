"""What each clip shows: its hazards, the target's look and motion, the other layers.

:func:`make_scene` draws one :class:`~.renderer.Scene` from a seeded generator
(:func:`clip_rng`); :func:`clip_hazards` is the schedule of which hazards a
clip has, and :class:`SyntheticConfig` how many clips of what size a set has.
The order of the draws is part of the set's identity: changing it changes
every clip (bump :data:`~.storage.GENERATOR_VERSION`).

A :class:`Domain` says what the clips look like. ``default`` is the set the
course model learns from; the others (:data:`DOMAINS`) are for finetuning:
clips that model has not seen. ``vivid``: busy, saturated patterned
backgrounds (they look like the default's targets), muted targets of other
shapes (cross, triangle, ring) and textures (rings, zigzag), and a camera that
pans twice as fast and always zooms. The hazards are the same. A domain other
than the default draws from its own generators, so the default set is
unchanged byte for byte.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .regions import BACKGROUND, DISTRACTOR, MOVING_BACKGROUND, MOVING_OBJECT, OCCLUDER, TARGET
from .renderer import Camera, Layer, RippleLayer, Scene, affine, translate
from .textures import (
    NEW_SHAPES,
    NEW_TEXTURES,
    SHAPES,
    TEXTURES,
    antialias,
    background_texture,
    hsv,
    mix,
    pattern,
    shape_alpha,
    vivid_background,
)

Tone = tuple[float, float]  # (saturation, value) of one of a target's two colours


@dataclass(frozen=True)
class Domain:
    """What a family of clips looks like: shapes, textures, background, colours, camera.

    ``background(rng, h, w, hue, scale)`` paints the background and the
    camouflaged moving object; ``target_tones`` are the (saturation, value) of
    the target's two colours; ``pan`` multiplies the camera's pan speed;
    ``always_zoom`` zooms in every clip (else every other one).
    """

    name: str
    shapes: tuple[str, ...] = SHAPES
    textures: tuple[str, ...] = TEXTURES
    background: Callable[..., np.ndarray] = background_texture
    target_tones: tuple[Tone, Tone] = ((0.8, 0.95), (0.9, 0.35))
    pan: float = 1.0
    always_zoom: bool = False


DEFAULT_DOMAIN = "default"
DOMAINS: dict[str, Domain] = {
    DEFAULT_DOMAIN: Domain(DEFAULT_DOMAIN),
    "vivid": Domain(
        "vivid",
        shapes=NEW_SHAPES,
        textures=NEW_TEXTURES,
        background=vivid_background,
        target_tones=((0.3, 0.75), (0.35, 0.4)),
        pan=2.0,
        always_zoom=True,
    ),
}


def get_domain(name: str) -> Domain:
    """The domain called ``name``; ValueError naming the known ones otherwise."""
    if name not in DOMAINS:
        raise ValueError(f"unknown synthetic domain {name!r}; choose one of {', '.join(DOMAINS)}")
    return DOMAINS[name]


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


def clip_hazards(index: int) -> dict[str, bool]:
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


def _background(rng: np.random.Generator, h: int, w: int, hue: float, domain: Domain) -> Layer:
    texture = domain.background(rng, h, w, hue)
    return Layer(BACKGROUND, texture, np.ones((h, w), np.float32), translate(-w / 4, -h / 4))


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
    rng: np.random.Generator,
    cfg: SyntheticConfig,
    bg_hue: float,
    target_path: list[np.ndarray],
    domain: Domain,
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
    paint = antialias(domain.background(rng, tex_size, tex_size, bg_hue, scale), scale)
    layer = Layer(
        MOVING_OBJECT,
        paint.astype(np.float32),
        shape_alpha(rng, str(rng.choice(domain.shapes)), tex_size),
        translate(*start)
        @ affine(scale=scale, angle=rng.uniform(0, 2 * math.pi))
        @ translate(-(tex_size - 1) / 2, -(tex_size - 1) / 2),
        velocity=tuple(velocity),
        **_wobble(rng, frames),
    )
    return layer, path


def make_scene(
    rng: np.random.Generator,
    cfg: SyntheticConfig,
    hazards: dict[str, bool],
    domain: str = DEFAULT_DOMAIN,
) -> Scene:
    """One clip's scene with these hazards; ``description`` says what it shows (for meta.json)."""
    look_of = get_domain(domain)
    h, w, frames = cfg.height, cfg.width, cfg.frames
    bg_hue = rng.random()
    hazards = {**hazards, "camera_zoom": hazards["camera_zoom"] or look_of.always_zoom}
    camera = Camera(
        centre=((w - 1) / 2, (h - 1) / 2),
        pan=(
            rng.uniform(-1.0, 1.0) * look_of.pan * w / 320,
            rng.uniform(-0.6, 0.6) * look_of.pan * h / 240,
        ),
        zoom=rng.choice([-1.0, 1.0]) * rng.uniform(0.008, 0.015) if hazards["camera_zoom"] else 0.0,
    )
    layers: list[Layer] = [_background(rng, int(h * 1.5), int(w * 1.5), bg_hue, look_of)]

    # the target: its look (shared with the distractors) and its path across the frame
    shape, texture_kind = str(rng.choice(look_of.shapes)), str(rng.choice(look_of.textures))
    tex_size = 96
    tgt_hue = bg_hue + rng.uniform(0.3, 0.7)  # far from the background on the hue circle
    radius = rng.uniform(0.13, 0.17) * h  # in frame pixels
    scale = radius / (0.4 * tex_size)  # frame pixels per texture pixel
    # a pattern period of 9-14 frame pixels whatever the frame size: coarse enough to warp cleanly
    weight = pattern(rng, texture_kind, tex_size, rng.uniform(9, 14) / scale)
    (s1, v1), (s2, v2) = look_of.target_tones
    look = mix(weight, hsv(tgt_hue, s1, v1), hsv(tgt_hue + 0.1, s2, v2)).astype(np.float32)
    look = antialias(look, scale * math.exp(-0.4))  # the smallest the target gets
    silhouette = shape_alpha(rng, shape, tex_size)
    angle0 = rng.uniform(0, 2 * math.pi)
    start = np.array([rng.uniform(0.25, 0.4) * w, rng.uniform(0.3, 0.7) * h])
    heading = _heading(rng)
    speed = _speed(rng, cfg)
    velocity = np.array([math.cos(heading), math.sin(heading)]) * speed
    if velocity[0] < 0:
        start[0] = w - start[0]
    end = start + velocity * (frames - 1)
    centred = translate(-(tex_size - 1) / 2, -(tex_size - 1) / 2)
    target = Layer(
        TARGET,
        look,
        silhouette,
        translate(*start) @ affine(scale=scale, angle=angle0) @ centred,
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
        waves = pattern(rng, kind, max(pw, ph), rng.uniform(10, 16))[:ph, :pw]
        box = np.ones((ph, pw), np.float32)
        box[:, :2] = box[:, -2:] = box[:2] = box[-2:] = 0.5
        amplitude = rng.uniform(3.0, 5.0) * w / 320 * 12 / frames
        back.append(
            RippleLayer(
                MOVING_BACKGROUND,
                antialias(mix(waves, hsv(ripple_hue, 0.6, 0.8), hsv(ripple_hue, 0.3, 0.4)), 1),
                box,
                translate(*centre)
                @ affine(angle=rng.uniform(0, math.pi))
                @ translate(-(pw - 1) / 2, -(ph - 1) / 2),
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
                            translate(*spot)
                            @ affine(
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
        found = _moving_background_object(rng, cfg, bg_hue, path, look_of)
        if found is not None:
            back.append(found[0])
            description["movers"] = 1
    front: list[Layer] = []
    if hazards["occluder"]:
        across = rng.random() < 0.5  # a post across the path's main direction
        thick, length = int(radius * rng.uniform(0.4, 0.7)), int(h * 0.75)
        post = np.ones((length, thick), np.float32)
        post[:, 0] = post[:, -1] = 0.5
        tone = hsv(bg_hue + rng.uniform(0.15, 0.3), 0.2, rng.choice([0.15, 0.9]))
        stripes = pattern(rng, "stripes", length, 18)[:, :thick]
        paint = mix(stripes * 0.3, np.broadcast_to(tone, (length, thick, 3)), np.ones(3) * 0.5)
        middle = (start + end) / 2
        angle = heading + (math.pi / 2 if across else math.pi / 2 + rng.uniform(-0.4, 0.4))
        front.append(
            Layer(
                OCCLUDER,
                paint.astype(np.float32),
                post,
                translate(*middle)
                @ affine(angle=angle - math.pi / 2)
                @ translate(-(thick - 1) / 2, -(length - 1) / 2),
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


def clip_rng(
    seed: int, split: str, index: int, domain: str = DEFAULT_DOMAIN
) -> np.random.Generator:
    """The generator of clip ``index`` of ``split``: each clip is drawn on its own.

    Another domain than the default adds its place in :data:`DOMAINS` to the
    seed: its clips are drawn independently of the default's.
    """
    key = [seed, ("train", "val").index(split), index]
    if domain != DEFAULT_DOMAIN:
        key.append(list(DOMAINS).index(get_domain(domain).name))
    return np.random.default_rng(key)

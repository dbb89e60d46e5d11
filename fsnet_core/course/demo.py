"""The smallest end-to-end run: draw a frame pair, run FSNet, save a figure of both outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..data.synthetic.textures import background_texture
from ..flow import flow_to_color
from ..inference.predictor import FSNetPredictor
from ..model import FSNet
from ..model.inputs import to_model_input


def drawn_pair(
    size: int = 352, seed: int = 0, random_position: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A textured frame with a disk moving right, its flow field and its mask.

    Returns the uint8 frame, the ``H x W x 2`` flow and the boolean mask.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    frame = (rng.random((size, size, 3)) * 0.3 + 0.35).astype(np.float32)
    cy, cx, radius = size / 2, size / 2.5, size / 6
    if random_position:
        cy, cx = rng.uniform(0.3, 0.7, size=2) * size
        radius = rng.uniform(0.12, 0.25) * size
    mask = (yy - cy) ** 2 + (xx - cx) ** 2 < radius**2
    frame[mask] = (0.9, 0.35, 0.2)
    flow = np.zeros((size, size, 2), np.float32)
    flow[..., 0] = 0.5  # a slow camera pan
    flow[mask] = (6.0, 1.0)
    return (frame * 255).astype(np.uint8), flow, mask


def aperture_pair(
    height: int = 240, width: int = 320, side: int = 96, shift: tuple[int, int] = (4, 0)
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Two frames of a flat, untextured square sliding by ``shift`` (whole pixels) over a
    still, textured background in the built-in clips' tones; the exact flow; the square.

    The aperture problem at its plainest: inside the square nothing changes between the
    frames, so only its edges say that it moves. Returns frame t, frame t+1 (uint8), the
    ``H x W x 2`` flow from t to t+1 and the square's boolean mask in frame t.
    """
    dx, dy = shift
    if side < 8 or not (0 < side + abs(dx) < width and 0 < side + abs(dy) < height):
        raise ValueError(f"a {side}-pixel square moved by {shift} does not fit {height}x{width}")
    background = background_texture(np.random.default_rng(0), height, width, hue=0.3)
    first = (background * 255 + 0.5).astype(np.uint8)
    second = first.copy()
    y0, x0 = (height - side - dy) // 2, (width - side - dx) // 2
    colour = np.array([200, 120, 60], np.uint8)  # one flat colour: no texture to follow
    first[y0 : y0 + side, x0 : x0 + side] = colour
    second[y0 + dy : y0 + dy + side, x0 + dx : x0 + dx + side] = colour
    mask = np.zeros((height, width), bool)
    mask[y0 : y0 + side, x0 : x0 + side] = True
    flow = np.zeros((height, width, 2), np.float32)
    flow[mask] = (dx, dy)
    return first, second, flow, mask


def forward_pass_figure(out_dir: str | Path, backbone: str = "resnet50", size: int = 352) -> Path:
    """Run an untrained FSNet once and save frame, flow and both sigmoid maps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..io import atomic_write

    torch.manual_seed(0)
    frame, flow, mask = drawn_pair(size)
    flow_rgb = flow_to_color(flow)
    model = FSNet(backbone=backbone).eval()
    # One forward pass: converting it for the CPU engine would take longer than it saves.
    predictor = FSNetPredictor(model, backend="torch")
    out = predictor(to_model_input(frame), to_model_input(flow_rgb))
    panels = [
        ("frame", frame),
        ("flow (colour wheel)", flow_rgb),
        ("appearance branch S_A", torch.sigmoid(out.appearance)[0, 0].numpy()),
        ("motion branch S_M", torch.sigmoid(out.motion)[0, 0].numpy()),
        ("ground truth", mask),
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(3 * len(panels), 3.2))
    for ax, (title, img) in zip(axes, panels, strict=True):
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.suptitle(f"FSNet ({backbone}, untrained): one forward pass at {size}x{size}")
    fig.tight_layout()
    path = Path(out_dir) / "demo_forward_pass.png"
    with atomic_write(path) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)
    return path


__all__ = ["aperture_pair", "drawn_pair", "forward_pass_figure"]

"""A model's predictions on a few frames, one row each: what it saw and what it said.

The real-video sections show the authors' model on DAVIS frames this way:
the frame, the flow image (the other input), the probability map with its
colour bar, and the mask (orange) over the frame with the true outline (blue).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ...data.samples import Sample
from ...metrics import jaccard
from .audit import WIDEST
from .panels import COLOUR_NAMES, GROUND_TRUTH, PREDICTION, compare_overlay, wrapped_suptitle

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def plot_predictions(
    samples: Sequence[Sample],
    probabilities: Sequence[np.ndarray],
    title: str | None = None,
    threshold: float = 0.5,
) -> Figure:
    """One row per sample: frame, flow image, probability map (colour bar), mask over frame.

    ``probabilities`` are ``H x W`` maps in [0, 1] at the samples' size; each
    row's last title gives the frame's J at ``threshold``.
    """
    import matplotlib.pyplot as plt

    if not samples or len(samples) != len(probabilities):
        raise ValueError(f"{len(samples)} samples but {len(probabilities)} probability maps")
    fig, axes = plt.subplots(
        len(samples), 4, figsize=(WIDEST, 2.4 * len(samples) + 0.5), squeeze=False,
        layout="constrained",
    )  # fmt: skip
    for row, (sample, prob) in enumerate(zip(samples, probabilities, strict=True)):
        prob = np.asarray(prob, dtype=np.float32)
        if prob.shape != sample.mask.shape:
            raise ValueError(f"{sample.name}: map {prob.shape}, mask {sample.mask.shape}")
        score = jaccard(prob >= threshold, sample.mask)
        axes[row, 0].imshow(sample.frame_rgb)
        axes[row, 1].imshow(sample.flow_rgb)
        shown = axes[row, 2].imshow(prob, cmap="magma", vmin=0.0, vmax=1.0)
        fig.colorbar(shown, ax=axes[row, 2], fraction=0.046, pad=0.04)
        axes[row, 3].imshow(compare_overlay(sample.frame_rgb, prob, sample.mask, threshold))
        titles = (
            sample.name,
            "flow image",
            "probability of 'object'",
            f"mask ({COLOUR_NAMES[PREDICTION]}), truth ({COLOUR_NAMES[GROUND_TRUTH]})\n"
            f"J = {score:.2f}",
        )
        for ax, text in zip(axes[row], titles, strict=True):
            ax.set_title(text, fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
    if title:
        wrapped_suptitle(fig, title)
    return fig


__all__ = ["plot_predictions"]

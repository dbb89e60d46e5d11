"""RCAM with one cue broken: do the gates notice when the flow (or the frame) says nothing?

RCAM is meant to let each stream judge the other: the gate on appearance is
computed from motion (Eq. 1), the gate on motion from appearance (Eq. 2). The
way to see whether a trained RCAM *decides* anything is to give it something
to decide: run the same frames twice, once as they are and once with one cue
broken (:data:`DEGRADATIONS`: flow that shows no motion, flow of random
vectors, a frame without any pattern), and measure how far each gate moves.

Because neither stream is changed by RCAM, a gate computed from the
*untouched* cue cannot move at all (the gate on motion is computed from
appearance only, so it cannot see that the flow is broken); only the gate
computed from the broken cue can. :func:`cue_response` measures both, frame
by frame, beside a yardstick: how much the same gate moves from one clean
frame to another anyway. With ``masks`` it also scores the prediction (J)
on both inputs, which says whether the model relies on the broken cue at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import torch

from ..flow.formats import flow_to_color
from ..metrics.uvos import jaccard
from ..model import FSNet, FSNetTrace
from ..model.inputs import to_model_input
from ..model.rcam import RCAM_GATES

Cue = Literal["appearance", "motion"]


@dataclass(frozen=True)
class Degradation:
    """One way of breaking one cue, named for tables and figures."""

    name: str
    cue: Cue  # the stream whose input is broken
    description: str


DEGRADATIONS: dict[str, Degradation] = {
    d.name: d
    for d in (
        Degradation(
            "still flow",
            "motion",
            "the flow image of a field where nothing moves (white): no motion anywhere",
        ),
        Degradation(
            "noisy flow",
            "motion",
            "the flow image of one random vector per pixel: a flow estimate that failed",
        ),
        Degradation(
            "flat frame",
            "appearance",
            "each frame replaced by its own mean colour: no pattern at all (perfect camouflage)",
        ),
    )
}
"""The ways :func:`degrade` breaks a cue, by name."""


def _check_how(how: str) -> Degradation:
    if how not in DEGRADATIONS:
        raise ValueError(f"unknown degradation {how!r}; choose one of {', '.join(DEGRADATIONS)}")
    return DEGRADATIONS[how]


def degrade(
    image: torch.Tensor, flow: torch.Tensor, how: str, *, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(image, flow)`` (model inputs, ``N x 3 x H x W``) with one cue broken as ``how`` says.

    The other cue is returned as it is. ``seed`` draws the random vectors of
    ``"noisy flow"`` (the same seed gives the same noise).
    """
    degradation = _check_how(how)
    if image.shape != flow.shape or image.ndim != 4:
        raise ValueError(
            f"image and flow must both be N x 3 x H x W, got {tuple(image.shape)} and "
            f"{tuple(flow.shape)}"
        )
    n, _, h, w = flow.shape
    if how == "still flow":
        white = to_model_input(flow_to_color(np.zeros((h, w, 2), np.float32)))
        return image, white.to(flow).expand(n, -1, -1, -1).clone()
    if how == "noisy flow":
        rng = np.random.default_rng(seed)
        fields = rng.standard_normal((n, h, w, 2)).astype(np.float32)
        noisy = torch.cat([to_model_input(flow_to_color(f)) for f in fields])
        return image, noisy.to(flow)
    assert degradation.cue == "appearance"  # "flat frame": the normalisation is linear
    return image.mean(dim=(2, 3), keepdim=True).expand_as(image).clone(), flow


@dataclass(frozen=True)
class CueResponse:
    """What breaking one cue did to RCAM's gates and to the prediction.

    ``gates``: one row per (stage, gate, frame) with ``stage``, ``direction``
    (the gate's code name), ``reads`` (the stream the gate is computed from),
    ``reads_broken_cue``, ``frame``, the gate's mean over channels on the
    ``clean`` and the ``degraded`` input, their difference ``shift``, the mean
    over channels of the absolute change ``abs_shift``, and ``frame_spread``: the
    clean gate's standard deviation over the frames, averaged over channels (how
    much it moves from one frame to another anyway; NaN for a single frame).
    ``scores``: one row per frame with ``J_clean`` and ``J_degraded`` (empty
    without masks).
    """

    how: str
    gates: pd.DataFrame
    scores: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        """Per (stage, direction), the rows of :attr:`gates` over the frames.

        ``clean`` and ``degraded`` (mean gate), ``shift`` (mean) and ``shift sd``
        (over frames), ``abs_shift`` and ``frame_spread``, ``reads`` and
        ``reads_broken_cue``, and ``same sign``: the share of frames whose shift has
        the sign of the mean shift (NaN where no frame moved).
        """

        def same_sign(shifts: pd.Series) -> float:
            sign = np.sign(shifts.mean())
            return float((np.sign(shifts) == sign).mean()) if sign else float("nan")

        grouped = self.gates.groupby(["stage", "direction"], sort=False)
        table = grouped.agg(
            reads=("reads", "first"),
            reads_broken_cue=("reads_broken_cue", "first"),
            clean=("clean", "mean"),
            degraded=("degraded", "mean"),
            shift=("shift", "mean"),
            shift_sd=("shift", "std"),
            abs_shift=("abs_shift", "mean"),
            frame_spread=("frame_spread", "first"),
            same_sign=("shift", same_sign),
        )
        return table.rename(columns={"shift_sd": "shift sd", "same_sign": "same sign"})


def _logits(trace: FSNetTrace) -> np.ndarray:
    return trace.appearance_logits.detach().float().cpu().numpy()[:, 0]


def cue_response(
    model: FSNet,
    image: torch.Tensor,
    flow: torch.Tensor,
    how: str,
    *,
    masks: Sequence[np.ndarray] | None = None,
    seed: int = 0,
) -> CueResponse:
    """Run ``model`` on the clean and on the degraded inputs and compare its gates (and J).

    ``model`` must have both gates at every stage or some (a simplex model's
    missing gate is left out); ``masks`` (one ``H x W`` bool map per frame, at the
    input size) adds J of the prediction (logit > 0) on both inputs.
    """
    degradation = _check_how(how)
    if masks is not None and len(masks) != len(image):
        raise ValueError(f"{len(image)} frames but {len(masks)} masks")
    device = next(model.parameters()).device  # the inputs go where the model is
    image, flow = image.to(device), flow.to(device)
    broken_image, broken_flow = degrade(image, flow, how, seed=seed)
    with torch.no_grad():
        clean = model.forward_with_intermediates(image, flow)
        broken = model.forward_with_intermediates(broken_image, broken_flow)
    rows = []
    for k, (before, after) in enumerate(zip(clean.stages, broken.stages, strict=True)):
        for gate in RCAM_GATES:
            a, b = before.gate(gate), after.gate(gate)
            if a is None or b is None:
                continue
            a, b = a.float().cpu(), b.float().cpu()  # N frames x C channels
            spread = float(a.std(0).mean()) if len(a) > 1 else float("nan")
            rows.extend(
                {
                    "stage": k,
                    "direction": gate.name,
                    "reads": gate.source,
                    "reads_broken_cue": gate.source == degradation.cue,
                    "frame": i,
                    "clean": float(a[i].mean()),
                    "degraded": float(b[i].mean()),
                    "shift": float((b[i] - a[i]).mean()),
                    "abs_shift": float((b[i] - a[i]).abs().mean()),
                    "frame_spread": spread,
                }
                for i in range(len(a))
            )
    scores = pd.DataFrame(columns=["frame", "J_clean", "J_degraded"])
    if masks is not None:
        scores = pd.DataFrame(
            {
                "frame": range(len(masks)),
                "J_clean": [jaccard(p > 0, m) for p, m in zip(_logits(clean), masks, strict=True)],
                "J_degraded": [
                    jaccard(p > 0, m) for p, m in zip(_logits(broken), masks, strict=True)
                ],
            }
        )
    return CueResponse(how, pd.DataFrame(rows), scores)


__all__ = ["DEGRADATIONS", "CueResponse", "Degradation", "cue_response", "degrade"]

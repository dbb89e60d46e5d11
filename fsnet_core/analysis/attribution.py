"""Which cue drives FSNet's decision? Captum attributions on the appearance and motion inputs.

FSNet reads two images, the frame and the colour-coded flow. To ask how much
of a decision comes from each, the network is wrapped as a function of both
inputs that returns one number per sample, :class:`RegionScore`: the mean
logit of the fused (appearance) output inside a region -- the predicted
object, the target, a static look-alike, a rippling background patch or a
moving background object of the synthetic set. Captum then splits that
number between the pixels of the two inputs:

* :func:`integrated_gradients` integrates the gradient along the straight
  path from a *baseline* to the input. Its attributions add up to
  ``score(input) - score(baseline)`` (completeness), so the image's and the
  flow's totals say how much each moved the region's logit.
* :func:`occlusion` replaces square windows of one input by the baseline and
  records how the score drops: model-agnostic, coarse, no gradients.
* :func:`layer_gradcam` weights a stage's feature maps in the appearance and
  the motion stream by their average gradient (Grad-CAM): where, inside each
  stream, the evidence sits.

The baselines mean "no information" for each input: the ImageNet mean colour
for the frame (zero after normalisation) and *white* for the flow, which is
the colour of zero motion on the Middlebury wheel -- the flow of a static
scene. :func:`cue_contributions` runs an attribution over many samples and
regions and tabulates each cue's share, the measurement notebook 06 reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..data.samples import Sample
from ..data.synthetic import DISTRACTOR, MOVING_BACKGROUND, MOVING_OBJECT, REGION_NAMES, TARGET
from ..model.inputs import IMAGENET_MEAN, IMAGENET_STD

Output = Literal["appearance", "motion"]
METHODS = ("integrated_gradients", "occlusion", "layer_gradcam")
DEFAULT_REGIONS = (TARGET, DISTRACTOR, MOVING_BACKGROUND, MOVING_OBJECT)


class RegionScore(nn.Module):
    """``(image, flow, region) -> N`` scores: the mean logit of one FSNet output inside ``region``.

    ``region`` is an ``N x 1 x H x W`` (or ``N x H x W``) weight map, usually a
    0/1 mask; it is a forward argument so that Captum repeats it with the
    inputs when it batches perturbed copies.
    """

    def __init__(self, model: nn.Module, output: Output = "appearance") -> None:
        super().__init__()
        if output not in ("appearance", "motion"):
            raise ValueError(f"output must be 'appearance' or 'motion', got {output!r}")
        self.model = model
        self.output = output

    def forward(
        self, image: torch.Tensor, flow: torch.Tensor, region: torch.Tensor
    ) -> torch.Tensor:
        logits = getattr(self.model(image, flow), self.output)
        weight = region if region.ndim == 4 else region[:, None]
        weight = weight.to(logits.dtype)
        total = weight.sum(dim=(1, 2, 3)).clamp_min(1e-6)
        return (logits * weight).sum(dim=(1, 2, 3)) / total


@dataclass
class CueAttribution:
    """Attributions of a score to the frame (``image``) and the flow input (``flow``).

    ``image``/``flow``: ``N x C x H x W`` signed attributions (``C`` = 3 for
    input attributions, 1 for Grad-CAM). ``score``: the score of the inputs;
    ``baseline_score``: of the baselines (IG, occlusion); ``delta``: IG's
    completeness error, ``sum(attributions) - (score - baseline_score)``.
    """

    method: str
    image: torch.Tensor
    flow: torch.Tensor
    score: torch.Tensor
    baseline_score: torch.Tensor | None = None
    delta: torch.Tensor | None = None

    def maps(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-pixel attribution of frame and flow (summed over channels), ``N x H x W`` each."""
        return (
            self.image.sum(dim=1).detach().cpu().numpy(),
            self.flow.sum(dim=1).detach().cpu().numpy(),
        )

    def totals(self) -> tuple[np.ndarray, np.ndarray]:
        """Signed sums per sample: how far each input moved the score (``N`` each)."""
        image, flow = self.maps()
        return image.sum(axis=(1, 2)), flow.sum(axis=(1, 2))

    def magnitudes(self) -> tuple[np.ndarray, np.ndarray]:
        """Sums of absolute attributions per sample: how much each input matters at all."""
        image = self.image.detach().abs().sum(dim=(1, 2, 3)).cpu().numpy()
        flow = self.flow.detach().abs().sum(dim=(1, 2, 3)).cpu().numpy()
        return image, flow

    def image_share(self) -> np.ndarray:
        """The frame's share of all absolute attribution, in [0, 1] (0.5 when both are zero)."""
        image, flow = self.magnitudes()
        total = image + flow
        return np.where(total > 0, image / np.where(total > 0, total, 1.0), 0.5)


# --------------------------------------------------------------------------- inputs


def default_baselines(image: torch.Tensor, flow: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """ "No information" inputs: the mean colour for the frame, white (zero motion) for the flow."""
    mean = torch.as_tensor(IMAGENET_MEAN, dtype=flow.dtype, device=flow.device)
    std = torch.as_tensor(IMAGENET_STD, dtype=flow.dtype, device=flow.device)
    white = ((1.0 - mean) / std).view(1, 3, 1, 1)
    return torch.zeros_like(image), white.expand_as(flow).contiguous()


def as_region(region: torch.Tensor | np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """A region map (``H x W``, ``N x H x W`` or ``N x 1 x H x W``; bool or float) as
    ``N x 1 x H x W`` in the inputs' dtype, repeated over the batch when given once."""
    r = torch.as_tensor(np.asarray(region) if not torch.is_tensor(region) else region)
    if r.ndim == 2:
        r = r[None]
    if r.ndim == 3:
        r = r[:, None]
    if r.ndim != 4 or r.shape[-2:] != like.shape[-2:]:
        raise ValueError(
            f"region of shape {tuple(r.shape)} does not fit inputs of shape {tuple(like.shape)}"
        )
    if r.shape[0] == 1 and like.shape[0] > 1:
        r = r.expand(like.shape[0], -1, -1, -1)
    return r.to(device=like.device, dtype=like.dtype)


@torch.no_grad()
def predicted_region(
    model: nn.Module, image: torch.Tensor, flow: torch.Tensor, threshold: float = 0.5
) -> torch.Tensor:
    """The object the model predicts (fused output above ``threshold``), ``N x 1 x H x W``."""
    return (torch.sigmoid(model(image, flow).appearance) > threshold).to(image.dtype)


def _prepare(
    model: nn.Module,
    image: torch.Tensor,
    flow: torch.Tensor,
    region: torch.Tensor | np.ndarray | None,
    output: Output,
) -> tuple[RegionScore, torch.Tensor]:
    if image.shape != flow.shape or image.ndim != 4:
        raise ValueError(
            f"image and flow must both be N x 3 x H x W, got {tuple(image.shape)} and "
            f"{tuple(flow.shape)}"
        )
    if model.training:
        raise ValueError("put the model in eval mode (model.eval()) before attributing")
    if region is None:
        region = predicted_region(model, image, flow)
    return RegionScore(model, output), as_region(region, image)


# --------------------------------------------------------------------------- methods


def integrated_gradients(
    model: nn.Module,
    image: torch.Tensor,
    flow: torch.Tensor,
    region: torch.Tensor | np.ndarray | None = None,
    *,
    n_steps: int = 32,
    baselines: tuple[torch.Tensor, torch.Tensor] | None = None,
    output: Output = "appearance",
    internal_batch_size: int | None = None,
) -> CueAttribution:
    """Integrated gradients of the region score to both inputs (default region: the prediction)."""
    from captum.attr import IntegratedGradients

    score_fn, region_t = _prepare(model, image, flow, region, output)
    base = baselines or default_baselines(image, flow)
    ig = IntegratedGradients(score_fn)
    (a_image, a_flow), delta = ig.attribute(
        (image, flow),
        baselines=base,
        additional_forward_args=(region_t,),
        n_steps=n_steps,
        internal_batch_size=internal_batch_size,
        return_convergence_delta=True,
    )
    with torch.no_grad():
        score = score_fn(image, flow, region_t)
        baseline_score = score_fn(*base, region_t)
    return CueAttribution(
        "integrated_gradients", a_image, a_flow, score, baseline_score, delta.detach()
    )


def occlusion(
    model: nn.Module,
    image: torch.Tensor,
    flow: torch.Tensor,
    region: torch.Tensor | np.ndarray | None = None,
    *,
    window: int | None = None,
    stride: int | None = None,
    baselines: tuple[torch.Tensor, torch.Tensor] | None = None,
    output: Output = "appearance",
    perturbations_per_eval: int = 8,
) -> CueAttribution:
    """Occlusion: the score's drop when a ``window``-sized square of one input shows its baseline.

    Defaults: windows of 1/8 of the input side, moved by half a window.
    """
    from captum.attr import Occlusion

    score_fn, region_t = _prepare(model, image, flow, region, output)
    base = baselines or default_baselines(image, flow)
    window = window or max(2, image.shape[-1] // 8)
    stride = stride or max(1, window // 2)
    shapes = ((3, window, window), (3, window, window))
    strides = ((3, stride, stride), (3, stride, stride))
    with torch.no_grad():
        a_image, a_flow = Occlusion(score_fn).attribute(
            (image, flow),
            sliding_window_shapes=shapes,
            strides=strides,
            baselines=base,
            additional_forward_args=(region_t,),
            perturbations_per_eval=perturbations_per_eval,
        )
        score = score_fn(image, flow, region_t)
        baseline_score = score_fn(*base, region_t)
    return CueAttribution("occlusion", a_image, a_flow, score, baseline_score)


def stage_layer(stream: nn.Module, stage: int) -> nn.Module:
    """The module whose output is stage ``stage`` (0 = stem, 1-4) of a ResNet stream."""
    if stage == 0:
        return stream.relu
    if stage in (1, 2, 3, 4):
        return getattr(stream, f"layer{stage}")
    raise ValueError(f"stage must be 0-4, got {stage}")


def layer_gradcam(
    model: nn.Module,
    image: torch.Tensor,
    flow: torch.Tensor,
    region: torch.Tensor | np.ndarray | None = None,
    *,
    stage: int = 3,
    output: Output = "appearance",
) -> CueAttribution:
    """Grad-CAM at stage ``stage`` of the appearance and of the motion stream, at input size.

    Each map is the stage's feature maps weighted by their spatially averaged
    gradient, summed over channels and upsampled bilinearly (not clipped at
    zero, so negative evidence stays visible).
    """
    from captum.attr import LayerAttribution, LayerGradCam

    score_fn, region_t = _prepare(model, image, flow, region, output)
    maps = []
    for stream in (model.appearance, model.motion):
        cam = LayerGradCam(score_fn, stage_layer(stream, stage))
        coarse = cam.attribute(
            (image, flow), additional_forward_args=(region_t,), relu_attributions=False
        )
        maps.append(LayerAttribution.interpolate(coarse.detach(), image.shape[-2:], "bilinear"))
    with torch.no_grad():
        score = score_fn(image, flow, region_t)
    return CueAttribution(f"layer_gradcam (stage {stage})", maps[0], maps[1], score)


def attribute(
    method: str,
    model: nn.Module,
    image: torch.Tensor,
    flow: torch.Tensor,
    region: torch.Tensor | np.ndarray | None = None,
    **options,
) -> CueAttribution:
    """Dispatch to :func:`integrated_gradients`, :func:`occlusion` or :func:`layer_gradcam`."""
    functions = {
        "integrated_gradients": integrated_gradients,
        "occlusion": occlusion,
        "layer_gradcam": layer_gradcam,
    }
    if method not in functions:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return functions[method](model, image, flow, region, **options)


# --------------------------------------------------------------------------- the measurement


def cue_contributions(
    model: nn.Module,
    samples: Iterable[Sample],
    labels: Sequence[int] = DEFAULT_REGIONS,
    *,
    method: str = "integrated_gradients",
    min_pixels: int = 16,
    **options,
) -> pd.DataFrame:
    """One row per (sample, region label): what the model says there and which cue said it.

    For every sample and every label in ``labels`` that covers at least
    ``min_pixels`` pixels, the region's mean fused logit is attributed to both
    inputs. Columns: ``sequence``, ``frame``, ``label``, ``region`` (its name),
    ``pixels``, ``probability`` (mean predicted probability inside),
    ``score`` (mean logit), ``baseline_score``, ``image_total``/``flow_total``
    (signed: how far each input moved the logit), ``image_abs``/``flow_abs``,
    and ``image_share`` (the frame's share of absolute attribution).
    """
    rows = []
    for sample in samples:
        present = [label for label in labels if sample.region(label).sum() >= min_pixels]
        if not present:
            continue
        n = len(present)
        image, flow = sample.image.expand(n, -1, -1, -1), sample.flow.expand(n, -1, -1, -1)
        regions = np.stack([sample.region(label) for label in present])
        result = attribute(method, model, image, flow, regions, **options)
        with torch.no_grad():
            prob = torch.sigmoid(model(sample.image, sample.flow).appearance)[0, 0].cpu().numpy()
        image_total, flow_total = result.totals()
        image_abs, flow_abs = result.magnitudes()
        share = result.image_share()
        for i, label in enumerate(present):
            rows.append(
                {
                    "sequence": sample.sequence,
                    "frame": sample.frame,
                    "label": label,
                    "region": REGION_NAMES[label],
                    "pixels": int(regions[i].sum()),
                    "probability": float(prob[regions[i]].mean()),
                    "score": float(result.score[i]),
                    "baseline_score": (
                        float(result.baseline_score[i])
                        if result.baseline_score is not None
                        else float("nan")
                    ),
                    "image_total": float(image_total[i]),
                    "flow_total": float(flow_total[i]),
                    "image_abs": float(image_abs[i]),
                    "flow_abs": float(flow_abs[i]),
                    "image_share": float(share[i]),
                }
            )
    columns = [
        "sequence", "frame", "label", "region", "pixels", "probability", "score",
        "baseline_score", "image_total", "flow_total", "image_abs", "flow_abs", "image_share",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def summarise_cues(table: pd.DataFrame) -> pd.DataFrame:
    """Per region: number of cases, mean probability, mean signed totals, the frame's share."""
    if table.empty:
        raise ValueError("no attributions to summarise (no region had enough pixels)")
    summary = table.groupby(["label", "region"], sort=True).agg(
        cases=("score", "size"),
        probability=("probability", "mean"),
        image_total=("image_total", "mean"),
        flow_total=("flow_total", "mean"),
        image_share=("image_share", "mean"),
    )
    summary["flow_share"] = 1.0 - summary["image_share"]
    return summary.reset_index()


__all__ = [
    "DEFAULT_REGIONS",
    "METHODS",
    "CueAttribution",
    "RegionScore",
    "as_region",
    "attribute",
    "cue_contributions",
    "default_baselines",
    "integrated_gradients",
    "layer_gradcam",
    "occlusion",
    "predicted_region",
    "stage_layer",
    "summarise_cues",
]

"""DenseCRF refinement of probability maps, with the settings the FSNet authors used.

The paper post-processes its U-VOS maps with a fully connected CRF
(Krähenbühl & Koltun, NeurIPS 2011); the authors' README points to the
DSS-CRF code (github.com/Andrew-Qibin/dss_crf, ``examples/dense_hsal.py``).
:data:`DSS_CRF` holds that script's values, read from its source:

* two labels (background, object);
* unary energies ``-log(1 - p + eps) / (tau * sigmoid(1 - p))`` for background
  and ``-log(p + eps) / (tau * sigmoid(p))`` for the object, ``tau = 1.05``,
  ``eps = 1e-8``: the negative log-likelihood, damped where the network is
  confident so that the pairwise terms can still move uncertain pixels;
* a Gaussian (smoothness) kernel with ``sxy = 3``, ``compat = 3``;
* a bilateral (appearance) kernel with ``sxy = 60``, ``srgb = 5``, ``compat = 5``;
* a single mean-field iteration, the object marginal ``Q[1]`` being the output.

DSS-CRF reads the frame with OpenCV (BGR); with one ``srgb`` for all three
channels the bilateral kernel does not depend on channel order, so RGB input
gives the same result. The CRF itself is ``pydensecrf2``'s C++ code, an extra
(``pip install "fsnet-lab[crf]"``: it has no wheels and needs a C++ compiler);
without it :func:`refine` raises :class:`~fsnet_core.extras.MissingExtra` saying so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..extras import available, missing_message, require


@dataclass(frozen=True)
class CRFParams:
    """Settings of the two-label DenseCRF (defaults: DSS-CRF's ``dense_hsal.py``)."""

    tau: float = 1.05
    eps: float = 1e-8
    gaussian_sxy: float = 3.0
    gaussian_compat: float = 3.0
    bilateral_sxy: float = 60.0
    bilateral_srgb: float = 5.0
    bilateral_compat: float = 5.0
    iterations: int = 1


DSS_CRF = CRFParams()


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def unary_from_probability(prob: np.ndarray, params: CRFParams = DSS_CRF) -> np.ndarray:
    """``2 x (H*W)`` float32 unary energies (background, object) from an object probability map.

    Dividing each negative log-likelihood by ``tau * sigmoid(q)`` (``q`` the
    probability of that label) is DSS-CRF's scaling: confident labels cost a
    little less than ``-log q`` alone, uncertain ones a little more.
    """
    p = np.asarray(prob, dtype=np.float64).reshape(-1)
    q = 1.0 - p
    background = -np.log(q + params.eps) / (params.tau * _sigmoid(q))
    foreground = -np.log(p + params.eps) / (params.tau * _sigmoid(p))
    return np.ascontiguousarray(np.stack([background, foreground]), dtype=np.float32)


def _as_probability(prob: np.ndarray) -> np.ndarray:
    """Float probabilities in [0, 1]; uint8 maps (0-255) are rescaled."""
    if prob.dtype == np.uint8:
        return prob.astype(np.float32) / 255.0
    if not np.issubdtype(prob.dtype, np.floating):
        raise ValueError(f"probability map must be float in [0, 1] or uint8, got {prob.dtype}")
    if prob.size and (np.nanmin(prob) < 0.0 or np.nanmax(prob) > 1.0 or np.isnan(prob).any()):
        raise ValueError(
            f"probability map must lie in [0, 1], got range [{prob.min():.3g}, {prob.max():.3g}]"
        )
    return prob.astype(np.float32)


def crf_available() -> bool:
    """Whether DenseCRF (``pydensecrf2``, the ``crf`` extra) is installed."""
    return available("pydensecrf")


def crf_missing_message() -> str:
    """The one line that says DenseCRF is not installed and how to add it."""
    return missing_message("pydensecrf", "DenseCRF")


def refine(image_rgb: np.ndarray, prob: np.ndarray, params: CRFParams = DSS_CRF) -> np.ndarray:
    """Refine an object probability map with DenseCRF guided by its frame.

    Args:
        image_rgb: ``H x W x 3`` uint8 frame the map belongs to.
        prob: ``H x W`` object probabilities, float in [0, 1] or uint8 in 0-255.
        params: CRF settings; the default reproduces the authors' post-processing.

    Returns:
        The refined object marginal, same shape and dtype as ``prob``.
    """
    dcrf = require("pydensecrf.densecrf", "DenseCRF")

    image_rgb = np.asarray(image_rgb)
    prob = np.asarray(prob)
    if image_rgb.ndim != 3 or image_rgb.shape[2] != 3 or image_rgb.dtype != np.uint8:
        raise ValueError(f"image must be H x W x 3 uint8, got {image_rgb.shape} {image_rgb.dtype}")
    if prob.ndim != 2:
        raise ValueError(f"probability map must be H x W, got shape {prob.shape}")
    if prob.shape != image_rgb.shape[:2]:
        raise ValueError(
            f"probability map is {prob.shape[0]}x{prob.shape[1]} but the image is "
            f"{image_rgb.shape[0]}x{image_rgb.shape[1]}; they must match"
        )
    if params.iterations < 1:
        raise ValueError(f"iterations must be >= 1, got {params.iterations}")

    height, width = prob.shape
    crf = dcrf.DenseCRF2D(width, height, 2)
    crf.setUnaryEnergy(unary_from_probability(_as_probability(prob), params))
    crf.addPairwiseGaussian(sxy=params.gaussian_sxy, compat=params.gaussian_compat)
    crf.addPairwiseBilateral(
        sxy=params.bilateral_sxy,
        srgb=params.bilateral_srgb,
        rgbim=np.ascontiguousarray(image_rgb),
        compat=params.bilateral_compat,
    )
    marginals = np.asarray(crf.inference(params.iterations), dtype=np.float32)
    refined = marginals[1].reshape(height, width)
    if prob.dtype == np.uint8:
        return np.clip(np.rint(refined * 255.0), 0, 255).astype(np.uint8)
    return refined.astype(prob.dtype)


__all__ = [
    "DSS_CRF",
    "CRFParams",
    "crf_available",
    "crf_missing_message",
    "refine",
    "unary_from_probability",
]

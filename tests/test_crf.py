"""DenseCRF refinement: it must pull a blurry map onto the image's edges."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fsnet_core.inference.crf import DSS_CRF, CRFParams, refine, unary_from_probability


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


@pytest.fixture
def scene() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A noisy two-colour frame, its true ellipse, and a blurred, swollen, shifted guess."""
    rng = np.random.default_rng(0)
    h, w = 120, 160
    yy, xx = np.mgrid[0:h, 0:w]
    shape = (yy - 60) ** 2 / 35**2 + (xx - 80) ** 2 / 45**2 < 1
    colours = np.where(shape[..., None], (200, 60, 40), (40, 120, 200)).astype(np.float32)
    image = np.clip(colours + rng.normal(0, 8, (h, w, 3)), 0, 255).astype(np.uint8)
    guess = (yy - 64) ** 2 / 41**2 + (xx - 86) ** 2 / 52**2 < 1
    prob = cv2.GaussianBlur(guess.astype(np.float32), (0, 0), 6) * 0.9 + 0.05
    return image, shape, prob.astype(np.float32)


def test_refine_moves_a_blurry_map_onto_the_object(scene) -> None:
    image, shape, prob = scene
    refined = refine(image, prob)
    before, after = _iou(prob > 0.5, shape), _iou(refined > 0.5, shape)
    assert before < 0.85
    assert after > before + 0.1
    # and it is sharper: fewer undecided pixels
    assert np.abs(refined - 0.5).mean() > np.abs(prob - 0.5).mean()


def test_refine_keeps_shape_and_dtype(scene) -> None:
    image, _, prob = scene
    out32 = refine(image, prob)
    assert out32.shape == prob.shape and out32.dtype == np.float32
    assert 0.0 <= out32.min() and out32.max() <= 1.0
    out64 = refine(image, prob.astype(np.float64))
    assert out64.dtype == np.float64
    out8 = refine(image, np.round(prob * 255).astype(np.uint8))
    assert out8.dtype == np.uint8 and out8.shape == prob.shape
    assert np.abs(out8.astype(np.float32) / 255 - out32).max() < 0.02


def test_more_iterations_change_the_result(scene) -> None:
    image, _, prob = scene
    default = refine(image, prob)
    longer = refine(image, prob, CRFParams(iterations=5))
    assert np.abs(default - longer).max() > 1e-3


def test_unary_is_the_damped_negative_log_likelihood() -> None:
    p = np.array([[0.0, 0.5, 1.0]], np.float32)
    u = unary_from_probability(p)
    assert u.shape == (2, 3) and u.dtype == np.float32
    sig = 1 / (1 + np.exp(-0.5))
    assert u[0, 1] == pytest.approx(u[1, 1]) == pytest.approx(np.log(2) / (DSS_CRF.tau * sig))
    # a certain object pixel: free to label object, costly to label background
    assert u[1, 2] == pytest.approx(0.0, abs=1e-6) and u[0, 2] > 10
    assert u[0, 0] == pytest.approx(0.0, abs=1e-6) and u[1, 0] > 10


def test_dss_crf_values_are_the_documented_ones() -> None:
    assert (DSS_CRF.gaussian_sxy, DSS_CRF.gaussian_compat) == (3, 3)
    assert (DSS_CRF.bilateral_sxy, DSS_CRF.bilateral_srgb, DSS_CRF.bilateral_compat) == (60, 5, 5)
    assert (DSS_CRF.tau, DSS_CRF.iterations) == (1.05, 1)


@pytest.mark.parametrize(
    ("image", "prob", "message"),
    [
        (np.zeros((10, 12, 3), np.uint8), np.zeros((10, 11), np.float32), "must match"),
        (np.zeros((10, 12), np.uint8), np.zeros((10, 12), np.float32), "H x W x 3 uint8"),
        (np.zeros((10, 12, 3), np.float32), np.zeros((10, 12), np.float32), "H x W x 3 uint8"),
        (np.zeros((10, 12, 3), np.uint8), np.zeros((10, 12, 1), np.float32), "must be H x W"),
        (np.zeros((10, 12, 3), np.uint8), np.full((10, 12), 1.5, np.float32), r"\[0, 1\]"),
        (np.zeros((10, 12, 3), np.uint8), np.zeros((10, 12), np.int32), "float in"),
    ],
)
def test_bad_inputs_are_rejected_clearly(image, prob, message) -> None:
    with pytest.raises(ValueError, match=message):
        refine(image, prob)

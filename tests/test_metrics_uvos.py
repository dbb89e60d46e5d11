"""DAVIS-2016 J, F and statistics: hand-made masks with known values and a plain reference."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from scipy import ndimage

from fsnet_core.metrics import reference
from fsnet_core.metrics.uvos import (
    binarize,
    boundary_map,
    boundary_tolerance,
    decay,
    disk,
    f_boundary,
    jaccard,
    recall,
    sequence_statistics,
)


def square(shape=(60, 80), top=10, left=12, side=20) -> np.ndarray:
    m = np.zeros(shape, dtype=bool)
    m[top : top + side, left : left + side] = True
    return m


# ------------------------------------------------------------------------------ J
@pytest.mark.parametrize("k", [0, 1, 5, 19])
def test_jaccard_of_squares_offset_by_k(k):
    a, b = square(), np.roll(square(), k, axis=1)
    assert jaccard(a, b) == pytest.approx((20 - k) / (20 + k))


def test_jaccard_empty_cases():
    empty = np.zeros((8, 8), dtype=bool)
    assert jaccard(empty, empty) == 1.0
    assert jaccard(square((8, 8), 2, 2, 3), empty) == 0.0
    with pytest.raises(ValueError):
        jaccard(empty, np.zeros((8, 9), dtype=bool))


# --------------------------------------------------------------------- boundaries
def test_boundary_map_of_a_square_is_seg2bmaps_half_pixel_offset_outline():
    top, left, s = 10, 12, 20
    b = boundary_map(square(top=top, left=left, side=s))
    bottom, right = top + s - 1, left + s - 1
    expected = np.zeros_like(b)
    expected[top - 1 : bottom + 1, left - 1] = True  # outside, left column (with corner)
    expected[top - 1, left : right + 1] = True  # outside, top row
    expected[top : bottom + 1, right] = True  # inside, right column
    expected[bottom, left : right + 1] = True  # inside, bottom row
    np.testing.assert_array_equal(b, expected)
    assert b.sum() == 4 * s


def test_boundary_map_last_row_and_column_rules():
    m = np.zeros((4, 5), dtype=bool)
    m[2:, 3:] = True  # touches the last row and column
    b = boundary_map(m)
    # last row: only the east neighbour counts; last column: only the south one.
    assert b[3].tolist() == [False, False, True, False, False]
    assert b[:, 4].tolist() == [False, True, False, False]
    assert not b[3, 4]


def test_tolerance_radius_for_a_davis_frame():
    radius = boundary_tolerance((480, 854))
    assert radius == math.ceil(0.008 * math.hypot(480, 854)) == 8
    assert boundary_tolerance((480, 854), bound_th=3) == 3
    # The disk is skimage's: x^2 + y^2 <= r^2.
    d = disk(2)
    assert d.shape == (5, 5) and d.sum() == 13 and d[0, 2] and not d[0, 1]


def test_f_is_one_within_the_tolerance_and_drops_just_beyond():
    a = square((480, 854), 100, 200, 150)
    assert f_boundary(a, a) == 1.0
    assert f_boundary(a, np.roll(a, 8, axis=1)) == 1.0  # radius 8 on a 480x854 frame
    assert f_boundary(a, np.roll(a, 9, axis=1)) < 1.0
    far = np.roll(a, 300, axis=1)
    assert f_boundary(a, far) == 0.0


def test_f_empty_cases():
    empty = np.zeros((30, 30), dtype=bool)
    assert f_boundary(empty, empty) == 1.0
    assert f_boundary(square((30, 30), 5, 5, 10), empty) == 0.0
    assert f_boundary(empty, square((30, 30), 5, 5, 10)) == 0.0


def test_j_and_f_agree_with_the_official_formulas_on_random_masks():
    rng = np.random.default_rng(0)
    for trial in range(60):
        h, w = rng.integers(6, 70, 2)
        if trial % 2:
            a, b = rng.random((h, w)) < 0.5, rng.random((h, w)) < 0.3
        else:
            yy, xx = np.mgrid[:h, :w]
            cy, cx, r = rng.integers(0, h), rng.integers(0, w), rng.integers(2, 20)
            a = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
            b = np.roll(a, tuple(rng.integers(-4, 5, 2)), axis=(0, 1)) ^ (rng.random((h, w)) < 0.02)
        bound_th = (0.008, 0.05, 2)[trial % 3]
        assert f_boundary(a, b, bound_th) == pytest.approx(
            reference.f_measure(a, b, bound_th), abs=1e-12
        )
        assert jaccard(a, b) == pytest.approx(reference.db_eval_iou(b, a))


def test_opencv_disk_dilation_equals_davis2016_binary_dilation():
    # DAVIS-2016 dilates with skimage's binary_dilation; cv2 with the same disk is identical.
    rng = np.random.default_rng(1)
    boundary = reference.seg2bmap(rng.random((50, 70)) < 0.3)
    for radius in (1, 3, 8):
        element = reference.disk_element(radius)
        ours = cv2.dilate(boundary.astype(np.uint8), element) > 0
        np.testing.assert_array_equal(ours, ndimage.binary_dilation(boundary, element))


# ---------------------------------------------------------------------- statistics
def test_statistics_match_hand_computed_values():
    values = np.array([0.9, 0.8, 0.4, 0.6, 0.3, 0.7, 1.0, 0.2])
    mean, rec, dec = sequence_statistics(values)
    assert mean == pytest.approx(0.6125)
    assert rec == pytest.approx(5 / 8)  # strictly above 0.5
    # Bins: round(linspace(1, 8, 5) + 1e-10) - 1 = [0, 2, 4, 5, 7] (4.5 rounds up);
    # first bin values[0:3], last bin values[5:8]: overlapping by one frame as in DAVIS.
    assert dec == pytest.approx(np.mean([0.9, 0.8, 0.4]) - np.mean([0.7, 1.0, 0.2]))


def test_recall_counts_exactly_half_as_a_miss_and_decay_of_a_constant_is_zero():
    assert recall(np.array([0.5, 0.51, 0.49, 0.9])) == 0.5
    assert decay(np.full(17, 0.8)) == pytest.approx(0.0)


# ------------------------------------------------------------------- binarisation
def test_binarize_at_half_range():
    assert binarize(np.array([127, 128, 0, 255], dtype=np.uint8)).tolist() == [0, 1, 0, 1]
    assert binarize(np.array([32767, 32768], dtype=np.uint16)).tolist() == [0, 1]
    assert binarize(np.array([0.5, 0.5001])).tolist() == [0, 1]
    mask = np.array([True, False])
    assert binarize(mask) is mask

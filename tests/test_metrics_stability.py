"""DAVIS-2016 temporal stability T: behaviour, and parity with values of the official code.

The reference values below were produced by the official DAVIS-2016 code
(fperazzi/davis: ``python/lib/davis/measures/t_stability.py`` with its C++
``tstab`` module compiled locally) on the masks this file draws; they are
the official ``db_eval_t_stab`` result times the loader's factor 5.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fsnet_core.metrics.stability import (
    describe_mask,
    mask_contours,
    sequence_temporal_stability,
    temporal_stability,
)

DAVIS_SAMPLE = Path(__file__).resolve().parents[1].parent / "shared" / "davis_sample"


def ellipse(shape, cy, cx, ry, rx) -> np.ndarray:
    y, x = np.mgrid[: shape[0], : shape[1]]
    return ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1.0


def official_pairs():
    """Mask pairs (name, a, b) with holes, 4-way saddles and several blobs."""
    s = (64, 80)
    yield "ellipses", ellipse(s, 30, 40, 18, 25), ellipse(s, 32, 43, 17, 27)
    sq = np.zeros(s, bool)
    sq[10:40, 15:45] = True
    y, x = np.mgrid[:64, :80]
    yield "square_bump", sq, sq | ((y >= 40) & (y < 52) & (np.abs(x - 30) <= 52 - y))
    ring = ellipse(s, 32, 40, 22, 28) & ~ellipse(s, 30, 38, 8, 10)
    ring2 = ring.copy()
    ring2[28:36, 66:70] = True
    ring2[27, 65] = ring2[36, 65] = True  # touch the bump diagonally: saddle points
    yield "ring_saddle", ring, ring2
    two = ellipse(s, 20, 20, 10, 12) | ellipse(s, 45, 60, 14, 12)
    yield "two_blobs", two, ellipse(s, 22, 24, 12, 9) | ellipse(s, 44, 57, 15, 9)
    checker = np.zeros((40, 40), bool)
    checker[8:32, 8:32] = True
    checker[16:24:2, 16:24:2] = False
    checker[17:24:2, 17:24:2] = False
    checker2 = checker.copy()
    checker2[4:8, 12:20] = True
    checker2[31, 31] = False
    yield "checker_holes", checker, checker2


OFFICIAL_T = {
    "ellipses": 0.1854306864444735,
    "square_bump": 0.5571370280834658,
    "ring_saddle": 0.09821935998536144,
    "two_blobs": 1.2794913151032232,
    "checker_holes": 0.2965130323269052,
}


@pytest.mark.parametrize("pair", list(official_pairs()), ids=lambda p: p[0])
def test_t_matches_the_official_code(pair):
    name, a, b = pair
    assert temporal_stability(a, b) == pytest.approx(OFFICIAL_T[name], abs=1e-9)


def test_contours_match_the_official_mask2poly_with_a_hole_and_a_saddle():
    m = np.array(
        [
            [0, 0, 0, 0, 0, 0, 0],
            [0, 1, 1, 1, 1, 0, 0],
            [0, 1, 0, 0, 1, 0, 0],
            [0, 1, 0, 1, 1, 1, 0],
            [0, 1, 1, 1, 0, 1, 0],
            [0, 0, 0, 1, 1, 1, 0],
            [0, 0, 0, 0, 0, 0, 0],
        ],
        bool,
    )
    m = np.kron(m, np.ones((3, 3), bool))
    official = [
        [[12, 12], [12, 15], [15, 15], [15, 12], [12, 12]],
        [[6, 6], [6, 12], [12, 9], [12, 6], [6, 6]],
        [[3, 3], [15, 3], [15, 9], [18, 9], [18, 18], [9, 18], [9, 15], [3, 15], [3, 3]],
    ]
    assert [c.tolist() for c in mask_contours(m)] == official


def test_identical_masks_are_perfectly_stable():
    a = ellipse((64, 80), 30, 40, 18, 25)
    assert temporal_stability(a, a) == pytest.approx(0.0, abs=1e-12)


def test_t_ignores_translation_and_grows_with_deformation():
    a = ellipse((90, 120), 45, 60, 25, 30)
    shifted = np.roll(a, (3, -5), axis=(0, 1))
    slight = ellipse((90, 120), 45, 60, 23, 33)
    strong = ellipse((90, 120), 45, 60, 12, 50)
    t_shift, t_slight, t_strong = (temporal_stability(a, b) for b in (shifted, slight, strong))
    assert t_shift == pytest.approx(0.0, abs=1e-12)  # shape contexts are translation invariant
    assert 0 < t_slight < t_strong


def test_no_outline_gives_nan_and_sequences_describe_each_mask_once():
    empty = np.zeros((30, 30), bool)
    dot = empty.copy()
    dot[5, 5] = True  # a single pixel simplifies to <= 3 points: dropped, as officially
    assert describe_mask(empty) is None and describe_mask(dot) is None
    assert np.isnan(temporal_stability(empty, ellipse((30, 30), 15, 15, 8, 8)))
    masks = [ellipse((40, 40), 20, 20, 10, 12), empty, ellipse((40, 40), 20, 21, 10, 12)]
    values = sequence_temporal_stability(masks)
    assert values.shape == (2,) and np.isnan(values).all()
    pairs = list(official_pairs())
    seq = [pairs[0][1], pairs[0][2], pairs[0][1]]
    np.testing.assert_allclose(sequence_temporal_stability(seq), [OFFICIAL_T["ellipses"]] * 2)


@pytest.mark.davis
def test_t_of_a_real_davis_sequence_matches_the_official_value():
    folder = DAVIS_SAMPLE / "Annotations" / "480p" / "car-shadow"
    if not folder.is_dir():
        pytest.skip("../shared/davis_sample is not available")
    from PIL import Image

    frames = sorted(folder.glob("*.png"))[1:-1]  # the frames DAVIS-2016 scores
    masks = [np.asarray(Image.open(f)) > 0 for f in frames[:12]]
    # Official (compiled) DAVIS-2016 T of these 11 ground-truth pairs, mean over pairs.
    assert np.nanmean(sequence_temporal_stability(masks)) == pytest.approx(
        CAR_SHADOW_FIRST_11, abs=1e-6
    )


CAR_SHADOW_FIRST_11 = 0.038933882392407644

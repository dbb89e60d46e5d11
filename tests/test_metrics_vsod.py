"""V-SOD metrics: per-frame values from pysodmetrics, DAVSOD-toolbox aggregation by hand."""

from __future__ import annotations

import numpy as np
import py_sod_metrics as sod
import pytest

from fsnet_core.metrics.vsod import (
    VSOD_KEYS,
    SequenceScores,
    aggregate_sequences,
    score_sequence,
)


def square(top: int, left: int, side: int, shape=(20, 20)) -> np.ndarray:
    m = np.zeros(shape, dtype=np.uint8)
    m[top : top + side, left : left + side] = 255
    return m


GT = square(5, 5, 10)  # 100 foreground pixels out of 400
EXACT = GT.copy()  # F = 1, MAE = 0
SHIFTED = square(5, 7, 10)  # TP = 80: P = R = 0.8, F = 0.8, MAE = 40/400
LARGER = square(3, 3, 14)  # TP = 100: P = 100/196, R = 1, MAE = 96/400


def f_beta(p: float, r: float, beta2: float = 0.3) -> float:
    return (1 + beta2) * p * r / (beta2 * p + r)


def test_one_frame_matches_pysodmetrics():
    rng = np.random.default_rng(0)
    pred = (rng.random((32, 40)) * 255).astype(np.uint8)
    pred[8:24, 10:30] = np.maximum(pred[8:24, 10:30], 200)
    gt = np.zeros((32, 40), np.uint8)
    gt[8:24, 12:30] = 255
    sm, em, mae = sod.Smeasure(), sod.Emeasure(), sod.MAE()
    for metric in (sm, em, mae):
        metric.step(pred=pred, gt=gt)
    with pytest.warns(UserWarning):  # pysodmetrics' legacy F-measure class
        fm = sod.Fmeasure(beta=0.3)
    fm.step(pred=pred, gt=gt)
    got = score_sequence([(pred, gt)]).values
    e, f = em.get_results()["em"], fm.get_results()["fm"]
    assert got["S"] == pytest.approx(sm.get_results()["sm"])
    assert got["MAE"] == pytest.approx(mae.get_results()["mae"])
    assert got["maxE"] == pytest.approx(e["curve"].max())
    assert got["meanE"] == pytest.approx(e["curve"].mean())
    assert got["adpE"] == pytest.approx(e["adp"])
    assert got["maxF"] == pytest.approx(f["curve"].max())
    assert got["meanF"] == pytest.approx(f["curve"].mean())
    assert got["adpF"] == pytest.approx(f["adp"])
    assert tuple(got) == VSOD_KEYS


def test_binary_maps_give_hand_computed_f_and_mae():
    got = score_sequence([(SHIFTED, GT)]).values
    f_all = f_beta(100 / 400, 1.0)  # threshold 0: every pixel predicted foreground
    assert got["adpF"] == pytest.approx(0.8)
    assert got["maxF"] == pytest.approx(0.8)
    # 255 thresholds keep the square (F = 0.8), threshold 0 keeps everything.
    assert got["meanF"] == pytest.approx((255 * 0.8 + f_all) / 256)
    assert got["MAE"] == pytest.approx(40 / 400)


def test_sequences_are_averaged_after_frames_and_curves_before_the_max():
    seq_a = score_sequence([(EXACT, GT)])
    seq_b = score_sequence([(SHIFTED, GT), (LARGER, GT), (SHIFTED, GT)])
    overall = aggregate_sequences({"a": seq_a, "b": seq_b})

    f_larger = f_beta(100 / 196, 1.0)
    f_all = f_beta(100 / 400, 1.0)
    f_b = (0.8 + f_larger + 0.8) / 3  # sequence b: mean over its frames
    mae_b = (40 + 96 + 40) / 400 / 3
    # Dataset curve: mean of the two sequence curves at each threshold.
    assert overall["maxF"] == pytest.approx((1.0 + f_b) / 2)
    assert overall["meanF"] == pytest.approx((255 * (1.0 + f_b) / 2 + f_all) / 256)
    assert overall["adpF"] == pytest.approx((1.0 + f_b) / 2)
    assert overall["MAE"] == pytest.approx((0.0 + mae_b) / 2)
    # Not the mean over all four frames (that would weight sequence b three times):
    assert overall["MAE"] != pytest.approx((0 + 40 + 96 + 40) / 400 / 4)
    assert seq_b.values["maxF"] == pytest.approx(f_b)

    # S and E: per frame from pysodmetrics, then the same two-level averaging.
    def per_frame(pred):
        sm, em = sod.Smeasure(), sod.Emeasure()
        sm.step(pred=pred, gt=GT)
        em.step(pred=pred, gt=GT)
        return sm.get_results()["sm"], em.get_results()["em"]["curve"]

    (s_a, e_a), *b_frames = (per_frame(p) for p in (EXACT, SHIFTED, LARGER, SHIFTED))
    e_curve = (e_a + np.mean([e for _, e in b_frames], axis=0)) / 2
    assert overall["S"] == pytest.approx((s_a + np.mean([s for s, _ in b_frames])) / 2)
    assert overall["maxE"] == pytest.approx(e_curve.max())
    assert overall["meanE"] == pytest.approx(e_curve.mean())


def test_max_is_taken_over_the_averaged_curve_not_averaged_over_sequences():
    def seq(peak: int) -> SequenceScores:
        curve = np.full(256, 0.2)
        curve[peak] = 0.9
        values = dict.fromkeys(VSOD_KEYS, 0.5) | {"maxF": 0.9, "maxE": 0.9}
        return SequenceScores(values, curve, curve, {})

    overall = aggregate_sequences({"a": seq(10), "b": seq(200)})
    assert overall["maxF"] == pytest.approx((0.9 + 0.2) / 2)  # not (0.9 + 0.9) / 2
    assert overall["maxE"] == pytest.approx(0.55)
    assert overall["meanF"] == pytest.approx(0.2 + 2 * 0.7 / 2 / 256)


def test_per_frame_values_and_empty_input():
    scores = score_sequence([(SHIFTED, GT), (LARGER, GT)])
    np.testing.assert_allclose(scores.per_frame["MAE"], [40 / 400, 96 / 400])
    np.testing.assert_allclose(scores.per_frame["adpF"], [0.8, f_beta(100 / 196, 1.0)])
    with pytest.raises(ValueError):
        score_sequence([])
    with pytest.raises(ValueError):
        aggregate_sequences({})

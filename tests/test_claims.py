"""The notebooks' claim checks: a true claim prints, a false one fails the notebook."""

from __future__ import annotations

import math
import statistics

import pytest

from fsnet_core.course.claims import (
    MIN_SEEDS,
    ClaimFailed,
    check_between,
    check_greater,
    check_less,
    check_order,
    check_share,
    claim,
    compare_seeds,
)


def test_a_true_claim_prints_its_sentence(capsys):
    assert check_greater(0.7, 0.5, "J: full vs. motion only") is None  # no echo in a notebook
    assert capsys.readouterr().out == "✓ J: full vs. motion only: 0.700 > 0.500\n"


def test_a_false_claim_fails_with_the_sentence_and_the_values():
    with pytest.raises(ClaimFailed, match=r"J: full vs. motion only: 0.400 > 0.500.*-0.100"):
        check_greater(0.4, 0.5, "J: full vs. motion only")


@pytest.mark.parametrize(
    "call",
    [
        lambda: claim(False, "anything"),
        lambda: check_less(0.5, 0.4, "MAE"),
        lambda: check_greater(0.52, 0.5, "J", margin=0.05),
        lambda: check_between(1.2, 0.0, 1.0, "probability"),
        lambda: check_share([True, False, False], 0.5, "rows"),
        lambda: check_share([], 0.5, "rows"),
        lambda: check_order(0.5, 0.5, "contrast"),
        lambda: check_order(math.nan, 0.5, "contrast"),
    ],
)
def test_every_check_fails_when_its_claim_is_false(call):
    with pytest.raises(ClaimFailed):
        call()


@pytest.mark.parametrize(
    "call, sentence",
    [
        (
            lambda: check_greater(0.4, 0.5, "J: full vs. motion"),
            "J: full vs. motion: 0.400 > 0.500",
        ),
        (lambda: check_share([], 0.5, "rows"), "rows: there are no cases to count"),
    ],
)
def test_report_mode_prints_the_verdict_instead_of_raising(monkeypatch, capsys, call, sentence):
    """The rehearsal's stand-in weights cannot meet claims about trained behaviour."""
    monkeypatch.setenv("FSNET_LAB_CLAIMS", "report")
    assert call() is None
    out = capsys.readouterr().out
    assert out.startswith("✗ not checked (FSNET_LAB_CLAIMS=report): claim does not hold: ")
    assert sentence in out
    check_less(0.4, 0.5, "MAE")  # a claim that holds still says so
    assert capsys.readouterr().out == "✓ MAE: 0.400 < 0.500\n"


def test_claims_mode_other_than_report_is_refused(monkeypatch):
    monkeypatch.setenv("FSNET_LAB_CLAIMS", "off")
    with pytest.raises(ValueError, match="FSNET_LAB_CLAIMS must be 'report' or unset, got 'off'"):
        claim(False, "anything")
    monkeypatch.setenv("FSNET_LAB_CLAIMS", "")
    with pytest.raises(ClaimFailed):  # empty: checked, as when unset
        claim(False, "anything")


def test_claim_failed_is_an_assertion_so_pytest_and_papermill_report_it():
    assert issubclass(ClaimFailed, AssertionError)


def test_share_counts_the_cases(capsys):
    check_share([True, True, False, True], 0.75, "targets found")
    assert "targets found: 3 of 4 (75%, at least 75% claimed)" in capsys.readouterr().out


def test_a_difference_far_beyond_the_seed_spread_exceeds_noise():
    c = compare_seeds([0.80, 0.81, 0.79], [0.50, 0.52, 0.51], ("full", "motion"), "J")
    assert c.measured and c.exceeds_noise
    assert c.difference == pytest.approx(0.29)
    assert "exceeds seed noise" in c.sentence and "n=3" in c.sentence
    assert "(Welch p < 0.001)" in c.sentence  # not "p = 0.000"


def test_a_difference_smaller_than_the_seed_spread_is_within_noise():
    c = compare_seeds([0.50, 0.60, 0.55], [0.52, 0.58, 0.49], ("full", "simplex"), "J")
    assert c.measured and not c.exceeds_noise
    assert "within seed noise" in c.sentence and f"(Welch p = {c.p_value:.3f})" in c.sentence
    sd_a, sd_b = statistics.stdev([0.50, 0.60, 0.55]), statistics.stdev([0.52, 0.58, 0.49])
    assert c.pooled_sd == pytest.approx(math.sqrt((sd_a**2 + sd_b**2) / 2))


def test_too_few_seeds_give_no_verdict():
    c = compare_seeds([0.9], [0.1, 0.2, 0.3], ("full", "motion"), "J")
    assert c.n_a == 1 < MIN_SEEDS and not c.measured and not c.exceeds_noise
    assert math.isnan(c.p_value) and "no verdict" in c.sentence
    assert "full 0.900 (n=1) vs. motion 0.200 ± 0.100 (n=3)" in c.sentence
    assert "(not run yet)" in compare_seeds([], [0.1], ("a", "b"), "J").sentence


def test_missing_values_are_not_counted_as_seeds():
    c = compare_seeds([0.5, math.nan, 0.6, 0.55], [0.5, 0.51, 0.49], ("a", "b"), "J")
    assert c.n_a == 3


def test_order_states_the_measured_direction_either_way(capsys):
    assert check_order(0.3, 0.2, "G's contrast: after vs. before") == ">"
    assert check_order(0.1, 0.2, "G's contrast: after vs. before") == "<"
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "✓ G's contrast: after vs. before: 0.300 > 0.200",
        "✓ G's contrast: after vs. before: 0.100 < 0.200",
    ]

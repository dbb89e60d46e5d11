"""Claims a notebook makes about its own results, computed and checked.

A notebook's "What to notice" may only say what the cell above it measured.
Each claim is a sentence built from the measured values; :func:`claim`
prints it when it holds and raises :class:`ClaimFailed` when it does not, so
the notebook (and with it ``make run`` and CI) fails the day a change of
model, data or budget makes the sentence false.

Claims about noise say how large the noise is: :func:`compare_seeds` puts
the difference of two variants' means beside their seed-to-seed spread and
a Welch t-test, and words the verdict ("exceeds seed noise" or "within seed
noise") from those numbers; with fewer than ``MIN_SEEDS`` runs on either side
it says so and makes no verdict.

``FSNET_LAB_CLAIMS=report`` in the environment prints a failing claim's
verdict ("not checked (FSNET_LAB_CLAIMS=report): ...") instead of raising: the
Colab rehearsal runs the notebooks with stand-in (random) weights, where
claims about trained behaviour cannot hold. Unset (``make run``, CI's SMOKE
runs) every claim is checked.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Fewer runs than this per variant: the spread is not measured, no verdict is made.
MIN_SEEDS = 3
# A difference "exceeds seed noise" when Welch's t-test gives p below this.
ALPHA = 0.05
# ``FSNET_LAB_CLAIMS=report``: failing claims are printed, not raised (stand-in weights).
MODE_ENV = "FSNET_LAB_CLAIMS"


class ClaimFailed(AssertionError):
    """A notebook's claim does not hold for the values it was computed from."""


def claim(condition: bool, text: str, *, otherwise: str = "") -> None:
    """Print ``text`` when ``condition`` holds; raise :class:`ClaimFailed` if not.

    ``text`` states the claim with its numbers (format them in); ``otherwise``
    adds what the values say instead, for the error message. Nothing is returned,
    so a check at the end of a notebook cell does not echo its sentence twice.
    With ``$FSNET_LAB_CLAIMS=report`` a failing claim is printed instead of raised.
    """
    if not bool(condition):
        detail = f" ({otherwise})" if otherwise else ""
        _fail(f"claim does not hold: {text}{detail}")
        return
    print(f"✓ {text}")


def reporting_only() -> bool:
    """Whether ``$FSNET_LAB_CLAIMS`` asks for verdicts to be printed, not raised.

    Any other non-empty value is refused, so a typo cannot switch the checks off.
    """
    mode = os.environ.get(MODE_ENV, "").strip()
    if mode not in ("", "report"):
        raise ValueError(f"${MODE_ENV} must be 'report' or unset, got {mode!r}")
    return mode == "report"


def _fail(message: str) -> None:
    """Raise :class:`ClaimFailed`, or print the verdict when only reporting."""
    if not reporting_only():
        raise ClaimFailed(message)
    print(f"✗ not checked ({MODE_ENV}=report): {message}")


def check_greater(a: float, b: float, what: str, *, margin: float = 0.0, digits: int = 3) -> None:
    """Claim ``a > b + margin``; ``what`` names the comparison, e.g. ``"J: full vs. motion"``."""
    gap = f" by more than {margin:.{digits}g}" if margin else ""
    text = f"{what}: {a:.{digits}f} > {b:.{digits}f}{gap}"
    claim(a > b + margin, text, otherwise=f"difference {a - b:+.{digits}f}")


def check_less(a: float, b: float, what: str, *, margin: float = 0.0, digits: int = 3) -> None:
    """Claim ``a < b - margin``."""
    gap = f" by more than {margin:.{digits}g}" if margin else ""
    text = f"{what}: {a:.{digits}f} < {b:.{digits}f}{gap}"
    claim(a < b - margin, text, otherwise=f"difference {a - b:+.{digits}f}")


def check_order(a: float, b: float, what: str, *, digits: int = 3) -> str:
    """Claim whichever of ``a > b`` and ``a < b`` holds; return ``">"`` or ``"<"``.

    For a sentence that states a measured direction either way ("rose" or "fell"):
    the direction is read from the values, and the claim fails only where there is
    no direction to state (the values are equal, or one is missing).
    """
    if a > b:
        check_greater(a, b, what, digits=digits)
        return ">"
    if a < b:
        check_less(a, b, what, digits=digits)
        return "<"
    _fail(f"claim does not hold: {what}: {a:.{digits}f} and {b:.{digits}f} have no order")
    return "="


def check_between(value: float, low: float, high: float, what: str, *, digits: int = 3) -> None:
    """Claim ``low <= value <= high``."""
    text = f"{what}: {value:.{digits}f} lies in [{low:.{digits}f}, {high:.{digits}f}]"
    claim(low <= value <= high, text)


def check_share(flags: Sequence[bool], at_least: float, what: str) -> None:
    """Claim that at least ``at_least`` (a fraction) of ``flags`` are true, e.g. of rows."""
    flags = [bool(f) for f in flags]
    if not flags:
        _fail(f"claim does not hold: {what}: there are no cases to count")
        return
    share = sum(flags) / len(flags)
    text = f"{what}: {sum(flags)} of {len(flags)} ({share:.0%}, at least {at_least:.0%} claimed)"
    claim(share >= at_least, text)


@dataclass(frozen=True)
class Comparison:
    """Two variants' runs (one value per seed) compared against the seeds' own spread."""

    a: str
    b: str
    what: str
    mean_a: float
    mean_b: float
    sd_a: float
    sd_b: float
    n_a: int
    n_b: int
    p_value: float  # Welch's t-test; nan when either side has fewer than MIN_SEEDS runs

    @property
    def difference(self) -> float:
        return self.mean_a - self.mean_b

    @property
    def pooled_sd(self) -> float:
        """The seed-to-seed standard deviation of one run, pooled over both variants."""
        if self.n_a + self.n_b <= 2:
            return math.nan
        ss = (self.n_a - 1) * self.sd_a**2 + (self.n_b - 1) * self.sd_b**2
        return math.sqrt(ss / (self.n_a + self.n_b - 2))

    @property
    def measured(self) -> bool:
        """Both sides have enough runs for their spread to mean something."""
        return self.n_a >= MIN_SEEDS and self.n_b >= MIN_SEEDS

    @property
    def exceeds_noise(self) -> bool:
        return self.measured and self.p_value < ALPHA

    @property
    def sentence(self) -> str:
        """The comparison in words, every number in it computed."""

        def side(name: str, mean: float, sd: float, n: int) -> str:
            if n == 0:
                return f"{name} (not run yet)"
            if n == 1:
                return f"{name} {mean:.3f} (n=1)"
            return f"{name} {mean:.3f} ± {sd:.3f} (n={n})"

        a = side(self.a, self.mean_a, self.sd_a, self.n_a)
        head = f"{self.what}: {a} vs. {side(self.b, self.mean_b, self.sd_b, self.n_b)}"
        if not self.measured:
            return f"{head}: fewer than {MIN_SEEDS} seeds on a side, no verdict"
        verdict = "exceeds seed noise" if self.exceeds_noise else "within seed noise"
        p = "p < 0.001" if self.p_value < 0.001 else f"p = {self.p_value:.3f}"
        return (
            f"{head}: difference {self.difference:+.3f} against a seed spread of "
            f"{self.pooled_sd:.3f} (Welch {p}): {verdict}"
        )


def compare_seeds(
    a: Sequence[float], b: Sequence[float], names: tuple[str, str], what: str
) -> Comparison:
    """Compare two variants' per-seed values: means, spreads and Welch's t-test."""
    va = np.asarray([x for x in a if not math.isnan(x)], dtype=float)
    vb = np.asarray([x for x in b if not math.isnan(x)], dtype=float)

    def sd(v: np.ndarray) -> float:
        return float(v.std(ddof=1)) if len(v) > 1 else math.nan

    p = math.nan
    if len(va) >= MIN_SEEDS and len(vb) >= MIN_SEEDS:
        if sd(va) == 0 and sd(vb) == 0:
            p = 1.0 if va.mean() == vb.mean() else 0.0
        else:
            from scipy.stats import ttest_ind

            p = float(ttest_ind(va, vb, equal_var=False).pvalue)
    return Comparison(
        names[0],
        names[1],
        what,
        float(va.mean()) if len(va) else math.nan,
        float(vb.mean()) if len(vb) else math.nan,
        sd(va),
        sd(vb),
        len(va),
        len(vb),
        p,
    )


def report(comparison: Comparison) -> Comparison:
    """Print a comparison's sentence (no check: its verdict is computed, not asserted)."""
    print(f"• {comparison.sentence}")
    return comparison


__all__ = [
    "ALPHA",
    "MIN_SEEDS",
    "MODE_ENV",
    "ClaimFailed",
    "Comparison",
    "check_between",
    "check_greater",
    "check_less",
    "check_order",
    "check_share",
    "claim",
    "compare_seeds",
    "report",
    "reporting_only",
]

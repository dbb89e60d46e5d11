"""Checks of the notebooks' re-implementation exercises, saying whose code was checked.

An exercise such as 02's ``my_rcam`` asks the student to write a few lines
and checks them against the package. Until the student writes them the
function returns ``None`` and the notebook must still run, so the check runs
the reference solution in its place. :func:`check_reimplementation` makes
the message say which of the two was checked: "your my_rcam equals ..." only
when the student's code produced every result, "the reference solution
equals ..." (and why) otherwise, so a notebook never congratulates a student
for code that did not run. :func:`check_bpm_step` is the same check for 03's
``my_bpm_level`` (one BPM level, Eq. 5-6), naming the pyramid (F or G) that differs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

Pyramid = list[torch.Tensor]


class ExerciseMismatch(AssertionError):
    """The checked code's result differs from what the package computes."""


@dataclass(frozen=True)
class Reimplementation:
    """The outcome of :func:`check_reimplementation`: whose code matched, on how many cases."""

    name: str  # the student's function, e.g. "my_rcam"
    written: bool  # False: it returned None (unfinished) and the reference solution ran instead
    against: str  # what it was compared with, e.g. "model.rcam[1]"
    cases: int

    @property
    def whose(self) -> str:
        """Whose code produced the results that were compared."""
        return f"your {self.name}" if self.written else "the reference solution"

    @property
    def sentence(self) -> str:
        """The check's verdict, naming whose code was checked."""
        text = f"{self.whose} equals {self.against}"
        if not self.written:
            text += (
                f" ({self.name} is not written yet: it returned None, so the reference "
                "solution was checked in its place)"
            )
        return text


def check_reimplementation(
    yours: Callable[..., Any],
    reference: Callable[..., Any],
    cases: Sequence[tuple[Sequence[Any], torch.Tensor]],
    *,
    name: str,
    against: str,
    parts: Sequence[str] = (),
) -> Reimplementation:
    """Compare ``yours(*args)`` with ``expected`` for every ``(args, expected)`` in ``cases``.

    Where ``yours`` returns ``None`` for any case (the exercise left unfinished),
    ``reference`` runs on every case instead. Results are compared with
    ``torch.testing.assert_close``; a mismatch raises ``AssertionError`` naming
    whose code differs (:class:`ExerciseMismatch`); where the results are tuples, ``parts``
    names their elements so the message says which one. On success the verdict is
    printed ("✓ ...") and returned.
    ``against`` names what is compared with, e.g. ``"model.rcam[1] on (6, 64, 16, 16)
    features"``.
    """
    if not cases:
        raise ValueError(f"no cases to check {name} on")
    with torch.no_grad():
        results = [yours(*args) for args, _ in cases]
        written = all(r is not None for r in results)
        if not written:
            results = [reference(*args) for args, _ in cases]
    outcome = Reimplementation(name, written, against, len(cases))
    for i, (result, (_, expected)) in enumerate(zip(results, cases, strict=True)):
        named = (
            list(zip(parts, result, expected, strict=True)) if parts else [("", result, expected)]
        )
        for part, got, want in named:
            try:
                torch.testing.assert_close(got, want)
            except AssertionError as error:
                where = f" (case {i + 1} of {len(cases)})" if len(cases) > 1 else ""
                inside = f" in {part}" if part else ""
                message = f"{outcome.whose} differs from {against}{where}{inside}: {error}"
                raise ExerciseMismatch(message) from None
    print(f"✓ {outcome.sentence}")
    return outcome


BPMStep = Callable[[nn.Module, Pyramid, Pyramid, int], "tuple[torch.Tensor, torch.Tensor] | None"]


def check_bpm_step(
    bpm: nn.Module,
    fused: Pyramid,
    motion: Pyramid,
    yours: BPMStep,
    reference: BPMStep,
    levels: Sequence[int] | None = None,
    what: str = "the model's BPM",
) -> Reimplementation:
    """Check one BPM level written by hand (Eq. 5-6) against ``bpm(fused, motion)``.

    ``yours(bpm, fused, motion, k)`` returns the new ``(F_k, G_k)`` at level index ``k``
    (0 = finest), or ``None`` while unwritten; ``levels``: the indices checked (default
    all). The verdict says whose code ran and, on a mismatch, in which pyramid.
    """
    levels = list(range(len(fused))) if levels is None else list(levels)
    if not levels:
        raise ValueError("no levels to check")
    with torch.no_grad():
        new_fused, new_motion = bpm(fused, motion)
    cases = [((bpm, fused, motion, k), (new_fused[k], new_motion[k])) for k in levels]
    shown = ", ".join(str(k) for k in levels)
    return check_reimplementation(
        yours,
        reference,
        cases,
        name=getattr(yours, "__name__", "your function"),
        against=f"{what} at level index {shown} (0 = finest)",
        parts=("F", "G"),
    )


__all__ = ["ExerciseMismatch", "Reimplementation", "check_bpm_step", "check_reimplementation"]

"""Checks of the notebooks' re-implementation exercises, saying whose code was checked.

An exercise such as 02's ``my_rcam`` asks the student to write a few lines
and checks them against the package. Until the student writes them the
function returns ``None`` and the notebook must still run, so the check runs
the reference solution in its place. :func:`check_reimplementation` makes
the message say which of the two was checked: "your my_rcam equals ..." only
when the student's code produced every result, "the reference solution
equals ..." (and why) otherwise, so a notebook never congratulates a student
for code that did not run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch


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
) -> Reimplementation:
    """Compare ``yours(*args)`` with ``expected`` for every ``(args, expected)`` in ``cases``.

    Where ``yours`` returns ``None`` for any case (the exercise left unfinished),
    ``reference`` runs on every case instead. Results are compared with
    ``torch.testing.assert_close``; a mismatch raises ``AssertionError`` naming
    whose code differs. On success the verdict is printed ("✓ ...") and returned.
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
        try:
            torch.testing.assert_close(result, expected)
        except AssertionError as error:
            where = f" (case {i + 1} of {len(cases)})" if len(cases) > 1 else ""
            message = f"{outcome.whose} differs from {against}{where}: {error}"
            raise AssertionError(message) from None
    print(f"✓ {outcome.sentence}")
    return outcome


__all__ = ["Reimplementation", "check_reimplementation"]

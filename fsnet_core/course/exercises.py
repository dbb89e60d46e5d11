"""Checks of the notebooks' your-turn exercises that say whose code they checked.

A notebook runs top to bottom before the student has written anything, so its
check of an exercise falls back to the reference solution while the student's
function is unfinished (it returns ``None``). The check must then say so: a "✓ your
function equals ..." printed after running the reference would tell the student
that code they never wrote is right.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

Pyramid = list[torch.Tensor]
BPMStep = Callable[[nn.Module, Pyramid, Pyramid, int], "tuple[torch.Tensor, torch.Tensor] | None"]


class ExerciseMismatch(AssertionError):
    """The student's answer differs from what the package computes."""


def check_bpm_step(
    bpm: nn.Module,
    fused: Pyramid,
    motion: Pyramid,
    yours: BPMStep,
    reference: BPMStep,
    levels: Sequence[int] | None = None,
    what: str = "the model's BPM",
) -> str:
    """Check one BPM step written by hand (Eq. 5-6) against ``bpm(fused, motion)``.

    ``yours(bpm, fused, motion, k)`` returns the new ``(F_k, G_k)`` at level index
    ``k`` (0 = finest), or ``None`` while unwritten; then ``reference`` is checked
    instead, and the sentence returned (and printed) says so. A mismatch raises
    :class:`ExerciseMismatch` naming whose code differs and at which level.
    ``levels``: the level indices to check (default: all).
    """
    levels = list(range(len(fused))) if levels is None else list(levels)
    if not levels:
        raise ValueError("no levels to check")
    with torch.no_grad():
        expected_f, expected_g = bpm(fused, motion)
        answers = [yours(bpm, fused, motion, k) for k in levels]
        written = all(a is not None for a in answers)
        if written:
            whose = f"your {getattr(yours, '__name__', 'function')}"
        else:
            whose = "the reference solution"
            answers = [reference(bpm, fused, motion, k) for k in levels]
    for k, answer in zip(levels, answers, strict=True):
        if answer is None:
            raise ExerciseMismatch(f"{whose} returned None at level index {k}")
        for got, want, name in ((answer[0], expected_f[k], "F"), (answer[1], expected_g[k], "G")):
            try:
                torch.testing.assert_close(got, want)
            except AssertionError as error:
                first = str(error).splitlines()[0]
                raise ExerciseMismatch(
                    f"{whose} differs from {what} in {name} at level index {k}: {first}"
                ) from None
    shown = ", ".join(str(k) for k in levels)
    sentence = f"✓ {whose} equals {what} at level index {shown} (0 = finest)"
    if not written:
        name = getattr(yours, "__name__", "your function")
        sentence += (
            f"; {name} is not written yet (it returned None), so YOUR code was not checked:"
            " write it and run this cell again"
        )
    print(sentence)
    return sentence


__all__ = ["ExerciseMismatch", "check_bpm_step"]

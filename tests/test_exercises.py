"""Re-implementation checks say whose code they checked: the student's or the reference."""

from __future__ import annotations

import pytest
import torch

from fsnet_core.course.exercises import check_reimplementation

CASES = [((torch.ones(2), torch.full((2,), 2.0)), torch.full((2,), 3.0))] * 2


def reference(a, b):
    return a + b


def test_the_students_code_is_named_only_when_it_ran(capsys):
    outcome = check_reimplementation(
        lambda a, b: b + a, reference, CASES, name="my_add", against="a + b"
    )
    assert outcome.written and outcome.whose == "your my_add" and outcome.cases == 2
    assert capsys.readouterr().out == "✓ your my_add equals a + b\n"


def test_an_unfinished_exercise_says_the_reference_solution_was_checked(capsys):
    calls = []

    def unfinished(a, b):
        calls.append(1)
        return None

    outcome = check_reimplementation(unfinished, reference, CASES, name="my_add", against="a + b")
    out = capsys.readouterr().out
    assert not outcome.written and outcome.whose == "the reference solution"
    assert out.startswith("✓ the reference solution equals a + b (my_add is not written yet")
    assert "your my_add" not in out
    assert len(calls) == 2


def test_half_finished_code_counts_as_unfinished(capsys):
    answers = iter([torch.full((2,), 3.0), None])
    outcome = check_reimplementation(
        lambda a, b: next(answers), reference, CASES, name="my_add", against="a + b"
    )
    assert not outcome.written and "the reference solution" in capsys.readouterr().out


def test_a_mismatch_names_whose_code_differs(capsys):
    with pytest.raises(AssertionError, match=r"^your my_add differs from a \+ b \(case 1 of 2\)"):
        check_reimplementation(lambda a, b: a - b, reference, CASES, name="my_add", against="a + b")
    with pytest.raises(AssertionError, match=r"^the reference solution differs from a \+ b:"):
        check_reimplementation(
            lambda a, b: None, lambda a, b: a * b, CASES[:1], name="my_add", against="a + b"
        )
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="no cases to check my_add"):
        check_reimplementation(reference, reference, [], name="my_add", against="a + b")

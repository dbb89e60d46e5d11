"""Re-implementation checks say whose code they checked: the student's or the reference."""

from __future__ import annotations

import pytest
import torch

from fsnet_core.course.exercises import ExerciseMismatch, check_bpm_step, check_reimplementation
from fsnet_core.model.bpm import BPM

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


def reference_level(bpm, fused, motion, k):
    """Eq. 5-6 at level k, written out as the notebook's reference solution does."""
    f, g = fused[k], motion[k]
    size = f.shape[-2:]
    new_f = f + bpm.enrich[k].fuse(
        torch.cat([f, g, *bpm.enrich[k].lifted(motion[k + 1 :], size)], 1)
    )
    product = g * f
    for lifted in bpm.purify[k].lifted(fused[k + 1 :], size):
        product = product * lifted
    return new_f, g + bpm.purify[k].fuse(product)


def unwritten(bpm, fused, motion, k):
    return None


def off_by_one(bpm, fused, motion, k):
    new_f, new_g = reference_level(bpm, fused, motion, k)
    return new_f, new_g + 1.0


@pytest.fixture
def pyramids():
    torch.manual_seed(0)
    bpm = BPM(channels=4).eval()
    sizes = (16, 8, 4, 2)
    fused = [torch.randn(1, 4, s, s) for s in sizes]
    motion = [torch.randn(1, 4, s, s) for s in sizes]
    return bpm, fused, motion


def test_a_written_answer_is_named_as_the_students(pyramids, capsys):
    outcome = check_bpm_step(*pyramids, yours=reference_level, reference=unwritten)
    assert outcome.written and outcome.cases == 4
    assert capsys.readouterr().out == (
        "✓ your reference_level equals the model's BPM at level index 0, 1, 2, 3 (0 = finest)\n"
    )


def test_an_unwritten_answer_says_the_reference_was_checked_not_yours(pyramids, capsys):
    outcome = check_bpm_step(*pyramids, yours=unwritten, reference=reference_level, levels=[1])
    out = capsys.readouterr().out
    assert out.startswith("✓ the reference solution equals the model's BPM at level index 1")
    assert "unwritten is not written yet" in out and not outcome.written and "✓ your" not in out


def test_a_wrong_answer_is_refused_naming_whose_and_where(pyramids):
    with pytest.raises(
        ExerciseMismatch,
        match=r"your off_by_one differs from the model.s BPM at level index 2 \(0 = finest\) in G:",
    ):
        check_bpm_step(*pyramids, yours=off_by_one, reference=reference_level, levels=[2])
    with pytest.raises(ValueError, match="no levels"):
        check_bpm_step(*pyramids, yours=reference_level, reference=reference_level, levels=[])

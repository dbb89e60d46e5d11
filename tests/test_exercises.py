"""Exercise checks say whose code they checked: the student's, or the reference's."""

from __future__ import annotations

import pytest
import torch

from fsnet_core.course.exercises import ExerciseMismatch, check_bpm_step
from fsnet_core.model.bpm import BPM


def reference(bpm, fused, motion, k):
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
    new_f, new_g = reference(bpm, fused, motion, k)
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
    sentence = check_bpm_step(*pyramids, yours=reference, reference=unwritten)
    assert sentence.startswith("✓ your reference equals the model's BPM at level index 0, 1, 2, 3")
    assert "not written" not in sentence and sentence in capsys.readouterr().out


def test_an_unwritten_answer_says_the_reference_was_checked_not_yours(pyramids):
    sentence = check_bpm_step(*pyramids, yours=unwritten, reference=reference, levels=[1])
    assert sentence.startswith("✓ the reference solution equals the model's BPM at level index 1")
    assert "unwritten is not written yet" in sentence and "YOUR code was not checked" in sentence
    assert "✓ your" not in sentence


def test_a_wrong_answer_is_refused_naming_whose_and_where(pyramids):
    with pytest.raises(ExerciseMismatch, match="your off_by_one differs from the model's BPM in G"):
        check_bpm_step(*pyramids, yours=off_by_one, reference=reference, levels=[2])
    with pytest.raises(ValueError, match="no levels"):
        check_bpm_step(*pyramids, yours=reference, reference=reference, levels=[])

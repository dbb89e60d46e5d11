"""What the notebooks say about their own run: built from the numbers, in the palette's words.

The stored notebooks are read, not run (the SMOKE runs of ``tests/test_notebooks.py``
execute them, and every claim they check then).
"""

from __future__ import annotations

import re

import nbformat
import pytest

from fsnet_core.harness.notebooks import NOTEBOOK_DIR

# Notebooks whose "What to notice" is a cell that builds its sentences from the run's
# numbers, and whose exercise solutions state the expected answer.
COMPUTED = ["00_quickstart", "04_training_gpu", "05_evaluation", "06_attribution"]


def cells(name: str) -> list:
    return nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4).cells


@pytest.mark.parametrize("name", COMPUTED)
def test_what_to_notice_is_printed_from_the_run_and_checked(name):
    nb = cells(name)
    heads = [
        i for i, c in enumerate(nb) if c.cell_type == "markdown" and "## What to notice" in c.source
    ]
    assert len(heads) == 1, f"{name}: one '## What to notice' section"
    after = nb[heads[0] + 1]
    assert after.cell_type == "code", f"{name}: the section's sentences are built in code"
    assert re.search(r"^notice = \[", after.source, re.M) and "print(" in after.source
    checked = "\n".join(c.source for c in nb[: heads[0] + 2] if c.cell_type == "code")
    assert re.search(r"\b(claim|check_greater|check_less|check_share)\(", checked)


@pytest.mark.parametrize("name", COMPUTED)
def test_every_solution_states_its_expected_answer(name):
    text = "\n".join(c.source for c in cells(name) if c.cell_type == "markdown")
    section = text[text.index("## Exercise") :]
    solutions = re.findall(r"<details>(.*?)</details>", section, re.S)
    assert solutions
    for solution in solutions:
        assert "Expected" in solution, f"{name}: a solution without its expected answer"


@pytest.mark.parametrize("name", COMPUTED)
def test_overlays_are_not_described_as_red_and_green(name):
    """The palette draws predictions orange and the truth blue; text saying otherwise misleads
    (and red against green is what colour-blind readers cannot tell apart)."""
    for cell in cells(name):
        assert not re.search(r"\((red|green)\b|\b(red|green) (outline|region)", cell.source), (
            f"{name}: {cell.source[:80]!r}"
        )

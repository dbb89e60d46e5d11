"""How long the course may take, and the table ``fsnet run-all`` prints against it.

The budgets are wall-clock seconds on a 2-core CPU in SMOKE mode from a cold
start (no generated data, no cached course model): the quickstart must give a
first result quickly, and the whole course must fit a lesson's preparation.
"""

from __future__ import annotations

from collections.abc import Sequence

from .notebooks import NotebookRun

QUICKSTART_BUDGET_S = 120.0
"""Notebook 00 alone: it builds the synthetic set and trains the course model."""
COURSE_BUDGET_S = 900.0
"""Every notebook in turn."""
TOTAL = "total"
# Budget per row of the timing table: notebooks by name, and the sum of all rows.
BUDGETS_S: dict[str, float] = {"00_quickstart": QUICKSTART_BUDGET_S, TOTAL: COURSE_BUDGET_S}


def _timed(name: str, seconds: float, width: int) -> str:
    line = f"{name:<{width}}  {seconds:7.1f}"
    budget = BUDGETS_S.get(name)
    if budget is not None:
        verdict = "within" if seconds <= budget else "OVER"
        line += f"  (budget {budget:.0f} s on 2 cores, cold: {verdict})"
    return line


def timing_table(runs: Sequence[NotebookRun]) -> str:
    """Per-notebook wall-clock times and the total, each against its budget where it has one."""
    width = max([len(r.name) for r in runs] + [len(TOTAL)])
    lines = [f"{'notebook':<{width}}  seconds"]
    lines += [_timed(r.name, r.seconds, width) for r in runs]
    lines.append(_timed(TOTAL, sum(r.seconds for r in runs), width))
    return "\n".join(lines)


__all__ = ["BUDGETS_S", "COURSE_BUDGET_S", "QUICKSTART_BUDGET_S", "timing_table"]

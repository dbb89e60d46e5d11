"""The course's committed results tables: package data beside the code that reads them.

The ablation and finetuning benchmarks append one row per finished run to a
CSV under ``course/results/``, shipped with the package so that notebooks on
Colab (no checkout) find them; this module finds and reads such a table.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from pathlib import Path

import pandas as pd

from ..io import InputError

RESULTS = Path(__file__).resolve().parent / "results"


def results_path(name: str) -> Path:
    """A committed table by file name: package data, next to this module."""
    return RESULTS / name


def read_results(
    path: str | os.PathLike,
    needed: Sequence[str],
    what: str,
    key: Sequence[str],
    known: tuple[str, Collection[str], str] | None = None,
) -> pd.DataFrame:
    """The table at ``path``, one row per ``key`` (the last one wins, as a resumed run appends);
    empty, with the ``needed`` columns, when there is no file. A table without one of them is
    an :class:`InputError` naming the file and saying it is not ``what``. ``known``, as
    ``(column, allowed values, name)``: a value outside them is an :class:`InputError` too
    ("unknown variant(s) ...")."""
    path = Path(path)
    if not path.is_file():
        return pd.DataFrame(columns=list(needed))
    table = pd.read_csv(path)
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise InputError(path, f"not {what}: no column {', '.join(missing)}")
    if known is not None:
        column, allowed, name = known
        unknown = sorted(set(table[column]) - set(allowed))
        if unknown:
            raise InputError(path, f"unknown {name}(s) {', '.join(map(str, unknown))}")
    return table.drop_duplicates(list(key), keep="last").reset_index(drop=True)


__all__ = ["read_results", "results_path"]

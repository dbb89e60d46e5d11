"""Splitting a dataset by sequence into train, select and test, and writing the split down.

Finetuning measures a gain on sequences it never trained on, and chooses its
checkpoint on others again: *train* sequences are trained on, *select*
sequences choose ``best.pt``, *test* sequences are scored before the first
step and after the last, and never choose anything. Frames of one sequence
look alike, so the split is by sequence, never by frame.

Each part comes from a given list (a file of names, one a line, as DAVIS's
``ImageSets`` are, or the names themselves) or, when not given, from a split
of the remaining sequences seeded by ``seed``; :func:`write_splits` records
the result as ``splits.json`` in the run folder, so a run says what it trained
and scored on, and a resumed run reuses it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from ..io import InputError, atomic_write
from ..io.davis import read_split_list

PARTS: tuple[str, ...] = ("train", "select", "test")
# Shares of the sequences a seeded split gives select and test (train gets the rest).
SHARES = {"select": 0.2, "test": 0.3}
MIN_SEQUENCES = len(PARTS)
SPLITS_JSON = "splits.json"

SplitSource = str | os.PathLike | Sequence[str] | None


def read_names(source: str | os.PathLike | Sequence[str], part: str) -> tuple[list[str], Path]:
    """The names a split source holds, and what to name in an error about them.

    ``source`` is a file of names (one a line, or DAVIS's official lists of
    frame paths), a comma-separated string of names, or a list of names.
    """
    if isinstance(source, os.PathLike) or (isinstance(source, str) and Path(source).is_file()):
        return read_split_list(source), Path(source)
    names = source.split(",") if isinstance(source, str) else list(source)
    return [n.strip() for n in names if n.strip()], Path(f"--{part}")


def seeded_split(names: Sequence[str], parts: Sequence[str], seed: int) -> dict[str, list[str]]:
    """Deal ``names`` into ``parts`` by a permutation fixed by ``seed``, each part at least one.

    Select and test get :data:`SHARES` of all the names (rounded, at least one),
    train the rest; when train is not among ``parts``, the last part takes the rest.
    """
    order = [names[i] for i in np.random.default_rng(seed).permutation(len(names))]
    sizes = {p: max(1, round(SHARES[p] * len(names))) for p in parts if p != "train"}
    rest = parts[-1] if "train" not in parts else "train"
    sizes[rest] = 0
    out: dict[str, list[str]] = {}
    start = 0
    for part in parts:
        if part == rest:
            continue
        out[part] = order[start : start + sizes[part]]
        start += sizes[part]
    out[rest] = order[start:]
    return {part: sorted(out[part]) for part in parts}


def split_sequences(
    names: Iterable[str],
    where: str | os.PathLike,
    *,
    train: SplitSource = None,
    select: SplitSource = None,
    test: SplitSource = None,
    seed: int = 0,
) -> dict[str, list[str]]:
    """``{"train": [...], "select": [...], "test": [...]}`` over the sequences ``names``.

    Given lists are used as they are; the parts not given share the remaining
    sequences by :func:`seeded_split`. Refused with an :class:`InputError`
    (naming the list file, or ``--PART`` for names given directly, or the
    dataset ``where``): fewer than three sequences, a name that is not a
    sequence of the dataset, a name in two lists, an empty part.
    """
    names = list(names)
    if len(names) < MIN_SEQUENCES:
        raise InputError(
            where,
            f"holds {len(names)} sequence(s); finetuning splits by sequence into "
            f"{', '.join(PARTS)} and needs at least {MIN_SEQUENCES}",
        )
    given: dict[str, list[str]] = {}
    owner: dict[str, tuple[str, Path]] = {}
    for part, source in zip(PARTS, (train, select, test), strict=True):
        if source is None:
            continue
        listed, label = read_names(source, part)
        unknown = [n for n in listed if n not in names]
        if unknown:
            more = f" ({len(unknown)} such names)" if len(unknown) > 1 else ""
            raise InputError(
                label, f"names {unknown[0]!r}, which is not a sequence of {where}{more}"
            )
        for name in listed:
            if name in owner and owner[name][0] != part:
                other, other_label = owner[name]
                raise InputError(
                    label,
                    f"the {part} list and the {other} list ({other_label}) both name "
                    f"{name!r}: the parts must not overlap",
                )
            owner[name] = (part, label)
        if not listed:
            raise InputError(label, f"the {part} list names no sequence")
        given[part] = list(dict.fromkeys(listed))
    missing = [p for p in PARTS if p not in given]
    rest = [n for n in names if n not in owner]
    if missing and len(rest) < len(missing):
        raise InputError(
            where,
            f"{len(rest)} sequence(s) left after the given lists, too few for "
            f"{', '.join(missing)} (at least one each)",
        )
    if missing:
        given.update(seeded_split(rest, missing, seed))
    return {part: given[part] for part in PARTS}


def write_splits(path: str | os.PathLike, splits: Mapping[str, Sequence[str]], **about) -> Path:
    """Write ``splits.json`` (the parts, plus ``about``: seed, sources) atomically."""
    path = Path(path)
    with atomic_write(path) as tmp:
        tmp.write_text(
            json.dumps({**about, **{p: list(splits[p]) for p in PARTS}}, indent=1) + "\n"
        )
    return path


def read_splits(path: str | os.PathLike) -> dict[str, list[str]]:
    """The parts recorded in a ``splits.json``; InputError when it is not one."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        return {p: [str(n) for n in data[p]] for p in PARTS}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(path, f"not a readable split record ({exc})") from None


__all__ = [
    "MIN_SEQUENCES",
    "PARTS",
    "SHARES",
    "SPLITS_JSON",
    "read_names",
    "read_splits",
    "seeded_split",
    "split_sequences",
    "write_splits",
]

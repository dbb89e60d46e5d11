"""Finetuning a trained FSNet on a small new dataset, with a score before and after.

:func:`finetune` is ``fsnet finetune``. It starts from a checkpoint (the
authors' model by default, or any ``last.pt``/``best.pt`` of this package),
splits the dataset by sequence into *train*, *select* and *test*
(:mod:`.splits`), scores *test* (and *select*) before the first step, trains
with :func:`~fsnet_core.train.trainer.train` (so it resumes exactly as
``fsnet train`` does), chooses ``best.pt`` on *select* only (the trainer's
validation split), and scores *test* again with that checkpoint. The run
folder::

    RUN/splits.json           the three parts, how they were chosen, the data they came from
    RUN/data/                 the dataset as the trainer reads it (see below)
    RUN/config.json           the TrainConfig (init_weights: the starting checkpoint)
    RUN/finetune/{last,best}.pt, history.csv   as for ``fsnet train``; val_J is select's J
    RUN/before.json           test and select scores of the starting model (epoch 0)
    RUN/finetune.json, .csv   the before/after table: per test sequence and overall, J and F

The data may be in the DAVIS layout or the authors' test layout (``SEQ/Frame``,
``SEQ/GT`` with masks for only some frames, as FBMS has); training and
scoring use the annotated frames only. Flow missing for a frame is computed
into the dataset folder by :func:`~fsnet_core.data.flow_cache.compute_flow`
(DIS on a CPU, RAFT on a GPU). ``RUN/data`` is a DAVIS-layout view of the
dataset: one link per sequence folder (frames, masks, flow images) and the
split lists ``ImageSets/2016/{train,select,test}.txt``; nothing is copied.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from ..io import InputError, atomic_write, davis, mkdtemp_honouring_umask
from ..io.images import image_size, read_mask
from ..model.config import FSNetConfig
from ..model.official import read_state_dict
from ..runtime import autocast_dtype, resolve_device
from .config import TrainConfig
from .results import TrainResult
from .splits import PARTS, SPLITS_JSON, SplitSource, read_splits, split_sequences, write_splits

STAGE = "finetune"
VIEW = "data"
VIEW_MARK = ".fsnet-finetune-view"
BEFORE_JSON = "before.json"
TABLE_JSON = "finetune.json"
TABLE_CSV = "finetune.csv"
AUTHORS = "authors"
LAYOUTS = ("davis", "testset")
# The authors' checkpoint ends their schedule at lr 2e-4 (see docs/training.md).
AUTHORS_DEFAULTS: dict[str, Any] = {"lr": 2e-4}


def authors_checkpoint() -> Path:
    """The authors' released checkpoint on disk (fetched into the torch hub cache if missing).

    The one place that names where it comes from.
    """
    from ..model.weights import FSNetWeights

    return FSNetWeights.DAVIS16_ICCV21.local_file()


def load_checkpoint(path: str | os.PathLike):
    """A trained FSNet from a checkpoint of this package or the authors'; the one import of
    the model loader here."""
    from ..model.serialization import load_model

    return load_model(path)


@dataclass(frozen=True)
class Start:
    """Where finetuning starts: a checkpoint, its architecture, the options that trained it."""

    checkpoint: Path
    model: FSNetConfig
    trained_with: dict[str, Any] | None  # the TrainConfig of the run that wrote it (ours only)
    label: str


def resolve_start(init: str | os.PathLike | None = AUTHORS) -> Start:
    """The checkpoint ``init`` names (``"authors"``/None: the authors' model, else a path)."""
    if init is None or str(init) == AUTHORS:
        from ..model.weights import FSNetWeights

        path = authors_checkpoint()
        config = FSNetWeights.DAVIS16_ICCV21.meta["config"]
        return Start(path, config, None, f"the authors' checkpoint ({path.name})")
    path = Path(init)
    payload = read_state_dict(path)
    if "config" in payload and "model" in payload:  # this package's format
        trained = (payload.get("training") or {}).get("config")
        return Start(path, FSNetConfig.from_dict(payload["config"]), trained, str(path))
    return Start(path, FSNetConfig(), None, f"{path} (the authors' format)")


def finetune_config(start: Start, out: Path, flow_source: str, **overrides: Any) -> TrainConfig:
    """The run's options: those ``start`` was trained with (the ``colab`` preset at lr 2e-4
    for the authors' model), on the view's splits, annotated frames only, then ``overrides``."""
    if start.trained_with is not None:
        base = TrainConfig.from_dict(start.trained_with)
    else:
        base = TrainConfig.preset("colab", **AUTHORS_DEFAULTS)
    fixed = dict(
        out=str(out),
        data=str(out / VIEW),
        train_split=PARTS[0],
        val_split=PARTS[1],
        stages=(STAGE,),
        model=start.model,
        init_weights=str(start.checkpoint),
        rgb_weights=None,
        flow_weights=None,
        flow_source=flow_source,
        annotated_only=True,
        val_max_frames=0,
    )
    return base.replace(**fixed).replace(**overrides)


# --------------------------------------------------------------------------- the data


@dataclass(frozen=True)
class Folders:
    """Where one sequence's frames, masks and flow images are, in the source dataset."""

    frames: Path
    masks: Path
    flows: Path


def _folders(root: Path, layout: str, name: str, source: str) -> Folders:
    if layout == "davis":
        return Folders(
            davis.frames_root(root) / name,
            davis.annotations_root(root) / name,
            root / davis.FLOW_IMAGES / source / name,
        )
    from ..data.layouts import TESTSET_FRAMES, TESTSET_MASKS

    return Folders(root / name / TESTSET_FRAMES, root / name / TESTSET_MASKS, root / name / source)


def _layout(root: Path) -> str:
    from ..data.layouts import detect_layout

    layout = detect_layout(root)
    if layout not in LAYOUTS:
        raise InputError(
            root,
            f"finetuning reads the DAVIS layout or the authors' test layout (SEQ/Frame, "
            f"SEQ/GT), not the {layout} layout",
        )
    return layout


def ensure_flow(root: Path, flow_source: str | None, device: str) -> str:
    """The flow folder every annotated frame can be read with, computing what is missing.

    ``flow_source`` None takes the dataset's own flow (``gt``, ``OF_FlowNet2``, or the
    only one) when every frame pair has it, else computes the default method of
    ``device`` (:func:`~fsnet_core.flow.estimators.default_method`); a method name
    (``dis``, ``raft-small``, ...) computes that one where missing.
    """
    from ..data.flow_cache import compute_flow
    from ..data.layouts import discover_sequences
    from ..flow.estimators import METHODS, default_method

    layout = _layout(root)
    wanted = flow_source
    if flow_source is not None and flow_source in METHODS:
        wanted = flow_source if layout == "davis" else f"OF_{flow_source}"
    records = discover_sequences(root, layout, flow_source=wanted)
    needed = [f for r in records for f in r.flows[:-1]]  # the last frame has no flow
    if needed and all(f is not None for f in needed):
        first: Path = needed[0]  # type: ignore[assignment]
        return first.parent.parent.name if layout == "davis" else first.parent.name
    if flow_source is not None and flow_source not in METHODS:
        bad = next(r for r in records if any(f is None for f in r.flows[:-1]))
        raise InputError(
            bad.frames[0].parent,
            f"frames without flow in {flow_source!r}, which is not a method this package "
            f"computes ({', '.join(METHODS)})",
        )
    method = flow_source or default_method(resolve_device(device))
    compute_flow(root, method, device=resolve_device(device), progress=False)
    return method if layout == "davis" else f"OF_{method}"


def check_sequences(root: Path, flow_source: str) -> list[str]:
    """The sequences of ``root``, each checked for finetuning; their names.

    Every sequence needs a mask on at least one frame that has a successor (the
    last frame has no flow and is never a sample), and every mask the size of
    its frame; otherwise an :class:`InputError` names the folder or the file.
    """
    from ..data.layouts import check_same_size, discover_sequences

    layout = _layout(root)
    names = []
    for record in discover_sequences(root, layout, flow_source=flow_source):
        masks = _folders(root, layout, record.name, flow_source).masks
        annotated = [t for t, m in enumerate(record.masks) if m is not None]
        if not annotated:
            raise InputError(masks, f"sequence {record.name!r} has no masks")
        if not any(record.flows[t] is not None for t in annotated):
            raise InputError(
                masks,
                f"sequence {record.name!r} has masks only where there is no flow (its last "
                "frame has none): annotate an earlier frame",
            )
        for t in annotated:
            mask, frame = record.masks[t], record.frames[t]
            assert mask is not None
            check_same_size(mask, read_mask(mask).shape, image_size(frame), frame)
        names.append(record.name)
    return names


def make_view(
    root: Path, view: Path, flow_source: str, splits: Mapping[str, Sequence[str]]
) -> Path:
    """The DAVIS-layout view of ``root`` the trainer reads (links, split lists); rebuilt whole.

    A folder at ``view`` that is not such a view is never removed.
    """
    layout = _layout(root)
    if view.exists() and not (view / VIEW_MARK).is_file():
        raise InputError(view, "exists and is not a finetuning data view; move it away")
    work = mkdtemp_honouring_umask(prefix=f".{view.name}.", suffix=".partial", dir=view.parent)
    try:
        for names in splits.values():
            for name in names:
                where = _folders(root, layout, name, flow_source)
                for target, link in (
                    (where.frames, davis.frames_root(work) / name),
                    (where.masks, davis.annotations_root(work) / name),
                    (where.flows, work / davis.FLOW_IMAGES / flow_source / name),
                ):
                    link.parent.mkdir(parents=True, exist_ok=True)
                    link.symlink_to(target.resolve(), target_is_directory=True)
        for part, names in splits.items():
            davis.write_split_list(work, part, list(names))
        (work / VIEW_MARK).write_text(f"a view of {root.resolve()} made by fsnet finetune\n")
        if view.exists():
            shutil.rmtree(view)  # links and split lists only: rmtree does not follow links
        os.replace(work, view)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return view


# --------------------------------------------------------------------------- scores


def score(model: torch.nn.Module, config: TrainConfig, part: str):
    """J and F (:func:`~fsnet_core.train.validate.validation_scores`) of ``model`` on every
    annotated frame of one part of the view, at the training size."""
    from ..data.datasets import VideoSegmentationDataset
    from .data import val_loader
    from .validate import validation_scores

    device = resolve_device(config.device)
    layout = torch.channels_last if config.channels_last else torch.contiguous_format
    model.to(device=device, memory_format=layout)
    dataset = VideoSegmentationDataset(
        config.data,  # type: ignore[arg-type]
        split=part,
        flow_source=config.flow_source,
        size=config.size,
        annotated_only=True,
    )
    return validation_scores(
        model,
        val_loader(dataset, config),
        STAGE,
        device,
        autocast_dtype(config.precision, device),
        config.channels_last,
    )


def _scores(validation) -> dict[str, Any]:
    return {
        "J": validation.J,
        "F": validation.F,
        "per_sequence": validation.per_sequence.to_dict(orient="records"),
    }


def starting_model(config: TrainConfig) -> torch.nn.Module:
    """The model the first step starts from (the same random one for a run from scratch)."""
    from .setup import initial_model

    torch.manual_seed(config.seed)  # as StageTrainer does before building the model
    return initial_model(config, STAGE, Path(config.out))[0]


def score_before(config: TrainConfig) -> dict[str, Any]:
    """``before.json``: test and select scores of the starting model; read back when there."""
    path = Path(config.out) / BEFORE_JSON
    if path.is_file():
        return json.loads(path.read_text())
    model = starting_model(config)
    before = {part: _scores(score(model, config, part)) for part in ("test", "select")}
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(before, indent=1))
    return before


def before_after_table(before: Mapping[str, Any], after: Mapping[str, Any]) -> pd.DataFrame:
    """One row per test sequence and an ``overall`` row (mean over sequences): J and F
    before, after and their difference."""
    b = pd.DataFrame(before["per_sequence"]).set_index("sequence")
    a = pd.DataFrame(after["per_sequence"]).set_index("sequence")
    rows = []
    for name in b.index:
        rows.append({"sequence": name, "frames": int(b.frames[name])})
        for m in ("J", "F"):
            rows[-1] |= {
                f"{m}_before": float(b[m][name]),
                f"{m}_after": float(a[m][name]),
                f"{m}_gain": float(a[m][name] - b[m][name]),
            }
    table = pd.DataFrame(rows)
    overall: dict[str, Any] = {"sequence": "overall", "frames": int(table.frames.sum())}
    overall |= {c: float(table[c].mean()) for c in table.columns if c[0] in "JF"}
    return pd.concat([table, pd.DataFrame([overall])], ignore_index=True)


def score_start(
    data: str | os.PathLike,
    out: str | os.PathLike,
    splits: Mapping[str, Sequence[str]],
    *,
    init: str | os.PathLike | None = AUTHORS,
    flow_source: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Epoch-0 scores of ``init`` on ``splits`` of ``data`` with one flow source, no training.

    For comparing flow sources on the same test split (the authors' model was trained on
    FlowNet 2.0 flow images; a student computes RAFT): ``out`` gets the view and
    ``before.json`` only, read back when there, so a second call costs nothing.
    """
    out, source = Path(out), Path(data)
    flow = ensure_flow(source, flow_source, str(overrides.get("device", "auto")))
    config = finetune_config(resolve_start(init), out, flow, **overrides)
    out.mkdir(parents=True, exist_ok=True)
    if not (out / VIEW / VIEW_MARK).is_file():
        make_view(source, out / VIEW, flow, {p: list(splits[p]) for p in PARTS})
    return score_before(config)


# --------------------------------------------------------------------------- the run


@dataclass
class FinetuneResult:
    """What :func:`finetune` returns. ``table`` is None until the run has finished."""

    out: Path
    config: TrainConfig
    splits: dict[str, list[str]]
    start: str
    before: dict[str, Any]
    train: TrainResult
    table: pd.DataFrame | None = None
    selected_epoch: int | None = None
    selection: list[dict[str, float]] = field(default_factory=list)
    after_last: dict[str, float] | None = None

    def overall(self, what: str) -> float:
        """``J_before``, ``J_after``, ``J_gain``, ``F_...`` of the overall row."""
        if self.table is None:
            raise ValueError(f"{self.out}: the run has not finished; no after score yet")
        return float(self.table.set_index("sequence").loc["overall", what])

    @property
    def finished(self) -> bool:
        return self.table is not None

    def summary(self) -> str:
        """The lines ``fsnet finetune`` prints."""
        j0 = self.before["test"]["J"]
        if self.table is None:
            return f"test J before {j0:.3f}; run stopped early (resume with --resume)"
        return (
            f"test J before {j0:.3f}, after {self.overall('J_after'):.3f} "
            f"(gain {self.overall('J_gain'):+.3f}); test F before {self.before['test']['F']:.3f}, "
            f"after {self.overall('F_after'):.3f} (gain {self.overall('F_gain'):+.3f}); "
            f"best.pt from epoch {self.selected_epoch}, chosen on select "
            f"({len(self.splits['select'])} sequences)"
        )


def finetune(
    data: str | os.PathLike | None,
    out: str | os.PathLike,
    *,
    init: str | os.PathLike | None = AUTHORS,
    train: SplitSource = None,
    select: SplitSource = None,
    test: SplitSource = None,
    split_seed: int = 0,
    from_scratch: bool = False,
    flow_source: str | None = None,
    resume: bool | str = False,
    max_steps: int | None = None,
    **overrides: Any,
) -> FinetuneResult:
    """Finetune ``init`` on ``data`` into ``out``; see the module's docstring.

    ``train``/``select``/``test``: lists of sequences (files or names; the
    missing ones are a split seeded by ``split_seed``). ``from_scratch``: the
    control: the same architecture, options, data and budget, without the
    checkpoint's weights (ImageNet or random, as the options say). ``overrides``
    change the options (``epochs=``, ``lr=``, ``seed=``, ...). ``resume`` as for
    :func:`~fsnet_core.train.trainer.train`; a resumed run reads its options,
    split and data from ``out`` (``data`` may be None then).
    """
    from .setup import check_run_folder
    from .trainer import train as run_training

    out = Path(out)
    recorded = out / SPLITS_JSON
    resuming = bool(resume) and recorded.is_file()
    if not resume:  # a run already there is refused before anything is computed or written
        check_run_folder(TrainConfig(out=str(out)), (STAGE,), resume)
    if resuming:
        about = json.loads(recorded.read_text())
        splits = read_splits(recorded)
        source, flow, label = Path(about["data"]), str(about["flow_source"]), str(about["start"])
        if data is not None and Path(data).resolve() != source.resolve():
            raise InputError(out, f"was finetuned on {source}, not on {data}")
    else:
        if data is None:
            raise InputError(
                out,
                f"holds no finetuning run to resume (no {SPLITS_JSON}); check --out, or give "
                "the dataset (--data) to start one",
            )
        source = Path(data)
        flow = ensure_flow(source, flow_source, str(overrides.get("device", "auto")))
        names = check_sequences(source, flow)
        splits = split_sequences(
            names, source, train=train, select=select, test=test, seed=split_seed
        )
    saved = out / "config.json"
    if resuming and saved.is_file():
        config = TrainConfig.from_dict(json.loads(saved.read_text())).replace(**overrides)
    else:
        start = resolve_start(init)
        label = "from scratch" if from_scratch else start.label
        config = finetune_config(start, out, flow, **overrides)
        if from_scratch:
            config = config.replace(init_weights=None)
    check_run_folder(config, (STAGE,), resume)  # refuses before anything is written
    out.mkdir(parents=True, exist_ok=True)
    if not resuming:
        for stale in (BEFORE_JSON, TABLE_JSON, TABLE_CSV):  # of a run whose checkpoints are gone
            (out / stale).unlink(missing_ok=True)
        write_splits(
            recorded,
            splits,
            data=str(source.resolve()),
            flow_source=flow,
            split_seed=split_seed,
            start=label,
            from_scratch=from_scratch,
        )
    if not resuming or not (out / VIEW / VIEW_MARK).is_file():
        make_view(source, out / VIEW, flow, splits)
    if config.threads:
        torch.set_num_threads(config.threads)
    before = score_before(config)
    result = run_training(config, resume=resume, max_steps=max_steps)
    stage = result.stages.get(STAGE)
    done = FinetuneResult(out, config, splits, label, before, result)
    if stage is None or not stage.finished or stage.best_checkpoint is None:
        return done
    history = stage.history
    done.selection = [{"epoch": 0, "select_J": before["select"]["J"]}] + [
        {"epoch": int(r.epoch), "select_J": float(r.val_J)} for r in history.itertuples()
    ]
    done.selected_epoch = int(history.epoch[history.val_J.idxmax()])
    after = _scores(score(load_checkpoint(stage.best_checkpoint), config, "test"))
    last = score(load_checkpoint(stage.last_checkpoint), config, "test")
    done.after_last = {"J": last.J, "F": last.F, "epoch": int(history.epoch.iloc[-1])}
    done.table = before_after_table(before["test"], after)
    write_table(done)
    return done


def write_table(result: FinetuneResult) -> tuple[Path, Path]:
    """``finetune.json`` (the table and how it was made) and ``finetune.csv``, atomically."""
    assert result.table is not None
    record = {
        "start": result.start,
        "splits": result.splits,
        "selected_epoch": result.selected_epoch,
        "selection": result.selection,
        "after_last_epoch": result.after_last,
        "before_select": {k: result.before["select"][k] for k in ("J", "F")},
        "table": result.table.to_dict(orient="records"),
    }
    json_path, csv_path = result.out / TABLE_JSON, result.out / TABLE_CSV
    with atomic_write(json_path) as tmp:
        tmp.write_text(json.dumps(record, indent=1) + "\n")
    with atomic_write(csv_path) as tmp, Path(tmp).open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(result.table.columns))
        writer.writeheader()
        writer.writerows(result.table.to_dict(orient="records"))
    return json_path, csv_path


__all__ = [
    "AUTHORS",
    "BEFORE_JSON",
    "TABLE_CSV",
    "TABLE_JSON",
    "FinetuneResult",
    "Start",
    "authors_checkpoint",
    "before_after_table",
    "check_sequences",
    "ensure_flow",
    "finetune",
    "finetune_config",
    "make_view",
    "resolve_start",
    "score",
    "score_start",
]

"""Train a small model once, load it afterwards: how notebooks share trained models.

Several notebooks look inside a trained FSNet (its attention, its
attributions) or compare variants. Training the same small model in each
would spend the CPU budget many times over, so :func:`train_or_load` keys a
run folder on the training configuration: the first call trains
(``fsnet_core.train.train``), later calls with the same configuration resume
the finished run, which loads its last checkpoint without training. A run
killed half-way is continued, not restarted. Every notebook still runs on
its own: whichever comes first pays for the training.

Folders: ``runs/cache/NAME-DIGEST/`` and ``data/synthetic/`` at the root of a
source checkout (beside ``pyproject.toml``), else under the working
directory (an installed package, e.g. on Colab); ``$FSNET_LAB_HOME`` puts
them elsewhere (the Colab rehearsal keeps the checkout's own untouched).

``$FSNET_LAB_CONFIG`` (a JSON object) overrides fields of every course
model's configuration, e.g. ``{"epochs": 1, "size": 64, "channels": 8}``: a
rehearsal of the ``SMOKE = False`` path shrinks the model without editing
a notebook.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..runtime import HOME_ENV, lab_path
from ..train.config import TrainConfig, field_type_problem

CONFIG_ENV = "FSNET_LAB_CONFIG"

if TYPE_CHECKING:
    from ..train.results import TrainResult

# Options that change where or how fast a run goes, never the weights it ends with.
NOT_IN_KEY = ("out", "progress", "threads", "num_workers", "device", "preset_name")
# Options added after models were cached, at the value that gives the old behaviour: left out
# of the key at that value, so a new option does not make every cached model train again.
KEY_SINCE = {"annotated_only": False}

# The analysis notebooks' shared model in SMOKE mode: seconds per epoch on two CPU cores.
SMOKE_MODEL: dict[str, Any] = dict(
    backbone="resnet18",
    channels=16,
    num_bpm=1,
    size=64,
    epochs=3,
    batch_size=8,
    val_max_frames=48,
    precision="float32",
    # torch's default thread count (all cores, or $OMP_NUM_THREADS) rather than the preset's
    # fixed two: right on a laptop, on Colab and in CI, and settable from outside.
    threads=None,
)
# Each variant of a SMOKE-mode ablation (several models per notebook) gets this many epochs.
SMOKE_ABLATION_EPOCHS = 2


_announced: set[str] = set()


def config_overrides() -> dict[str, Any]:
    """The fields ``$FSNET_LAB_CONFIG`` (a JSON object) overrides; printed once per process.

    A value that is not a JSON object, a key that is not a field of
    :class:`~fsnet_core.train.config.TrainConfig` or of its model, or a value of
    another type than its field's (``"epochs": 1.5`` or ``"1"``, ``"augment": 1``)
    raises ``ValueError`` naming the field, before anything is written.
    They win over a notebook's own overrides, so set budget fields (``epochs``, ``size``,
    ``channels``, ``val_max_frames``): a field a notebook varies (``rcam``, ``num_bpm``)
    set here would make its variants alike.
    """
    text = os.environ.get(CONFIG_ENV, "").strip()
    if not text:
        return {}
    try:
        overrides = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"${CONFIG_ENV} is not valid JSON ({exc}): {text!r}") from None
    if not isinstance(overrides, dict):
        raise ValueError(f"${CONFIG_ENV} must be a JSON object of TrainConfig fields: {text!r}")
    known = set(TrainConfig().to_dict()) | set(TrainConfig().model.to_dict())
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(
            f"${CONFIG_ENV}: unknown field(s) {', '.join(unknown)}; TrainConfig and its model "
            f"have {', '.join(sorted(known))}"
        )
    for name, value in overrides.items():
        if problem := field_type_problem(name, value):
            raise ValueError(f"${CONFIG_ENV}: {name} = {json.dumps(value)}: {problem}")
    if text not in _announced:
        _announced.add(text)
        print(f"course model overrides from ${CONFIG_ENV}: {overrides}")
    return overrides


def synthetic_root() -> Path:
    """The built-in synthetic set under :func:`lab_path` (generated on first use, ~10 s)."""
    from ..data.synthetic import ensure_synthetic_dataset

    return ensure_synthetic_dataset(lab_path("data", "synthetic"))


def notebook_config(smoke: bool = True, **overrides: Any) -> TrainConfig:
    """The small FSNet the analysis notebooks share, trained on the built-in data.

    ``smoke``: :data:`SMOKE_MODEL` (about a minute on two CPU cores); otherwise the
    ``smoke`` training preset as it stands (minutes on a GPU, tens on a CPU), which
    reaches a better validation J. ``overrides`` change any
    :class:`~fsnet_core.train.config.TrainConfig` field, or of its model
    (``rcam=...`` for a variant); ``$FSNET_LAB_CONFIG`` (see :func:`config_overrides`)
    goes on top of both.
    """
    base = dict(SMOKE_MODEL) if smoke else {"threads": None}
    base.update(overrides)
    base.update(config_overrides())
    base.setdefault("data", str(synthetic_root()))
    # A bar while the course model trains (tqdm.auto: a widget in Jupyter and on Colab, text
    # elsewhere); not part of the cache key.
    base.setdefault("progress", True)
    return TrainConfig.preset("smoke", **base)


def ablation_config(smoke: bool = True, **overrides: Any) -> TrainConfig:
    """One variant of an ablation: :func:`notebook_config` with a shorter budget in SMOKE mode.

    Notebooks that compare variants (RCAM directions, BPM counts and
    directions) train several models; in SMOKE mode each gets
    :data:`SMOKE_ABLATION_EPOCHS` epochs so that all of them fit the CPU budget.
    The reference model of an ablation must come from here too, with the same budget.
    """
    if smoke:
        overrides.setdefault("epochs", SMOKE_ABLATION_EPOCHS)
    return notebook_config(smoke, **overrides)


def config_key(config: TrainConfig) -> str:
    """A short digest of the options that decide the trained weights."""
    relevant = {
        k: v
        for k, v in config.to_dict().items()
        if k not in NOT_IN_KEY and not (k in KEY_SINCE and v == KEY_SINCE[k])
    }
    text = json.dumps(relevant, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def cached_run_dir(
    config: TrainConfig, name: str, cache_dir: str | os.PathLike | None = None
) -> Path:
    """Where :func:`train_or_load` keeps the run of ``config``."""
    if not name or Path(name).name != name:
        raise ValueError(f"name must be a plain folder name, got {name!r}")
    base = Path(cache_dir) if cache_dir is not None else lab_path("runs", "cache")
    return base / f"{name}-{config_key(config)}"


def train_or_load(
    config: TrainConfig, name: str = "model", cache_dir: str | os.PathLike | None = None
) -> TrainResult:
    """Train ``config`` into its cache folder, or load the run already there.

    Returns the :class:`~fsnet_core.train.results.TrainResult` either way (its
    ``model`` in eval mode, its ``history`` with one row per epoch).
    """
    from ..train.trainer import train

    out = cached_run_dir(config, name, cache_dir)
    return train(config.replace(out=str(out)), resume="or-start")


def newest_course_checkpoint(cache_dir: str | os.PathLike | None = None) -> Path:
    """The notebooks' shared model as the benchmarks time it: the newest cached ``last.pt``.

    Raises ``FileNotFoundError`` (saying to run notebook 00) when the cache holds none.
    """
    base = Path(cache_dir) if cache_dir is not None else lab_path("runs", "cache")
    found = sorted(base.glob("notebook-*/finetune/last.pt"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise FileNotFoundError(f"{base}: no course model cached yet (run notebook 00 first)")
    return found[-1]


__all__ = [
    "CONFIG_ENV",
    "HOME_ENV",
    "SMOKE_ABLATION_EPOCHS",
    "SMOKE_MODEL",
    "ablation_config",
    "cached_run_dir",
    "config_key",
    "config_overrides",
    "lab_path",
    "newest_course_checkpoint",
    "notebook_config",
    "synthetic_root",
    "train_or_load",
]

"""Every knob of a training run in one dataclass, and the three presets.

The defaults are the paper's (and the authors' ``train.py``): 352 x 352
inputs, multi-scale 0.75/1/1.25 with one optimizer step per scale, SGD with
lr 2e-3, momentum 0.9 and weight decay 5e-4, 20 epochs, a step decay of 0.1
every 20 epochs applied one epoch early as the authors' ``scheduler.step()``
at the *start* of each epoch does (so their 20th epoch runs at 2e-4), and the
three stages: RGB pretraining, flow pretraining, finetuning.

The architecture is an :class:`~fsnet_core.model.config.FSNetConfig` held
whole in ``TrainConfig.model``, so the model a run trains is exactly
``config.model``. ``preset`` and ``replace`` also take that config's field
names (``num_bpm=2``, ``rcam="none"``, ...) as shorthand for changing it.

Presets (``TrainConfig.preset(name, **overrides)``):

* ``smoke``: minutes on a CPU, from scratch (no ImageNet weights offline),
  on the built-in synthetic set. A ResNet-18 FSNet (2 BPMs) at 96 x 96, one
  scale, batch 8, 16 epochs at lr 2e-2 (2e-3 for the last five), bfloat16
  autocast where the CPU supports it, the finetuning stage only ((frame,
  flow) pairs from the start), augmentation on (random scale and crop, colour
  jitter of the frame: the built-in training clips are few, and without it the
  model learns their colours rather than what makes the target stand out), one
  thread: on a small machine shared with other work, two threads that wait on
  each other run several times slower than one (``--threads 2`` on an idle
  machine). ``benchmarks/smoke_training.py`` also trains appearance-only and
  motion-only ablations with the same budget.
* ``colab``: one T4-class GPU: the paper's model, finetuned on DAVIS-2016 from
  the authors' checkpoint (``init_weights``) or from ImageNet, float16, 8 epochs.
* ``paper``: the authors' full schedule (three stages, 20 epochs each, batch 8).
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from ..model.config import FSNetConfig
from ..runtime import PRECISIONS

Stage = Literal["rgb", "flow", "finetune"]
STAGES: tuple[str, ...] = ("rgb", "flow", "finetune")
MODEL_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(FSNetConfig))
# Options that used to be fields and are not any more: what to use instead.
MOVED = {
    "max_steps": "max_steps limits one call, not the run: train(config, max_steps=N)",
}

STAGE_HELP = {
    "rgb": "stage 1: frames (and static saliency images) fed to both streams",
    "flow": "stage 2: flow images fed to both streams",
    "finetune": "stage 3: (frame, flow) pairs, from stage 1 + stage 2 weights",
}


@dataclass(frozen=True)
class TrainConfig:
    """A training run. Paths are strings so that the config round-trips through JSON.

    Data:
        data: dataset root in the DAVIS layout (see ``docs/design.md``); ``None``
            means the built-in synthetic set (generated on first use).
        train_split, val_split: ImageSets names.
        flow_source: ``FlowImages/<source>`` folder the flow images are read from; ``None``
            picks ``gt`` (synthetic), the authors' ``OF_FlowNet2``, or the only one there is.
        static_data: optional DUTS-style saliency set added to stage 1 (as the authors do).
        augment: random scale and crop, colour jitter of the frame (the authors use none);
            seeded per (seed, epoch, sample), so resuming stays exact.
        annotated_only: train and validate on the frames that have a mask only (sparse,
            FBMS-style annotation); otherwise a frame without one is an error.
        num_workers: DataLoader worker processes.
    Model:
        model: the architecture (:class:`FSNetConfig`: backbone, channels, num_bpm,
            rcam, bpm, ppm_bins); ``preset``/``replace`` take those names directly.
        imagenet: start the three ResNet streams from ImageNet weights (a path reads a file).
        init_weights: a checkpoint (this package's or the authors') to start every stage from.
        rgb_weights, flow_weights: stage 1 / stage 2 checkpoints merged for stage 3;
            default: ``<out>/rgb/last.pt`` and ``<out>/flow/last.pt`` when they exist.
    Schedule:
        stages: which of ``rgb``, ``flow``, ``finetune`` to run, in order.
        epochs, batch_size, size, scales: per stage; ``scales`` multiply ``size`` and are
            rounded to multiples of 32 (the authors' 0.75/1/1.25 give 256/352/448).
        lr, momentum, weight_decay: SGD.
        lr_step, lr_gamma, lr_decay_early: step decay; ``lr_decay_early`` reproduces the
            authors' scheduler call at the start of each epoch (decay one epoch early).
        accumulate: forward/backward passes (batch x scale) summed per optimizer step;
            1 is the authors' one step per scale.
    Engineering:
        precision: ``auto`` = float16 autocast with gradient scaling on CUDA, bfloat16
            autocast on CPUs with native bfloat16 (AVX512-BF16, AMX), else float32;
            ``bfloat16`` and ``float16`` force a dtype; ``float32`` turns autocast off.
        channels_last: NHWC memory layout for model and inputs.
        deterministic: see :func:`fsnet_core.train.setup.seed_everything`.
        seed: seeds weights, data order and every RNG.
        threads: torch CPU threads (``None`` leaves torch's default).
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        checkpoint_every: also save ``last.pt`` every N optimizer steps (0: epoch ends only).
        val_max_frames: validate on at most this many frames (evenly spaced); 0 = all.
        progress: show tqdm progress bars.
    """

    out: str = "runs/fsnet"
    data: str | None = None
    train_split: str = "train"
    val_split: str = "val"
    flow_source: str | None = None
    static_data: str | None = None
    augment: bool = False
    annotated_only: bool = False
    num_workers: int = 0

    model: FSNetConfig = field(default_factory=FSNetConfig)
    imagenet: bool | str = True
    init_weights: str | None = None
    rgb_weights: str | None = None
    flow_weights: str | None = None

    stages: tuple[str, ...] = STAGES
    epochs: int = 20
    batch_size: int = 8
    size: int = 352
    scales: tuple[float, ...] = (0.75, 1.0, 1.25)
    lr: float = 2e-3
    momentum: float = 0.9
    weight_decay: float = 5e-4
    lr_step: int = 20
    lr_gamma: float = 0.1
    lr_decay_early: bool = True
    accumulate: int = 1

    precision: str = "auto"
    channels_last: bool = True
    deterministic: bool = False
    seed: int = 0
    threads: int | None = None
    device: str = "auto"
    checkpoint_every: int = 0
    val_max_frames: int = 0
    progress: bool = True
    preset_name: str = field(default="paper", compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.model, FSNetConfig):
            raise TypeError(f"model must be an FSNetConfig, got {type(self.model).__name__}")
        object.__setattr__(self, "stages", tuple(self.stages))
        object.__setattr__(self, "scales", tuple(float(s) for s in self.scales))
        bad = [s for s in self.stages if s not in STAGES]
        if bad or not self.stages:
            raise ValueError(f"stages must be a non-empty subset of {STAGES}, got {self.stages}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        for name in ("epochs", "batch_size", "size", "accumulate", "lr_step"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.batch_size < 2:
            raise ValueError(
                "batch_size must be >= 2: the pyramid pooling's batch norm sees one value per "
                "channel per sample at its 1x1 bin and cannot train on a single sample"
            )
        if not self.scales or any(s <= 0 for s in self.scales):
            raise ValueError(f"scales must be positive, got {self.scales}")
        if self.size < 32:
            raise ValueError(f"size must be at least 32, got {self.size}")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")

    # ------------------------------------------------------------------ derived

    def train_sizes(self) -> tuple[int, ...]:
        """The multi-scale input sides: ``size * scale`` rounded to a multiple of 32 (min 32)."""
        return tuple(max(32, int(round(self.size * s / 32)) * 32) for s in self.scales)

    def lr_factor(self, epoch: int) -> float:
        """Learning-rate multiplier of 0-based ``epoch`` under the step schedule."""
        return self.lr_gamma ** ((epoch + int(self.lr_decay_early)) // self.lr_step)

    # ------------------------------------------------------------------ construction

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed (validated again); unknown names raise.

        :class:`FSNetConfig` field names change ``model`` (after ``model=`` when both
        are given): ``config.replace(num_bpm=2)`` is
        ``config.replace(model=config.model.replace(num_bpm=2))``.
        """
        model = {k: changes.pop(k) for k in MODEL_FIELDS if k in changes}
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            hints = [MOVED[k] for k in sorted(unknown) if k in MOVED]
            raise ValueError(
                f"unknown training options: {sorted(unknown)}" + "".join(f"; {h}" for h in hints)
            )
        if model:
            changes["model"] = changes.get("model", self.model).replace(**model)
        return replace(self, **changes)

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> TrainConfig:
        """The named preset (``smoke``, ``colab``, ``paper``) with some fields changed."""
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
        return PRESETS[name].replace(**overrides)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values; the architecture nested under ``"model"``."""
        d = asdict(self)
        d["stages"], d["scales"] = list(self.stages), list(self.scales)
        d["model"] = self.model.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Read :meth:`to_dict`'s output, or the flat dict of runs written before ``model``.

        Older files named the architecture's fields at the top level and held
        ``max_steps``; the first are read into ``model``, the second is dropped.
        Other unknown keys are ignored.
        """
        model = dict(d.get("model") or {})
        model.update({k: d[k] for k in MODEL_FIELDS if k in d})
        known = {f.name for f in fields(cls)} - {"model"}
        return cls(model=FSNetConfig.from_dict(model), **{k: v for k, v in d.items() if k in known})

    def save_json(self, path: str | Path) -> Path:
        from ..io import atomic_write

        with atomic_write(path) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), indent=1, sort_keys=True))
        return Path(path)


def _accepts(kind: Any, value: Any) -> bool:
    """Whether the JSON value ``value`` is of the annotated type ``kind`` (no conversion:
    a float is not an int, nor 1 a bool; an int is a float; a list is a tuple)."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        return any(_accepts(a, value) for a in args)
    if origin is Literal:
        return any(type(value) is type(a) and value == a for a in args)
    if origin is tuple:
        return isinstance(value, (list, tuple)) and all(_accepts(args[0], v) for v in value)
    if kind is type(None):
        return value is None
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind) if isinstance(kind, type) else True


def _type_name(kind: Any) -> str:
    """``kind`` in words, as JSON spells values: "an integer or null", "true or false"."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args)
    if origin is Literal:
        return "one of " + ", ".join(json.dumps(a) for a in args)
    if origin is tuple:
        return f"a list, each {_type_name(args[0])}"
    names = {type(None): "null", bool: "true or false", int: "an integer", float: "a number"}
    names[str] = "a string"
    return names.get(kind, getattr(kind, "__name__", str(kind)))


def field_type_problem(name: str, value: Any) -> str | None:
    """Why ``value``, read from JSON, cannot be the field ``name`` of :class:`TrainConfig`
    or of its model (e.g. ``'expected an integer'``); ``None`` when it can (or the name
    is not a field). For values from outside: the dataclasses themselves convert nothing."""
    hints = typing.get_type_hints(TrainConfig) | typing.get_type_hints(FSNetConfig)
    if name not in hints or _accepts(hints[name], value):
        return None
    return f"expected {_type_name(hints[name])}"


PRESETS: dict[str, TrainConfig] = {
    "paper": TrainConfig(preset_name="paper"),
    "colab": TrainConfig(
        preset_name="colab",
        out="runs/colab",
        stages=("finetune",),
        epochs=8,
        batch_size=4,
        accumulate=1,
        lr_step=6,
        num_workers=2,
        checkpoint_every=200,
    ),
    "smoke": TrainConfig(
        preset_name="smoke",
        out="runs/smoke",
        model=FSNetConfig(backbone="resnet18", channels=32, num_bpm=2),
        imagenet=False,
        stages=("finetune",),
        epochs=16,
        batch_size=8,
        size=96,
        scales=(1.0,),
        lr=2e-2,
        lr_step=12,
        augment=True,
        threads=1,
    ),
}


__all__ = [
    "PRESETS",
    "STAGES",
    "TrainConfig",
    "field_type_problem",
]

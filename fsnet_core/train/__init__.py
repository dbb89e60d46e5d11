"""Training FSNet: the authors' three stages, presets, exact resume, DDP, finetuning.

``from fsnet_core.train import TrainConfig, train``;
``train(TrainConfig.preset("smoke", out="runs/smoke"))`` returns a
:class:`~fsnet_core.train.results.TrainResult` (history DataFrame, checkpoint
paths, the trained model). Modules: ``config`` (the run's options, the model's
:class:`~fsnet_core.model.config.FSNetConfig` inside), ``setup`` (checks before
anything is written, the run-folder lock, seeding, starting weights), ``trainer``
(the loop), ``losses``, ``results``, ``stages`` (the authors' three stages and
merging them), ``validate`` (J and F during training), ``ablations`` (the
paper's variants), ``finetune`` and ``splits`` (finetuning with a before/after
score on a held-out test split); ``checkpoint``, ``data``, ``logs`` and
``distributed`` are the loop's parts.
"""

from .ablations import (
    FULL,
    VARIANTS,
    Variant,
    ablation_config,
)
from .config import (
    PRESETS,
    STAGES,
    TrainConfig,
    field_type_problem,
)
from .finetuning import (
    AUTHORS,
    BEFORE_JSON,
    TABLE_CSV,
    TABLE_JSON,
    FinetuneResult,
    Start,
    authors_checkpoint,
    before_after_table,
    check_sequences,
    ensure_flow,
    finetune,
    finetune_config,
    make_view,
    resolve_start,
    score,
    score_start,
)
from .losses import (
    forward_losses,
    resize_square,
)
from .results import (
    StageResult,
    TrainResult,
)
from .setup import (
    CONFIG_JSON,
    LOCK_FILE,
    RESUMABLE_CHANGES,
    RESUME_OR_START,
    Resume,
    check_resumable,
    check_run_folder,
    hold_run_folder,
    initial_model,
    record_run,
    seed_everything,
)
from .splits import (
    MIN_SEQUENCES,
    PARTS,
    SHARES,
    SPLITS_JSON,
    read_names,
    read_splits,
    seeded_split,
    split_sequences,
    write_splits,
)
from .stages import (
    dataset_inputs,
    merge_stage_checkpoints,
    merge_stage_weights,
    stage_inputs,
    stage_state,
)
from .trainer import (
    BatchHook,
    StageTrainer,
    TrainingDiverged,
    train,
)
from .validate import (
    Validation,
    validation_scores,
)

__all__ = [
    "AUTHORS",
    "BEFORE_JSON",
    "BatchHook",
    "CONFIG_JSON",
    "FULL",
    "FinetuneResult",
    "LOCK_FILE",
    "MIN_SEQUENCES",
    "PARTS",
    "PRESETS",
    "RESUMABLE_CHANGES",
    "RESUME_OR_START",
    "Resume",
    "SHARES",
    "SPLITS_JSON",
    "STAGES",
    "StageResult",
    "StageTrainer",
    "Start",
    "TABLE_CSV",
    "TABLE_JSON",
    "TrainConfig",
    "TrainResult",
    "TrainingDiverged",
    "VARIANTS",
    "Validation",
    "Variant",
    "ablation_config",
    "authors_checkpoint",
    "before_after_table",
    "check_resumable",
    "check_run_folder",
    "check_sequences",
    "dataset_inputs",
    "ensure_flow",
    "field_type_problem",
    "finetune",
    "finetune_config",
    "forward_losses",
    "hold_run_folder",
    "initial_model",
    "make_view",
    "merge_stage_checkpoints",
    "merge_stage_weights",
    "read_names",
    "read_splits",
    "record_run",
    "resize_square",
    "resolve_start",
    "score",
    "score_start",
    "seed_everything",
    "seeded_split",
    "split_sequences",
    "stage_inputs",
    "stage_state",
    "train",
    "validation_scores",
    "write_splits",
]

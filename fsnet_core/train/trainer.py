"""The training loop: ``train(config)`` runs the configured stages in order.

One batch, as in the authors' ``train.py``: for every scale (0.75, 1, 1.25 of
the input size, rounded to multiples of 32) the batch is resized (bilinear,
masks too), run forward, the two BCE-with-logits losses (appearance and
motion outputs) are summed and back-propagated, and the optimizer steps --
one step per scale. ``accumulate`` sums that many passes per step instead.
The learning rate follows a step schedule per epoch. At the end of every
epoch the model is validated (J, F), ``last.pt`` is written and ``best.pt``
when J improved.

A run folder holds one sub-folder per stage::

    RUN/config.json
    RUN/rgb/{last.pt, best.pt, history.csv, tensorboard/}
    RUN/flow/...
    RUN/finetune/...

The checks and set-up before the first step are in :mod:`.setup`, the loss
in :mod:`.losses`, what a run returns in :mod:`.results`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from ..model import FSNet
from ..runtime import autocast_dtype, resolve_device
from .checkpoint import (
    BEST,
    LAST,
    EpochTotals,
    Progress,
    ResumableSampler,
    link_or_copy,
    read_checkpoint,
    restore_checkpoint,
    save_checkpoint,
)
from .config import TrainConfig
from .data import SeededAugmentation, data_root, stage_datasets, train_loader, val_loader
from .distributed import (
    DistInfo,
    all_reduce_mean,
    barrier,
    broadcast_buffers,
    broadcast_object,
    dist_info,
    init_distributed,
    shutdown,
    wrap_model,
)
from .logs import HISTORY_CSV, RunLogger, history_frame, write_history
from .losses import forward_losses, resize_square
from .results import StageResult, TrainResult
from .setup import (
    RESUME_OR_START,
    Resume,
    check_resumable,
    check_run_folder,
    hold_run_folder,
    initial_model,
    record_run,
    seed_everything,
)
from .stages import stage_inputs
from .validate import validation_scores

BatchHook = Callable[[int, dict[str, Any]], dict[str, Any]]


class TrainingDiverged(RuntimeError):
    """The loss (or a weight) became NaN or infinite; the last good checkpoint is kept."""


class StageTrainer:
    """Everything one stage needs, built once; :meth:`run` trains it to the end (or max_steps).

    ``max_steps`` counts the optimizer steps of this call, not of the stage.
    """

    def __init__(
        self,
        config: TrainConfig,
        stage: str,
        root: Path,
        info: DistInfo,
        device: torch.device,
        resume: Resume,
        batch_hook: BatchHook | None = None,
        max_steps: int | None = None,
    ) -> None:
        self.config, self.stage, self.info, self.device = config, stage, info, device
        self.out = Path(config.out)
        self.folder = self.out / stage
        self.batch_hook = batch_hook
        self.dtype = autocast_dtype(config.precision, device)
        self.layout = torch.channels_last if config.channels_last else torch.contiguous_format
        self.sizes = config.train_sizes()
        last = self.folder / LAST
        resuming = bool(resume) and last.is_file()
        torch.manual_seed(config.seed)  # the same initial weights on every rank
        self._build_model(resuming)
        self._build_optimizer()
        self.progress = self._restore(last) if resuming else Progress(stage)
        self.model = wrap_model(self.net, info, device)
        self._build_data(root)
        self.logger = RunLogger(self.folder, enabled=info.is_main)
        self.pending = 0  # passes back-propagated since the last optimizer step
        self.saved_step = self.first_step = self.progress.step
        self.stop_step = None if max_steps is None else self.first_step + max_steps

    def _build_model(self, resuming: bool) -> None:
        """``self.net`` on the device: the stage's starting weights (a resumed run's come later)."""
        if resuming:
            self.net = FSNet(self.config.model)
            self.init_note = f"resumed from {self.folder / LAST}"
        else:
            self.net, self.init_note = initial_model(self.config, self.stage, self.out)
        self.net.to(device=self.device, memory_format=self.layout)

    def _build_optimizer(self) -> None:
        """SGD, the per-epoch step schedule, and a gradient scaler for float16 on CUDA."""
        cfg = self.config
        self.optimizer = torch.optim.SGD(
            self.net.parameters(),
            lr=cfg.lr,
            momentum=cfg.momentum,
            weight_decay=cfg.weight_decay,
            foreach=True,  # one fused update over all tensors: twice as fast on CPUs too
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, cfg.lr_factor)
        use_scaler = self.dtype == torch.float16 and self.device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda") if use_scaler else None

    def _restore(self, last: Path) -> Progress:
        """Weights, optimizer, schedule, scaler and RNGs from ``last``; returns where it stood."""
        payload = read_checkpoint(last)
        check_resumable(payload, self.config, last)
        return restore_checkpoint(
            payload,
            self.net,
            optimizer=self.optimizer,
            scheduler=self.scheduler,
            scaler=self.scaler,
        )

    def _build_data(self, root: Path) -> None:
        """The stage's training loader (this rank's shard, resumable) and validation loader."""
        cfg, info = self.config, self.info
        self.train_set, val_set = stage_datasets(cfg, self.stage, root)
        self.sampler = ResumableSampler(
            len(self.train_set), seed=cfg.seed, rank=info.rank, world_size=info.world_size
        )
        cuda = self.device.type == "cuda"
        self.train_batches = train_loader(self.train_set, cfg, self.sampler, cuda)
        self.val_batches = val_loader(val_set, cfg)

    # ------------------------------------------------------------------ checkpoints

    def _check_weights(self) -> None:
        bad = [k for k, v in self.net.state_dict().items() if not torch.isfinite(v).all()]
        if bad:
            raise self._diverged(f"{len(bad)} weights are NaN or infinite (e.g. {bad[0]})")

    def _save(self, name: str = LAST) -> None:
        self._check_weights()
        if self.info.is_main:
            save_checkpoint(
                self.folder / name,
                self.net,
                optimizer=self.optimizer,
                scheduler=self.scheduler,
                scaler=self.scaler,
                progress=self.progress,
                config=self.config.to_dict(),
            )
        self.saved_step = self.progress.step
        barrier(self.info)

    def _diverged(self, what: str) -> TrainingDiverged:
        p = self.progress
        last = self.folder / LAST
        kept = (
            f"the last good checkpoint is {last} (written at step {self.saved_step})"
            if last.is_file()
            else "no checkpoint was written yet"
        )
        return TrainingDiverged(
            f"training diverged in stage {self.stage!r}, epoch {p.epoch + 1}, batch "
            f"{p.batch + 1} (step {p.step}): {what}. Stopped; {kept}. Try a lower learning "
            "rate (--lr), float32 precision, or check the data."
        )

    # ------------------------------------------------------------------ one pass, one step

    def _pass(self, a: torch.Tensor, m: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Forward and backward at one scale; returns the two losses (averaged over ranks)."""
        sync = (self.pending + 1) % self.config.accumulate == 0
        no_sync = getattr(self.model, "no_sync", None)
        with contextlib.nullcontext() if sync or no_sync is None else no_sync():
            losses = forward_losses(self.model, a, m, mask, self.device, self.dtype)
            values = all_reduce_mean(losses.detach(), self.info)
            if not torch.isfinite(values).all():
                raise self._diverged(f"the loss became {values.sum().item()}")
            loss = losses.sum() / self.config.accumulate
            (self.scaler.scale(loss) if self.scaler else loss).backward()
        self.pending += 1
        if self.pending == self.config.accumulate:
            self._step()
        return values

    def _step(self) -> None:
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.pending = 0
        self.progress.step += 1

    # ------------------------------------------------------------------ epochs

    def _train_epoch(self, epoch: int) -> bool:
        """Run the rest of ``epoch``; False when ``max_steps`` stopped it early."""
        cfg, p = self.config, self.progress
        self.sampler.set_epoch(epoch)
        if isinstance(self.train_set, SeededAugmentation):
            self.train_set.set_epoch(epoch)
        total = len(self.train_batches)
        if p.batch:
            self.sampler.start_at(p.batch * cfg.batch_size)
        sums = p.epoch_sums
        self.model.train()
        bar = tqdm(
            total=total,
            initial=p.batch,
            desc=f"{self.stage} epoch {epoch + 1}/{cfg.epochs}",
            unit="batch",
            disable=not (cfg.progress and self.info.is_main),
            dynamic_ncols=True,
            leave=False,  # one bar at a time; each epoch ends with its own summary line
        )
        started = time.perf_counter()
        with bar:
            for batch in self.train_batches:
                if self.batch_hook is not None:
                    batch = self.batch_hook(p.step, batch)
                inputs = (*stage_inputs(self.stage, batch), batch["mask"])
                for side in self.sizes:
                    a, m, mask = (
                        resize_square(x.to(self.device, non_blocking=True), side).contiguous(
                            memory_format=self.layout
                        )
                        for x in inputs
                    )
                    la, lm = self._pass(a, m, mask).tolist()
                    sums.add(loss_appearance=la, loss_motion=lm, passes=1)
                p.batch += 1
                sums.add(samples=len(batch["mask"]) * self.info.world_size)
                loss = sums.per_pass("loss_appearance", "loss_motion")
                bar.set_postfix(
                    loss=f"{loss:.4f}", lr=f"{self.optimizer.param_groups[0]['lr']:.2g}"
                )
                bar.update(1)
                self.logger.step(
                    p.step, {"loss": la + lm, "loss_appearance": la, "loss_motion": lm}
                )
                if self.pending:
                    continue
                sums.add(seconds=time.perf_counter() - started)
                started = time.perf_counter()
                if self.stop_step is not None and p.step >= self.stop_step:
                    self._save()
                    return False
                if cfg.checkpoint_every and p.step - self.saved_step >= cfg.checkpoint_every:
                    self._save()
        if self.pending:
            self._step()
        sums.add(seconds=time.perf_counter() - started)
        return True

    def _end_epoch(self, epoch: int) -> None:
        p, sums = self.progress, self.progress.epoch_sums
        lr = self.optimizer.param_groups[0]["lr"]
        broadcast_buffers(self.net, self.info)
        self.scheduler.step()
        result = None
        if self.info.is_main:
            result = validation_scores(
                self.net,
                self.val_batches,
                self.stage,
                self.device,
                self.dtype,
                self.config.channels_last,
            )
        j, f = broadcast_object((result.J, result.F) if result else None, self.info)  # type: ignore[misc]
        seconds = sums.seconds
        previous = p.history[-1]["elapsed_s"] if p.history else 0.0
        row = {
            "stage": self.stage,
            "epoch": epoch + 1,
            "lr": lr,
            "loss": sums.per_pass("loss_appearance", "loss_motion"),
            "loss_appearance": sums.per_pass("loss_appearance"),
            "loss_motion": sums.per_pass("loss_motion"),
            "val_J": j,
            "val_F": f,
            "samples_per_s": sums.samples / seconds if seconds else float("nan"),
            "epoch_s": seconds,
            "elapsed_s": previous + seconds,
        }
        p.history.append(row)
        p.epoch, p.batch, p.epoch_sums = epoch + 1, 0, EpochTotals()
        improved = j > p.best_j
        if improved:
            p.best_j, p.best_epoch = j, epoch + 1
        p.finished = p.epoch >= self.config.epochs
        self._save(LAST)
        if improved and self.info.is_main:
            link_or_copy(self.folder / LAST, self.folder / BEST)
        if self.info.is_main:
            write_history(self.folder / HISTORY_CSV, p.history)
            self.logger.epoch(row)
            tqdm.write(
                f"[{self.stage}] epoch {epoch + 1}/{self.config.epochs}  loss {row['loss']:.4f}  "
                f"val J {j:.3f}  F {f:.3f}  ({seconds:.0f} s)" + ("  *best*" if improved else "")
            )

    def run(self) -> StageResult:
        cfg, p = self.config, self.progress
        if self.info.is_main and cfg.progress:
            tqdm.write(f"[{self.stage}] {self.init_note}; sizes {self.sizes}, device {self.device}")
        try:
            completed = True
            for epoch in range(p.epoch, cfg.epochs):
                completed = self._train_epoch(epoch)
                if not completed:
                    break
                self._end_epoch(epoch)
            if completed and not p.finished:  # epochs were extended past a finished run
                p.finished = True
                self._save()
        finally:
            self.logger.close()
        self.net.eval()
        best = self.folder / BEST
        return StageResult(
            stage=self.stage,
            folder=self.folder,
            history=history_frame(p.history),
            last_checkpoint=self.folder / LAST,
            best_checkpoint=best if best.is_file() else None,
            best_j=p.best_j,
            steps=p.step,
            finished=p.finished,
        )


def train(
    config: TrainConfig,
    *,
    resume: Resume = False,
    stages: Sequence[str] | None = None,
    max_steps: int | None = None,
    batch_hook: BatchHook | None = None,
) -> TrainResult:
    """Train the configured stages in order; return their histories, checkpoints and the model.

    ``resume=True`` continues each stage from its ``last.pt`` (a finished
    stage is not repeated): the same next batch, learning rate, optimizer
    state and RNG state, so the final weights equal an uninterrupted run's.
    It refuses a folder that holds no run (a mistyped path would otherwise
    start from scratch); ``resume="or-start"`` starts one there instead.
    ``max_steps`` stops (and saves) after that many optimizer steps of this
    call, over all its stages: a limit of one session, not part of the run.
    Under ``torchrun`` every process calls this; rank 0 writes the files. A folder that
    another run (of any process on this host or another) is using is refused.
    ``batch_hook(step, batch) -> batch`` sees every batch before it is used
    (for tests and teaching; it must not consume random numbers).
    """
    if resume not in (False, True, RESUME_OR_START):
        raise ValueError(f"resume must be False, True or {RESUME_OR_START!r}, got {resume!r}")
    if max_steps is not None and max_steps < 1:
        raise ValueError(f"max_steps must be >= 1 or None, got {max_steps}")
    stages = tuple(stages or config.stages)
    config = config.replace(stages=stages)
    info = dist_info()
    # One run per folder: rank 0 holds the lock from the first check to the last write.
    with hold_run_folder(config) if info.is_main else contextlib.nullcontext():
        check_run_folder(config, stages, resume)
        return _train_stages(config, stages, info, resume, max_steps, batch_hook)


def _train_stages(
    config: TrainConfig,
    stages: tuple[str, ...],
    info: DistInfo,
    resume: Resume,
    max_steps: int | None,
    batch_hook: BatchHook | None,
) -> TrainResult:
    """:func:`train` once the folder is checked (and held): set up, then run each stage."""
    device = resolve_device(config.device, info.device_index)
    created = init_distributed(info, device)
    if config.threads:
        torch.set_num_threads(config.threads)
    seed_everything(config.seed, config.deterministic)
    result = TrainResult(out=Path(config.out), config=config)
    budget = max_steps
    try:
        root = data_root(config) if info.is_main else None
        root = Path(broadcast_object(root, info))  # type: ignore[arg-type]
        for stage in stages:
            if budget == 0:
                break
            trainer = StageTrainer(config, stage, root, info, device, resume, batch_hook, budget)
            if info.is_main and stage == stages[0]:
                record_run(config)  # every check passed: now the run folder may change
            result.stages[stage] = trainer.run()
            result.model = trainer.net  # type: ignore[assignment]
            if budget is not None:
                budget -= trainer.progress.step - trainer.first_step
            if not result.stages[stage].finished:
                break
    finally:
        if created:
            shutdown(info)
    return result


__all__ = ["BatchHook", "StageTrainer", "TrainingDiverged", "train"]

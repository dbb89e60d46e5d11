"""Multi-GPU training with DistributedDataParallel under ``torchrun`` (gloo on CPU).

``torchrun --nproc_per_node N -m fsnet_core train ...`` starts N processes
with ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` set; :func:`init_distributed`
reads them, joins the process group (NCCL on GPUs, gloo on CPUs) and pins
each process to its GPU (:func:`fsnet_core.runtime.resolve_device` of its
``local_rank``). Without those variables everything here is a no-op and
training runs in one process. Each rank reads its own shard of every epoch
(see ``ResumableSampler``); gradients are averaged by DDP, and rank 0 alone
validates, logs and writes checkpoints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def device_index(self) -> int | None:
        """The GPU a bare ``cuda`` means for this process: its local rank when distributed."""
        return self.local_rank if self.enabled else None


def dist_info() -> DistInfo:
    """This process's place as torchrun describes it in the environment (one process if unset)."""
    return DistInfo(
        rank=int(os.environ.get("RANK", "0")),
        world_size=int(os.environ.get("WORLD_SIZE", "1")),
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
    )


def init_distributed(info: DistInfo, device: torch.device) -> bool:
    """Pin this process to its GPU and join the process group (NCCL on GPUs, gloo on CPUs).

    Returns True when this call created the group.
    """
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if not info.enabled or dist.is_initialized():
        return False
    dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return True


def wrap_model(model: nn.Module, info: DistInfo, device: torch.device) -> nn.Module:
    """DDP around ``model`` when distributed; the model itself otherwise."""
    if not info.enabled:
        return model
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def all_reduce_mean(values: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """The mean of ``values`` over ranks (a copy; unchanged when not distributed)."""
    if not info.enabled:
        return values
    out = values.detach().clone()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out / info.world_size


def broadcast_object(obj: object, info: DistInfo) -> object:
    """Rank 0's ``obj`` on every rank."""
    if not info.enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def broadcast_buffers(model: nn.Module, info: DistInfo) -> None:
    """Give every rank rank 0's buffers (BN running statistics), so all hold what is saved.

    DDP broadcasts them before each forward, but each rank's last forward then
    updates them with its own batch; this settles them at the end of an epoch.
    """
    if info.enabled:
        for buffer in model.buffers():
            dist.broadcast(buffer, src=0)


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def shutdown(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()

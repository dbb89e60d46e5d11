"""DistributedDataParallel under torchrun: two CPU processes (gloo) end with identical weights."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import torch

RANK_SCRIPT = textwrap.dedent(
    """
    import os, sys
    import torch
    from fsnet_core.train.config import TrainConfig
    from fsnet_core.train import train

    data, out = sys.argv[1], sys.argv[2]
    cfg = TrainConfig.preset(
        "smoke", data=data, out=out, size=64, scales=(0.75, 1.0), epochs=1, batch_size=2,
        backbone="resnet18", channels=8, num_bpm=1, precision="float32", threads=1,
        progress=False, val_max_frames=2,
    )
    result = train(cfg)
    saved = {"steps": result.final.steps, "state": result.model.state_dict()}
    torch.save(saved, os.path.join(out, f"rank{os.environ['RANK']}.pt"))
    """
)


@pytest.mark.slow
def test_two_gloo_processes_end_with_identical_weights(tmp_path):
    from fsnet_core.data.synthetic import make_synthetic_dataset

    data = make_synthetic_dataset(tmp_path / "smoke", smoke=True)
    script = tmp_path / "rank.py"
    script.write_text(RANK_SCRIPT)
    out = tmp_path / "run"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    done = subprocess.run(
        cmd + [str(script), str(data), str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    rank0, rank1 = (torch.load(out / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    # 8 training pairs, 2 ranks x batch 2: 2 batches per rank, 2 scales -> 4 steps on each
    assert rank0["steps"] == rank1["steps"] == 4
    rank0, rank1 = rank0["state"], rank1["state"]
    assert rank0.keys() == rank1.keys()
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0)
    saved = torch.load(out / "finetune" / "last.pt", weights_only=True)["model"]
    assert all(torch.equal(saved[k], rank0[k]) for k in rank0)
    # the ranks really trained on different halves: weights moved from the seeded start
    torch.manual_seed(0)
    from fsnet_core.model import FSNet

    start = FSNet(backbone="resnet18", channels=8, num_bpm=1).state_dict()
    assert not torch.equal(
        start["decoder_fused.head.0.conv.weight"], rank0["decoder_fused.head.0.conv.weight"]
    )

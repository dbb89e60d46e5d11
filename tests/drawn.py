"""Drawn scenes as model inputs, and a small FSNet trained on them (for the inference tests)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fsnet_core import FSNet
from fsnet_core.course.demo import drawn_pair
from fsnet_core.flow import flow_to_color
from fsnet_core.model.inputs import to_model_input


def drawn_batch(size: int, seeds: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Model-ready frames, flow images and true masks of drawn scenes, one per seed."""
    frames, flows, masks = [], [], []
    for seed in seeds:
        frame, flow, mask = drawn_pair(size, seed=seed, random_position=True)
        frames.append(to_model_input(frame))
        flows.append(to_model_input(flow_to_color(flow)))
        masks.append(torch.from_numpy(mask)[None, None].float())
    return torch.cat(frames), torch.cat(flows), torch.cat(masks)


def train_tiny(steps: int = 25, size: int = 64) -> FSNet:
    """An FSNet (ResNet-18, 16 channels) trained for ``steps`` Adam steps on drawn scenes.

    On one thread: two on a busy 2-core machine are many times slower.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        model = FSNet(backbone="resnet18", channels=16)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        for step in range(steps):
            image, flow, mask = drawn_batch(size, [4 * step + i for i in range(4)])
            out = model(image, flow)
            loss = F.binary_cross_entropy_with_logits(
                out.appearance, mask
            ) + F.binary_cross_entropy_with_logits(out.motion, mask)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    finally:
        torch.set_num_threads(threads)
    return model.eval()

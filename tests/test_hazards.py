"""region_hit_rates counts what share of each synthetic region a model calls target."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from fsnet_core.analysis.hazards import region_hit_rates
from fsnet_core.data.samples import Sample
from fsnet_core.data.synthetic import DISTRACTOR, MOVING_OBJECT, TARGET
from fsnet_core.model.architecture import FSNetOutput


class SignOfFirstChannel(nn.Module):
    """Calls target wherever the appearance input's first channel is positive."""

    def forward(self, appearance: torch.Tensor, motion: torch.Tensor) -> FSNetOutput:
        logits = appearance[:, :1]
        return FSNetOutput(logits, motion[:, :1])


def _sample(image_sign: np.ndarray, flow_sign: np.ndarray, regions: np.ndarray) -> Sample:
    def tensor(sign: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.repeat(sign[None, None].astype(np.float32), 3, axis=1))

    return Sample("seq", "00000", tensor(image_sign), tensor(flow_sign), regions == TARGET, regions)


@pytest.fixture
def samples() -> list[Sample]:
    regions = np.zeros((4, 4), np.uint8)
    regions[0, :] = TARGET  # 4 px
    regions[1, :2] = DISTRACTOR  # 2 px
    regions[2, :] = MOVING_OBJECT  # 4 px
    image = -np.ones((4, 4))
    image[0, :3] = 1  # 3 of 4 target pixels
    image[1, 0] = 1  # 1 of 2 look-alike pixels
    flow = -np.ones((4, 4))
    flow[2, :] = 1  # the whole mover
    return [_sample(image, flow, regions), _sample(-np.ones((4, 4)), flow, regions)]


def test_shares_are_counted_over_all_samples(samples):
    table = region_hit_rates(SignOfFirstChannel(), samples, batch_size=1).set_index("label")
    # the second sample's frame is all negative: nothing called target there
    assert table.loc[TARGET, "pixels"] == 8 and table.loc[TARGET, "called_target"] == 3 / 8
    assert table.loc[DISTRACTOR, "called_target"] == 1 / 4
    assert table.loc[MOVING_OBJECT, "called_target"] == 0.0
    assert table.loc[TARGET, "region"] == "target"


def test_the_stage_decides_what_the_streams_see(samples):
    # motion-only inputs: the flow image reaches the appearance stream too
    table = region_hit_rates(SignOfFirstChannel(), samples, stage="flow").set_index("label")
    assert table.loc[MOVING_OBJECT, "called_target"] == 1.0
    assert table.loc[TARGET, "called_target"] == 0.0


def test_regions_that_never_occur_are_left_out_and_bad_input_is_refused(samples):
    table = region_hit_rates(SignOfFirstChannel(), samples)
    assert set(table.label) == {TARGET, DISTRACTOR, MOVING_OBJECT}  # no ripple in these
    with pytest.raises(ValueError, match="no samples"):
        region_hit_rates(SignOfFirstChannel(), [])
    bare = Sample("seq", "00000", samples[0].image, samples[0].flow, samples[0].mask, None)
    with pytest.raises(ValueError, match="region labels"):
        region_hit_rates(SignOfFirstChannel(), [bare])

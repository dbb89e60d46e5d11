"""Attribution figures: region outlines, per-method rows with their sums, the per-region summary."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from fsnet_core.analysis.attribution import CueAttribution  # noqa: E402
from fsnet_core.course.viz import attribution as VA  # noqa: E402
from fsnet_core.data.samples import Sample  # noqa: E402
from fsnet_core.data.synthetic import DISTRACTOR, MOVING_BACKGROUND, TARGET  # noqa: E402

SIZE = 24


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def sample() -> Sample:
    regions = np.zeros((SIZE, SIZE), np.uint8)
    regions[2:10, 2:10] = TARGET
    regions[14:22, 2:10] = DISTRACTOR
    return Sample("seq", "00003", torch.zeros(1, 3, SIZE, SIZE), torch.zeros(1, 3, SIZE, SIZE),
                  regions == TARGET, regions)  # fmt: skip


def fake(method: str, image_value: float, flow_value: float) -> CueAttribution:
    image = torch.full((2, 3, SIZE, SIZE), image_value)
    flow = torch.full((2, 3, SIZE, SIZE), flow_value)
    return CueAttribution(method, image, flow, torch.zeros(2))


def test_outlines_follow_the_regions():
    s = sample()
    picture = VA.outline_regions(s)
    assert tuple(picture[2, 5]) == VA.REGION_COLOURS[TARGET]  # on the target's border
    assert tuple(picture[14, 5]) == VA.REGION_COLOURS[DISTRACTOR]
    assert np.array_equal(picture[5, 5], s.frame_rgb[5, 5])  # inside: untouched
    assert not np.any(np.all(picture == VA.REGION_COLOURS[MOVING_BACKGROUND], axis=-1))


def test_one_row_per_method_with_each_inputs_sum():
    fig = VA.plot_cue_attribution(sample(), {"A": fake("a", 0.01, -0.02), "B": fake("b", 1, 0)})
    images = [ax for ax in fig.axes if ax.images]
    assert len(images) == 8
    titles = [ax.get_title() for ax in images]
    total = 3 * SIZE * SIZE
    assert f"A\nto the frame (appearance):\nsum {0.01 * total:+.3g}" in titles
    assert f"A\nto the flow (motion):\nsum {-0.02 * total:+.3g}" in titles
    with pytest.raises(ValueError, match="no attributions"):
        VA.plot_cue_attribution(sample(), {})


def table() -> pd.DataFrame:
    rows = []
    for i, (label, image_total, flow_total) in enumerate(
        [(TARGET, 1, 4), (TARGET, 3, 6), (DISTRACTOR, 0.5, -1), (MOVING_BACKGROUND, -1, 2)]
    ):
        rows.append(
            dict(sequence=f"s{i}", frame="00000", label=label, region=f"name {label}",
                 image_total=image_total, flow_total=flow_total,
                 image_share=abs(image_total) / (abs(image_total) + abs(flow_total)))
        )  # fmt: skip
    return pd.DataFrame(rows)


def test_summary_bars_are_the_means_per_region_and_cue():
    long = VA.cue_long_table(table())
    assert len(long) == 8 and set(long.cue) == set(VA.CUE_COLOURS)
    fig = VA.plot_cue_summary(table())
    left, right = fig.axes[:2]
    heights = sorted(round(p.get_height(), 6) for p in left.patches if p.get_height() != 0)
    assert heights == sorted([2.0, 5.0, 0.5, -1.0, -1.0, 2.0])
    labels = [t.get_text() for t in left.get_xticklabels()]
    assert labels == ["target", "look-alike", "ripple"]
    shares = sorted(round(p.get_height(), 6) for p in right.patches)
    assert shares == sorted(round(x, 6) for x in [(0.2 + 1 / 3) / 2, 1 / 3, 1 / 3])
    with pytest.raises(ValueError, match="no attributions"):
        VA.plot_cue_summary(table().iloc[:0])

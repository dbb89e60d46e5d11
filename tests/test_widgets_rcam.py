"""The RCAM explorer as a Python object: set a control, read what the picture and text show."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from fsnet_core.course.widgets.rcam import SCALE_HEIGHT, colourise, rcam_explorer  # noqa: E402
from fsnet_core.data.samples import Sample  # noqa: E402

SIZE = 128  # stages 0-2 have at least 16 x 16 cells (64, 32, 16), stage 3 has 8 x 8


pytestmark = pytest.mark.usefixtures("single_thread")


def make_samples(n: int = 3) -> list[Sample]:
    g = torch.Generator().manual_seed(2)
    out = []
    for i in range(n):
        mask = np.zeros((SIZE, SIZE), bool)
        mask[8 + i : 20 + i, 10:22] = True
        out.append(
            Sample(
                f"seq{i}",
                "00000",
                torch.randn(1, 3, SIZE, SIZE, generator=g),
                torch.randn(1, 3, SIZE, SIZE, generator=g),
                mask,
            )
        )
    return out


@pytest.fixture(scope="module")
def explorer(tiny_fsnet):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield rcam_explorer(tiny_fsnet(), make_samples(), size=48)
    torch.set_num_threads(before)


def test_first_view(explorer):
    # frame + prediction, flow and six maps of 48 px, titled, 4 px gaps; the colour scale under
    assert explorer.picture_array.shape == (48 + 18 + SCALE_HEIGHT, 8 * 48 + 7 * 4, 3)
    assert explorer.lines[0].startswith("seq0/00000: stage 0 (64 channels at 64x64), channel 0")
    assert explorer.image.value[:4] == b"\x89PNG"
    assert "motion gates appearance (App. &lt;= Mo.)" in explorer.caption.value


def test_the_colour_scale_runs_under_the_maps_from_low_to_high(explorer):
    import matplotlib

    strip = explorer.picture_array[-SCALE_HEIGHT:]
    ramp = strip[8].astype(int)  # a row through the ramp
    viridis = matplotlib.colormaps["viridis"]
    assert np.abs(ramp[0] - np.array(viridis(0.0)[:3]) * 255).max() <= 2
    assert np.abs(ramp[-1] - np.array(viridis(1.0)[:3]) * 255).max() <= 2
    assert (strip[-10:, :20] < 128).any()  # the low end's value is written under it
    assert "colour scale (under the maps) of the six maps" in explorer.lines[-1]


def test_channel_control_shows_that_channels_gates(explorer):
    with explorer.paused():
        explorer.frame.value = 1
        explorer.stage.value = 2
    before = explorer.picture_array.copy()
    explorer.channel.value = 17
    trace = explorer.trace(1)
    gate_x = float(trace.stages[2].motion_to_appearance[0, 17])
    gate_y = float(trace.stages[2].appearance_to_motion[0, 17])
    assert explorer.lines[0].startswith("seq1/00000: stage 2 (128 channels at 16x16), channel 17")
    assert f"motion gates appearance (App. <= Mo.): {gate_x:.3f}" in explorer.lines[1]
    assert f"appearance gates motion (App. => Mo.): {gate_y:.3f}" in explorer.lines[2]
    assert not np.array_equal(before, explorer.picture_array)
    # the frame panel did not change, the feature panels did
    assert np.array_equal(before[18:, :48], explorer.picture_array[18:, :48])


def test_stage_slider_stops_at_the_deepest_readable_stage(explorer):
    assert explorer.stage.max == 2  # stage 3 would be 8 x 8 cells


def test_stage_control_moves_the_channel_range(explorer):
    explorer.stage.value = 2
    assert explorer.channel.max == 127
    explorer.channel.value = 120
    explorer.stage.value = 1  # 64 channels: the channel is clamped, the picture redrawn once
    assert explorer.channel.max == 63 and explorer.channel.value == 63
    assert "stage 1 (64 channels" in explorer.lines[0] and "channel 63" in explorer.lines[0]


def test_frame_control_changes_the_prediction_panel(explorer):
    explorer.frame.value = 0
    first = explorer.picture_array[18:, :48].copy()
    explorer.frame.value = 2
    assert not np.array_equal(first, explorer.picture_array[18:, :48])
    assert explorer.lines[0].startswith("seq2/00000")


def test_static_figure_and_simplex_model(tiny_fsnet):
    view = rcam_explorer(tiny_fsnet(rcam="appearance_to_motion"), make_samples(1), size=32)
    assert view.frame.max == 0
    assert "off in this model" in view.lines[1]
    fig = view.figure("RCAM")
    assert "off in this model" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="at least one sample"):
        rcam_explorer(tiny_fsnet(), [])


def test_colourise_shares_one_scale():
    low, high = np.zeros((2, 2)), np.ones((2, 2))
    dark, bright = colourise([low, high], 4)
    assert dark.shape == (4, 4, 3) and dark.sum() < bright.sum()
    # zero is always on the scale, so a map's colour depends on the others only through them
    assert np.array_equal(colourise([high], 4)[0], bright)
    negative, zero, positive = colourise([-high, low, high], 4)
    assert np.array_equal(negative, dark) and np.array_equal(positive, bright)
    assert not np.array_equal(zero, dark) and not np.array_equal(zero, bright)

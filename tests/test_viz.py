"""Figure helpers: where figures go, what overlays and legends contain."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

from fsnet_core.course import viz
from fsnet_core.flow import flow_to_color


@pytest.fixture
def frame_and_mask() -> tuple[np.ndarray, np.ndarray]:
    frame = np.full((40, 60, 3), 100, np.uint8)
    mask = np.zeros((40, 60), bool)
    mask[10:30, 20:40] = True
    return frame, mask


def test_figures_dir_follows_the_environment(tmp_path, monkeypatch):
    target = tmp_path / "figs" / "nested"
    monkeypatch.setenv(viz.FIGURES_ENV, str(target))
    assert viz.figures_dir() == target
    assert target.is_dir()


def test_figures_dir_defaults_to_the_repo_folder(monkeypatch):
    monkeypatch.delenv(viz.FIGURES_ENV, raising=False)
    folder = viz.figures_dir()
    assert folder == Path(__file__).resolve().parents[1] / "figures"  # not ./figures


def test_save_figure_writes_a_png_by_name_and_leaves_no_temporary(tmp_path, monkeypatch):
    monkeypatch.setenv(viz.FIGURES_ENV, str(tmp_path))
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = viz.save_figure(fig, "99_test_line")
    plt.close(fig)
    assert path == tmp_path / "99_test_line.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["99_test_line.png"]


@pytest.mark.parametrize("bad", ["", "sub/dir.png", "../up.png"])
def test_save_figure_rejects_paths(bad, tmp_path, monkeypatch):
    monkeypatch.setenv(viz.FIGURES_ENV, str(tmp_path))
    fig = plt.figure()
    with pytest.raises(ValueError, match="plain file name"):
        viz.save_figure(fig, bad)
    plt.close(fig)


def test_overlay_tints_only_the_mask_in_proportion(frame_and_mask):
    frame, mask = frame_and_mask
    full = viz.overlay(frame, mask, color=(200, 0, 0), alpha=0.5)
    assert full.dtype == np.uint8 and full.shape == frame.shape
    np.testing.assert_array_equal(full[~mask], frame[~mask])
    np.testing.assert_array_equal(full[15, 25], [150, 50, 50])
    half = viz.overlay(frame, mask.astype(np.float32) * 0.5, color=(200, 0, 0), alpha=0.5)
    np.testing.assert_array_equal(half[15, 25], [125, 75, 75])
    as_uint8 = viz.overlay(frame, (mask * 255).astype(np.uint8), color=(200, 0, 0), alpha=0.5)
    np.testing.assert_array_equal(as_uint8, full)


def test_overlay_rejects_a_mask_of_another_size(frame_and_mask):
    frame, _ = frame_and_mask
    with pytest.raises(ValueError, match="differ in size"):
        viz.overlay(frame, np.zeros((10, 10), bool))


def test_contours_lie_on_the_mask_boundary(frame_and_mask):
    frame, mask = frame_and_mask
    drawn = viz.draw_contours(frame, mask, color=(0, 255, 0), thickness=1)
    changed = np.any(drawn != frame, axis=2)
    assert changed[10, 25] and changed[29, 25] and changed[20, 20] and changed[20, 39]
    assert not changed[20, 30]  # inside
    assert not changed[0, 0]  # far outside
    np.testing.assert_array_equal(drawn[10, 25], [0, 255, 0])
    assert frame[10, 25, 1] == 100  # the input is not modified


def test_compare_overlay_binarises_the_prediction_at_the_threshold(frame_and_mask):
    frame, mask = frame_and_mask
    prob = mask * 0.6
    low = viz.compare_overlay(frame, prob, threshold=0.5)
    high = viz.compare_overlay(frame, prob, threshold=0.7)
    assert np.any(low[mask] != frame[mask])
    np.testing.assert_array_equal(high, frame)


def test_show_row_has_one_panel_per_image_with_titles(frame_and_mask):
    frame, mask = frame_and_mask
    fig = viz.show_row([frame, mask, mask.astype(np.float32) * 0.3], ["frame", "mask", "prob"])
    axes = fig.get_axes()
    assert [ax.get_title() for ax in axes] == ["frame", "mask", "prob"]
    grey = axes[1].get_images()[0]
    assert grey.get_clim() == (0.0, 1.0)
    np.testing.assert_array_equal(grey.get_array(), mask.astype(np.float32))
    plt.close(fig)
    with pytest.raises(ValueError, match="titles"):
        viz.show_row([frame], ["a", "b"])


def test_show_row_wraps_into_rows_of_columns(frame_and_mask):
    frame, _ = frame_and_mask
    fig = viz.show_row([frame] * 5, [str(i) for i in range(5)], columns=3)
    shown = [ax for ax in fig.axes if ax.get_images()]
    assert len(fig.axes) == 6 and [ax.get_title() for ax in shown] == ["0", "1", "2", "3", "4"]
    rows = {round(ax.get_position().y0, 3) for ax in shown}
    assert len(rows) == 2  # two rows: three panels, then two
    assert fig.get_figwidth() <= viz.audit.WIDEST + 1e-9
    plt.close(fig)
    with pytest.raises(ValueError, match="columns must be at least 1"):
        viz.show_row([frame], columns=0)


def test_flow_wheel_matches_the_flow_colour_coding():
    wheel = viz.flow_wheel(65)
    assert wheel.shape == (65, 65, 3) and wheel.dtype == np.uint8
    np.testing.assert_array_equal(wheel[32, 32], [255, 255, 255])  # zero flow is white
    np.testing.assert_array_equal(wheel[0, 0], [255, 255, 255])  # outside the disk
    # the rightmost point is the fastest rightward motion, coloured as a real field is
    right = np.zeros((1, 2, 2), np.float32)
    right[0, 0] = (1.0, 0.0)
    np.testing.assert_array_equal(wheel[32, 64], flow_to_color(right)[0, 0])
    assert not np.array_equal(wheel[32, 64], wheel[32, 0])  # opposite directions differ


def test_tile_places_panels_side_by_side_under_titles(frame_and_mask):
    frame, mask = frame_and_mask
    picture = viz.tile([frame, mask], ["frame", "mask"], gap=4)
    assert picture.shape == (18 + 40, 60 + 4 + 60, 3)
    np.testing.assert_array_equal(picture[18:, :60], frame)
    np.testing.assert_array_equal(picture[18 + 15, 64 + 25], [255, 255, 255])  # mask on: white
    np.testing.assert_array_equal(picture[18 + 0, 64 + 0], [0, 0, 0])  # mask off: black
    assert (picture[:18] < 255).any()  # the titles are drawn
    assert viz.tile([frame]).shape == frame.shape
    with pytest.raises(ValueError, match="share a height"):
        viz.tile([frame, frame[:10]])


def test_png_bytes_round_trip(frame_and_mask):
    import cv2

    frame, _ = frame_and_mask
    frame = frame.copy()
    frame[..., 0] = 200  # a red channel, to catch RGB/BGR swaps
    data = viz.png_bytes(frame)
    decoded = cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), 1), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(decoded, frame)


def test_tile_wraps_panels_to_a_width_and_fits_titles():
    panel = np.full((240, 320, 3), 90, np.uint8)
    wide = viz.tile([panel] * 5, ["a rather long panel title"] * 5)
    assert wide.shape[1] == 5 * 320 + 4 * 4
    fitted = viz.tile([panel] * 5, ["a rather long panel title"] * 5, width=560)
    assert fitted.shape[1] <= 560 and fitted.shape[0] > 2 * 240 * 278 / 320  # three rows
    one = viz.tile([panel], ["x"], width=560)
    assert one.shape[1] == 320  # a panel that fits keeps its size
    small = viz.tile([panel[:64, :64]] * 2, ["frame + prediction", "flow"], width=560)
    gap = small[18:, 64:68]  # titles stay over their own panel: the gap below them is white
    assert (gap == 255).all() and (small[:18, 64:68] == 255).all()

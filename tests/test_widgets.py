"""Widgets as Python objects: set a control, check what the picture and the text show."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import cv2
import matplotlib.pyplot as plt
import numpy as np
import pytest

from fsnet_core.course.viz import GROUND_TRUTH, PREDICTION, audit, compare_overlay, overlay
from fsnet_core.course.widgets import (
    EvaluationViewer,
    evaluation_viewer,
    flow_explorer,
    viewer_sequences,
)
from fsnet_core.data.layouts import discover_sequences
from fsnet_core.data.synthetic import make_synthetic_dataset
from fsnet_core.io import InputError
from fsnet_core.io.images import read_mask, read_rgb, write_png


@pytest.fixture(scope="module")
def smoke_root(tmp_path_factory) -> str:
    return str(make_synthetic_dataset(tmp_path_factory.mktemp("widgets") / "data", smoke=True))


@pytest.fixture(scope="module")
def soft_predictions(smoke_root) -> dict[str, dict[str, np.ndarray]]:
    """Ground truth turned into a map that is 0.7 on the object and 0.1 elsewhere."""
    out = {}
    for record in discover_sequences(smoke_root, split="val"):
        out[record.name] = {
            frame.stem: read_mask(mask).astype(np.float32) * 0.6 + 0.1
            for frame, mask in zip(record.frames[:-1], record.masks[:-1], strict=True)
        }
    return out


def test_viewer_scores_follow_the_threshold(smoke_root, soft_predictions):
    viewer = evaluation_viewer(smoke_root, soft_predictions)
    assert isinstance(viewer, EvaluationViewer)
    assert viewer.scores().j == 1.0 and viewer.scores().f == 1.0
    assert "J = 1.000" in viewer.lines[1] and "threshold 0.50" in viewer.lines[1]
    shown = viewer.picture_array.copy()
    viewer.threshold.value = 0.75  # above the object's 0.7: nothing is predicted
    assert viewer.scores().j == 0.0 and viewer.scores().sequence_j == 0.0
    assert "J = 0.000" in viewer.lines[1] and "threshold 0.75" in viewer.lines[1]
    assert not np.array_equal(shown, viewer.picture_array)  # the red tint is gone
    assert viewer.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert "sequence mean J = 0.000" in viewer.caption.value


def test_viewer_frame_and_sequence_controls(smoke_root, soft_predictions):
    viewer = evaluation_viewer(smoke_root, soft_predictions)
    names = list(soft_predictions)
    first, second = names[0], names[1]
    frames = sorted(soft_predictions[first])
    assert list(viewer.sequence.options) == names
    assert viewer.frame.max == len(frames) - 1
    viewer.frame.value = 2
    assert f"frame {frames[2]} (3/{len(frames)})" in viewer.lines[0]
    expected = read_rgb(discover_sequences(smoke_root, split="val")[0].frames[2])
    np.testing.assert_array_equal(viewer.current_sequence.images[2], expected)
    viewer.sequence.value = second
    assert viewer.frame.value == 0 and viewer.frame.max == len(soft_predictions[second]) - 1
    assert viewer.lines[0].startswith(second)


def test_crf_refines_the_map_the_scores_use(smoke_root, soft_predictions):
    viewer = evaluation_viewer(smoke_root, soft_predictions)
    raw = viewer.current_sequence.probability(0)
    viewer.crf.value = True
    refined = viewer.current_sequence.probability(0, crf=True)
    assert "with DenseCRF" in viewer.lines[0]
    assert not np.allclose(raw, refined)
    # the CRF pushes a confident, well-aligned map further apart: object up, background down
    mask = viewer.current_sequence.masks[0]
    assert refined[mask].mean() > raw[mask].mean()
    assert refined[~mask].mean() < raw[~mask].mean()
    np.testing.assert_array_equal(viewer.binary(), refined > 0.5)


def test_prediction_folder_reads_like_the_maps_in_memory(smoke_root, soft_predictions, tmp_path):
    for seq, frames in soft_predictions.items():
        for stem, prob in frames.items():
            write_png(tmp_path / seq / f"{stem}.png", np.round(prob * 255).astype(np.uint8))
    from_folder = viewer_sequences(smoke_root, tmp_path)
    in_memory = viewer_sequences(smoke_root, soft_predictions)
    assert list(from_folder) == list(in_memory)
    for name, seq in from_folder.items():
        assert seq.frames == in_memory[name].frames
        for a, b in zip(seq.probabilities, in_memory[name].probabilities, strict=True):
            np.testing.assert_allclose(a, b, atol=1 / 255)


def test_sequence_mean_matches_fsnet_eval(smoke_root, soft_predictions, tmp_path):
    from fsnet_core.metrics import evaluate_folder

    for seq, frames in soft_predictions.items():  # shift each frame by its own amount
        for k, (stem, prob) in enumerate(sorted(frames.items())):
            shifted = np.roll(prob, 3 * k, axis=1)
            write_png(tmp_path / seq / f"{stem}.png", np.round(shifted * 255).astype(np.uint8))
    expected = evaluate_folder(tmp_path, smoke_root, "uvos").per_sequence["J_mean"]
    viewer = evaluation_viewer(smoke_root, tmp_path, split="val")
    for seq in soft_predictions:
        viewer.sequence.value = seq
        assert viewer.scores().sequence_j == pytest.approx(expected[seq], abs=1e-12)
        assert f"sequence mean J = {expected[seq]:.3f}" in viewer.lines[2]
    assert viewer.current_sequence.scored[0] is False  # the first frame is not scored


def test_bad_predictions_name_what_is_wrong(smoke_root, soft_predictions, tmp_path):
    name = next(iter(soft_predictions))
    frames = soft_predictions[name]
    with pytest.raises(InputError, match="not in the dataset"):
        viewer_sequences(smoke_root, {"no-such-sequence": frames})
    stem = next(iter(frames))
    with pytest.raises(InputError, match="no frame '99999'"):
        viewer_sequences(smoke_root, {name: {"99999": frames[stem]}})
    with pytest.raises(InputError, match=f"{name}/{stem}.*map is"):
        viewer_sequences(smoke_root, {name: {stem: frames[stem][:-2]}})
    write_png(tmp_path / name / f"{stem}.png", np.zeros((7, 9), np.uint8))
    with pytest.raises(InputError, match=rf"{stem}\.png: map is \(7, 9\)"):
        viewer_sequences(smoke_root, tmp_path)
    with pytest.raises(InputError, match="prediction folder not found"):
        viewer_sequences(smoke_root, tmp_path / "missing")


def test_frames_without_ground_truth_are_shown_without_scores(smoke_root, soft_predictions):
    sequences = viewer_sequences(smoke_root, soft_predictions)
    seq = next(iter(sequences.values()))
    seq.masks[1] = None
    viewer = EvaluationViewer(sequences)
    viewer.frame.value = 1
    assert np.isnan(viewer.scores().j)
    assert viewer.lines[1] == "no ground truth for this frame"
    assert viewer.scores().sequence_j == 1.0  # the mean skips that frame


def test_static_figure_shows_the_current_state(smoke_root, soft_predictions):
    viewer = evaluation_viewer(smoke_root, soft_predictions)
    viewer.threshold.value = 0.75
    fig = viewer.figure(title="viewer")
    title = fig.axes[0].get_title()
    assert title.startswith("viewer") and "J = 0.000" in title
    np.testing.assert_array_equal(fig.axes[0].get_images()[0].get_array(), viewer.picture_array)
    assert audit.audit_figure(fig) == []  # readable as the notebook saves it
    plt.close(fig)


def test_viewer_names_the_palette_colours_it_draws(smoke_root, soft_predictions):
    """The overlay is the course's colour-blind-safe pair, and its title says which is which."""
    viewer = evaluation_viewer(smoke_root, soft_predictions)
    seq = viewer.current_sequence
    mask = seq.masks[0]
    picture = compare_overlay(seq.images[0], seq.probabilities[0], mask)
    assert audit.confusable(PREDICTION, GROUND_TRUTH) is None
    inside = cv2.erode(mask.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    tinted = overlay(seq.images[0], seq.probabilities[0] >= 0.5, PREDICTION)
    np.testing.assert_array_equal(picture[inside], tinted[inside])  # the orange tint
    assert np.any(np.all(picture == GROUND_TRUTH, axis=-1))  # the blue outline
    assert viewer.picture_array[:18].min() < 255  # the title band is drawn


def test_flow_explorer_shows_each_method_and_its_error():
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (32, 48, 3), dtype=np.uint8) for _ in range(3)]
    truth = [rng.normal(size=(32, 48, 2)).astype(np.float32) for _ in range(2)]
    shifted = [f + np.array([3.0, 4.0], np.float32) for f in truth]
    explorer = flow_explorer(frames, {"exact": truth, "shifted": shifted}, ground_truth=truth)
    errors = explorer.errors()
    assert errors["exact"] == 0.0 and errors["shifted"] == pytest.approx(5.0)
    assert "shifted 5.00 px" in explorer.lines[1]
    # frame, ground truth and two methods, each 48 wide with 4-pixel gaps
    assert explorer.picture_array.shape[1] == 4 * 48 + 3 * 4
    before = explorer.picture_array.copy()
    explorer.frame.value = 1
    assert explorer.lines[0] == "flow from frame 1 to frame 2"
    assert not np.array_equal(before, explorer.picture_array)
    assert explorer.frame.max == 1


def test_flow_explorer_rejects_mismatched_inputs():
    frame = np.zeros((8, 8, 3), np.uint8)
    field = np.zeros((8, 8, 2), np.float32)
    with pytest.raises(ValueError, match="one field per frame pair"):
        flow_explorer([frame, frame], {"a": [field], "b": [field, field]})
    with pytest.raises(ValueError, match="only 1 frames"):
        flow_explorer([frame], {"a": [field, field]})


def test_long_sliders_get_a_number_box_that_moves_with_them():
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (24, 32, 3), dtype=np.uint8) for _ in range(41)]
    fields = [rng.normal(size=(24, 32, 2)).astype(np.float32) for _ in range(40)]
    explorer = flow_explorer(frames, {"dis": fields})
    box = explorer.boxes["frame pair"]
    assert (box.min, box.max, box.value) == (0, 39, 0)
    box.value = 17
    assert explorer.frame.value == 17 and "frame 17 to frame 18" in explorer.lines[0]
    explorer.frame.value = 3
    assert box.value == 3
    assert explorer.picture_array.shape[1] <= explorer.width
    short = flow_explorer(frames[:4], {"dis": fields[:3]})
    assert short.boxes == {}


def test_viewer_without_densecrf_says_how_to_add_it(smoke_root, soft_predictions, monkeypatch):
    from fsnet_core.course.widgets import evaluation

    monkeypatch.setattr(evaluation, "crf_available", lambda: False)
    viewer = evaluation_viewer(smoke_root, soft_predictions)
    assert viewer.crf.disabled and "not installed" in viewer.crf.description
    assert viewer.lines[-1].endswith('pip install "fsnet-lab[crf]"')
    viewer.crf.value = True  # set from code: maps stay unrefined, nothing raises
    assert "no CRF" in viewer.lines[0]

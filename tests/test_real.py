"""The notebooks' real-video helpers, offline: a tiny DAVIS-2016 folder, a stand-in checkpoint."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

import fsnet_core.io.weights as io_weights
from fsnet_core import FSNetConfig, FSNetWeights, WeightsUnavailable
from fsnet_core.course import real
from fsnet_core.data.synthetic import TARGET
from fsnet_core.io import DownloadError, InputError

WEIGHTS = FSNetWeights.DAVIS16_ICCV21
PROBE = "bpms.3.purify.0.lifts.2.proj.conv.weight"
PROBE_OFFICIAL = "module.bpm4.conv9.conv.conv_bn.0.weight"


def make_tiny_davis(root, val=("cows", "dog", "goat"), train=("bear",), frames=4, size=(48, 64)):
    """A DAVIS-2016 folder in the official layout: a textured square moving right on noise."""
    rng = np.random.default_rng(0)
    h, w = size
    for name in (*train, *val):
        background = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        for t in range(frames):
            frame = background.copy()
            mask = np.zeros((h, w), np.uint8)
            x = 8 + 3 * t
            frame[12:30, x : x + 18] = (200, 40, 40)
            mask[12:30, x : x + 18] = 255
            for folder, image, ext in (("JPEGImages", frame, "jpg"), ("Annotations", mask, "png")):
                path = root / folder / "480p" / name / f"{t:05d}.{ext}"
                path.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(path), image[..., ::-1] if image.ndim == 3 else image)
    for split, names in (("train", train), ("val", val)):
        listing = root / "ImageSets" / "2016" / f"{split}.txt"
        listing.parent.mkdir(parents=True, exist_ok=True)
        listing.write_text("".join(f"{n}\n" for n in names))
    return root


@pytest.fixture()
def davis(tmp_path):
    return make_tiny_davis(tmp_path / "data" / "DAVIS")


def test_the_section_runs_when_asked_or_outside_smoke_mode():
    assert real.real_video_on(None, smoke=False) and not real.real_video_on(None, smoke=True)
    assert real.real_video_on(True, smoke=True) and not real.real_video_on(False, smoke=False)
    line = real.skipped_message("shows X")
    assert "\n" not in line and "SMOKE = False" in line and line.endswith("shows X.")


def test_flow_method_follows_the_device():
    assert real.default_flow_method("cpu") == "dis"
    assert real.default_flow_method(torch.device("cuda")) == "raft-small"


def test_sequences_are_chosen_from_the_val_list(davis):
    assert real.val_sequences(davis) == ["cows", "dog", "goat"]
    assert real.choose_sequences(davis, 2) == ["cows", "dog"]
    assert real.choose_sequences(davis, None) == ["cows", "dog", "goat"]
    assert real.choose_sequences(davis, 10) == ["cows", "dog", "goat"]
    assert real.choose_sequences(davis, ["goat"]) == ["goat"]
    with pytest.raises(ValueError, match="not DAVIS-2016 val sequences: bear"):
        real.choose_sequences(davis, ["bear"])
    with pytest.raises(ValueError, match="at least 1"):
        real.choose_sequences(davis, 0)
    (davis / "ImageSets" / "2016" / "val.txt").unlink()
    with pytest.raises(
        InputError, match="val.txt: split list for 'val' not found \\(download davis-2016 again\\)"
    ):
        real.val_sequences(davis)


def test_an_unpacked_davis_is_reused_without_a_download(davis, monkeypatch):
    import fsnet_core.io.download as transfer

    monkeypatch.setattr(transfer, "fetch", lambda *a, **k: pytest.fail("tried to download"))
    assert real.davis_root(davis.parent, progress=False) == davis


def test_flow_is_computed_for_the_chosen_sequences_only(davis):
    video = real.real_video(davis, 2, progress=False)
    assert video.sequences == ("cows", "dog") and video.flow_source == "dis"
    assert real.val_sequences(video.root) == ["cows", "dog"]
    flows = davis / "FlowImages" / "dis"
    assert sorted(p.name for p in flows.iterdir() if any(p.iterdir())) == ["cows", "dog"]
    assert len(list((flows / "cows").glob("*.png"))) == 3  # every frame but the last
    stamps = {p: p.stat().st_mtime_ns for p in flows.rglob("*.png")}
    again = real.real_video(davis, ["cows", "dog"], progress=False)  # same view, nothing redone
    assert again == video and {p: p.stat().st_mtime_ns for p in flows.rglob("*.png")} == stamps
    wider = real.real_video(davis, None, progress=False)  # another view shares the flow
    assert wider.root != video.root and len(list(flows.rglob("*.png"))) == 9


def test_samples_are_real_frames_at_the_size_asked_with_the_object_as_target(davis):
    samples = real.real_samples(davis, 2, frames=2, size=32)
    assert [s.name for s in samples] == ["cows/00000", "cows/00002", "dog/00000", "dog/00002"]
    s = samples[1]
    assert s.image.shape == s.flow.shape == (1, 3, 32, 32)
    assert s.mask.shape == (32, 32) and 0 < s.mask.mean() < 0.5
    assert np.array_equal(s.region(TARGET), s.mask)
    # the square moved right: its flow image is coloured there, the static noise stays white
    saturation = 255 - s.flow_rgb.min(axis=-1).astype(int)
    assert saturation[s.mask].mean() > saturation[~s.mask].mean() + 30


@pytest.fixture(scope="module")
def stand_in_checkpoint(official_reference_state, tmp_path_factory):
    """The authors' key layout with deterministic random weights (float16 to stay small)."""
    home = tmp_path_factory.mktemp("torch_home")
    path = home / "hub" / "checkpoints" / WEIGHTS.file_name
    path.parent.mkdir(parents=True)
    torch.save({k: v.half() for k, v in official_reference_state.items()}, path)
    return home, official_reference_state[PROBE_OFFICIAL].half().float()


def offline(*args, **kwargs):
    raise DownloadError("https://drive.google.com/...: network unreachable")


@pytest.mark.usefixtures("single_thread")
def test_the_authors_model_is_read_from_the_hub_cache(stand_in_checkpoint, monkeypatch):
    home, expected = stand_in_checkpoint
    monkeypatch.setenv("TORCH_HOME", str(home))
    monkeypatch.setattr(io_weights, "fetch_file", offline)
    model = real.authors_model("cpu", progress=False)
    assert not model.training and model.config == FSNetConfig()
    assert next(model.parameters()).device.type == "cpu"
    assert torch.equal(model.state_dict()[PROBE], expected)


def test_offline_without_the_checkpoint_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(io_weights, "fetch_file", offline)
    with pytest.raises(WeightsUnavailable) as err:
        real.authors_model("cpu", progress=False)
    message = str(err.value)
    assert "\n" not in message and f"save it as {tmp_path}" in message


def test_predictions_are_probabilities_at_the_samples_size_and_plotted_with_their_j(
    davis, tiny_fsnet, single_thread
):
    import matplotlib

    matplotlib.use("Agg")
    from fsnet_core.course.viz.predictions import plot_predictions

    samples = real.real_samples(davis, 1, frames=2, size=32)
    maps = real.predict_samples(tiny_fsnet().eval(), samples)
    assert [m.shape for m in maps] == [(32, 32)] * 2
    assert all(0 <= m.min() and m.max() <= 1 for m in maps)
    perfect = [s.mask.astype(np.float32) for s in samples]
    fig = plot_predictions(samples, perfect, title="t")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:3] == ["cows/00000", "flow image", "probability of 'object'"]
    assert titles[3] == "mask (orange), truth (blue)\nJ = 1.00"
    assert len(fig.axes) == 2 * 4 + 2  # and a colour bar per row
    with pytest.raises(ValueError, match="2 samples but 1 probability maps"):
        plot_predictions(samples, perfect[:1])


def test_a_missing_sequence_folder_is_named(davis):
    import shutil

    shutil.rmtree(davis / "Annotations" / "480p" / "dog")
    with pytest.raises(InputError, match=r"480p/dog: DAVIS-2016 Annotations folder of 'dog'"):
        real.real_video(davis, 2, progress=False)


def test_the_view_links_to_the_full_copy_and_never_replaces_a_real_folder(davis):
    video = real.real_video(davis, 1, progress=False)
    link = video.root / "JPEGImages" / "480p" / "cows"
    assert link.is_symlink() and link.resolve() == (davis / "JPEGImages" / "480p" / "cows")
    link.unlink()
    link.mkdir()  # something else put a folder there: it is not ours to delete
    with pytest.raises(InputError, match="expected a link"):
        real.real_video(davis, 1, progress=False)

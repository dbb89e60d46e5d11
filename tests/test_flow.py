"""Optical flow: .flo files, colour coding, estimators, caching over a dataset, the CLI."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torchvision.utils import flow_to_image

from fsnet_core import flow as F
from fsnet_core.cli import main
from fsnet_core.data.flow_cache import compute_flow
from fsnet_core.io import (
    InputError,
    WeightsUnavailable,
    hub_checkpoint_path,
    load_weights,
    weights_file,
)

# ---------------------------------------------------------------- helpers


def textured(h: int = 120, w: int = 160, seed: int = 0) -> np.ndarray:
    """Smooth random texture (RGB uint8): enough structure everywhere for flow to lock on."""
    rng = np.random.default_rng(seed)
    noise = rng.random((h, w, 3)).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), 2.0)
    smooth = (smooth - smooth.min()) / (smooth.max() - smooth.min())
    return (smooth * 255).astype(np.uint8)


def translate(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """``img`` moved by (dx, dy): the flow from ``img`` to the result is (dx, dy) everywhere."""
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(img, m, img.shape[1::-1], flags=cv2.INTER_CUBIC, borderMode=4)


def davis_folder(root: Path, seqs: dict[str, int], h: int = 48, w: int = 64) -> Path:
    """A tiny DAVIS-layout folder: frames of a texture drifting right by 2 px per frame."""
    for k, (name, n) in enumerate(seqs.items()):
        base = textured(h, w, seed=k)
        folder = root / "JPEGImages" / "480p" / name
        folder.mkdir(parents=True)
        for t in range(n):
            cv2.imwrite(str(folder / f"{t:05d}.jpg"), translate(base, 2.0 * t, 0)[..., ::-1])
    return root


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- .flo and colour


def test_flo_round_trip(tmp_path: Path) -> None:
    flow = np.random.default_rng(1).normal(size=(7, 11, 2)).astype(np.float32)
    path = F.write_flo(tmp_path / "a" / "x.flo", flow)
    np.testing.assert_array_equal(F.read_flo(path), flow)
    assert path.stat().st_size == 12 + 7 * 11 * 2 * 4
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_flo_errors_name_the_file(tmp_path: Path) -> None:
    good = F.write_flo(tmp_path / "good.flo", np.zeros((4, 5, 2), np.float32))
    truncated = tmp_path / "truncated.flo"
    truncated.write_bytes(good.read_bytes()[:-3])
    not_flo = tmp_path / "image.flo"
    not_flo.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    for path, words in [
        (truncated, "truncated"),
        (not_flo, "magic"),
        (tmp_path / "missing.flo", "not found"),
    ]:
        with pytest.raises(InputError, match=words) as info:
            F.read_flo(path)
        assert str(path) in str(info.value)
    with pytest.raises(ValueError, match="H x W x 2"):
        F.write_flo(tmp_path / "bad.flo", np.zeros((4, 5, 3)))


def test_colour_direction_follows_torchvision_wheel() -> None:
    """Rightward motion is red on torchvision's Middlebury wheel; leftward is its opposite."""
    directions = {"right": (1, 0), "left": (-1, 0), "down": (0, 1), "up": (0, -1)}
    colours = {}
    for name, (dx, dy) in directions.items():
        flow = np.zeros((4, 4, 2), np.float32)
        flow[..., 0], flow[..., 1] = dx, dy
        colours[name] = F.flow_to_color(flow)[0, 0].astype(int)
        # torchvision draws the same field, channels first, as a tensor: same colours
        tv = flow_to_image(torch.from_numpy(flow).permute(2, 0, 1))[:, 0, 0].numpy()
        np.testing.assert_array_equal(colours[name], tv)
    r, g, b = colours["right"]
    assert r > 200 and g < 60 and b < 60  # red
    r, g, b = colours["left"]
    assert r < 60 and g > 150 and b > 150  # cyan, opposite on the wheel
    assert np.abs(colours["up"] - colours["down"]).sum() > 200  # vertical directions differ


def test_colour_is_normalised_per_frame_by_max_magnitude() -> None:
    flow = np.zeros((8, 8, 2), np.float32)
    flow[:4, :, 0] = 1.0  # slow
    flow[4:, :, 0] = 4.0  # fast: the fastest pixel gets the full colour
    img = F.flow_to_color(flow)
    np.testing.assert_array_equal(img, F.flow_to_color(flow * 25))  # scale-free
    slow, fast = img[0, 0].astype(int), img[7, 7].astype(int)
    assert fast[0] > 200 and fast[1:].max() < 60  # saturated red
    assert slow.min() > fast[1:].max()  # paler: closer to white
    assert F.flow_to_color(np.zeros((3, 3, 2), np.float32)).min() == 255  # still is white


def test_end_point_error_masks_and_unknown_pixels() -> None:
    gt = np.zeros((2, 2, 2), np.float32)
    pred = np.zeros_like(gt)
    pred[0, 0] = (3, 4)  # error 5 at one pixel of four
    assert F.end_point_error(pred, gt) == pytest.approx(1.25)
    mask = np.array([[True, False], [False, False]])
    assert F.end_point_error(pred, gt, mask) == pytest.approx(5.0)
    gt[0, 0] = (2e9, 0)  # unknown ground truth is left out
    assert F.end_point_error(pred, gt) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="shape|H x W"):
        F.end_point_error(pred[:1], gt)


# ---------------------------------------------------------------- estimators


@pytest.mark.parametrize(("method", "tolerance"), [("dis", 0.25), ("farneback", 0.35)])
def test_opencv_methods_recover_a_translation(method: str, tolerance: float) -> None:
    a = textured(120, 160)
    b = translate(a, 3.0, -2.0)
    flow = F.estimate_flow(a, b, method=method)
    assert flow.shape == (120, 160, 2) and flow.dtype == np.float32
    inner = np.zeros(flow.shape[:2], bool)
    inner[16:-16, 16:-16] = True  # borders have no texture to match
    truth = np.broadcast_to(np.float32([3.0, -2.0]), flow.shape)
    assert F.end_point_error(flow, truth, inner) < tolerance
    # and a wrong answer is far: the test can fail
    assert F.end_point_error(np.zeros_like(flow), truth, inner) > 3


def test_estimator_rejects_mismatched_frames() -> None:
    with pytest.raises(ValueError, match="matching"):
        F.estimate_flow(textured(40, 40), textured(40, 48))
    with pytest.raises(ValueError, match="unknown flow method"):
        F.make_estimator("flownet2")


def test_raft_runs_on_unpadded_frames_without_weights() -> None:
    """The RAFT path (preprocessing, padding to multiples of 8, crop) with random weights."""
    torch.manual_seed(0)
    est = F.RAFTEstimator("small", device="cpu", pretrained=False, num_flow_updates=2)
    assert est.name == "raft-small" and est.device.type == "cpu"
    assert est.padding(132, 150) == (4, 2) and est.padding(136, 160) == (0, 0)
    assert est.padding(60, 75) == (68, 53)  # RAFT needs 128 pixels a side
    a = textured(132, 150)
    flows = est.estimate_batch([a, a], [translate(a, 2, 0), a])
    assert [f.shape for f in flows] == [(132, 150, 2), (132, 150, 2)]
    assert all(f.dtype == np.float32 and np.isfinite(f).all() for f in flows)
    assert not np.allclose(flows[0], flows[1])  # each pair gets its own field


def test_raft_offline_says_what_happened_and_how_to_proceed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # an empty cache
    mirror = f"http://127.0.0.1:{closed_port()}/raft_small.pth"
    with pytest.raises(WeightsUnavailable) as info:
        F.RAFTEstimator("small", device="cpu", weights_url=mirror)
    message = str(info.value)
    expected = tmp_path / "torch" / "hub" / "checkpoints" / "raft_small_C_T_V2-01064c6d.pth"
    assert message.startswith(f"{expected}: ") and "\n" not in message
    assert f"{mirror}: could not be reached" in message and f"save it as {expected}" in message
    assert "--method dis" in message and "fsnet download raft-small" in message


# ---------------------------------------------------------------- datasets, caching, CLI


def test_compute_flow_writes_davis_layout_and_caches(tmp_path: Path) -> None:
    root = davis_folder(tmp_path / "data", {"drift": 4, "pan": 3})
    summary = compute_flow(root, "dis", progress=False)
    assert (summary.sequences, summary.computed, summary.skipped) == (2, 5, 0)
    flo = sorted((root / "Flow" / "dis" / "drift").iterdir())
    png = sorted((root / "FlowImages" / "dis" / "drift").iterdir())
    assert [p.name for p in flo] == ["00000.flo", "00001.flo", "00002.flo"]  # not the last frame
    assert [p.name for p in png] == ["00000.png", "00001.png", "00002.png"]
    field = F.read_flo(flo[0])
    assert field.shape == (48, 64, 2)
    assert np.median(field[8:-8, 8:-8, 0]) == pytest.approx(2.0, abs=0.3)  # the 2 px drift
    image = cv2.imread(str(png[0]))[..., ::-1]
    np.testing.assert_array_equal(image, F.flow_to_color(field))  # the image is of the field

    outputs = [*flo, *png]
    for p in outputs:
        os.utime(p, (1_000_000, 1_000_000))
    again = compute_flow(root, "dis", progress=False)
    assert (again.computed, again.skipped) == (0, 5)
    assert all(p.stat().st_mtime == 1_000_000 for p in outputs)

    png[1].unlink()  # a missing image: only that pair is redone
    partial = compute_flow(root, "dis", progress=False)
    assert (partial.computed, partial.skipped) == (1, 4)
    assert flo[0].stat().st_mtime == 1_000_000 and png[1].is_file()

    forced = compute_flow(root, "dis", force=True, progress=False)
    assert (forced.computed, forced.skipped) == (5, 0)
    assert all(p.stat().st_mtime != 1_000_000 for p in outputs)
    leftovers = [p for p in (root / "Flow").rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_compute_flow_authors_test_layout(tmp_path: Path) -> None:
    davis = davis_folder(tmp_path / "src", {"cows": 3})
    seq = tmp_path / "TestSet" / "DAVIS" / "cows"
    (seq / "Frame").mkdir(parents=True)
    for f in (davis / "JPEGImages" / "480p" / "cows").iterdir():
        (seq / "Frame" / f.name).write_bytes(f.read_bytes())
    summary = compute_flow(seq.parent, "farneback", progress=False)
    assert summary.computed == 2
    written = sorted(p.name for p in (seq / "OF_farneback").iterdir())
    assert written == ["00000.flo", "00000.png", "00001.flo", "00001.png"]
    from fsnet_core.data.layouts import discover_sequences

    (record,) = discover_sequences(seq.parent, flow_source="OF_farneback", require_flows=True)
    assert [p and p.name for p in record.flows] == ["00000.png", "00001.png", None]


def test_compute_flow_names_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no known dataset layout"):
        compute_flow(tmp_path, progress=False)
    (tmp_path / "train" / "Imgs").mkdir(parents=True)
    with pytest.raises(InputError, match="not the trainset layout"):
        compute_flow(tmp_path / "train", progress=False)
    root = davis_folder(tmp_path / "data", {"seq": 3})
    broken = root / "JPEGImages" / "480p" / "seq" / "00001.jpg"
    broken.write_bytes(broken.read_bytes()[:600])  # header intact, pixels cut
    with pytest.raises(InputError, match="truncated") as info:
        compute_flow(root, progress=False)
    assert str(broken) in str(info.value)


def test_a_frame_of_another_size_is_named_with_both_sizes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = davis_folder(tmp_path / "data", {"seq": 4})
    odd = root / "JPEGImages" / "480p" / "seq" / "00002.jpg"
    cv2.imwrite(str(odd), textured(48, 60))
    assert main(["flow", str(root), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"fsnet flow: error: {odd}: is 60x48 but 00000.jpg is 64x48: "
        "every frame of a sequence must have the same size\n"
    )
    # Resumed after frame 0 (its flow is on disk): the size is still the first frame's.
    odd.unlink()
    compute_flow(root, progress=False)
    cv2.imwrite(str(odd), textured(48, 60))
    for written in (root / "FlowImages" / "dis" / "seq").glob("0000[12].png"):
        written.unlink()
    with pytest.raises(InputError, match="00002.jpg: is 60x48 but 00000.jpg is 64x48"):
        compute_flow(root, progress=False)


def test_cli_flow(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from fsnet_core.cli.flow import METHODS

    assert METHODS == F.METHODS
    root = davis_folder(tmp_path / "data", {"a": 3})
    assert main(["flow", str(root), "--method", "farneback", "--quiet"]) == 0
    assert "2 flows computed" in capsys.readouterr().out
    assert len(list((root / "FlowImages" / "farneback" / "a").glob("*.png"))) == 2
    assert main(["flow", str(root), "--method", "farneback", "--quiet"]) == 0
    assert "0 flows computed, 2 already there" in capsys.readouterr().out
    assert main(["flow", str(tmp_path / "nowhere"), "--quiet"]) == 1
    assert "dataset folder not found" in capsys.readouterr().err


def test_raft_uses_weights_placed_at_the_printed_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the offline message tells users to do works: no network needed afterwards.

    The placed file must be the genuine one: its SHA-256 has to start with the
    digits in its name, so the test names its own file after its digest.
    """
    import hashlib

    from torchvision.models.optical_flow import raft_small

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    torch.manual_seed(3)
    state = raft_small(weights=None).state_dict()
    scratch = tmp_path / "raft.pth"
    torch.save(state, scratch)
    prefix = hashlib.sha256(scratch.read_bytes()).hexdigest()[:8]
    url = f"https://x/raft_small_test-{prefix}.pth"
    placed = hub_checkpoint_path(url)
    placed.parent.mkdir(parents=True)
    scratch.rename(placed)
    loaded = load_weights(
        weights_file(url, what="RAFT", source=f"http://127.0.0.1:{closed_port()}/")
    )
    assert all(torch.equal(loaded[k], v) for k, v in state.items())


@pytest.mark.davis
@pytest.mark.parametrize("method", ["dis", "farneback"])
def test_flow_explains_real_davis_motion(davis_sample: Path, method: str) -> None:
    """On real 480x854 frames, warping frame t+1 back by the flow must match frame t far better."""
    from fsnet_core.io.images import read_rgb

    for seq in ("blackswan", "dog"):
        folder = davis_sample / "JPEGImages" / "480p" / seq
        a, b = read_rgb(folder / "00000.jpg"), read_rgb(folder / "00001.jpg")
        flow = F.estimate_flow(a, b, method)
        assert flow.shape == (480, 854, 2)
        yy, xx = np.mgrid[0:480, 0:854].astype(np.float32)
        warped = cv2.remap(b, xx + flow[..., 0], yy + flow[..., 1], cv2.INTER_LINEAR)
        before = np.abs(a.astype(np.float32) - b).mean()
        after = np.abs(a.astype(np.float32) - warped).mean()
        assert after < 0.5 * before, (seq, before, after)


def test_computed_flow_feeds_the_loaders_and_beats_zero_flow(tmp_path: Path) -> None:
    """On the synthetic set: DIS outputs are found by the layout code and are near the GT."""
    from fsnet_core.data.layouts import discover_sequences
    from fsnet_core.data.synthetic import make_synthetic_dataset

    root = make_synthetic_dataset(tmp_path / "synthetic", smoke=True)
    compute_flow(root, "dis", progress=False)
    records = discover_sequences(root, flow_source="dis", require_flows=True)
    errors, zero = [], []
    for record in records:
        assert record.flows[-1] is None and all(record.flows[:-1])  # last frame: no flow
        for field_path in record.flow_fields[:-1]:
            gt = F.read_flo(root / "Flow" / "gt" / record.name / field_path.name)
            errors.append(F.end_point_error(F.read_flo(field_path), gt))
            zero.append(F.end_point_error(np.zeros_like(gt), gt))
    assert len(errors) == sum(len(r) - 1 for r in records) > 0
    assert np.mean(errors) < 0.75 * np.mean(zero)

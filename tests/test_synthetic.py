"""The synthetic teaching set: layout, determinism, exact flow, hazards, safe writing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from fsnet_core.cli import main
from fsnet_core.data.synthetic import (
    DISTRACTOR,
    MOVING_BACKGROUND,
    MOVING_OBJECT,
    OCCLUDER,
    TARGET,
    SyntheticConfig,
    ensure_synthetic_dataset,
    make_synthetic_dataset,
    read_meta,
    renderer,
    scenes,
    storage,
)
from fsnet_core.flow import read_flo
from fsnet_core.io import InputError

SMOKE = SyntheticConfig.for_size(smoke=True)


@pytest.fixture(scope="module")
def smoke_set(tmp_path_factory) -> Path:
    return make_synthetic_dataset(tmp_path_factory.mktemp("syn") / "smoke", smoke=True, seed=0)


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _grey(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


def test_layout_is_davis_2016_with_flow_regions_and_meta(smoke_set: Path) -> None:
    meta = read_meta(smoke_set)
    assert meta is not None and meta["seed"] == 0 and meta["smoke"] is True
    assert (meta["height"], meta["width"], meta["frames_per_clip"]) == (120, 160, SMOKE.frames)
    for split, count in (("train", SMOKE.train_clips), ("val", SMOKE.val_clips)):
        listed = (smoke_set / "ImageSets" / "2016" / f"{split}.txt").read_text().split()
        assert listed == meta["splits"][split] and len(listed) == count
    for name in meta["sequences"]:
        frames = sorted((smoke_set / "JPEGImages" / "480p" / name).glob("*.jpg"))
        assert [p.stem for p in frames] == [f"{t:05d}" for t in range(SMOKE.frames)]
        flos = sorted((smoke_set / "Flow" / "gt" / name).glob("*.flo"))
        colours = sorted((smoke_set / "FlowImages" / "gt" / name).glob("*.png"))
        # one flow per frame but the last, named after the first frame of the pair
        assert [p.stem for p in flos] == [p.stem for p in colours] == [p.stem for p in frames[:-1]]
        for t, frame in enumerate(frames):
            mask = _grey(smoke_set / "Annotations" / "480p" / name / f"{frame.stem}.png")
            regions = _grey(smoke_set / "Regions" / "480p" / name / f"{frame.stem}.png")
            assert mask.shape == regions.shape == (120, 160)
            assert set(np.unique(mask)) <= {0, 255}
            np.testing.assert_array_equal(mask == 255, regions == TARGET)
            assert regions.max() <= MOVING_OBJECT
            if t < len(flos):
                assert read_flo(flos[t]).shape == (120, 160, 2)
                assert _grey(colours[t]).shape == (120, 160, 3)


def test_same_seed_gives_identical_bytes_and_another_seed_differs(
    smoke_set: Path, tmp_path: Path
) -> None:
    again = make_synthetic_dataset(tmp_path / "again", smoke=True, seed=0)
    assert _digests(again) == _digests(smoke_set)
    other = make_synthetic_dataset(tmp_path / "other", smoke=True, seed=1)
    first = sorted((other / "JPEGImages" / "480p").iterdir())[0]
    reference = sorted((smoke_set / "JPEGImages" / "480p").iterdir())[0]
    assert (first / "00000.jpg").read_bytes() != (reference / "00000.jpg").read_bytes()
    assert _digests(other) != _digests(smoke_set)


def _interior(labels: np.ndarray) -> np.ndarray:
    """Region labels with 255 within two pixels of a region's edge."""
    out = np.full_like(labels, 255)
    for label in np.unique(labels):
        inside = cv2.erode((labels == label).astype(np.uint8), np.ones((5, 5), np.uint8))
        out[inside.astype(bool)] = label
    return out


def _warp_error(this: np.ndarray, after: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Per-pixel colour difference between frame t and frame t+1 sampled along the flow."""
    h, w = flow.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    warped = cv2.remap(after, xx + flow[..., 0], yy + flow[..., 1], cv2.INTER_LINEAR)
    return np.abs(warped - this).mean(axis=-1)


def test_ground_truth_flow_warps_next_frame_onto_this_one(smoke_set: Path) -> None:
    """Backward-warp frame t+1 with the GT flow: where the same surface is visible in both
    frames, the colours agree to JPEG noise, far better than with no flow or a 1.5 px error."""
    meta = read_meta(smoke_set)
    h, w = meta["height"], meta["width"]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    checked = set()
    for name, info in meta["sequences"].items():
        for t in range(meta["frames_per_clip"] - 1):
            img = smoke_set / "JPEGImages" / "480p" / name
            reg = smoke_set / "Regions" / "480p" / name
            this = cv2.imread(str(img / f"{t:05d}.jpg")).astype(np.float32)
            after = cv2.imread(str(img / f"{t + 1:05d}.jpg")).astype(np.float32)
            labels, labels_after = _grey(reg / f"{t:05d}.png"), _grey(reg / f"{t + 1:05d}.png")
            flow = read_flo(smoke_set / "Flow" / "gt" / name / f"{t:05d}.flo")

            # compare only where the same surface is visible, away from its edges, in both frames
            map_x, map_y = xx + flow[..., 0], yy + flow[..., 1]
            landed = cv2.remap(
                _interior(labels_after), map_x, map_y, cv2.INTER_NEAREST, borderValue=255
            )
            visible = (landed == _interior(labels)) & (landed != 255)
            good, zero = _warp_error(this, after, flow), _warp_error(this, after, 0 * flow)
            # the flow is exact: one pixel off (in x, in y: stripes hide one of them) is worse
            one_off = [_warp_error(this, after, flow + np.float32(d)) for d in ((1, 0), (0, 1))]
            for label in (0, TARGET, MOVING_BACKGROUND, MOVING_OBJECT):
                pixels = visible & (labels == label)
                if label == TARGET and info["hazards"]["motion_blur"]:
                    continue  # blur legitimately changes the target's look between frames
                if pixels.sum() < 50:
                    continue
                err = good[pixels].mean()
                assert err < 10.0, (name, t, label)
                off = np.mean([e[pixels].mean() for e in one_off])
                assert err < 0.7 * off, (name, t, label)
                if label != 0:  # moving surfaces: the flow explains most of the change
                    assert err < 0.4 * zero[pixels].mean(), (name, t, label)
                checked.add(label)
    assert checked == {0, TARGET, MOVING_BACKGROUND, MOVING_OBJECT}


def test_camera_flow_is_a_pan_or_a_pan_with_zoom(smoke_set: Path) -> None:
    meta = read_meta(smoke_set)
    for name, info in meta["sequences"].items():
        flow = read_flo(smoke_set / "Flow" / "gt" / name / "00000.flo")
        labels = _grey(smoke_set / "Regions" / "480p" / name / "00000.png")
        background = flow[labels == 0]
        spread = background.std(axis=0).max()
        if info["hazards"]["camera_zoom"]:
            assert spread > 0.1, name  # a zoom stretches the field about the centre
        else:
            assert spread < 1e-3, name  # a pure pan moves every background pixel alike
            # the camera moves by the pan, so the background appears to move the other way
            pan = np.array(info["camera_pan_px_per_frame"])
            np.testing.assert_allclose(background.mean(axis=0), -pan, atol=0.01)


def test_every_split_contains_every_hazard(smoke_set: Path) -> None:
    meta = read_meta(smoke_set)
    for split, names in meta["splits"].items():
        seen: set[int] = set()
        for name in names:
            for png in (smoke_set / "Regions" / "480p" / name).glob("*.png"):
                seen |= set(np.unique(_grey(png)).tolist())
        assert {TARGET, DISTRACTOR, MOVING_BACKGROUND, OCCLUDER, MOVING_OBJECT} <= seen, split
        hazards = [meta["sequences"][n]["hazards"] for n in names]
        assert any(h["motion_blur"] for h in hazards) and any(h["camera_zoom"] for h in hazards)
        assert all(meta["sequences"][n]["text"] for n in names)


def test_distractors_look_exactly_like_the_target() -> None:
    """Same texture and silhouette: only motion separates them."""
    scene = scenes.make_scene(np.random.default_rng(3), SMOKE, scenes.clip_hazards(0))
    target = next(layer for layer in scene.layers if layer.label == TARGET)
    copies = [layer for layer in scene.layers if layer.label == DISTRACTOR]
    assert copies
    for copy in copies:
        np.testing.assert_array_equal(copy.rgba, target.rgba)
        assert copy.velocity == (0.0, 0.0) and copy.growth == 0.0 and copy.spin == 0.0


def test_the_moving_background_object_moves_like_the_target_but_looks_like_the_background() -> None:
    """Rigid, as fast as a target and clear of it, cut from the background's own texture:
    only appearance separates it from the target."""
    for seed in range(6):
        scene = scenes.make_scene(np.random.default_rng(seed), SMOKE, scenes.clip_hazards(0))
        target = next(layer for layer in scene.layers if layer.label == TARGET)
        mover = next(layer for layer in scene.layers if layer.label == MOVING_OBJECT)
        background = scene.layers[0]
        speed = np.hypot(*mover.velocity)
        assert 0.5 * np.hypot(*target.velocity) < speed < 2.0 * np.hypot(*target.velocity)
        # heading as near horizontal as the target's, and scaling like it, so the flow
        # gives nothing away
        assert abs(mover.velocity[1]) < abs(mover.velocity[0])
        assert 0.01 < abs(mover.growth) * SMOKE.frames / 12 < 0.04 and not mover.blur
        # drawn behind the target, in front of the look-alikes
        order = [layer.label for layer in scene.layers]
        assert order.index(MOVING_OBJECT) < order.index(TARGET)
        assert all(order.index(MOVING_OBJECT) > i for i, lb in enumerate(order) if lb == DISTRACTOR)
        # its colours are the background's: saturation as low, far from the target's
        inside = mover.alpha > 0.9
        hsv = [
            cv2.cvtColor((layer.texture * 255).astype(np.uint8), cv2.COLOR_RGB2HSV)[..., 1]
            for layer in (mover, background, target)
        ]
        mover_s, background_s, target_s = hsv[0][inside].mean(), hsv[1].mean(), hsv[2].mean()
        assert abs(mover_s - background_s) < 25 and target_s > mover_s + 60
        # always in view and apart from the target (centres more than a target's width apart)
        for t in range(SMOKE.frames):
            _, labels, _ = scene.render(t)
            centres = [np.argwhere(labels == lb).mean(axis=0) for lb in (TARGET, MOVING_OBJECT)]
            assert np.linalg.norm(centres[0] - centres[1]) > 0.25 * SMOKE.height
    without = {**scenes.clip_hazards(0), "mover": False}
    scene = scenes.make_scene(np.random.default_rng(0), SMOKE, without)
    assert not any(layer.label == MOVING_OBJECT for layer in scene.layers)


def test_motion_blur_only_smears_around_the_target() -> None:
    scene = scenes.make_scene(np.random.default_rng(5), SMOKE, scenes.clip_hazards(1))
    target = next(layer for layer in scene.layers if layer.label == TARGET)
    assert target.blur
    blurred, labels, _ = scene.render(2)
    target.blur = False
    sharp, labels_sharp, _ = scene.render(2)
    np.testing.assert_array_equal(labels, labels_sharp)  # the mask is the shape at time t
    changed = np.abs(blurred.astype(int) - sharp.astype(int)).max(axis=-1) > 2
    near = cv2.dilate((labels == TARGET).astype(np.uint8), np.ones((15, 15), np.uint8))
    assert changed.any() and not (changed & (near == 0)).any()


def test_interrupted_generation_leaves_nothing_that_looks_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    original = storage._write_clip
    monkeypatch.setattr(storage, "_write_clip", failing)
    with pytest.raises(KeyboardInterrupt):
        make_synthetic_dataset(tmp_path / "set", smoke=True)
    assert list(tmp_path.iterdir()) == []  # neither the set nor its work folder


def test_ensure_generates_only_when_missing_or_different(tmp_path: Path) -> None:
    target = tmp_path / "syn"
    made = ensure_synthetic_dataset(target, smoke=True)
    stamp = (made / "meta.json").stat().st_mtime_ns
    assert ensure_synthetic_dataset(target, smoke=True) == made
    assert (made / "meta.json").stat().st_mtime_ns == stamp
    ensure_synthetic_dataset(target, smoke=True, seed=4, force=True)
    assert read_meta(target)["seed"] == 4
    (target / "meta.json").unlink()  # an incomplete set is replaced only if it is ours
    with pytest.raises(InputError, match="not a complete synthetic dataset"):
        ensure_synthetic_dataset(target, smoke=True)


def test_existing_sets_and_foreign_folders_are_not_overwritten(tmp_path: Path) -> None:
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="refusing"):
        make_synthetic_dataset(foreign, smoke=True)
    assert (foreign / "notes.txt").read_text() == "keep me"
    made = make_synthetic_dataset(tmp_path / "syn", smoke=True)
    with pytest.raises(InputError, match="already there"):
        make_synthetic_dataset(made, smoke=True)
    make_synthetic_dataset(made, smoke=True, seed=2, overwrite=True)
    assert json.loads((made / "meta.json").read_text())["seed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "syn"]


def test_cli_generates_and_reports_the_time(tmp_path: Path, capsys) -> None:
    assert main(["data", "synthetic", "--out", str(tmp_path / "s"), "--smoke", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "2 train, 2 val clips of 5 frames at 120x160 (seed 3), made in" in out
    assert read_meta(tmp_path / "s")["seed"] == 3
    assert main(["data", "synthetic", "--out", str(tmp_path / "s"), "--smoke", "--seed", "3"]) == 0
    assert "already there" in capsys.readouterr().out


def test_the_target_passes_behind_the_occluder() -> None:
    scene = scenes.make_scene(np.random.default_rng(7), SMOKE, scenes.clip_hazards(0))
    target = next(layer for layer in scene.layers if layer.label == TARGET)
    yy, xx = np.mgrid[0 : SMOKE.height, 0 : SMOKE.width].astype(np.float32)
    hidden = []
    for t in range(SMOKE.frames):
        silhouette = renderer._sample(target, scene.camera, float(t), xx, yy)[..., 3] > 0.5
        _, labels, _ = scene.render(t)
        hidden.append((silhouette & (labels == OCCLUDER)).sum() / silhouette.sum())
        # the annotation is the visible part only
        assert not (labels == TARGET)[~silhouette].any()
    assert max(hidden) > 0.1


def test_training_clips_may_be_shorter_with_the_same_motion(tmp_path: Path) -> None:
    cfg = SyntheticConfig(120, 160, frames=6, train_clips=2, val_clips=1, train_frames=3)
    meta = storage._build(tmp_path, cfg, 0, False)
    for split, frames in (("train", 3), ("val", 6)):
        for name in meta["splits"][split]:
            assert meta["sequences"][name]["frames"] == frames
            assert len(list((tmp_path / "JPEGImages" / "480p" / name).glob("*.jpg"))) == frames
            assert len(list((tmp_path / "Flow" / "gt" / name).glob("*.flo"))) == frames - 1
    # a short training clip is the start of the clip a full-length one would be
    full_length = SyntheticConfig(120, 160, frames=6, train_clips=2, val_clips=1, train_frames=6)
    long = scenes.make_scene(scenes.clip_rng(0, "train", 0), full_length, scenes.clip_hazards(0))
    first = meta["splits"]["train"][0]
    assert meta["sequences"][first]["text"] == long.description["text"]
    frame0 = cv2.imread(str(tmp_path / "JPEGImages" / "480p" / first / "00002.jpg"))
    expected = cv2.cvtColor(long.render(2)[0], cv2.COLOR_RGB2BGR)
    assert np.abs(frame0.astype(int) - expected.astype(int)).mean() < 3  # JPEG noise only


def _with_user_files(root: Path) -> dict[str, str]:
    """Add what a user keeps in a synthetic set's folder: flow computed for its clips, flow
    and notes of their own. Return the digests of the user's own files."""
    clip = read_meta(root)["splits"]["val"][0]
    (root / "FlowImages" / "dis" / clip).mkdir(parents=True)
    (root / "FlowImages" / "dis" / clip / "00000.png").write_bytes(b"computed flow")
    (root / "FlowImages" / "dis" / "my-clip").mkdir(parents=True)
    (root / "FlowImages" / "dis" / "my-clip" / "00000.png").write_bytes(b"flow of my own clip")
    (root / "preds").mkdir()
    (root / "preds" / "notes.txt").write_text("keep me")
    (root / "JPEGImages" / "480p" / clip / "notes.txt").write_text("inside a clip's folder")
    return {
        k: v
        for k, v in _digests(root).items()
        if k.startswith(("preds", "FlowImages/dis/my-clip")) or k.endswith("notes.txt")
    }


@pytest.fixture()
def used_set(tmp_path: Path) -> Path:
    """A smoke set of seed 0 with the user's files in it."""
    return make_synthetic_dataset(tmp_path / "syn", smoke=True, seed=0)


def test_ensure_refuses_a_set_of_another_seed_or_size_and_deletes_nothing(used_set: Path) -> None:
    _with_user_files(used_set)
    before = _digests(used_set)
    with pytest.raises(InputError, match="seed 0, smoke size.*--seed 1 --smoke --force") as err:
        ensure_synthetic_dataset(used_set, smoke=True, seed=1)
    assert str(err.value).startswith(f"{used_set}: holds the synthetic set of seed 0")
    assert "\n" not in str(err.value)
    with pytest.raises(InputError, match="not of seed 0, full size"):
        ensure_synthetic_dataset(used_set, smoke=False, seed=0)
    assert _digests(used_set) == before


def test_force_replaces_only_the_files_the_package_wrote(used_set: Path, tmp_path: Path) -> None:
    mine = _with_user_files(used_set)
    old_clips = read_meta(used_set)["sequences"]
    ensure_synthetic_dataset(used_set, smoke=True, seed=1, force=True)
    fresh = make_synthetic_dataset(tmp_path / "fresh", smoke=True, seed=1)
    after = _digests(used_set)
    # exactly the new set, byte for byte, plus the user's files untouched
    assert after == {**_digests(fresh), **mine}
    # flow computed from the replaced frames is stale: it went with them
    assert not any(f"FlowImages/dis/{clip}/" in name for clip in old_clips for name in after)


def test_the_cli_refuses_another_seed_and_force_keeps_foreign_files(
    used_set: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = _with_user_files(used_set)
    before = _digests(used_set)
    command = ["data", "synthetic", "--out", str(used_set), "--smoke", "--seed", "1"]
    assert main(command) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"fsnet data: error: {used_set}: holds the synthetic set of seed 0")
    assert "--force" in err and len(err.splitlines()) == 1
    assert _digests(used_set) == before
    assert main([*command, "--force"]) == 0
    assert "(seed 1), made in" in capsys.readouterr().out
    assert read_meta(used_set)["seed"] == 1
    assert mine.items() <= _digests(used_set).items()


def test_training_without_data_keeps_a_set_of_other_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``fsnet train`` without ``--data`` reads ./data/synthetic; it must not replace a
    smoke set (and the flow computed for it) there with the full set."""
    from fsnet_core.train.config import TrainConfig
    from fsnet_core.train.data import data_root

    monkeypatch.chdir(tmp_path)
    root = make_synthetic_dataset(Path("data") / "synthetic", smoke=True)
    mine = _with_user_files(root)
    before = _digests(root)
    with pytest.raises(
        InputError, match="data/synthetic: holds the synthetic set of seed 0, smoke"
    ):
        data_root(TrainConfig())
    assert _digests(root) == before and mine.items() <= before.items()


def test_a_user_file_where_the_new_set_writes_stops_the_replacement(
    used_set: Path, tmp_path: Path
) -> None:
    fresh = make_synthetic_dataset(tmp_path / "fresh", smoke=True, seed=1)
    clip = read_meta(fresh)["splits"]["train"][0]
    assert clip not in read_meta(used_set)["sequences"]
    mine = used_set / "Annotations" / "480p" / clip / "00000.png"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"my own mask")
    before = _digests(used_set)
    with pytest.raises(InputError, match="not part of the synthetic set there"):
        ensure_synthetic_dataset(used_set, smoke=True, seed=1, force=True)
    assert _digests(used_set) == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_an_interrupted_replacement_leaves_the_old_set_whole(
    used_set: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _digests(used_set)

    def failing(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(storage, "_write_clip", failing)
    with pytest.raises(KeyboardInterrupt):
        ensure_synthetic_dataset(used_set, smoke=True, seed=1, force=True)
    assert _digests(used_set) == before and read_meta(used_set)["seed"] == 0


def test_the_set_is_readable_by_others_under_a_shared_umask(tmp_path: Path) -> None:
    """Generated under umask 022, the folder is 0755 and its files 0644 (not mkdtemp's 0700)."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        root = make_synthetic_dataset(tmp_path / "syn", smoke=True)
    finally:
        os.umask(old)
    assert stat.S_IMODE(root.stat().st_mode) == 0o755
    meta = root / "meta.json"
    assert stat.S_IMODE(meta.stat().st_mode) == 0o644

"""Dataset layouts: detection, frame/flow/mask pairing, and errors that name the file."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fsnet_core.cli import main
from fsnet_core.data.layouts import check_dataset_files, detect_layout, discover_sequences
from fsnet_core.flow import write_flo
from fsnet_core.io import InputError
from fsnet_core.io.images import read_mask, read_rgb

DAVIS_SAMPLE = Path(__file__).resolve().parents[1].parent / "shared" / "davis_sample"
H, W = 12, 16


def _jpg(path: Path, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = np.random.default_rng(seed).integers(0, 256, (H, W, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(path, quality=90)
    return path


def _png_mask(path: Path, size: tuple[int, int] = (H, W)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    mask = np.zeros(size, np.uint8)
    mask[2:6, 3:9] = 255
    Image.fromarray(mask).save(path)
    return path


def make_davis(root: Path, seqs: dict[str, int], split: str = "val") -> Path:
    """A tiny DAVIS-layout set with masks and ``gt`` flow images and fields."""
    for name, n in seqs.items():
        for t in range(n):
            _jpg(root / "JPEGImages" / "480p" / name / f"{t:05d}.jpg", t)
            _png_mask(root / "Annotations" / "480p" / name / f"{t:05d}.png")
            if t < n - 1:
                _jpg(root / "FlowImages" / "gt" / name / f"{t:05d}.png", 100 + t)
                write_flo(root / "Flow" / "gt" / name / f"{t:05d}.flo", np.zeros((H, W, 2)))
    (root / "ImageSets" / "2016").mkdir(parents=True, exist_ok=True)
    (root / "ImageSets" / "2016" / f"{split}.txt").write_text("\n".join(seqs) + "\n")
    return root


def make_testset(root: Path, frames: int = 4, annotated: tuple[int, ...] = (0, 2)) -> Path:
    """The authors' test layout: SEQ/Frame, SEQ/OF_FlowNet2 (JPEGs), sparse SEQ/GT."""
    for seq in ("cars1", "horses"):
        for t in range(frames):
            _jpg(root / seq / "Frame" / f"{seq}_{t:03d}.jpg", t)
            if t < frames - 1:
                _jpg(root / seq / "OF_FlowNet2" / f"{seq}_{t:03d}.jpg", 50 + t)
            if t in annotated:
                _png_mask(root / seq / "GT" / f"{seq}_{t:03d}.png")
    return root


def test_detects_each_layout(tmp_path: Path) -> None:
    assert detect_layout(make_davis(tmp_path / "davis", {"a": 3})) == "davis"
    assert detect_layout(make_testset(tmp_path / "test")) == "testset"
    _jpg(tmp_path / "train" / "Imgs" / "bear_00000.jpg")
    assert detect_layout(tmp_path / "train") == "trainset"
    _jpg(tmp_path / "duts" / "DUTS-TR" / "DUTS-TR-Image" / "x.jpg")
    (tmp_path / "duts" / "DUTS-TR" / "DUTS-TR-Mask").mkdir()
    assert detect_layout(tmp_path / "duts") == "duts"
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no known dataset layout") as err:
        detect_layout(tmp_path / "empty")
    assert err.value.path == tmp_path / "empty"
    with pytest.raises(InputError, match="not found"):
        discover_sequences(tmp_path / "missing")


def test_davis_pairs_frame_t_with_flow_t_to_t_plus_1(tmp_path: Path) -> None:
    root = make_davis(tmp_path, {"bear": 4, "cow": 3})
    records = discover_sequences(root, split="val", require_flows=True, require_masks=True)
    assert [r.name for r in records] == ["bear", "cow"]
    bear = records[0]
    assert bear.stems() == ["00000", "00001", "00002", "00003"]
    assert [p.name if p else None for p in bear.flows] == [
        "00000.png",
        "00001.png",
        "00002.png",
        None,
    ]
    assert [p.stem if p else None for p in bear.flow_fields] == ["00000", "00001", "00002", None]
    assert all(m is not None for m in bear.masks)
    assert discover_sequences(root)[1].name == "cow"  # no split: every sequence folder
    # no flow computed yet: flows are absent unless required
    shutil.rmtree(root / "FlowImages")
    assert discover_sequences(root)[0].flows == [None] * 4
    with pytest.raises(InputError, match="fsnet flow") as err:
        discover_sequences(root, require_flows=True)
    assert err.value.path == root / "FlowImages"


def test_davis_official_480p_split_lists_are_read(tmp_path: Path) -> None:
    root = make_davis(tmp_path, {"bear": 2, "cow": 2})
    (root / "ImageSets" / "2016" / "val.txt").unlink()
    (root / "ImageSets" / "480p").mkdir(parents=True)
    (root / "ImageSets" / "480p" / "train.txt").write_text(
        "/JPEGImages/480p/cow/00000.jpg /Annotations/480p/cow/00000.png\n"
        "/JPEGImages/480p/cow/00001.jpg /Annotations/480p/cow/00001.png\n"
    )
    assert [r.name for r in discover_sequences(root, split="train")] == ["cow"]
    with pytest.raises(InputError, match="split list") as err:
        discover_sequences(root, split="val")
    assert err.value.path == root / "ImageSets" / "2016" / "val.txt"


def test_several_flow_sources_must_be_chosen(tmp_path: Path) -> None:
    root = make_davis(tmp_path, {"bear": 3})
    shutil.copytree(root / "FlowImages" / "gt", root / "FlowImages" / "dis")
    assert discover_sequences(root)[0].flows[0].parts[-3] == "gt"  # gt is preferred
    assert discover_sequences(root, flow_source="dis")[0].flows[0].parts[-3] == "dis"
    shutil.rmtree(root / "FlowImages" / "gt")
    shutil.copytree(root / "FlowImages" / "dis", root / "FlowImages" / "raft-small")
    with pytest.raises(InputError, match="several flow sources"):
        discover_sequences(root)


def test_missing_folder_is_named(tmp_path: Path) -> None:
    root = make_davis(tmp_path, {"bear": 3, "cow": 3})
    shutil.rmtree(root / "Annotations" / "480p" / "cow")
    assert discover_sequences(root)[1].masks == [None] * 3
    with pytest.raises(InputError, match="mask folder not found") as err:
        discover_sequences(root, require_masks=True)
    assert err.value.path == root / "Annotations" / "480p" / "cow"
    (root / "ImageSets" / "2016" / "val.txt").write_text("bear\nelephant\n")
    with pytest.raises(InputError, match="folder not found") as err:
        discover_sequences(root, split="val")
    assert err.value.path == root / "JPEGImages" / "480p" / "elephant"


def test_frame_without_flow_or_mask_is_named(tmp_path: Path) -> None:
    root = make_davis(tmp_path, {"bear": 4})
    (root / "FlowImages" / "gt" / "bear" / "00001.png").unlink()
    with pytest.raises(InputError, match="no flow image") as err:
        discover_sequences(root, require_flows=True)
    assert err.value.path == root / "JPEGImages" / "480p" / "bear" / "00001.jpg"
    assert discover_sequences(root)[0].flows[1] is None  # not required: recorded as absent

    root = make_davis(tmp_path / "b", {"bear": 4})
    (root / "Annotations" / "480p" / "bear" / "00003.png").unlink()
    with pytest.raises(InputError, match="no mask") as err:
        discover_sequences(root, require_masks=True)
    assert err.value.path == root / "JPEGImages" / "480p" / "bear" / "00003.jpg"


def test_mismatched_counts_name_the_extra_file(tmp_path: Path) -> None:
    root = make_davis(tmp_path, {"bear": 3})
    extra = _png_mask(root / "Annotations" / "480p" / "bear" / "00007.png")
    with pytest.raises(InputError, match="4 mask files for 3 frames that take one") as err:
        discover_sequences(root)
    assert err.value.path == extra
    extra.unlink()
    # a flow for the last frame would pair it with a frame that does not exist
    last_flow = _jpg(root / "FlowImages" / "gt" / "bear" / "00002.png")
    with pytest.raises(InputError, match="3 flow files for 2 frames that take one") as err:
        discover_sequences(root)
    assert err.value.path == last_flow


def test_truncated_or_unreadable_images_are_named_when_decoded(tmp_path: Path) -> None:
    root = make_davis(tmp_path, {"bear": 3})
    frame = root / "JPEGImages" / "480p" / "bear" / "00001.jpg"
    data = frame.read_bytes()
    frame.write_bytes(data[: len(data) // 2])
    records = discover_sequences(root)  # discovery only lists files
    with pytest.raises(InputError, match="truncated") as err:
        check_dataset_files(records)
    assert err.value.path == frame
    with pytest.raises(InputError, match="truncated"):
        read_rgb(frame)
    mask = root / "Annotations" / "480p" / "bear" / "00000.png"
    mask.write_bytes(b"not a png")
    with pytest.raises(InputError, match="not a readable image") as err:
        read_mask(mask)
    assert err.value.path == mask


def test_validate_checks_sizes_and_flow_fields(tmp_path: Path) -> None:
    root = make_davis(tmp_path, {"bear": 3})
    assert len(check_dataset_files(root, require_flows=True, require_masks=True)) == 1
    small = _png_mask(root / "Annotations" / "480p" / "bear" / "00002.png", (6, 8))
    with pytest.raises(InputError, match="differs from its frame") as err:
        check_dataset_files(root)
    assert err.value.path == small
    _png_mask(small)
    bad_flo = root / "Flow" / "gt" / "bear" / "00001.flo"
    bad_flo.write_bytes(bad_flo.read_bytes()[:-8])
    with pytest.raises(InputError, match="truncated or corrupt .flo") as err:
        check_dataset_files(root)
    assert err.value.path == bad_flo


def test_mask_reading_handles_255_01_and_palette(tmp_path: Path) -> None:
    raw = np.zeros((4, 5), np.uint8)
    raw[1:3, 1:4] = 1
    Image.fromarray(raw * 255).save(tmp_path / "a.png")
    Image.fromarray(raw).save(tmp_path / "b.png")
    palette = Image.fromarray(raw, mode="P")
    palette.putpalette([0, 0, 0, 128, 0, 0] + [0] * 762)  # DAVIS-2017 style: index 1 is dark red
    palette.save(tmp_path / "c.png")
    for name in ("a.png", "b.png", "c.png"):
        np.testing.assert_array_equal(read_mask(tmp_path / name), raw.astype(bool))


def test_authors_test_layout_with_sparse_annotations(tmp_path: Path) -> None:
    root = make_testset(tmp_path / "FBMS", frames=4, annotated=(0, 2))
    records = discover_sequences(root, require_flows=True)
    assert [r.name for r in records] == ["cars1", "horses"]
    cars = records[0]
    assert [p.name if p else None for p in cars.flows] == [
        "cars1_000.jpg",
        "cars1_001.jpg",
        "cars1_002.jpg",
        None,
    ]
    assert [m is not None for m in cars.masks] == [True, False, True, False]
    with pytest.raises(InputError, match="no mask") as err:
        discover_sequences(root, require_masks=True)
    assert err.value.path == root / "cars1" / "Frame" / "cars1_001.jpg"
    with pytest.raises(InputError, match="no splits"):
        discover_sequences(root, split="val")
    # a second flow folder (from `fsnet flow`) is chosen by name
    shutil.copytree(root / "cars1" / "OF_FlowNet2", root / "cars1" / "OF_dis")
    assert discover_sequences(root, flow_source="OF_dis")[0].flows[0].parent.name == "OF_dis"
    assert discover_sequences(root)[0].flows[0].parent.name == "OF_FlowNet2"
    (root / "horses" / "OF_FlowNet2" / "horses_001.jpg").unlink()
    with pytest.raises(InputError, match="no flow image") as err:
        discover_sequences(root, require_flows=True)
    assert err.value.path == root / "horses" / "Frame" / "horses_001.jpg"


def test_authors_training_layout_pairs_flat_folders_by_stem(tmp_path: Path) -> None:
    root = tmp_path / "TrainSet_Video"
    for seq, n in (("bear", 3), ("blackswan", 2)):
        for t in range(n):
            stem = f"{seq}_{t:05d}"
            _jpg(root / "Imgs" / f"{stem}.jpg")
            _jpg(root / "Flow" / f"{stem}.jpg")  # the authors' flows are already per image
            _png_mask(root / "ground-truth" / f"{stem}.png")
    records = discover_sequences(root, require_flows=True, require_masks=True)
    assert [(r.name, len(r)) for r in records] == [("bear", 3), ("blackswan", 2)]
    assert all(f is not None for r in records for f in r.flows)
    assert records[0].flows[2].name == "bear_00002.jpg"
    (root / "Flow" / "bear_00001.jpg").unlink()
    with pytest.raises(InputError, match="no flow image") as err:
        discover_sequences(root, require_flows=True)
    assert err.value.path == root / "Imgs" / "bear_00001.jpg"
    # the static stage's folder: Imgs + GTs, no flow
    static = tmp_path / "TrainSet_StaticAndVideo"
    _jpg(static / "Imgs" / "sun_abc.jpg")
    _png_mask(static / "GTs" / "sun_abc.png")
    (record,) = discover_sequences(static, require_masks=True)
    assert record.masks[0] == static / "GTs" / "sun_abc.png" and record.flows == [None]


def test_duts_layout_and_its_splits(tmp_path: Path) -> None:
    for part in ("TR", "TE"):
        for i in range(2):
            _jpg(tmp_path / f"DUTS-{part}" / f"DUTS-{part}-Image" / f"ILSVRC_{i}.jpg")
            _png_mask(tmp_path / f"DUTS-{part}" / f"DUTS-{part}-Mask" / f"ILSVRC_{i}.png")
    assert [r.name for r in discover_sequences(tmp_path)] == ["DUTS-TE", "DUTS-TR"]
    (train,) = discover_sequences(tmp_path, split="train", require_masks=True)
    assert train.name == "DUTS-TR" and len(train) == 2 and train.flows == [None, None]
    (tmp_path / "DUTS-TR" / "DUTS-TR-Mask" / "ILSVRC_1.png").unlink()
    with pytest.raises(InputError, match="no mask") as err:
        discover_sequences(tmp_path, split="train", require_masks=True)
    assert err.value.path.name == "ILSVRC_1.jpg"


def test_cli_check_reports_counts_or_the_bad_file(tmp_path: Path, capsys) -> None:
    root = make_davis(tmp_path, {"bear": 3})
    assert main(["data", "check", str(root), "--require-flows", "--require-masks"]) == 0
    assert "davis layout, 1 sequences, 3 frames, 2 flow images, 3 masks" in capsys.readouterr().out
    (root / "Annotations" / "480p" / "bear" / "00001.png").write_bytes(b"")
    assert main(["data", "check", str(root)]) == 1
    assert "00001.png" in capsys.readouterr().err


@pytest.mark.skipif(not (DAVIS_SAMPLE / "JPEGImages").is_dir(), reason="no ../shared/davis_sample")
def test_real_davis_sample_is_discovered_and_decodes() -> None:
    records = discover_sequences(DAVIS_SAMPLE, split="val", require_masks=True)
    assert len(records) == 10
    lengths = {r.name: len(r) for r in records}
    assert lengths["blackswan"] == 50 and lengths["soapbox"] == 99
    assert all(f is None for r in records for f in r.flows)  # no flow computed in the sample
    short = [r for r in records if r.name == "car-shadow"]
    check_dataset_files(short)  # decode every frame and mask of one sequence
    assert read_rgb(short[0].frames[0]).shape == (480, 854, 3)
    assert read_mask(short[0].masks[0]).any()

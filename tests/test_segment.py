"""``fsnet segment``: a video (or a folder of frames) in, a mask per frame and an overlay out."""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from fsnet_core.cli import main
from fsnet_core.data.layouts import discover_sequences
from fsnet_core.data.synthetic import make_synthetic_dataset
from fsnet_core.inference import frames as FR
from fsnet_core.inference import pipeline, writers
from fsnet_core.inference import segment as S
from fsnet_core.io import InputError
from fsnet_core.io.images import read_mask, read_rgb
from fsnet_core.metrics import binarize, jaccard
from fsnet_core.model import FSNet
from fsnet_core.model.serialization import save_model

av = pytest.importorskip("av", reason="PyAV (a dependency of fsnet-lab) is not installed")

SIZE = 64  # network input side: small, so the tests stay fast


@pytest.fixture(autouse=True)
def _one_thread(single_thread):
    """Two torch threads on a busy 2-core machine are many times slower than one."""


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A tiny random-weight FSNet (He-initialised heads, so the maps vary across a frame)."""
    torch.manual_seed(0)
    net = FSNet(backbone="resnet18", channels=8, num_bpm=1).eval()
    for m in net.modules():
        if isinstance(m, torch.nn.Conv2d):
            m.reset_parameters()
    return save_model(net, tmp_path_factory.mktemp("ckpt") / "tiny.pt")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    return make_synthetic_dataset(tmp_path_factory.mktemp("seg") / "synthetic", smoke=True)


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def gif_frames(path: Path) -> tuple[int, tuple[int, int]]:
    with Image.open(path) as im:
        assert im.format == "GIF"
        return im.n_frames, im.size


# ----------------------------------------------------------------------------- which frames


def frames(n: int) -> list[FR.Frame]:
    return [FR.Frame(i, f"{i:05d}", np.full((4, 6, 3), i, np.uint8)) for i in range(n)]


def pairs(n: int, fps: float = 10.0, **selection) -> list[tuple[int, int, bool]]:
    chosen = FR.frame_pairs(frames(n), fps, FR.Selection(**selection))
    return [(p.frame.index, p.partner.index, p.backward) for p in chosen]


def test_every_frame_pairs_with_the_next_and_the_last_with_the_one_before():
    assert pairs(4) == [(0, 1, False), (1, 2, False), (2, 3, False), (3, 2, True)]


def test_selection_keeps_the_next_video_frame_as_partner():
    assert pairs(7, every=3) == [(0, 1, False), (3, 4, False), (6, 5, True)]
    assert pairs(10, max_frames=2, every=2) == [(0, 1, False), (2, 3, False)]
    # start 0.2 s and end 0.5 s at 10 frames/s: frames 2, 3, 4; frame 5 is outside the window
    assert pairs(10, start=0.2, end=0.5) == [(2, 3, False), (3, 4, False), (4, 3, True)]


def test_a_single_frame_or_a_bad_selection_is_refused():
    with pytest.raises(InputError, match="needs two"):
        pairs(1)
    with pytest.raises(ValueError):
        FR.Selection(every=0)
    with pytest.raises(ValueError):
        FR.Selection(start=2.0, end=1.0)


def test_background_stages_pass_errors_on():
    def broken():
        yield 1
        raise InputError("clip.mp4", "cannot decode frame 1")

    got = []
    with pytest.raises(InputError, match="cannot decode frame 1"):
        for item in pipeline.in_background(broken()):
            got.append(item)
    assert got == [1]


def test_tint_reddens_only_the_mask():
    frame = np.full((2, 2, 3), 100, np.uint8)
    mask = np.array([[True, False], [False, False]])
    out = writers.tint(frame, mask)
    assert out[0, 0, 0] > 100 and out[0, 0, 1] < 100
    assert (out[1:] == 100).all() and (out[0, 1] == 100).all()


def test_flow_is_computed_at_the_model_scale():
    assert S.flow_scale(480, 854, 352) == pytest.approx(352 / 480)
    assert S.flow_scale(480, 854, 64) == pytest.approx(240 / 480)  # not below 240 pixels
    assert S.flow_scale(120, 160, 352) == 1.0


# ----------------------------------------------------------------------------- bad input


def run_cli_out(capsys, *args: str) -> tuple[int, str, str]:
    """``fsnet segment ARGS --quiet``: exit code, stdout, stderr."""
    code = main(["segment", *map(str, args), "--quiet"])
    captured = capsys.readouterr()
    return code, captured.out.strip(), captured.err.strip()


def run_cli(capsys, *args: str) -> tuple[int, str]:
    code, _, err = run_cli_out(capsys, *args)
    return code, err


def test_unreadable_video_empty_folder_and_mismatched_frames_give_one_line(
    tmp_path, checkpoint, capsys
):
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n")
    code, err = run_cli(capsys, fake, "--out", tmp_path / "o1", "--checkpoint", checkpoint)
    assert code == 1 and len(err.splitlines()) == 1
    assert f"{fake}: not a readable video" in err

    empty = tmp_path / "empty"
    empty.mkdir()
    code, err = run_cli(capsys, empty, "--out", tmp_path / "o2", "--checkpoint", checkpoint)
    assert code == 1 and len(err.splitlines()) == 1 and "no frames to segment" in err

    folder = tmp_path / "frames"
    folder.mkdir()
    Image.new("RGB", (32, 24)).save(folder / "00000.png")
    Image.new("RGB", (32, 24)).save(folder / "00001.png")
    Image.new("RGB", (30, 24)).save(folder / "00002.png")
    code, err = run_cli(capsys, folder, "--out", tmp_path / "o3", "--checkpoint", checkpoint)
    assert code == 1 and len(err.splitlines()) == 1
    assert f"{folder / '00002.png'}: is 30x24 but 00000.png is 32x24" in err
    assert not (tmp_path / "o3" / "overlay.mp4").exists()  # nothing half-written

    code, err = run_cli(capsys, tmp_path / "nope.mov", "--out", tmp_path / "o4")  # no download
    assert code == 1 and "no such video file or folder" in err


def frame_folder(folder: Path, count: int, size: tuple[int, int] = (32, 24), seed: int = 0) -> Path:
    """``count`` noise frames ``00000.png, ...`` of ``size`` (width, height)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for i in range(count):
        pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i:05d}.png")
    return folder


def maps_in(out: Path) -> dict[str, bytes]:
    return {f"{p.parent.name}/{p.name}": p.read_bytes() for p in sorted(out.glob("*/*.png"))}


def test_a_rerun_with_another_video_checkpoint_or_setting_is_refused_and_force_starts_again(
    tmp_path, checkpoint, capsys
):
    clip = frame_folder(tmp_path / "clip", 4)
    out = tmp_path / "out"
    settings = ["--out", out, "--size", SIZE]
    code, err = run_cli(capsys, clip, *settings, "--checkpoint", checkpoint)
    assert code == 0, err
    maps = maps_in(out)
    assert len(maps) == 8

    torch.manual_seed(1)
    other = save_model(FSNet(backbone="resnet18", channels=8, num_bpm=1), tmp_path / "other.pt")
    same_count = frame_folder(tmp_path / "same_count", 4, seed=1)  # same names and frame count
    bigger = frame_folder(tmp_path / "bigger", 3, size=(40, 30), seed=2)
    for source, change, named in [
        (clip, ["--checkpoint", other], f"checkpoint/model ({checkpoint} before, {other} now)"),
        (clip, ["--size", SIZE + 32, "--checkpoint", checkpoint], f"size ({SIZE} before, 96 now)"),
        (clip, ["--flow", "farneback", "--checkpoint", checkpoint], "flow ('dis' before"),
        (same_count, ["--checkpoint", checkpoint], f"video ({clip} before, {same_count} now)"),
        (bigger, ["--checkpoint", checkpoint], f"video ({clip} before, {bigger} now)"),
    ]:
        code, err = run_cli(capsys, source, *settings, *change)
        assert code == 1 and len(err.splitlines()) == 1, err
        assert f"{out}: holds maps made with another {named}" in err, err
        assert "refusing to mix maps; use another --out, or --force" in err
    assert maps_in(out) == maps  # nothing rewritten, nothing added

    (out / "notes.txt").write_text("mine")
    (out / "masks" / "README").write_text("mine too")
    code, err = run_cli(capsys, bigger, *settings, "--checkpoint", other, "--force")
    assert code == 0, err
    written = [f"{kind}/{i:05d}.png" for kind in ("masks", "probs") for i in range(3)]
    assert sorted(maps_in(out)) == written
    assert Image.open(out / "masks" / "00000.png").size == (40, 30)
    assert (out / "notes.txt").read_text() == "mine" and (out / "masks" / "README").is_file()
    code, printed, err = run_cli_out(capsys, bigger, *settings, "--checkpoint", other)
    assert code == 0 and f"3 frames segmented into {out} (3 already there)" in printed, err


def test_a_folder_of_ffmpeg_numbered_frames_is_read_in_natural_order(tmp_path):
    for i in range(1, 13):  # as `ffmpeg -i clip.mp4 %d.png` names them
        Image.new("RGB", (8, 6), (20 * i, 0, 0)).save(tmp_path / f"{i}.png")
    _, read = FR.open_frames(tmp_path)
    got = list(read)
    assert [f.name for f in got] == [str(i) for i in range(1, 13)]
    assert [int(f.rgb[0, 0, 0]) for f in got] == [20 * i for i in range(1, 13)]


@pytest.fixture(scope="module")
def cut_video(tmp_path_factory) -> tuple[Path, Path]:
    """An H.264 mp4 of 20 frames, and a copy of its first 60 % (a download cut short)."""
    folder = tmp_path_factory.mktemp("cut")
    rng = np.random.default_rng(0)
    noise = (rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(20))
    whole = writers.write_video(noise, folder / "whole.mp4", fps=25)
    cut = folder / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.6)])
    return whole, cut


def test_a_truncated_video_is_reported_not_ended_silently(cut_video, tmp_path, checkpoint, capsys):
    whole, cut = cut_video
    said: list[str] = []
    assert len(list(FR.open_frames(whole, warn=said.append)[1])) == 20 and said == []
    count = len(list(FR.open_frames(cut, warn=said.append)[1]))
    assert 0 < count < 20
    assert said == [
        f"{cut}: {count} frames decoded but the container declares 20: the file is truncated "
        "or damaged, so the frames after the last one decoded are missing"
    ]
    said.clear()  # a run that stops early (--max-frames) does not read to the end: no word
    _, read = FR.open_frames(cut, warn=said.append)
    assert len(list(FR.frame_pairs(read, 25.0, FR.Selection(max_frames=2)))) == 2 and said == []

    args = ["--checkpoint", checkpoint, "--size", SIZE]
    code, err = run_cli(capsys, cut, "--out", tmp_path / "out", *args)
    assert code == 0 and err.splitlines() == [
        f"fsnet segment: warning: {cut}: {count} frames decoded but the container declares 20: "
        "the file is truncated or damaged, so the frames after the last one decoded are missing"
    ]
    assert len(list((tmp_path / "out" / "masks").glob("*.png"))) == count
    code, err = run_cli(capsys, cut, "--out", tmp_path / "strict", *args, "--strict")
    assert code == 1 and len(err.splitlines()) == 1, err
    assert err.startswith(f"fsnet segment: error: {cut}: {count} frames decoded but the container")
    assert not (tmp_path / "strict" / "overlay.mp4").exists()


@pytest.mark.parametrize("fps", ["0", "-5", "nan", "inf"])
def test_fps_must_be_a_finite_number_above_zero(fps, tmp_path, checkpoint, capsys):
    folder = frame_folder(tmp_path / "frames", 2)
    args = [folder, "--out", tmp_path / "out", "--checkpoint", checkpoint, "--fps", fps]
    with pytest.raises(SystemExit) as info:  # argparse's way: usage, one error line, exit 2
        main(["segment", *map(str, args), "--quiet"])
    assert info.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == f"fsnet segment: error: argument --fps: '{fps}' must be a finite number above 0"
    assert not (tmp_path / "out").exists()


@pytest.fixture()
def lock(tmp_path):
    """Makes a folder refuse new files (read-only; for root, which ignores modes, immutable)."""
    locked: list[Path] = []

    def make(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            folder.chmod(0o555)
        elif subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
            pytest.skip("running as root where chattr +i is not available")
        locked.append(folder)
        return folder

    yield make
    for folder in locked:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


def test_a_folder_that_refuses_the_overlay_or_the_manifest_is_named(
    tmp_path, lock, checkpoint, capsys
):
    video = lock(tmp_path / "videos")
    with pytest.raises(OSError) as info:  # FFmpeg's own error names no file
        writers.write_video([np.zeros((16, 16, 3), np.uint8)] * 2, video / "a.mp4")
    assert info.value.filename == str(tmp_path / "videos" / "a.mp4")

    clip = frame_folder(tmp_path / "clip", 3)
    out = tmp_path / "out"
    for kind in ("masks", "probs"):
        (out / kind).mkdir(parents=True)  # the maps could be written, the rest not
    lock(out)
    code, err = run_cli(capsys, clip, "--out", out, "--checkpoint", checkpoint, "--size", SIZE)
    assert code == 1 and len(err.splitlines()) == 1, err
    assert err.startswith(f"fsnet segment: error: {out}/"), err


def test_ctrl_c_stops_the_threads_keeps_whole_maps_and_says_how_to_resume(
    tmp_path, checkpoint, capsys, monkeypatch
):
    clip = frame_folder(tmp_path / "clip", 6)
    out = tmp_path / "out"
    real = S.make_predictor

    def interrupted_at_the_third_frame(*args, **kwargs):
        predictor, calls = real(*args, **kwargs), []

        def predict(image, flow):
            calls.append(image)
            if len(calls) == 3:
                raise KeyboardInterrupt  # as Ctrl-C would, in the main thread
            return predictor(image, flow)

        return predict

    monkeypatch.setattr(S, "make_predictor", interrupted_at_the_third_frame)
    threads = set(threading.enumerate())
    args = [clip, "--out", out, "--checkpoint", checkpoint, "--size", SIZE]
    code, err = run_cli(capsys, *args)
    assert code == 130
    assert err == (
        f"fsnet segment: interrupted: the masks and maps of 2 frames are kept in {out}; "
        "run the same command again to segment the rest"
    )
    # decoder, flow and writer threads ended (tqdm's own monitor thread lives for the process)
    assert {t for t in threading.enumerate() if t.name != "tqdm_monitor"} <= threads
    assert sorted(maps_in(out)) == [f"{k}/0000{i}.png" for k in ("masks", "probs") for i in (0, 1)]
    assert not (out / "overlay.mp4").exists() and not list(out.rglob(".*"))  # nothing partial
    monkeypatch.undo()
    code, printed, err = run_cli_out(capsys, *args)
    assert code == 0 and f"6 frames segmented into {out} (2 already there)" in printed, err


@pytest.mark.slow
def test_a_real_ctrl_c_ends_with_one_line_and_exit_130(tmp_path, checkpoint):
    import signal
    import sys
    import time

    rng = np.random.default_rng(0)
    noise = (rng.integers(0, 256, (120, 160, 3), dtype=np.uint8) for _ in range(60))
    clip = writers.write_video(noise, tmp_path / "clip.mp4")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "fsnet_core", "segment", str(clip), "--out", str(out)]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    run = subprocess.Popen(
        [*command, "--checkpoint", str(checkpoint), "--size", str(SIZE), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        # a shell's background job ignores SIGINT, and Python then never turns it into Ctrl-C
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 240
    while len(list(out.glob("masks/*.png"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 130, err
    masks, probs = ({p.stem for p in out.glob(f"{kind}/*.png")} for kind in ("masks", "probs"))
    kept = len(masks & probs)
    assert kept >= 3 and err == (
        f"fsnet segment: interrupted: the masks and maps of {kept} frames are kept in {out}; "
        "run the same command again to segment the rest\n"
    )


# ----------------------------------------------------------------------------- DAVIS clip


@pytest.mark.davis
@pytest.mark.slow
def test_segment_a_davis_clip_writes_every_frame_an_overlay_and_a_gif(
    davis_sample, checkpoint, tmp_path, capsys, monkeypatch
):
    sources = sorted((davis_sample / "JPEGImages" / "480p" / "blackswan").glob("*.jpg"))[:8]
    clip = writers.write_video((read_rgb(p) for p in sources), tmp_path / "blackswan.mp4", fps=24)
    height, width = read_rgb(sources[0]).shape[:2]
    out = tmp_path / "out"
    code, err = run_cli(capsys, clip, "--out", out, "--checkpoint", checkpoint, "--size", SIZE)
    assert code == 0, err
    names = [f"{i:05d}" for i in range(len(sources))]
    for kind in ("masks", "probs"):
        written = sorted(p.stem for p in (out / kind).glob("*.png"))
        assert written == names  # the last frame included
        for name in names:
            assert Image.open(out / kind / f"{name}.png").size == (width, height)
    mask = np.asarray(Image.open(out / "masks" / "00007.png"))
    assert set(np.unique(mask)) <= {0, 255}
    overlay = decoded(out / "overlay.mp4")
    assert len(overlay) == len(names) and overlay[0].shape == (height, width - width % 2, 3)
    with av.open(str(out / "overlay.mp4")) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.format.name) == ("h264", "yuv420p")
    count, (gif_w, _) = gif_frames(out / "overlay.gif")
    assert count == len(names) // 3 + (len(names) % 3 > 0)  # 24 frames/s shown at 8 frames/s
    assert gif_w == writers.GIF_WIDTH

    # Running again finds everything done and loads no model.
    monkeypatch.setattr(S, "make_predictor", lambda *a, **k: pytest.fail("model loaded again"))
    summary = S.segment_video(clip, out, checkpoint, size=SIZE, progress=False)
    assert (summary.frames, summary.computed) == (len(names), 0)
    # A lost mask is redone alone, and the overlay is written again.
    monkeypatch.undo()
    (out / "masks" / "00003.png").unlink()
    summary = S.segment_video(clip, out, checkpoint, size=SIZE, progress=False)
    assert (summary.frames, summary.computed) == (len(names), 1)
    assert (out / "masks" / "00003.png").is_file() and len(decoded(out / "overlay.mp4")) == 8


@pytest.mark.slow
def test_folder_of_frames_with_every_and_max_frames(synthetic, checkpoint, tmp_path):
    clip = discover_sequences(synthetic, split="val")[0]
    folder = clip.frames[0].parent
    summary = S.segment_video(
        folder,
        tmp_path / "out",
        checkpoint,
        size=SIZE,
        selection=FR.Selection(every=2, max_frames=2),
        progress=False,
    )
    expected = [clip.frames[0].stem, clip.frames[2].stem]
    assert summary.names == expected and summary.computed == 2
    assert sorted(p.stem for p in (tmp_path / "out" / "masks").glob("*.png")) == expected
    assert len(decoded(tmp_path / "out" / "overlay.mp4")) == 2


# ----------------------------------------------------------------------------- same J as infer


@pytest.mark.slow
def test_masks_score_the_same_j_as_fsnet_infer_on_the_frames(tmp_path, capsys):
    """The notebooks' course model: segment's video path against infer's image path.

    The model and the built-in set are the ones the notebooks share (trained or
    generated on first use, then cached); the flow images ``fsnet flow`` adds
    to the set are DIS's, as segment's.
    """
    from fsnet_core.course.model_cache import notebook_config, synthetic_root, train_or_load

    synthetic = synthetic_root()
    config = notebook_config(smoke=True)
    ckpt = train_or_load(config, name="notebook").last_checkpoint
    assert main(["flow", str(synthetic), "--method", "dis", "--quiet"]) == 0
    infer_out = tmp_path / "infer"
    args = ["--checkpoint", ckpt, "--data", synthetic, "--split", "val", "--flow-source", "dis"]
    assert (
        main(["infer", *map(str, args), "--size", str(config.size), "--out", str(infer_out)]) == 0
    )
    j_infer, j_segment = [], []
    for clip in discover_sequences(synthetic, split="val")[:3]:
        video = writers.write_video(
            (read_rgb(p) for p in clip.frames), tmp_path / f"{clip.name}.mp4"
        )
        out = tmp_path / "segment" / clip.name
        code, err = run_cli(capsys, video, "--out", out, "--checkpoint", ckpt)  # size from ckpt
        assert code == 0, err
        assert len(list((out / "masks").glob("*.png"))) == len(clip.frames)
        for t, frame in enumerate(clip.frames[:-1]):  # infer has no map for the last frame
            truth = read_mask(clip.masks[t])
            inferred = np.asarray(Image.open(infer_out / clip.name / f"{frame.stem}.png"))
            j_infer.append(jaccard(binarize(inferred / 255.0), truth))
            j_segment.append(jaccard(read_mask(out / "masks" / f"{t:05d}.png"), truth))
    assert np.mean(j_infer) > 0.2, "the course model should find the object"
    assert abs(np.mean(j_segment) - np.mean(j_infer)) <= 0.02, (j_segment, j_infer)


# ----------------------------------------------------------------------------- the default model


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def file_server(tmp_path):
    """A loopback HTTP server for ``tmp_path/served``; yields its base address."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(_Quiet, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_missing_default_checkpoint_offline_gives_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("FSNET_LAB_MIRROR", raising=False)
    (tmp_path / "f").mkdir()
    for i in range(2):
        Image.new("RGB", (32, 24)).save(tmp_path / "f" / f"{i}.png")
    url = f"http://127.0.0.1:{closed_port()}/fsnet.pth"
    code, err = run_cli(capsys, "f", "--out", "out", "--checkpoint-url", url)
    assert code == 1 and len(err.splitlines()) == 1, err
    target = tmp_path / "torch" / "hub" / "checkpoints" / "2021-ICCV-FSNet-20epoch-new.pth"
    assert f"{target}: FSNetWeights.DAVIS16_ICCV21 checkpoint not found" in err
    assert f"could not be downloaded ({url}: could not be reached" in err
    assert "--checkpoint CKPT" in err and "fsnet download fsnet-checkpoint" in err
    assert not target.exists() and not (tmp_path / "out" / "masks").exists()


@pytest.mark.slow
def test_default_checkpoint_is_downloaded_then_reused(
    tmp_path, monkeypatch, file_server, checkpoint, synthetic
):
    served, base = file_server
    (served / "fsnet.pth").write_bytes(checkpoint.read_bytes())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    folder = discover_sequences(synthetic, split="val")[0].frames[0].parent
    selection = FR.Selection(max_frames=2)
    first = S.segment_video(
        folder, "out", size=SIZE, selection=selection, progress=False,
        checkpoint_url=f"{base}/fsnet.pth",
    )  # fmt: skip
    assert first.computed == 2
    cache = tmp_path / "torch" / "hub" / "checkpoints"
    assert (cache / "2021-ICCV-FSNet-20epoch-new.pth").is_file()  # the one fetch path's place
    (served / "fsnet.pth").unlink()  # the second run must not need the server
    again = S.segment_video(folder, "out2", size=SIZE, selection=selection, progress=False)
    assert again.computed == 2

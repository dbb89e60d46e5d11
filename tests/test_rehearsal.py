"""The Colab rehearsal: every notebook with ``SMOKE = False``, offline, against stand-ins.

What a Colab user runs (the authors' checkpoint, DAVIS-2016, the authors' U-VOS maps,
RAFT weights, a video of their own) is fetched here from a loopback HTTP server through
``FSNET_LAB_MIRROR``; every other address goes to a closed proxy port, so anything that
is not mirrored fails at once and names its address. The stand-ins have the real formats
and tiny sizes, made by the fixtures below in seconds: a checkpoint with the authors'
DataParallel key names (the deterministic parity weights, ~400 MB as the real file), a
``DAVIS-data.zip`` in DAVIS-2016's layout (2 val + 1 train sequences of 5 frames, 96 x 54),
``FSNet-UVOS-results.zip`` (binary maps of those val sequences), ``TestSet.zip`` (the
authors' test layout with FlowNet 2.0 flow images: one DAVIS and five SegTrack-V2 clips),
RAFT-small weights in torchvision's format (a random ``raft_small()`` state dict) and a
short mp4.

The kernel is the Colab-versions environment of ``tests/colab_env.py`` with this checkout
installed by the set-up cell's Colab branch (papermill runs from the dev environment with
a kernel spec pointing at that Python), so what breaks on Colab's versions breaks here. The
kernel sees a stand-in ``google.colab``, so the notebooks take their Colab branches: the
set-up cell's install (pip finds the package in place) and notebook 05's extras, which pip
installs from a local wheelhouse standing in for PyPI (``PIP_NO_INDEX``).
The course model is shrunk through ``FSNET_LAB_CONFIG``, the real-video sections through
``REAL_SIZE``/``REAL_SEQUENCES``/``REAL_FRAMES``, claims only report
(``FSNET_LAB_CLAIMS=report``: random weights cannot meet claims about trained behaviour,
the SMOKE runs of ``make run`` check them), and every file goes under a temporary
``FSNET_LAB_HOME`` and ``TORCH_HOME``: the checkout's ``data/`` and ``runs/`` stay untouched.

RAFT's file name carries the first digits of its SHA-256, which the downloader and every
load check, so no stand-in can be served or loaded under that name. It is put into the
temporary torch hub cache as if downloaded, and an IPython start-up file of the rehearsal's
own kernel (never the package) lets the name check accept exactly that file's digest.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import json
import os
import shutil
import socket
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from colab_env import restore_baseline
from PIL import Image

from fsnet_core.harness.notebooks import NotebookFailed, execute_notebook, find_notebooks

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
# The real-video sections' parameters (00, 02, 03, 05, 06), passed to every notebook.
REAL = {"REAL_SIZE": 64, "REAL_SEQUENCES": 2, "REAL_FRAMES": 3}
# The SMOKE = False course model, shrunk for two CPU cores (budget fields only: the
# notebooks' variants differ in rcam, num_bpm and seed, which must stay theirs).
COURSE_MODEL = {"epochs": 1, "size": 64, "channels": 8, "val_max_frames": 24}
VAL, TRAIN = ("blackswan", "bmx-trees"), ("bear",)  # names from DAVIS-2016's lists
# TestSet.zip's SegTrack-V2 stand-in: enough sequences for a train/select/test split
SEGTRACK = ("bird_of_paradise", "birdfall", "frog", "girl", "monkey")
FRAMES, WIDTH, HEIGHT = 5, 96, 54  # 16:9 as DAVIS's 854 x 480
CELL_TIMEOUT_S = 900


def own_parameters(video: Path) -> dict[str, dict[str, object]]:
    """What a notebook gets on top of :data:`REAL` (the same for all)."""
    return {
        "01_optical_flow": {"USE_RAFT": True, "EPE_CLIPS": 3, "CACHE_SMALL_SET": True},
        "04_training_gpu": {"FLOW_METHOD": "dis", "REAL_EPOCHS": 1, "REAL_BATCH": 2},
        "07_your_video": {"VIDEO": str(video), "MAX_FRAMES": 4},
        "06_attribution": {"IG_STEPS": 2},  # IG over the authors' ResNet-50 streams
    }


# ---------------------------------------------------------------- the stand-ins


def clip(name: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """``FRAMES`` (frame, mask) pairs: a textured disc gliding over a textured background."""
    rng = np.random.default_rng(zlib_seed(name))
    background = rng.integers(40, 200, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    colour = rng.integers(0, 256, 3, dtype=np.uint8)
    ys, xs = np.mgrid[:HEIGHT, :WIDTH]
    out = []
    for t in range(FRAMES):
        cx, cy = 25 + 8 * t, HEIGHT / 2 + 2 * t
        mask = ((xs - cx) ** 2 + (ys - cy) ** 2 < 14**2).astype(np.uint8) * 255
        frame = background.copy()
        frame[mask > 0] = colour
        out.append((frame, mask))
    return out


def zlib_seed(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


def encoded(array: np.ndarray, fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format=fmt)
    return buf.getvalue()


def davis_zip(path: Path) -> Path:
    """DAVIS-data.zip as the official one: DAVIS/{JPEGImages,Annotations,ImageSets}/480p."""
    with zipfile.ZipFile(path, "w") as z:
        for split, names in (("train", TRAIN), ("val", VAL)):
            lines = []
            for seq in names:
                for t, (frame, mask) in enumerate(clip(seq)):
                    jpg, png = (
                        f"JPEGImages/480p/{seq}/{t:05d}.jpg",
                        f"Annotations/480p/{seq}/{t:05d}.png",
                    )
                    z.writestr(f"DAVIS/{jpg}", encoded(frame, "JPEG"))
                    z.writestr(f"DAVIS/{png}", encoded(mask, "PNG"))
                    lines.append(f"/{jpg} /{png}\n")
            z.writestr(f"DAVIS/ImageSets/480p/{split}.txt", "".join(lines))
    return path


def authors_testset_zip(path: Path) -> Path:
    """TestSet.zip as the authors': TestSet/DATASET/SEQ/{Frame/*.jpg, GT/*.png,
    OF_FlowNet2/*.jpg}, FlowNet 2.0's flow images for every frame but the last (here the
    disc's exact motion in the Middlebury colours). DAVIS (one clip) and SegTrack-V2."""
    from fsnet_core.flow.formats import flow_to_color

    with zipfile.ZipFile(path, "w") as z:
        for dataset, names in (("DAVIS", VAL[:1]), ("SegTrack-V2", SEGTRACK)):
            for seq in names:
                pairs = clip(seq)
                for t, (frame, mask) in enumerate(pairs):
                    z.writestr(f"TestSet/{dataset}/{seq}/Frame/{t:05d}.jpg", encoded(frame, "JPEG"))
                    z.writestr(f"TestSet/{dataset}/{seq}/GT/{t:05d}.png", encoded(mask, "PNG"))
                    if t + 1 < len(pairs):
                        flow = np.zeros((HEIGHT, WIDTH, 2), np.float32)
                        flow[mask > 0] = (8.0, 2.0)  # clip()'s disc moves 8 right, 2 down
                        name = f"TestSet/{dataset}/{seq}/OF_FlowNet2/{t:05d}.jpg"
                        z.writestr(name, encoded(flow_to_color(flow), "JPEG"))
    return path


def results_zip(path: Path) -> Path:
    """FSNet-UVOS-results.zip: binary maps (the masks, two pixels off) per val sequence."""
    with zipfile.ZipFile(path, "w") as z:
        for seq in VAL:
            for t, (_, mask) in enumerate(clip(seq)):
                z.writestr(
                    f"FSNet-UVOS-results/DAVIS16/{seq}/{t:05d}.png",
                    encoded(np.roll(mask, 2, axis=1), "PNG"),
                )
    return path


def video(path: Path) -> Path:
    """A short H.264 mp4 of the val clips, the way a user's upload would arrive."""
    from fsnet_core.inference.writers import write_video

    return write_video([f for seq in VAL for f, _ in clip(seq)], path, fps=8)


def raft_standin(torch_home: Path) -> Path:
    """Random RAFT-small weights in torchvision's format, placed as if downloaded."""
    from torchvision.models.optical_flow import Raft_Small_Weights, raft_small

    torch.manual_seed(0)
    target = torch_home / "hub" / "checkpoints" / Raft_Small_Weights.DEFAULT.url.rsplit("/")[-1]
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save(raft_small(weights=None).state_dict(), target)
    return target


DIGEST_SHIM = """\
# The Colab rehearsal's kernel only (tests/test_rehearsal.py): the RAFT stand-in cannot carry
# the digest in RAFT's file name; accept exactly this file, check every other as always.
from pathlib import Path

import fsnet_core.io.weights as _weights

_check_digest = _weights.check_digest


def _rehearsal_check(path, sha256=None):
    if Path(path).resolve() == Path({path!r}) and _weights.sha256_of(path) == {digest!r}:
        return None
    return _check_digest(path, sha256)


_weights.check_digest = _rehearsal_check
"""


def test_davis_standin_reads_as_davis_2016(tmp_path):
    """The stand-in unpacks, as the real archive does, into what the loaders read."""
    from fsnet_core.data.downloads import download
    from fsnet_core.data.layouts import discover_sequences

    davis_zip(tmp_path / "DAVIS-data.zip")  # placed by hand: verified and unpacked, no network
    root = download(
        "davis-2016", tmp_path, url=f"http://127.0.0.1:{closed_port()}/", progress=False
    )
    val = discover_sequences(root, split="val")
    assert [s.name for s in val] == list(VAL)
    assert [s.name for s in discover_sequences(root, split="train")] == list(TRAIN)
    assert all(len(s.frames) == FRAMES and all(s.masks) for s in val)
    frame, mask = Image.open(val[0].frames[0]), Image.open(val[0].masks[0])
    assert frame.size == mask.size == (WIDTH, HEIGHT) and set(np.unique(mask)) == {0, 255}


def test_testset_standin_reads_as_the_authors_test_layout(tmp_path):
    """The TestSet.zip stand-in unpacks into what finetuning reads: SegTrack-V2's sequences
    with frames, a mask per frame and FlowNet 2.0 images for every frame but the last."""
    from fsnet_core.data.downloads import download
    from fsnet_core.data.layouts import detect_layout, discover_sequences

    authors_testset_zip(tmp_path / "TestSet.zip")  # placed by hand: verified, unpacked, offline
    root = download(
        "fsnet-testset", tmp_path, url=f"http://127.0.0.1:{closed_port()}/", progress=False
    )
    segtrack = root / "SegTrack-V2"
    assert (root / "DAVIS").is_dir() and detect_layout(segtrack) == "testset"
    records = discover_sequences(segtrack, flow_source="OF_FlowNet2")
    assert [r.name for r in records] == list(SEGTRACK)
    for r in records:
        assert len(r.frames) == FRAMES and all(r.masks)
        assert all(r.flows[:-1]) and r.flows[-1] is None
    assert Image.open(records[0].flows[0]).size == (WIDTH, HEIGHT)


class _Logged(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        self.server.requests.append(self.path)  # type: ignore[attr-defined]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def mirror(tmp_path_factory, official_reference_state) -> Iterator[dict[str, object]]:
    """The loopback mirror with every stand-in; yields its address, folder and request log."""
    from fsnet_core.model.weights import FSNetWeights

    served = tmp_path_factory.mktemp("mirror")
    checkpoint = served / FSNetWeights.DAVIS16_ICCV21.file_name
    torch.save(
        {k: v.float() if v.is_floating_point() else v for k, v in official_reference_state.items()},
        checkpoint,
    )
    davis_zip(served / "DAVIS-data.zip")
    results_zip(served / "FSNet-UVOS-results.zip")
    authors_testset_zip(served / "TestSet.zip")
    handler = functools.partial(_Logged, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.requests = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}", "requests": server.requests}
    server.shutdown()
    server.server_close()
    checkpoint.unlink()  # 400 MB: pytest keeps the last three sessions' folders


@pytest.fixture(scope="session")
def colab_kernel(colab_installed, colab_python, tmp_path_factory) -> str:
    """A kernel spec running the Colab-versions Python, where the set-up cell installed us."""
    done = subprocess_run([str(colab_python), "-c", "import ipykernel, fsnet_core"])
    assert done.returncode == 0, f"the Colab environment cannot run a kernel:\n{done.stderr}"
    specs = tmp_path_factory.mktemp("jupyter")
    # ``google.colab`` importable, so every Colab branch runs; ``google`` stays a namespace
    # package (no __init__.py), as on Colab, so ``google.protobuf`` is still found
    fake = specs / "fake-colab"
    (fake / "google" / "colab").mkdir(parents=True)
    (fake / "google" / "colab" / "__init__.py").write_text('"""Stand-in: this is Colab."""\n')
    spec = {
        "argv": [str(colab_python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (Colab's versions)",
        "language": "python",
        # the installed package, not this checkout's folder; and Colab's module
        "env": {"PYTHONPATH": str(fake)},
    }
    (specs / "kernels" / "colab-rehearsal").mkdir(parents=True)
    (specs / "kernels" / "colab-rehearsal" / "kernel.json").write_text(json.dumps(spec))
    return str(specs)


def subprocess_run(cmd: list[str]):
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(cmd, capture_output=True, text=True, env=env)


# What notebook 05's first cells pip-install on Colab (fsnet_core.course.colab.COLAB_INSTALLS).
# What the notebooks install on Colab that Colab lacks: the runtime's one dependency Colab does
# not ship (captum; the set-up cell adds it, and a test module's clean-up may have removed it
# again) and 05's two extras.
COLAB_WHEELS = ("captum>=0.7,<1", "pysodmetrics>=1.4,<2", "pydensecrf2>=1.1,<2")


@pytest.fixture(scope="session")
def wheelhouse(colab_python) -> Path:
    """PyPI as Colab's pip sees it, for the extras a notebook installs there: local wheels,
    built once per machine (pydensecrf2 compiles from source, as on Colab) and kept beside
    the Colab environment; the rehearsal's pip reads only these (``PIP_NO_INDEX``)."""
    import subprocess

    key = hashlib.sha256("\n".join(COLAB_WHEELS).encode() + sys.version.encode()).hexdigest()
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "fsnet-lab"
    folder = cache / "wheelhouse" / key[:12]
    if not (folder / ".complete").is_file():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        cmd = [str(colab_python), "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(folder)]
        done = subprocess.run([*cmd, *COLAB_WHEELS], capture_output=True, text=True)
        assert done.returncode == 0, f"could not build the extras' wheels:\n{done.stderr[-3000:]}"
        (folder / ".complete").touch()
    return folder


@pytest.fixture(scope="module")
def rehearsal(
    mirror, colab_kernel, wheelhouse, colab_python, tmp_path_factory
) -> Iterator[dict[str, object]]:
    """The environment of a Colab session without internet, everything under tmp.

    Module-scoped: its variables (a shrunk course model, claims that only report, another
    lab home, dead proxies) are gone before any other test module runs."""
    home = tmp_path_factory.mktemp("lab")
    torch_home = home / "torch"
    raft = raft_standin(torch_home)
    ipython = home / "ipython"
    (ipython / "profile_default" / "startup").mkdir(parents=True)
    shim = DIGEST_SHIM.format(
        path=str(raft.resolve()), digest=hashlib.sha256(raft.read_bytes()).hexdigest()
    )
    (ipython / "profile_default" / "startup" / "00-rehearsal-digest.py").write_text(shim)
    dead = f"http://127.0.0.1:{closed_port()}"
    env = {
        "FSNET_LAB_MIRROR": str(mirror["url"]),
        "FSNET_LAB_CONFIG": json.dumps(COURSE_MODEL),
        "FSNET_LAB_CLAIMS": "report",
        "FSNET_LAB_HOME": str(home),
        "TORCH_HOME": str(torch_home),
        "IPYTHONDIR": str(ipython),
        "JUPYTER_PATH": colab_kernel,
        "MPLBACKEND": "agg",
        # The set-up cell's install: the package is there already (``colab_installed`` ran
        # that cell's Colab branch from this checkout), so pip only confirms it.
        "FSNET_LAB_SOURCE": "fsnet-lab",
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheelhouse),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[name] = env[name.lower()] = dead
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        yield {"home": home, "video": video(home / "my_video.mp4"), "figures": home / "figures"}
    for big in (torch_home, home / "data", home / "runs", home / "results"):
        shutil.rmtree(big, ignore_errors=True)  # GBs; pytest keeps its last three sessions
    restore_baseline(colab_python)  # 05's extras out again: the environment is Colab's


def printed(notebook: Path) -> str:
    """Everything the executed notebook's cells printed or displayed as text."""
    import nbformat

    outputs = [o for c in nbformat.read(notebook, 4).cells for o in c.get("outputs", [])]
    return "\n".join(o.get("text") or o.get("data", {}).get("text/plain", "") for o in outputs)


def checkout_state() -> set[tuple[str, int]]:
    """Every file under the checkout's data/ and runs/, with its modification time."""
    return {
        (str(p), p.stat().st_mtime_ns)
        for folder in ("data", "runs")
        for p in (REPO / folder).rglob("*")
        if p.is_file()
    }


@pytest.mark.parametrize("notebook", find_notebooks(), ids=lambda p: p.stem)
def test_notebook_runs_with_smoke_false_offline_against_the_mirror(notebook, rehearsal, mirror):
    before = checkout_state()
    params = {**REAL, **own_parameters(rehearsal["video"]).get(notebook.stem, {})}
    try:
        run = execute_notebook(
            notebook,
            rehearsal["home"] / "executed",
            smoke=False,
            parameters=params,
            figures_dir=rehearsal["figures"],
            timeout=CELL_TIMEOUT_S,
            kernel="colab-rehearsal",
        )
    except NotebookFailed as exc:  # names the notebook and the cell
        pytest.fail(str(exc), pytrace=False)
    print(f"{run.name}: {run.seconds:.1f} s", file=sys.stderr)
    assert checkout_state() == before, "the rehearsal wrote into the checkout's data/ or runs/"
    text = printed(run.output)
    home = rehearsal["home"]
    if notebook.stem == "01_optical_flow":  # RAFT ran from its (stand-in) weights
        assert "raft-small" in text and "skipped" not in text
    if notebook.stem == "04_training_gpu":  # the test sets and the checkpoint from the mirror
        assert {"/TestSet.zip", "/2021-ICCV-FSNet-20epoch-new.pth"} <= set(mirror["requests"])
        segtrack = home / "data" / "TestSet" / "SegTrack-V2"
        assert all((segtrack / seq / "OF_dis" / "00000.png").is_file() for seq in SEGTRACK)
        run = home / "runs" / "04_finetune_SegTrack-V2"
        table = (run / "finetune.csv").read_text()
        assert table.startswith("sequence,") and "overall" in table
        assert (home / "runs" / "04_start_flownet2_SegTrack-V2" / "before.json").is_file()
        assert "with FlowNet 2.0 images" in text
    if notebook.stem == "05_evaluation":  # its extras were pip-installed as on Colab
        assert "V-SOD scores (S, E, F, MAE): ready" in text and "DenseCRF: ready" in text
    if notebook.stem == "07_your_video":  # the authors' model segmented the uploaded video
        masks = sorted((home / "runs" / "segment" / "my_video" / "masks").glob("*.png"))
        assert len(masks) == own_parameters(rehearsal["video"])["07_your_video"]["MAX_FRAMES"]
        assert Image.open(masks[0]).size == (WIDTH, HEIGHT)

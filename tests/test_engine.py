"""The CPU engine behind the predictor: which backend runs, its cache, and masks that agree."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from drawn import drawn_batch
from torch import nn

from fsnet_core import FSNetPredictor
from fsnet_core.extras import MissingExtra
from fsnet_core.inference import engine as E
from fsnet_core.inference.predictor import choose_backend
from fsnet_core.io import state_digest

needs_engine = pytest.mark.skipif(not E.engine_available(), reason="OpenVINO is not installed")


@pytest.fixture(scope="session")
def engine_home(tmp_path_factory) -> Path:
    """One lab folder for the module's converted models: each is converted once per session."""
    return tmp_path_factory.mktemp("lab-home")


@pytest.fixture()
def auto(monkeypatch, engine_home):
    """The default backend choice (conftest runs the suite on PyTorch), caching in a temp lab."""
    monkeypatch.delenv(E.BACKEND_ENV, raising=False)
    monkeypatch.setenv("FSNET_LAB_HOME", str(engine_home))
    monkeypatch.setattr(E, "_said", set())  # each test sees its notes


def _hide_openvino(monkeypatch) -> None:
    for key in [k for k in sys.modules if k == "openvino" or k.startswith("openvino.")]:
        monkeypatch.delitem(sys.modules, key)
    monkeypatch.setitem(sys.modules, "openvino", None)


def _iou(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a & b).sum() / (a | b).sum().clamp(min=1)).item()


# Which backend runs -----------------------------------------------------------------------


@needs_engine
def test_auto_runs_on_openvino_on_the_cpu_and_says_so(auto, tiny_fsnet):
    predictor = FSNetPredictor(tiny_fsnet(), device="cpu")
    assert predictor.backend == "openvino" and predictor.engine is not None
    assert predictor.describe().startswith("OpenVINO ") and "on the CPU" in predictor.describe()


def test_torch_is_chosen_by_argument_or_environment(auto, monkeypatch, tiny_fsnet):
    assert FSNetPredictor(tiny_fsnet(), backend="torch").backend == "torch"
    monkeypatch.setenv(E.BACKEND_ENV, "torch")
    predictor = FSNetPredictor(tiny_fsnet())
    assert predictor.backend == "torch" and predictor.describe().startswith("PyTorch ")
    monkeypatch.setenv(E.BACKEND_ENV, "tensorrt")
    with pytest.raises(ValueError, match=r"\$FSNET_LAB_BACKEND must be one of"):
        FSNetPredictor(tiny_fsnet())
    with pytest.raises(ValueError, match="backend must be one of"):
        FSNetPredictor(tiny_fsnet(), backend="onnx")


def test_a_gpu_and_torch_compile_stay_on_pytorch(auto):
    """The GPU path is unchanged: the engine is for the CPU only."""
    assert choose_backend("auto", torch.device("cuda")) == "torch"
    assert choose_backend("auto", torch.device("cpu"), compile=True) == "torch"
    with pytest.raises(ValueError, match="runs on the CPU"):
        choose_backend("openvino", torch.device("cuda"))


def test_without_the_extra_pytorch_runs_and_one_line_says_how_to_add_it(
    auto, monkeypatch, tiny_fsnet, capsys
):
    _hide_openvino(monkeypatch)
    model = tiny_fsnet()
    image, flow, _ = drawn_batch(64, [3])
    predictor = FSNetPredictor(model, precision="float32")
    assert predictor.backend == "torch"
    with torch.no_grad():
        expected = model(image, flow).appearance
    assert torch.allclose(predictor(image, flow).appearance, expected, atol=1e-4)
    FSNetPredictor(model, precision="float32")  # a second predictor: no second note
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "note: the faster CPU engine needs openvino, which is not installed: pip install "
        '"fsnet-lab[cpu-engine]" (running on PyTorch meanwhile)'
    ]
    with pytest.raises(MissingExtra, match=r'pip install "fsnet-lab\[cpu-engine\]"'):
        FSNetPredictor(model, backend="openvino")


# The cache ---------------------------------------------------------------------------------


class _Pair(nn.Module):
    """Two inputs, two outputs, as FSNet: converted in a second, so the cache tests are quick."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.conv = nn.Conv2d(6, 2, 3, padding=1)

    def forward(self, image: torch.Tensor, flow: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.conv(torch.cat([image, flow], 1))
        return out[:, :1], out[:, 1:]


def _key(net: nn.Module, size: tuple[int, int] = (16, 16)) -> E.CacheKey:
    return E.CacheKey(state_digest(net), size, E.engine_version(), E.code_digest())


def _runs_like(graph, net: nn.Module, size: tuple[int, int] = (16, 16)) -> bool:
    import openvino as ov

    image, flow = torch.randn(1, 3, *size), torch.randn(1, 3, *size)
    request = ov.Core().compile_model(graph, "CPU").create_infer_request()
    result = request.infer([image.numpy(), flow.numpy()])
    with torch.no_grad():
        expected = net(image, flow)
    got = [torch.from_numpy(np.array(v)) for v in result.to_tuple()]
    return all(torch.allclose(a, b, atol=1e-5) for a, b in zip(got, expected, strict=True))


@needs_engine
def test_a_converted_model_is_cached_and_used_again(tmp_path):
    net = _Pair()
    graph, first = E.converted_model(net, _key(net), tmp_path)
    assert not first.cached and first.seconds > 0 and first.replaced is None
    files = sorted(p.name for p in first.folder.iterdir())
    assert files == ["entry.json", "model.bin", "model.xml"]
    record = json.loads((first.folder / "entry.json").read_text())
    assert record["size"] == [16, 16] and record["precision"] == "float32"
    assert record["weights"] == state_digest(net) and record["engine"] == E.engine_version()
    again, second = E.converted_model(net, _key(net), tmp_path)
    assert second.cached and second.folder == first.folder
    assert _runs_like(again, net)
    assert [p.name for p in tmp_path.iterdir()] == [first.folder.name]  # no temporaries left


@needs_engine
def test_other_weights_or_sizes_get_their_own_entries(tmp_path):
    a, b = _Pair(0), _Pair(1)
    cases = [(a, (16, 16)), (b, (16, 16)), (a, (16, 24))]
    folders = {E.converted_model(net, _key(net, size), tmp_path)[1].folder for net, size in cases}
    assert len(folders) == 3
    graph, conversion = E.converted_model(b, _key(b), tmp_path)
    assert conversion.cached and _runs_like(graph, b)


@needs_engine
@pytest.mark.parametrize(
    ("field", "value"),
    [("engine", "2020.1.0-old"), ("code", "0" * 64), ("weights", "f" * 64), ("format", "old/0")],
)
def test_a_stale_entry_is_converted_again(tmp_path, field, value):
    net = _Pair()
    _, first = E.converted_model(net, _key(net), tmp_path)
    record_path = first.folder / "entry.json"
    record = json.loads(record_path.read_text())
    record[field] = value
    record_path.write_text(json.dumps(record))
    graph, again = E.converted_model(net, _key(net), tmp_path)
    assert not again.cached and again.replaced == f"made for another {field}"
    assert json.loads(record_path.read_text())[field] == _key(net).record()[field]
    assert _runs_like(graph, net)


def _truncate_weights(folder: Path) -> None:
    data = (folder / "model.bin").read_bytes()
    (folder / "model.bin").write_bytes(data[: len(data) // 2])


def _flip_a_weight_byte(folder: Path) -> None:
    data = bytearray((folder / "model.bin").read_bytes())
    data[10] ^= 0xFF
    (folder / "model.bin").write_bytes(bytes(data))


def _garbage_graph_with_its_digest(folder: Path) -> None:
    """A record that vouches for a graph file which is not a graph: the read fails."""
    from fsnet_core.io import sha256_of

    (folder / "model.xml").write_text("<net><layers>")
    record = json.loads((folder / "entry.json").read_text())
    record["files"]["model.xml"] = sha256_of(folder / "model.xml")
    (folder / "entry.json").write_text(json.dumps(record))


@needs_engine
@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_truncate_weights, "model.bin differs from what was written (corrupt or altered)"),
        (_flip_a_weight_byte, "model.bin differs from what was written (corrupt or altered)"),
        (lambda f: (f / "model.xml").unlink(), "model.xml is missing"),
        (lambda f: (f / "entry.json").write_text("{not json"), "unreadable record"),
        (_garbage_graph_with_its_digest, "unreadable graph"),
    ],
    ids=["truncated", "bit-flip", "missing-graph", "bad-record", "unreadable-graph"],
)
def test_a_corrupt_entry_is_converted_again_not_trusted(tmp_path, damage, reason):
    net = _Pair()
    _, first = E.converted_model(net, _key(net), tmp_path)
    damage(first.folder)
    graph, again = E.converted_model(net, _key(net), tmp_path)
    assert not again.cached and again.replaced.startswith(reason)
    assert _runs_like(graph, net)
    assert E.converted_model(net, _key(net), tmp_path)[1].cached  # the rebuilt entry is sound


@needs_engine
def test_an_interrupted_conversion_leaves_no_entry(tmp_path, monkeypatch):
    import openvino

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    net = _Pair()
    monkeypatch.setattr(openvino, "save_model", interrupted)
    with pytest.raises(KeyboardInterrupt):
        E.converted_model(net, _key(net), tmp_path)
    assert list(tmp_path.iterdir()) == []  # neither a half-written entry nor its temporary


# Masks agree, and the commands use the engine ----------------------------------------------


@needs_engine
def test_engine_masks_agree_with_float32_pytorch_at_the_training_size(
    auto, trained_model, engine_home, capsys
):
    image, flow, truth = drawn_batch(64, [1000, 1001, 1002, 1003])
    with torch.no_grad():
        eager = trained_model(image, flow)
    fast = FSNetPredictor(trained_model, device="cpu")  # auto: bf16 where the CPU has it
    assert fast.backend == "openvino"
    assert _iou(fast.masks(image, flow), eager.appearance > 0) >= 0.99
    assert _iou(eager.appearance > 0, truth > 0) > 0.5  # the model learnt: the check is not vacuous
    exact = FSNetPredictor(trained_model, device="cpu", precision="float32")
    out = exact(image, flow)
    assert exact.dtype == torch.float32
    assert torch.allclose(out.appearance, eager.appearance, atol=1e-4)
    assert torch.allclose(out.motion, eager.motion, atol=1e-4)
    assert torch.equal(exact.masks(image, flow), eager.appearance > 0)
    err = capsys.readouterr().err
    assert err.count("note: FSNet converted for OpenVINO at 64x64") == 1  # said once, then cached
    assert str(engine_home / "runs" / "cache" / "openvino") in err


@needs_engine
def test_segment_and_infer_run_on_the_engine_and_record_it(
    auto, trained_model, tmp_path, monkeypatch
):
    from PIL import Image

    from fsnet_core.course.demo import drawn_pair
    from fsnet_core.data.synthetic import make_synthetic_dataset
    from fsnet_core.inference.runner import run_inference
    from fsnet_core.inference.segment import segment_video
    from fsnet_core.model.serialization import save_model

    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(3):  # one scene moving to the right
        frame = drawn_pair(96, seed=7)[0]
        Image.fromarray(np.roll(frame, 3 * i, axis=1)).save(frames / f"{i:05d}.png")
    checkpoint = save_model(trained_model, tmp_path / "tiny.pt")
    masks = {}
    for backend in ("openvino", "torch"):
        monkeypatch.setenv(E.BACKEND_ENV, backend)
        out = tmp_path / backend
        summary = segment_video(frames, out, checkpoint, size=64, device="cpu", progress=False)
        assert json.loads((out / "segment.json").read_text())["backend"] == backend
        assert summary.network.startswith({"openvino": "OpenVINO", "torch": "PyTorch"}[backend])
        assert f"network: {summary.network}" in str(summary)
        masks[backend] = {p.name: np.asarray(Image.open(p)) > 127 for p in out.glob("masks/*")}
    assert len(masks["openvino"]) == 3 and masks["openvino"].keys() == masks["torch"].keys()
    for name, mask in masks["openvino"].items():
        other = masks["torch"][name]
        assert (mask & other).sum() >= 0.99 * max(1, (mask | other).sum())

    monkeypatch.delenv(E.BACKEND_ENV)
    data = make_synthetic_dataset(tmp_path / "synthetic", smoke=True)
    summary = run_inference(checkpoint, data, tmp_path / "maps", size=64, progress=False)
    assert summary.frames > 0 and summary.network.startswith("OpenVINO")
    assert json.loads((tmp_path / "maps" / "fsnet_infer.json").read_text())["backend"] == "openvino"


FREED_IN_ORDER = """
import gc, os, signal, sys, time
import torch
from fsnet_core import FSNet
from fsnet_core.inference.engine import OpenVINOModel

handled = []
signal.signal(signal.SIGUSR1, lambda *args: handled.append(True))
engines = [OpenVINOModel(FSNet(backbone="resnet18", channels=8, num_bpm=1).eval(), "float32")
           for _ in range(2)]
for size, engine in zip((32, 64), engines):
    engine(torch.zeros(1, 3, size, size), torch.zeros(1, 3, size, size))
del engine
engines.pop(0)  # the first compiled model goes first, then the second
gc.collect()
engines.pop(0)
gc.collect()
junk = [bytearray(1 << 16) for _ in range(500)]  # reuse freed memory, as a long run does
os.kill(os.getpid(), signal.SIGUSR1)
time.sleep(0.2)
print("handled" if handled else "lost")
"""


@needs_engine
def test_compiled_models_freed_in_order_leave_signals_working(tmp_path):
    """OpenVINO gives the compiling thread a signal stack of its own and restores the one it
    found when the model goes: freed first-made-first, the thread was left on a freed stack
    and the next signal (a child process ending, Ctrl-C) crashed Python."""
    import os
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", FREED_IN_ORDER],
        env={**os.environ, "FSNET_LAB_HOME": str(tmp_path)},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-1500:]}"
    assert done.stdout.strip().splitlines()[-1] == "handled"

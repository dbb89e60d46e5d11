"""``SMOKE = None``: the real path on a CUDA GPU, the quick one elsewhere, said in one line.

The GPU is a stand-in (``torch.cuda`` patched); the downloads go to the loopback server of
``tests/test_download.py`` through ``FSNET_LAB_MIRROR``, or to a closed port (no internet).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from test_download import FileServer, _checkpoint_bytes, closed_port_url, davis_zip
from test_download import server as server  # the fixture

from fsnet_core.course import real, smoke
from fsnet_core.course.smoke import AUTHORS_CHECKPOINT, choose_smoke, flow_weights
from fsnet_core.data.assets import REGISTRY, get_asset
from fsnet_core.flow import METHODS
from fsnet_core.io import DownloadError
from fsnet_core.io import download as transfer
from fsnet_core.model.weights import FSNetWeights

REAL = "the authors' model on real video"
CHECKPOINT = FSNetWeights.DAVIS16_ICCV21.file_name


@pytest.fixture()
def homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """The lab's folders and the torch hub cache, under tmp."""
    monkeypatch.setenv("FSNET_LAB_HOME", str(tmp_path / "lab"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv(transfer.MIRROR_ENV, raising=False)
    return {"lab": tmp_path / "lab", "hub": tmp_path / "torch" / "hub" / "checkpoints"}


def gpu(monkeypatch: pytest.MonkeyPatch, name: str | None) -> None:
    """A CUDA GPU called ``name`` (None: none) as torch reports it."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: name is not None)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: name)


def no_download(*args: object, **kwargs: object) -> None:
    pytest.fail("downloaded with SMOKE on")


def lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().out.splitlines()


# ---------------------------------------------------------------- the choice and its one line


def test_none_turns_smoke_off_on_a_cuda_gpu_and_says_why(monkeypatch, capsys, homes):
    gpu(monkeypatch, "Tesla T4")
    assert choose_smoke(None, REAL) is False
    assert lines(capsys) == [
        "SMOKE off: a CUDA GPU (Tesla T4) is available, so this notebook runs the authors' "
        "model on real video; set SMOKE = True for the quick version on the built-in clips"
    ]


def test_none_keeps_smoke_on_without_a_gpu_and_downloads_nothing(monkeypatch, capsys, homes):
    gpu(monkeypatch, None)
    monkeypatch.setattr(smoke, "download", no_download)
    assert choose_smoke(None, REAL, needs=[AUTHORS_CHECKPOINT, "davis-2016"]) is True
    assert lines(capsys) == [
        "SMOKE on: no CUDA GPU was found, so this notebook runs the quick version on the "
        "built-in clips; set SMOKE = False for the authors' model on real video"
    ]


@pytest.mark.parametrize("device", ["Tesla T4", None], ids=["gpu", "cpu"])
@pytest.mark.parametrize("explicit", [True, False])
def test_an_explicit_value_wins_whatever_the_machine(monkeypatch, capsys, homes, device, explicit):
    """What make run, CI and the tests inject (papermill) is what runs, GPU or not."""
    gpu(monkeypatch, device)
    assert choose_smoke(explicit, REAL) is explicit
    [line] = lines(capsys)
    assert line.startswith(f"SMOKE {'on' if explicit else 'off'}: SMOKE = {explicit} was set")
    assert ("set SMOKE =" not in line) and line.endswith(
        "built-in clips" if explicit else (REAL if device else f"{REAL} (without a GPU: slow)")
    )


@pytest.mark.parametrize("value", ["False", 0, 1])
def test_a_value_other_than_none_true_or_false_is_refused(value, homes):
    with pytest.raises(
        ValueError, match=f"SMOKE must be None \\(choose\\), True or False, got {value!r}"
    ):
        choose_smoke(value, REAL)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the real path's downloads


def test_smoke_off_downloads_first_where_the_notebook_reads(
    server: FileServer, monkeypatch, capsys, homes
):
    """The checkpoint into the torch hub cache, DAVIS-2016 into the lab's data/: where the
    real-video section then finds them, nothing fetched twice."""
    gpu(monkeypatch, "Tesla T4")
    monkeypatch.setenv(transfer.MIRROR_ENV, server.url("/m"))
    server.files[f"/m/{CHECKPOINT}"] = _checkpoint_bytes()
    server.files["/m/DAVIS-data.zip"] = davis_zip()
    needs = real.real_video_needs(None, "cpu")  # DIS flow: no RAFT weights
    assert needs == (AUTHORS_CHECKPOINT, "davis-2016")
    assert choose_smoke(None, REAL, needs=needs, progress=False) is False
    assert len(lines(capsys)) == 1  # only the choice
    assert (homes["hub"] / CHECKPOINT).is_file()
    assert real.davis_root(progress=False) == homes["lab"] / "data" / "DAVIS"
    assert FSNetWeights.DAVIS16_ICCV21.local_file(progress=False) == homes["hub"] / CHECKPOINT
    assert [path for path, _ in server.requests] == [f"/m/{CHECKPOINT}", "/m/DAVIS-data.zip"]


@pytest.mark.parametrize("where", ["server error", "no internet"])
def test_a_failed_download_says_so_in_one_line_and_smoke_goes_on(
    server: FileServer, monkeypatch, capsys, homes, where
):
    gpu(monkeypatch, "Tesla T4")
    server.files[f"/m/{CHECKPOINT}"] = _checkpoint_bytes()  # DAVIS-data.zip: HTTP 404
    mirror = server.url("/m") if where == "server error" else closed_port_url("/m")
    monkeypatch.setenv(transfer.MIRROR_ENV, mirror)
    monkeypatch.setattr(transfer.time, "sleep", lambda seconds: None)  # retries at once
    needs = [AUTHORS_CHECKPOINT, "davis-2016"]
    assert choose_smoke(None, REAL, needs=needs, progress=False) is True
    choice, failure = lines(capsys)
    assert choice.startswith("SMOKE off: a CUDA GPU (Tesla T4) is available")
    failed = "DAVIS-data.zip (davis-2016)" if where == "server error" else CHECKPOINT
    assert failure.startswith(f"SMOKE on after all: {failed}")
    reason = "the server answered HTTP 404" if where == "server error" else "could not be reached"
    assert reason in failure and "Check the internet" not in failure  # the failure, no advice
    assert failure.endswith("so this notebook goes on with the quick version on the built-in clips")
    assert not (homes["lab"] / "data" / "DAVIS").exists()


def test_an_explicit_false_raises_the_download_error(server: FileServer, monkeypatch, homes):
    """SMOKE = False asked for the real path: a failed download is an error, not a fallback."""
    gpu(monkeypatch, None)
    monkeypatch.setenv(transfer.MIRROR_ENV, server.url("/m"))
    with pytest.raises(DownloadError, match="DAVIS-data.zip: the server answered HTTP 404"):
        choose_smoke(False, REAL, needs=["davis-2016"], progress=False)


def test_what_the_real_path_needs_is_in_the_registry():
    for method in METHODS:
        assert set(flow_weights(method)) <= set(REGISTRY)
        assert bool(flow_weights(method)) == method.startswith("raft-")
    assert real.real_video_needs(None, "cuda") == (AUTHORS_CHECKPOINT, "davis-2016", "raft-small")
    assert real.real_video_needs(True, "cpu") == (AUTHORS_CHECKPOINT, "davis-2016")
    assert real.real_video_needs(False, "cuda") == ()  # REAL_VIDEO = False: nothing to fetch
    assert get_asset(AUTHORS_CHECKPOINT).in_hub_cache and get_asset("raft-small").in_hub_cache
    assert not get_asset("davis-2016").in_hub_cache

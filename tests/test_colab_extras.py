"""Notebook 05's extras on Colab: installed only there, in the way that keeps Colab's packages."""

from __future__ import annotations

import subprocess

import pytest

from fsnet_core.course import colab


@pytest.fixture
def calls(monkeypatch):
    made = []

    def fake_run(cmd, **kwargs):
        made.append(cmd)
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution\n")

    monkeypatch.setattr(colab.subprocess, "run", fake_run)
    monkeypatch.setattr(colab, "available", lambda module: module == "pydensecrf")
    return made


def test_elsewhere_nothing_is_installed_and_the_missing_extra_names_its_pip_command(
    calls, monkeypatch, capsys
):
    monkeypatch.setattr(colab, "on_colab", lambda: False)
    found = colab.add_extras("py_sod_metrics", "pydensecrf")
    assert found == {"py_sod_metrics": False, "pydensecrf": True}
    assert calls == []
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("V-SOD scores (S, E, F, MAE) needs pysodmetrics")
    assert "[vsod]" in out[0]
    assert out[1] == "DenseCRF: ready"


def test_on_colab_only_the_missing_extra_is_installed_without_its_dependencies(
    calls, monkeypatch, capsys
):
    monkeypatch.setattr(colab, "on_colab", lambda: True)
    found = colab.add_extras("py_sod_metrics", "pydensecrf")
    assert len(calls) == 1 and calls[0][-2:] == ["--no-deps", "pysodmetrics>=1.4,<2"]
    assert found["py_sod_metrics"] is False  # the (fake) install failed: said in one line
    assert "failed: ERROR: No matching distribution" in capsys.readouterr().out


def test_on_colab_is_false_without_google_colab():
    assert colab.on_colab() is False

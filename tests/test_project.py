"""Project files that users rely on stay consistent with each other."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower()


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = {_name(r) for r in project["dependencies"]}
    env = (REPO / "environment.yml").read_text()
    assert "python=3.11" in env
    listed = {_name(m) for m in re.findall(r"^\s+- ([A-Za-z][\w.-]*[^\n]*)$", env, re.M)}
    missing = declared - listed
    assert not missing, f"environment.yml lacks {sorted(missing)}"
    extras = re.search(r"^\s+- -e \.\[([\w,-]+)\]$", env, re.M)
    assert extras, "environment.yml must install the project itself with its extras"
    assert set(extras[1].split(",")) == set(project["optional-dependencies"])


def test_make_installs_every_extra():
    extras = set(
        tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    )
    makefile = (REPO / "Makefile").read_text()
    listed = re.search(r"^EXTRAS := ([\w,-]+)$", makefile, re.M)
    assert listed and set(listed[1].split(",")) == extras
    assert '-e ".[$(EXTRAS)]"' in makefile


def _colab_versions() -> dict[str, Version]:
    """Colab's own versions from tests/data/colab_gpu_runtime.txt (a stand-in's comment
    names Colab's version: ``torch==2.14.1  # Colab: 2.11.0+cu128 ...``)."""
    versions = {}
    for line in (REPO / "tests" / "data" / "colab_gpu_runtime.txt").read_text().splitlines():
        pin = re.match(r"([\w.-]+)==(\S+)(?:\s+# Colab: (\S+))?", line)
        if pin:
            versions[canonicalize_name(pin[1])] = Version(pin[3] or pin[2])
    return versions


def test_runtime_requirements_accept_what_colab_ships():
    """Installing the runtime on Colab must not replace a package Colab ships (that asks for
    a restart, and ipywidgets 8 does not display there), nor pull in one with a C build."""
    colab = _colab_versions()
    assert colab["ipywidgets"] == Version("7.7.1") and len(colab) > 20
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = [Requirement(r) for r in project["dependencies"]]
    for req in runtime:
        name = canonicalize_name(req.name)
        if name in colab:
            assert req.specifier.contains(colab[name], prereleases=True), (
                f"{req} would replace Colab's {name} {colab[name]}"
            )
    names = {canonicalize_name(r.name) for r in runtime}
    for optional in ("jupyterlab", "papermill", "nbclient", "tensorboard", "pydensecrf2"):
        assert optional not in names, f"{optional} belongs in an extra, not the runtime"
    assert "pysodmetrics" not in names  # it requires opencv-python-headless<5 (Colab: 5.0)


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    assert "make test" in readme and "make run" in readme
    ci = (REPO / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)

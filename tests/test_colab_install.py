"""The notebooks' set-up cell on Colab: it adds FSNet Lab and changes none of Colab's packages.

An environment is built with the versions Colab's GPU runtime ships
(``tests/data/colab_gpu_runtime.txt``). Stand-ins, because this machine
cannot have Colab's exact runtime: Python 3.11 (Colab: 3.13; 3.11 is the only
Python here), and the CPU builds of torch 2.14.1 / torchvision 0.29.1 whose
wheels lie on this machine's disk (Colab: 2.11.0+cu128 / 0.26.0+cu128, a
multi-GB CUDA download). Every other pin is Colab's own version.

The set-up cell then runs there as it does on Colab (a stand-in
``google.colab`` module makes it take its Colab branch) with no C compiler
(``CC=/bin/false``): its install must leave the ``pip freeze`` of Colab's
packages as it was, ``pip check`` must be clean, and ``fsnet infer --crf``
must say in one line how to add DenseCRF. Last, notebooks run in SMOKE mode
in that environment: :data:`EXECUTED` fully (the quickest, and 01 shows the
flow explorer with ipywidgets 7.7); the others are import-checked (every
import of every code cell), because their long parts (training, inference)
are the same package code ``tests/test_notebooks.py`` executes, and what can
differ between the two environments is what the imports load.

The environment is kept under ``build/colab-env/<hash of its inputs>/`` and
reused while the requirement list and the Python are unchanged; building it
takes minutes (mostly the torch wheel), reusing it seconds.
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from fsnet_core.course.notebooks import SETUP_CELL, find_notebooks

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
RUNTIME = REPO / "tests" / "data" / "colab_gpu_runtime.txt"
EXECUTED = ("01_optical_flow",)


def _pins() -> dict[str, str]:
    pins = {}
    for line in RUNTIME.read_text().splitlines():
        pin = re.match(r"([\w.-]+)==(\S+)", line)
        if pin:
            pins[_canonical(pin[1])] = pin[2]
    return pins


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kwargs)


def _freeze(python: Path) -> dict[str, str]:
    out = _run([str(python), "-m", "pip", "freeze", "--all"], check=True).stdout
    return {_canonical(m[1]): m[2] for m in re.finditer(r"^([\w.-]+)==(\S+)$", out, flags=re.M)}


@pytest.fixture(scope="module")
def colab_python() -> Path:
    """The Python of an environment with Colab's package versions (built once, then reused)."""
    key = hashlib.sha256(RUNTIME.read_bytes() + sys.version.encode()).hexdigest()[:12]
    env = REPO / "build" / "colab-env" / key
    python = env / "bin" / "python"
    if not (env / ".complete").is_file():
        shutil.rmtree(env, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
        done = _run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
            + ["-r", str(RUNTIME)]
        )
        assert done.returncode == 0, f"could not build Colab's environment:\n{done.stderr[-3000:]}"
        (env / ".complete").touch()
    return python


@pytest.fixture(scope="module")
def installed(colab_python, tmp_path_factory) -> dict[str, object]:
    """Run the set-up cell in its Colab branch; the freezes before and after, and its output."""
    fake = tmp_path_factory.mktemp("fake-colab")
    (fake / "google" / "colab").mkdir(parents=True)
    (fake / "google" / "__init__.py").write_text("")
    (fake / "google" / "colab" / "__init__.py").write_text('"""Stand-in: this is Colab."""\n')
    before = _freeze(colab_python)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env |= {"PYTHONPATH": str(fake), "FSNET_LAB_SOURCE": str(REPO), "CC": "/bin/false"}
    env |= {"CXX": "/bin/false", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    cell = _run([str(colab_python), "-c", SETUP_CELL], env=env, cwd=fake)
    assert cell.returncode == 0, f"the set-up cell failed:\n{cell.stdout}\n{cell.stderr[-3000:]}"
    return {"before": before, "after": _freeze(colab_python), "output": cell.stdout + cell.stderr}


def test_the_environment_has_colabs_versions(colab_python):
    frozen = _freeze(colab_python)
    wrong = {n: (v, frozen.get(n)) for n, v in _pins().items() if frozen.get(n) != v}
    assert not wrong, f"(wanted, installed): {wrong}"


def test_setup_cell_installs_and_changes_none_of_colabs_packages(installed):
    before, after = installed["before"], installed["after"]
    assert "fsnet-lab" in after
    changed = {n: (before[n], after.get(n)) for n in _pins() if after.get(n) != before[n]}
    assert not changed, f"the set-up cell changed Colab's packages (before, after): {changed}"
    assert "restart" not in str(installed["output"]).lower()
    assert "device: CPU" in str(installed["output"])


def test_pip_check_is_clean_after_the_install(installed, colab_python):
    check = _run([str(colab_python), "-m", "pip", "check"])
    assert check.returncode == 0, check.stdout + check.stderr


def test_crf_without_its_extra_says_how_to_add_it(installed, colab_python, tmp_path):
    """Installed with no C compiler (CC=/bin/false) and so without pydensecrf2."""
    probe = _run([str(colab_python), "-c", "import pydensecrf"])
    assert probe.returncode != 0
    fsnet = colab_python.parent / "fsnet"
    out = _run(
        [str(fsnet), "infer", "--checkpoint", str(tmp_path / "none.pt")]
        + ["--data", str(tmp_path), "--out", str(tmp_path / "out"), "--crf"],
        cwd=tmp_path,
    )
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and 'pip install "fsnet-lab[crf]"' in lines[0], out.stderr


def _imports(notebook: Path) -> str:
    """Every import statement of the notebook's code cells, one per line."""
    found = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.append(ast.unparse(node))
    return "\n".join(dict.fromkeys(found))


@pytest.mark.parametrize("notebook", find_notebooks(), ids=lambda p: p.stem)
def test_notebook_runs_in_colabs_environment(installed, colab_python, notebook, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env |= {"OMP_NUM_THREADS": "1", "FSNET_FIGURES_DIR": str(tmp_path / "figures")}
    if notebook.stem not in EXECUTED:
        done = _run([str(colab_python), "-c", _imports(notebook)], env=env, cwd=tmp_path)
        assert done.returncode == 0, f"{notebook.name}: an import fails:\n{done.stderr[-2000:]}"
        return
    # nbclient is part of Colab's runtime (papermill is not); SMOKE = True is the stored value.
    script = textwrap.dedent(f"""
        import nbclient, nbformat
        nb = nbformat.read({str(notebook)!r}, as_version=4)
        where = {{"metadata": {{"path": {str(REPO)!r}}}}}
        nbclient.NotebookClient(nb, kernel_name="python3", timeout=1200, resources=where).execute()
        nbformat.write(nb, {str(tmp_path / notebook.name)!r})
        """)
    done = _run([str(colab_python), "-c", script], env=env, cwd=tmp_path)
    assert done.returncode == 0, f"{notebook.name} failed:\n{done.stderr[-3000:]}"
    executed = nbformat.read(tmp_path / notebook.name, as_version=4)
    assert any(c.get("outputs") for c in executed.cells if c.cell_type == "code")
    assert list((tmp_path / "figures").glob("*.png")), f"{notebook.name} wrote no figure"

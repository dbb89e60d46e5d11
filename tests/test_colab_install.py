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

The environment is kept under ``~/.cache/fsnet-lab/colab-env/<hash of its inputs>/`` and
reused while the requirement list and the Python are unchanged; building it
takes minutes (mostly the torch wheel), reusing it seconds.
"""

from __future__ import annotations

import ast
import os
import textwrap
from pathlib import Path

import nbformat
import pytest
from colab_env import freeze, pins, run, uninstall_added

from fsnet_core.harness.notebooks import find_notebooks

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
EXECUTED = ("01_optical_flow",)


def test_the_environment_has_colabs_versions(colab_python):
    frozen = freeze(colab_python)
    wrong = {n: (v, frozen.get(n)) for n, v in pins().items() if frozen.get(n) != v}
    assert not wrong, f"(wanted, installed): {wrong}"


def test_setup_cell_installs_and_changes_none_of_colabs_packages(colab_installed):
    before, after = colab_installed["before"], colab_installed["after"]
    assert "fsnet-lab" in after
    changed = {n: (before[n], after.get(n)) for n in pins() if after.get(n) != before[n]}
    assert not changed, f"the set-up cell changed Colab's packages (before, after): {changed}"
    assert "restart" not in str(colab_installed["output"]).lower()
    assert "device: CPU" in str(colab_installed["output"])


def test_the_installed_package_carries_the_ablation_table(colab_installed, colab_python, tmp_path):
    """Notebooks 02 and 03 plot the committed ablation rows on Colab, where no checkout exists."""
    script = (
        "from fsnet_core.course import ablation_results as ar\n"
        "print(ar.results_path())\n"
        "print(ar.seeds_per_variant(ar.load_results()).min())\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FSNET_LAB_HOME")}
    done = run([str(colab_python), "-c", script], cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    where, fewest = done.stdout.split()
    assert "site-packages" in where, f"the table was read from {where}, not the installed package"
    assert int(fewest) >= 3


def test_pip_check_is_clean_after_the_install(colab_installed, colab_python):
    check = run([str(colab_python), "-m", "pip", "check"])
    assert check.returncode == 0, check.stdout + check.stderr


def test_crf_without_its_extra_says_how_to_add_it(colab_installed, colab_python, tmp_path):
    """Installed with no C compiler (CC=/bin/false) and so without pydensecrf2."""
    probe = run([str(colab_python), "-c", "import pydensecrf"])
    assert probe.returncode != 0
    fsnet = colab_python.parent / "fsnet"
    out = run(
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
                statement = ast.unparse(node)
                if "google.colab" not in statement:  # Colab's own module, imported behind a check
                    found.append(statement)
    return "\n".join(dict.fromkeys(found))


@pytest.mark.parametrize("notebook", find_notebooks(), ids=lambda p: p.stem)
def test_notebook_runs_in_colabs_environment(colab_installed, colab_python, notebook, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env |= {"OMP_NUM_THREADS": "1", "FSNET_FIGURES_DIR": str(tmp_path / "figures")}
    if notebook.stem not in EXECUTED:
        done = run([str(colab_python), "-c", _imports(notebook)], env=env, cwd=tmp_path)
        assert done.returncode == 0, f"{notebook.name}: an import fails:\n{done.stderr[-2000:]}"
        return
    # nbclient is part of Colab's runtime (papermill is not). The stored SMOKE = None chooses
    # SMOKE on: this environment's torch is a CPU build, so no CUDA GPU is found.
    script = textwrap.dedent(f"""
        import nbclient, nbformat
        nb = nbformat.read({str(notebook)!r}, as_version=4)
        where = {{"metadata": {{"path": {str(REPO)!r}}}}}
        nbclient.NotebookClient(nb, kernel_name="python3", timeout=1200, resources=where).execute()
        nbformat.write(nb, {str(tmp_path / notebook.name)!r})
        """)
    done = run([str(colab_python), "-c", script], env=env, cwd=tmp_path)
    assert done.returncode == 0, f"{notebook.name} failed:\n{done.stderr[-3000:]}"
    executed = nbformat.read(tmp_path / notebook.name, as_version=4)
    assert any(c.get("outputs") for c in executed.cells if c.cell_type == "code")
    printed = [o.get("text", "") for c in executed.cells for o in c.get("outputs", [])]
    assert any(t.startswith("SMOKE on: no CUDA GPU was found") for t in printed), printed[:4]
    assert list((tmp_path / "figures").glob("*.png")), f"{notebook.name} wrote no figure"


def test_the_cpu_engine_extra_installs_and_changes_none_of_colabs_packages(
    colab_installed, colab_python, tmp_path
):
    """``pip install "fsnet-lab[cpu-engine]"`` on Colab adds OpenVINO (its one dependency,
    numpy, is Colab's) and the predictor then runs on it. Last in this module: the
    notebooks above run on the runtime alone, as the set-up cell installs it."""
    before = freeze(colab_python)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FSNET_LAB_BACKEND")}
    env |= {"CC": "/bin/false", "CXX": "/bin/false", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    try:
        done = run(
            [str(colab_python), "-m", "pip", "install", "-q", f"{REPO}[cpu-engine]"], env=env
        )
        assert done.returncode == 0, done.stderr[-3000:]
        after = freeze(colab_python)
        changed = {n: (before[n], after.get(n)) for n in pins() if after.get(n) != before[n]}
        assert not changed, f"the cpu-engine extra changed Colab's packages: {changed}"
        assert "openvino" in after and "restart" not in (done.stdout + done.stderr).lower()
        check = run([str(colab_python), "-m", "pip", "check"])
        assert check.returncode == 0, check.stdout + check.stderr
        script = (
            "from fsnet_core import FSNet, FSNetPredictor\n"
            "print(FSNetPredictor(FSNet(backbone='resnet18', channels=8)).backend)\n"
        )
        probe = run([str(colab_python), "-c", script], cwd=tmp_path, env=env)
        assert probe.returncode == 0, probe.stderr[-2000:]
        assert probe.stdout.split() == ["openvino"]
    finally:
        # Only the extra goes: the set-up cell's install stays for the rehearsal's notebooks.
        uninstall_added(colab_python, before)

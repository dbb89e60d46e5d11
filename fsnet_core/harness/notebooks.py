"""Execute the course notebooks top to bottom, as CI and ``make run`` do.

Each notebook has one cell tagged ``parameters`` (``SMOKE = None`` plus
sizes); papermill injects the values given here after it, SMOKE always
(True or False: what CI and ``make run`` run never depends on the machine's
GPU, which ``SMOKE = None`` would consult), runs every cell
in a Jupyter kernel of *this* interpreter, and writes the executed copy to
``build/notebooks/``. Figures go where :func:`fsnet_core.course.viz.figures_dir`
says (``$FSNET_FIGURES_DIR`` is passed on to the kernel). The first error
stops the run with the notebook's name and the failing cell.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..course.paths import CHECKOUT
from ..course.viz import FIGURES_ENV
from ..extras import require
from .openmp import choose_wait_policy

# The one place the public repository's address is written down: the notebooks' Colab badges
# and set-up cells use it, and tests/test_notebooks.py checks that every notebook agrees.
REPO_URL = "https://github.com/fsnet-lab/fsnet-lab"
COLAB_URL = REPO_URL.replace("https://github.com", "https://colab.research.google.com/github")
COLAB_URL += "/blob/main/notebooks"
# Every notebook's set-up cell, word for word (tests/test_notebooks.py checks it). On Colab it
# installs the runtime only: its requirements accept the versions Colab ships, so pip adds the
# missing packages and changes none of Colab's (no "restart the runtime" prompt, ipywidgets
# stays 7.7, which Colab's front end displays). FSNET_LAB_SOURCE names another source to
# install from (a folder or a wheel): tests/test_colab_install.py installs this checkout so.
SETUP_CELL = f"""\
# Set-up: on Colab, install FSNet Lab first; everywhere, report the device.
# The install only adds what Colab lacks: Colab's own packages keep their versions.
import importlib.util
import os
import subprocess
import sys

if importlib.util.find_spec("google.colab") is not None:
    source = os.environ.get("FSNET_LAB_SOURCE", "git+{REPO_URL}")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", source], check=True)

import torch

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
print("device:", torch.cuda.get_device_name(0) if DEVICE == "cuda" else "CPU (no GPU found)")"""
REPO_ROOT = CHECKOUT
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
BUILD_DIR = REPO_ROOT / "build" / "notebooks"
KERNEL_NAME = "python3"
# Bare interpreter names in a kernel spec: jupyter_client runs them as sys.executable.
_NATIVE_ARGV0 = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info)}


class NotebookFailed(RuntimeError):
    """A notebook raised: which notebook, which cell, and the error."""

    def __init__(self, notebook: Path, cell: int | None, source: str, error: str) -> None:
        self.notebook = Path(notebook)
        self.cell = cell
        self.source = source
        self.error = error
        where = f"in cell {cell}" if cell is not None else "before any cell ran"
        excerpt = "\n".join(f"    {line}" for line in source.strip().splitlines()[:8])
        super().__init__(
            f"{self.notebook.name} failed {where}:\n{excerpt}\n{error}".rstrip()
            if excerpt
            else f"{self.notebook.name} failed {where}: {error}"
        )


@dataclass(frozen=True)
class NotebookRun:
    """One executed notebook: where it came from, where the executed copy is, how long it took."""

    name: str
    source: Path
    output: Path
    seconds: float


def colab_badge(notebook: str) -> str:
    """The "Open in Colab" badge (Markdown) of ``notebook`` (a name such as ``00_quickstart``)."""
    name = notebook if notebook.endswith(".ipynb") else f"{notebook}.ipynb"
    return (
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"({COLAB_URL}/{name})"
    )


def find_notebooks(folder: str | os.PathLike | None = None) -> list[Path]:
    """The course notebooks in ``folder`` (default ``notebooks/``), in their numbered order."""
    folder = Path(folder) if folder is not None else NOTEBOOK_DIR
    return sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))


def select_notebooks(notebooks: Sequence[Path], only: Sequence[str] | None) -> list[Path]:
    """The notebooks whose name starts with one of ``only`` (``"01"``, ``"05_evaluation"``)."""
    if not only:
        return list(notebooks)
    chosen = [p for p in notebooks if any(p.stem.startswith(key) for key in only)]
    unknown = [key for key in only if not any(p.stem.startswith(key) for p in notebooks)]
    if unknown:
        names = ", ".join(p.stem for p in notebooks) or "none"
        raise ValueError(f"no notebook matches {', '.join(unknown)} (have: {names})")
    return chosen


def ensure_kernel(name: str = KERNEL_NAME) -> str:
    """Make sure the kernel ``name`` runs this interpreter (with fsnet_core importable).

    A kernel spec found elsewhere (a user-wide ``python3`` of another Python)
    would run the notebooks without this package; in that case ipykernel's
    spec for this interpreter is installed into ``sys.prefix`` (the virtual
    environment), which Jupyter searches first inside a virtual environment.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    def runs_this_python() -> bool:
        try:
            argv0 = KernelSpecManager().get_kernel_spec(name).argv[0]
        except NoSuchKernel:
            return False
        return argv0 in _NATIVE_ARGV0 or os.path.abspath(argv0) == os.path.abspath(sys.executable)

    if not runs_this_python():
        from ipykernel.kernelspec import install

        install(kernel_name=name, prefix=sys.prefix)
        if not runs_this_python():
            raise RuntimeError(
                f"the Jupyter kernel {name!r} does not run {sys.executable}: another kernel spec "
                "shadows the one installed in this environment (see `jupyter kernelspec list`); "
                "set JUPYTER_PREFER_ENV_PATH=1 or remove that spec"
            )
    return name


def _failure(notebook: Path, exc: Exception, injected: bool) -> NotebookFailed:
    """The error, with the cell counted from 1 in the stored notebook (papermill's index
    counts the parameter cell it injects after the ``parameters`` cell)."""
    index = getattr(exc, "cell_index", None)
    cell = None
    if index is not None:
        import nbformat

        cells = nbformat.read(notebook, as_version=4).cells
        tagged = [i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", [])]
        cell = index + 1 - int(injected and bool(tagged) and index > tagged[0])
    source = getattr(exc, "source", "") or ""
    if hasattr(exc, "ename"):
        error = f"{exc.ename}: {exc.evalue}"
    else:
        error = f"{type(exc).__name__}: {exc}"
    return NotebookFailed(notebook, cell, source, error)


def execute_notebook(
    notebook: str | os.PathLike,
    out_dir: str | os.PathLike | None = None,
    *,
    smoke: bool = True,
    parameters: Mapping[str, Any] | None = None,
    figures_dir: str | os.PathLike | None = None,
    timeout: float | None = None,
    progress: bool = False,
    kernel: str | None = None,
) -> NotebookRun:
    """Run ``notebook`` with ``SMOKE=smoke`` (plus ``parameters``); write the executed copy.

    ``smoke`` must be True or False: it is always injected, so the notebook's own
    ``SMOKE = None`` (choose from the machine) never decides a run of the harness.

    The kernel starts in the notebook's folder with ``$FSNET_FIGURES_DIR`` set
    to ``figures_dir`` when given. ``timeout`` limits each cell (seconds).
    ``kernel`` names another kernel spec (e.g. another Python's, as the Colab
    rehearsal does); by default this interpreter's (:func:`ensure_kernel`).
    Raises :class:`NotebookFailed` on the first error.
    """
    if not isinstance(smoke, bool):
        raise TypeError(f"smoke must be True or False, got {smoke!r}")
    if "SMOKE" in (parameters or {}):
        raise ValueError("pass SMOKE as smoke=True or False, not in parameters")
    pm = require("papermill", "Running notebooks (fsnet run-all, make run)")
    notebook = Path(notebook)
    if not notebook.is_file():
        from ..io import InputError

        raise InputError(notebook, "notebook not found")
    out = Path(out_dir) if out_dir is not None else BUILD_DIR
    out.mkdir(parents=True, exist_ok=True)
    output = out / notebook.name
    params = {"SMOKE": smoke, **(parameters or {})}
    kernel = kernel or ensure_kernel()
    kernel_wait_policy()
    previous = os.environ.get(FIGURES_ENV)
    if figures_dir is not None:
        os.environ[FIGURES_ENV] = str(Path(figures_dir).resolve())
    start = time.perf_counter()
    try:
        pm.execute_notebook(
            str(notebook),
            str(output),
            parameters=params,
            kernel_name=kernel,
            language="python",
            cwd=str(notebook.parent),
            progress_bar=progress,
            execution_timeout=timeout,
            log_output=False,
        )
    except Exception as exc:  # papermill's own error, or a kernel that died
        raise _failure(notebook, exc, injected=bool(params)) from exc
    finally:
        if figures_dir is not None:
            if previous is None:
                os.environ.pop(FIGURES_ENV, None)
            else:
                os.environ[FIGURES_ENV] = previous
    return NotebookRun(notebook.stem, notebook, output, time.perf_counter() - start)


@functools.cache
def kernel_wait_policy() -> str:
    """Choose once per process how the kernels' OpenMP threads wait (:mod:`.openmp`); say so."""
    return choose_wait_policy()


def run_all(
    only: Sequence[str] | None = None,
    *,
    smoke: bool = True,
    folder: str | os.PathLike | None = None,
    out_dir: str | os.PathLike | None = None,
    figures_dir: str | os.PathLike | None = None,
    timeout: float | None = None,
    report: Callable[[str], None] | None = print,
) -> list[NotebookRun]:
    """Execute the course notebooks in order (those matching ``only``); stop at the first error.

    ``report`` receives one line per notebook as it finishes (None: silent).
    """
    notebooks = select_notebooks(find_notebooks(folder), only)
    if not notebooks:
        raise ValueError(f"no notebooks in {Path(folder) if folder else NOTEBOOK_DIR}")
    if report:
        report(kernel_wait_policy())
    runs = []
    for notebook in notebooks:
        if report:
            report(f"{notebook.name} ...")
        run = execute_notebook(
            notebook, out_dir, smoke=smoke, figures_dir=figures_dir, timeout=timeout
        )
        runs.append(run)
        if report:
            report(f"{notebook.name} done in {run.seconds:.1f} s -> {run.output}")
    return runs


__all__ = [
    "BUILD_DIR",
    "COLAB_URL",
    "KERNEL_NAME",
    "NOTEBOOK_DIR",
    "NotebookFailed",
    "NotebookRun",
    "REPO_URL",
    "SETUP_CELL",
    "colab_badge",
    "ensure_kernel",
    "execute_notebook",
    "find_notebooks",
    "kernel_wait_policy",
    "run_all",
    "select_notebooks",
]

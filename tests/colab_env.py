"""An environment with the package versions Colab's GPU runtime ships, and the notebooks'
set-up cell run there in its Colab branch (session fixtures; see tests/test_colab_install.py
for the stand-ins and why).

Kept under ``~/.cache/fsnet-lab/colab-env/<hash of the requirement list and the Python>/``
(``$XDG_CACHE_HOME`` when set) and reused while those are unchanged: building it takes
minutes (mostly torch and its CUDA libraries, about 6 GB unpacked), reusing it seconds, and
a cache outside the checkout serves every fresh clone on the machine (CI clones anew each
run). ``FSNET_COLAB_ENV_DIR`` puts it elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fsnet_core.harness.notebooks import SETUP_CELL

REPO = Path(__file__).resolve().parents[1]
RUNTIME = REPO / "tests" / "data" / "colab_gpu_runtime.txt"


def pins() -> dict[str, str]:
    pins = {}
    for line in RUNTIME.read_text().splitlines():
        pin = re.match(r"([\w.-]+)==(\S+)", line)
        if pin:
            pins[canonical(pin[1])] = pin[2]
    return pins


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kwargs)


def freeze(python: Path) -> dict[str, str]:
    out = run([str(python), "-m", "pip", "freeze", "--all"], check=True).stdout
    # ``name==version``, or ``name @ file:///...`` for a package installed from a folder
    lines = re.finditer(r"^([\w.-]+)(?:==| @ )(\S+)$", out, flags=re.M)
    return {canonical(m[1]): m[2] for m in lines}


HEALTH = "import numpy, torch; numpy.ndarray; torch.zeros(1)"
"""What a usable Colab-versions environment can do (a killed pip can leave numpy half-removed)."""


@pytest.fixture(scope="session")
def colab_python() -> Path:
    """The Python of an environment with Colab's package versions (built once, then reused)."""
    key = hashlib.sha256(RUNTIME.read_bytes() + sys.version.encode()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "fsnet-lab"
    env = Path(os.environ.get("FSNET_COLAB_ENV_DIR", cache / "colab-env")) / key
    python = env / "bin" / "python"
    healthy = (env / ".complete").is_file() and run([str(python), "-c", HEALTH]).returncode == 0
    if not healthy:  # never built, half built, or broken since (a run killed mid-install)
        shutil.rmtree(env, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
        done = run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
            + ["-r", str(RUNTIME)]
        )
        assert done.returncode == 0, f"could not build Colab's environment:\n{done.stderr[-3000:]}"
        (env / "baseline.json").write_text(json.dumps(freeze(python), indent=1))
        (env / ".complete").touch()
    restore_baseline(python)
    return python


def restore_baseline(python: Path) -> None:
    """Uninstall what was added to the environment since it was built (a notebook's extras,
    installed by the rehearsal as on Colab), so every session starts from Colab's packages.
    The set-up cell's own install (``fsnet-lab``) is redone by ``colab_installed``."""
    baseline_file = python.parent.parent / "baseline.json"
    if not baseline_file.is_file():  # built before baselines were kept: record it now
        baseline_file.write_text(json.dumps(freeze(python), indent=1))
        return
    uninstall_added(python, json.loads(baseline_file.read_text()), keep={"fsnet-lab"})


def uninstall_added(python: Path, since: dict[str, str], keep: set[str] = frozenset()) -> None:
    """Uninstall the packages not in ``since`` (a :func:`freeze` taken earlier), but ``keep``.

    A test that installs something for itself takes out only that, so what the set-up cell
    installed earlier in the session (the runtime's dependencies) stays for later tests.
    """
    added = sorted(set(freeze(python)) - set(since) - set(keep))
    if added:
        done = run([str(python), "-m", "pip", "uninstall", "-y", "-q", *added])
        assert done.returncode == 0, f"could not restore Colab's environment:\n{done.stderr}"


@pytest.fixture(scope="session")
def colab_installed(colab_python, tmp_path_factory) -> dict[str, object]:
    """Run the set-up cell in its Colab branch; the freezes before and after, and its output."""
    fake = tmp_path_factory.mktemp("fake-colab")
    (fake / "google" / "colab").mkdir(parents=True)
    (fake / "google" / "colab" / "__init__.py").write_text('"""Stand-in: this is Colab."""\n')
    before = freeze(colab_python)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env |= {"PYTHONPATH": str(fake), "FSNET_LAB_SOURCE": str(REPO), "CC": "/bin/false"}
    env |= {"CXX": "/bin/false", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    cell = run([str(colab_python), "-c", SETUP_CELL], env=env, cwd=fake)
    assert cell.returncode == 0, f"the set-up cell failed:\n{cell.stdout}\n{cell.stderr[-3000:]}"
    return {"before": before, "after": freeze(colab_python), "output": cell.stdout + cell.stderr}

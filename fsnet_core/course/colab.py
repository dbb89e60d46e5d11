"""The extras a notebook uses, added on Colab without touching Colab's own packages.

The set-up cell installs the runtime only. Notebook 05 also scores saliency maps
(``pysodmetrics``) and refines masks with DenseCRF (``pydensecrf2``). On Colab,
:func:`add_extras` installs whichever is missing, in the one way that changes none
of Colab's packages: pysodmetrics without its dependencies (its pin
``opencv-python-headless<5`` would replace Colab's OpenCV 5; what it imports,
SciPy, scikit-image, scikit-learn and OpenCV, Colab already has), pydensecrf2
compiled from source (Colab has a C++ compiler). Notebook 07 may add OpenVINO, the
CPU engine (its one dependency, numpy, is Colab's own). Elsewhere it installs nothing
and says, in one line per extra, how to add it.
"""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys

from ..extras import available, missing_message

# module -> (what it is for, pip arguments that add it on Colab)
COLAB_INSTALLS: dict[str, tuple[str, list[str]]] = {
    "py_sod_metrics": ("V-SOD scores (S, E, F, MAE)", ["--no-deps", "pysodmetrics>=1.4,<2"]),
    "pydensecrf": ("DenseCRF", ["pydensecrf2>=1.1,<2"]),
    "openvino": ("the CPU engine (OpenVINO)", ["openvino>=2025.1,<2027"]),
}


def on_colab() -> bool:
    """Whether this kernel runs on Colab (its ``google.colab`` module is importable)."""
    try:
        return importlib.util.find_spec("google.colab") is not None
    except ModuleNotFoundError:  # no ``google`` package at all
        return False


def add_extras(*modules: str) -> dict[str, bool]:
    """Which of ``modules`` (keys of :data:`COLAB_INSTALLS`) can be used, after installing
    the missing ones on Colab; prints one line per module saying which, and why not."""
    found = {}
    for module in modules:
        feature, pip_args = COLAB_INSTALLS[module]
        if not available(module) and on_colab():
            cmd = [sys.executable, "-m", "pip", "install", "-q", *pip_args]
            done = subprocess.run(cmd, capture_output=True, text=True)
            importlib.invalidate_caches()
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
                print(f"{feature}: `pip install {' '.join(pip_args)}` failed: {last}")
        found[module] = available(module)
        print(f"{feature}: ready" if found[module] else missing_message(module, feature))
    return found


__all__ = ["COLAB_INSTALLS", "add_extras", "on_colab"]

"""Optional features, and the one line that says how to add each.

The runtime is what the notebooks and commands need, chosen so that installing
it on Colab changes none of Colab's packages. DenseCRF (``pydensecrf2``, which
has no wheels and needs a C++ compiler), the reference V-SOD library, notebook
execution, TensorBoard and the CPU engine (OpenVINO) are extras
(``pyproject.toml``); code that needs one asks :func:`require`, whose error is
the ``pip install`` command that adds it.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

# module -> (the package that provides it, the extra that installs it)
EXTRAS: dict[str, tuple[str, str]] = {
    "pydensecrf": ("pydensecrf2", "crf"),
    "py_sod_metrics": ("pysodmetrics", "vsod"),
    "papermill": ("papermill", "run"),
    "tensorboard": ("tensorboard", "tensorboard"),
    "openvino": ("openvino", "cpu-engine"),
}


class MissingExtra(RuntimeError, ImportError):
    """An optional package is not installed; the message says how to install it."""


def install_hint(module: str) -> str:
    """``pip install "fsnet-lab[EXTRA]"`` for the extra that provides ``module``."""
    return f'pip install "fsnet-lab[{EXTRAS[module.split(".")[0]][1]}]"'


def available(module: str) -> bool:
    """Whether the optional ``module`` (e.g. ``"pydensecrf"``) can be imported."""
    try:
        return importlib.util.find_spec(module.split(".")[0]) is not None
    except ValueError:  # a module object without a spec (already imported oddly)
        return False


def missing_message(module: str, feature: str) -> str:
    """One line: ``feature`` needs the package that provides ``module``, and how to add it."""
    package = EXTRAS[module.split(".")[0]][0]
    return f"{feature} needs {package}, which is not installed: {install_hint(module)}"


def require(module: str, feature: str) -> ModuleType:
    """Import the optional ``module`` or raise :class:`MissingExtra` naming the pip command."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if available(module):  # installed but broken: that is not a missing extra
            raise
        raise MissingExtra(missing_message(module, feature)) from exc


__all__ = ["EXTRAS", "MissingExtra", "available", "install_hint", "missing_message", "require"]

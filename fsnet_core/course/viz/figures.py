"""Where the course's figures go: one folder, files found by name.

Every notebook saves its figures by name through :func:`save_figure`, so the
README and the test suite find them in one folder (``figures/`` of the repo,
or ``$FSNET_FIGURES_DIR`` when set, as the tests do).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ...io import atomic_write
from ..paths import checkout_root
from .audit import SAVE_DPI, check_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FIGURES_ENV = "FSNET_FIGURES_DIR"


def figures_dir() -> Path:
    """The folder figures are written to (created if missing).

    ``$FSNET_FIGURES_DIR`` when set; otherwise the ``figures/`` folder of a
    source checkout (beside ``pyproject.toml``); otherwise ``./figures``
    (an installed package, e.g. on Colab).
    """
    env = os.environ.get(FIGURES_ENV)
    if env:
        folder = Path(env)
    else:
        repo = checkout_root()
        folder = repo / "figures" if repo is not None else Path("figures")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_figure(fig: Figure, name: str, dpi: int = SAVE_DPI) -> Path:
    """Write ``fig`` as ``figures_dir()/name`` (PNG) atomically and return the path.

    ``name`` is a plain file name such as ``01_flow_methods.png`` (``.png`` is
    added when missing) so figures are found by name, never by a counter. The
    figure is audited first (:func:`~.audit.check_figure`): one that colour-blind
    readers cannot read, with text too small, a detached colour bar or overlapping
    tick labels raises :class:`~.audit.UnreadableFigure` naming it and the problems,
    and nothing is written (``$FSNET_LAB_FIGURES=warn``: printed, and written).
    """
    if Path(name).name != name or not name:
        raise ValueError(f"figure name must be a plain file name, got {name!r}")
    if not name.endswith(".png"):
        name += ".png"
    check_figure(fig, name, dpi=dpi)
    path = figures_dir() / name
    with atomic_write(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png", bbox_inches="tight")
    return path


__all__ = ["FIGURES_ENV", "figures_dir", "save_figure"]

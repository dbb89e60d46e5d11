"""Where the course keeps its files: the source checkout when there is one, else the cwd."""

from __future__ import annotations

from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
"""The folder holding ``pyproject.toml`` when the package runs from a source checkout."""


def checkout_root() -> Path | None:
    """The source checkout's root, or ``None`` for an installed package (e.g. on Colab)."""
    return CHECKOUT if (CHECKOUT / "pyproject.toml").is_file() else None


__all__ = ["checkout_root"]

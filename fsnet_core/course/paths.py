"""Where the course keeps its files: the source checkout when there is one, else the cwd.

The rule itself is :mod:`fsnet_core.runtime`'s (every layer needs it); named here for the course.
"""

from __future__ import annotations

from ..runtime import CHECKOUT as CHECKOUT  # the checkout folder, for the harness
from ..runtime import checkout_root

__all__ = ["checkout_root"]

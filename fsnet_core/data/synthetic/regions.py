"""The region labels of the synthetic set: what each pixel of ``Regions/480p`` is.

The labels name the hazards (see :mod:`fsnet_core.data.synthetic`); the analysis
code scores each region apart, so they are the set's public vocabulary.
"""

from __future__ import annotations

REGION_NAMES = {
    0: "background",
    1: "target",
    2: "static look-alike distractor",
    3: "moving non-target background",
    4: "static occluder",
    5: "moving background-coloured object",
}
BACKGROUND, TARGET, DISTRACTOR, MOVING_BACKGROUND, OCCLUDER, MOVING_OBJECT = range(6)
REGION_SHORT_NAMES = {  # for table columns and plot axes
    0: "background",
    1: "target",
    2: "look-alike",
    3: "ripple",
    4: "occluder",
    5: "mover",
}

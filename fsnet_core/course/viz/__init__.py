"""Figures for the notebooks: where they go, panels, and the mechanism plots.

``figures`` (:func:`save_figure` into one folder, found by name), ``panels``
(overlays, outlines, rows and tiles of images, the flow colour wheel),
``attention`` (RCAM gates and BPM pyramids), ``attribution`` (which cue drives
a decision), ``predictions`` (maps beside ground truth).
"""

from .attention import (
    EXCHANGE_PANELS,
    GATE_COLOURS,
    MIN_CELLS,
    PANEL_TITLES,
    attention_table,
    attention_vectors,
    check_readable,
    exchange_maps,
    gate_legend,
    gate_spread,
    plot_attention_modes,
    plot_attention_vectors,
    plot_exchange,
    plot_pyramids,
    pyramid_energy,
    pyramid_object_contrast,
    readable_stages,
    selective_channels,
)
from .attribution import (
    CUE_COLOURS,
    REGION_COLOURS,
    SHORT_NAMES,
    cue_long_table,
    outline_regions,
    plot_cue_attribution,
    plot_cue_summary,
)
from .figures import (
    FIGURES_ENV,
    figures_dir,
    save_figure,
)
from .panels import (
    BLUE,
    GREEN,
    RED,
    compare_overlay,
    draw_contours,
    flow_wheel,
    overlay,
    png_bytes,
    show_row,
    tile,
    to_rgb,
    to_unit,
)
from .predictions import (
    plot_predictions,
)

__all__ = [
    "BLUE",
    "CUE_COLOURS",
    "EXCHANGE_PANELS",
    "FIGURES_ENV",
    "GATE_COLOURS",
    "GREEN",
    "MIN_CELLS",
    "PANEL_TITLES",
    "RED",
    "REGION_COLOURS",
    "SHORT_NAMES",
    "attention_table",
    "attention_vectors",
    "check_readable",
    "compare_overlay",
    "cue_long_table",
    "draw_contours",
    "exchange_maps",
    "figures_dir",
    "flow_wheel",
    "gate_legend",
    "gate_spread",
    "outline_regions",
    "overlay",
    "plot_attention_modes",
    "plot_attention_vectors",
    "plot_cue_attribution",
    "plot_cue_summary",
    "plot_exchange",
    "plot_predictions",
    "plot_pyramids",
    "png_bytes",
    "pyramid_energy",
    "pyramid_object_contrast",
    "readable_stages",
    "save_figure",
    "selective_channels",
    "show_row",
    "tile",
    "to_rgb",
    "to_unit",
]

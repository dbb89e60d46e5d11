"""The course layer: what the notebooks import.

Cached course models (``model_cache``), the paper's tables (``paper``), the
forward-pass demo (``demo``), claims about results (``claims``), the
real-video sections (``real``), figures (``viz``) and ipywidgets explorers
(``widgets``). It sits on top of the package: nothing outside ``course``,
``harness`` and ``cli`` imports it. The harness that runs the notebooks is
``fsnet_core.harness``.
"""

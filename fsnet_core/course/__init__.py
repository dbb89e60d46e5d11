"""The course layer: what only the notebooks need.

Cached course models (``model_cache``), the paper's tables (``paper``), the
notebook runner (``notebooks``), the forward-pass demo (``demo``), figures
(``viz``) and ipywidgets explorers (``widgets``). It sits on top of the
package: nothing outside ``course`` and ``cli`` imports it.
"""

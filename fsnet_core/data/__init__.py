"""Data: folder layouts, datasets and transforms, the synthetic teaching set, downloads.

Kept light on purpose: import the submodule you need, e.g.
``from fsnet_core.data.datasets import VideoSegmentationDataset`` or
``from fsnet_core.data.synthetic import ensure_synthetic_dataset``.
"""

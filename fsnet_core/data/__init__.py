"""Data: folder layouts, datasets and transforms, flow for a dataset, samples, downloads.

``layouts`` (the four folder layouts, discovery and pairing of frames, flows
and masks), ``datasets`` (PyTorch datasets over them), ``transforms``,
``flow_cache`` (flow for every pair of a dataset, cached on disk),
``samples`` (a few model-ready frames with region labels), ``assets`` and
``download`` (the registry of public files, and unpacking them), and the
synthetic teaching set (``synthetic``, a namespace:
``data.synthetic.make_synthetic_dataset``). Files are read through the floor,
:mod:`fsnet_core.io`.
"""

from . import synthetic
from .assets import (
    ASSETS,
    HUB_CACHE,
    REGISTRY,
    Asset,
    davis2016_imagesets,
    drive_url,
    get_asset,
)
from .datasets import (
    INPUTS,
    StaticSaliencyDataset,
    VideoSegmentationDataset,
)
from .downloads import (
    check_archive,
    check_content,
    download,
    extract,
    source_url,
    unpack,
    verify,
)
from .flow_cache import (
    FlowJob,
    FlowSummary,
    compute_flow,
    flow_jobs,
)
from .layouts import (
    LAYOUTS,
    SequenceRecord,
    check_dataset_files,
    check_frame_size,
    check_same_size,
    detect_layout,
    discover_sequences,
)
from .samples import (
    Sample,
    load_samples,
    sequences_with,
    stack_inputs,
    with_region,
)
from .transforms import (
    PairTransform,
    as_hw,
)

__all__ = [
    "synthetic",
    "ASSETS",
    "Asset",
    "FlowJob",
    "FlowSummary",
    "HUB_CACHE",
    "INPUTS",
    "LAYOUTS",
    "PairTransform",
    "REGISTRY",
    "Sample",
    "SequenceRecord",
    "StaticSaliencyDataset",
    "VideoSegmentationDataset",
    "as_hw",
    "check_archive",
    "check_content",
    "check_dataset_files",
    "check_frame_size",
    "check_same_size",
    "compute_flow",
    "davis2016_imagesets",
    "detect_layout",
    "discover_sequences",
    "download",
    "drive_url",
    "extract",
    "flow_jobs",
    "get_asset",
    "load_samples",
    "sequences_with",
    "stack_inputs",
    "source_url",
    "unpack",
    "verify",
    "with_region",
]

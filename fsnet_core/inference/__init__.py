"""Inference: the fast predictor, running a model over a dataset or a video, DenseCRF.

``predictor`` (BN folding, one-time precision cast, pre-packed oneDNN
convolutions from ``onednn``; on the CPU the OpenVINO engine of ``engine``,
an optional extra, with its cache of converted models), ``runner`` (``fsnet infer``: a dataset in,
8-bit probability maps out), ``segment`` (``fsnet segment``: a video or a
folder of frames in, masks, maps and an overlay out) with what it is built
from: ``frames`` (reading), ``pipeline`` (the thread pipeline), ``writers``
(H.264, GIF, overlays); ``manifest`` (what made an output folder, compared
before anything is added to it), ``checkpoints`` (what a checkpoint records
about its training size) and ``crf`` (the authors' DenseCRF step, an optional
extra). The two manifests' file names are ``runner.MANIFEST`` and ``segment.MANIFEST``.
"""

from .checkpoints import (
    trained_size,
)
from .crf import (
    DSS_CRF,
    CRFParams,
    crf_available,
    crf_missing_message,
    refine,
    unary_from_probability,
)
from .engine import (
    BACKEND_ENV,
    BACKENDS,
    CACHE_FORMAT,
    ENGINE,
    CacheKey,
    Conversion,
    OpenVINOModel,
    cache_root,
    code_digest,
    converted_model,
    engine_available,
    engine_missing_note,
    engine_precision,
    engine_version,
    kept_signal_stack,
    requested_backend,
)
from .frames import (
    FOLDER_FPS,
    VIDEO_EXTS,
    Frame,
    Pair,
    Selection,
    check_source,
    declared_frames,
    frame_pairs,
    open_frames,
    shortfall,
    source_identity,
)
from .manifest import (
    ModelSource,
    check_made_alike,
    differences,
    model_digest,
    model_entry,
    package_version,
    read_manifest,
)
from .onednn import (
    PackedConv2d,
    PackedResidualBlock,
    onednn_available,
    pack_convolutions,
    packing_supported,
)
from .pipeline import (
    Worker,
    in_background,
)
from .predictor import (
    NORMALISED_LIMIT,
    FSNetPredictor,
    check_model_input,
    choose_backend,
    default_precision,
    fold_batchnorm,
)
from .runner import (
    InferenceSummary,
    full_size_probability,
    make_predictor,
    predict_sequence,
    run_inference,
    to_uint8,
)
from .segment import (
    FLOW_MIN_SIDE,
    FrameOutputs,
    InputPreparer,
    SegmentInterrupted,
    SegmentSummary,
    authors_checkpoint,
    flow_scale,
    segment_video,
)
from .writers import (
    GIF_MAX_FPS,
    GIF_WIDTH,
    H264Writer,
    OverlayWriter,
    tint,
    write_video,
)

__all__ = [
    "BACKENDS",
    "BACKEND_ENV",
    "CACHE_FORMAT",
    "CRFParams",
    "CacheKey",
    "Conversion",
    "ENGINE",
    "OpenVINOModel",
    "DSS_CRF",
    "FLOW_MIN_SIDE",
    "FOLDER_FPS",
    "FSNetPredictor",
    "Frame",
    "FrameOutputs",
    "GIF_MAX_FPS",
    "GIF_WIDTH",
    "H264Writer",
    "InferenceSummary",
    "InputPreparer",
    "ModelSource",
    "NORMALISED_LIMIT",
    "OverlayWriter",
    "PackedConv2d",
    "PackedResidualBlock",
    "Pair",
    "SegmentInterrupted",
    "SegmentSummary",
    "Selection",
    "VIDEO_EXTS",
    "Worker",
    "authors_checkpoint",
    "cache_root",
    "check_made_alike",
    "check_model_input",
    "check_source",
    "choose_backend",
    "code_digest",
    "converted_model",
    "crf_available",
    "crf_missing_message",
    "declared_frames",
    "default_precision",
    "differences",
    "engine_available",
    "engine_missing_note",
    "engine_precision",
    "engine_version",
    "kept_signal_stack",
    "flow_scale",
    "fold_batchnorm",
    "frame_pairs",
    "full_size_probability",
    "in_background",
    "make_predictor",
    "model_digest",
    "model_entry",
    "onednn_available",
    "open_frames",
    "pack_convolutions",
    "package_version",
    "packing_supported",
    "predict_sequence",
    "read_manifest",
    "refine",
    "requested_backend",
    "run_inference",
    "segment_video",
    "shortfall",
    "source_identity",
    "tint",
    "to_uint8",
    "trained_size",
    "unary_from_probability",
    "write_video",
]

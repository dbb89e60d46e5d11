"""The floor every layer shares: files written safely, and weight files read and fetched.

``files`` (atomic writes, :class:`InputError`), ``images`` (the one reader of
images, masks and maps, and the one sort of frame names), ``davis`` (the DAVIS
folder layout and its split lists), ``download`` (the one transfer: resumable,
locked, verified, the mirror), ``weights`` (reading a weight file safely,
digests, :func:`weights_file`: the one way to get published weights, and
:class:`WeightsUnavailable`). This package imports nothing else of
``fsnet_core``; every other layer may import it.
"""

from .download import (
    MIRROR_ENV,
    ChecksumMismatch,
    DownloadError,
    DownloadInProgress,
    fetch_file,
    mirror_url,
    source_url,
)
from .files import (
    InputError,
    atomic_write,
    current_umask,
    mkdtemp_honouring_umask,
    remove_stale_temporaries,
    sha256_of,
)
from .images import (
    IMAGE_SUFFIXES,
    Levels,
    image_files,
    natural_sorted,
    read_levels,
    read_map,
    read_mask,
    read_rgb,
    write_png,
)
from .weights import (
    NAME_DIGEST,
    WeightsUnavailable,
    check_digest,
    hub_checkpoint_path,
    load_weights,
    weights_file,
)

__all__ = [
    "IMAGE_SUFFIXES",
    "Levels",
    "image_files",
    "natural_sorted",
    "read_levels",
    "read_map",
    "read_mask",
    "read_rgb",
    "write_png",
    "MIRROR_ENV",
    "NAME_DIGEST",
    "ChecksumMismatch",
    "DownloadError",
    "DownloadInProgress",
    "InputError",
    "WeightsUnavailable",
    "atomic_write",
    "check_digest",
    "current_umask",
    "fetch_file",
    "hub_checkpoint_path",
    "load_weights",
    "mirror_url",
    "mkdtemp_honouring_umask",
    "remove_stale_temporaries",
    "sha256_of",
    "source_url",
    "weights_file",
]

"""The floor every layer shares: each format and fetch written once.

``files`` (atomic writes, lock files, :class:`InputError`), ``images`` (the one
reader of images, masks and maps, and the one sort of frame names), ``davis``
(the DAVIS folder layout and its split lists, exported as a namespace:
``io.davis.RESOLUTION``), ``download`` (the one transfer: resumable, locked,
verified, the mirror), ``weights`` (reading a weight file safely, digests,
:func:`weights_file`: the one way to get published weights, and
:class:`WeightsUnavailable`). This package imports nothing else of
``fsnet_core``; every other layer may import it.
"""

from . import davis
from .download import (
    MIRROR_ENV,
    ChecksumMismatch,
    DownloadError,
    DownloadInProgress,
    check_file,
    confirmed_url,
    fetch,
    fetch_file,
    lock_path,
    locked,
    mirror_url,
    source_url,
)
from .files import (
    InputError,
    LockHeld,
    atomic_write,
    current_umask,
    exclusive_lock,
    mkdtemp_honouring_umask,
    remove_stale_temporaries,
    sha256_of,
)
from .images import (
    IMAGE_SUFFIXES,
    NOTES,
    Levels,
    image_files,
    image_size,
    is_image_file,
    natural_key,
    natural_sorted,
    read_labels,
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
    expected_digest,
    hub_checkpoint_path,
    load_weights,
    state_digest,
    weights_file,
)

__all__ = [
    "davis",
    "ChecksumMismatch",
    "DownloadError",
    "DownloadInProgress",
    "IMAGE_SUFFIXES",
    "InputError",
    "Levels",
    "LockHeld",
    "MIRROR_ENV",
    "NAME_DIGEST",
    "NOTES",
    "WeightsUnavailable",
    "atomic_write",
    "check_digest",
    "check_file",
    "confirmed_url",
    "current_umask",
    "exclusive_lock",
    "expected_digest",
    "fetch",
    "fetch_file",
    "hub_checkpoint_path",
    "image_files",
    "image_size",
    "is_image_file",
    "load_weights",
    "lock_path",
    "locked",
    "mirror_url",
    "mkdtemp_honouring_umask",
    "natural_key",
    "natural_sorted",
    "read_labels",
    "read_levels",
    "read_map",
    "read_mask",
    "read_rgb",
    "remove_stale_temporaries",
    "sha256_of",
    "state_digest",
    "source_url",
    "weights_file",
    "write_png",
]

"""The floor every layer shares: files written safely, and weight files read and fetched.

``files`` (atomic writes, lock files, :class:`InputError`), ``images`` (the one reader of
images, masks and maps, and the one sort of frame names), ``davis`` (the DAVIS
folder layout and its split lists), ``weights`` (reading a weight file safely,
digests, the mirror). This package imports nothing else of
``fsnet_core``; every other layer may import it.
"""

from .files import (
    InputError,
    atomic_write,
    current_umask,
    exclusive_lock,
    mkdtemp_honouring_umask,
    remove_stale_temporaries,
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
    MIRROR_ENV,
    NAME_DIGEST,
    check_name_digest,
    hub_checkpoint_path,
    load_hub_weights,
    load_weights,
    mirror_url,
    sha256_of,
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
    "InputError",
    "atomic_write",
    "check_name_digest",
    "current_umask",
    "exclusive_lock",
    "hub_checkpoint_path",
    "load_hub_weights",
    "load_weights",
    "mirror_url",
    "mkdtemp_honouring_umask",
    "remove_stale_temporaries",
    "sha256_of",
]

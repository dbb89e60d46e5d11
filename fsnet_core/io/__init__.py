"""The floor every layer shares: files written safely, and weight files read and fetched.

``files`` (atomic writes, :class:`InputError`), ``weights`` (reading a weight
file safely, digests, the mirror). This package imports nothing else of
``fsnet_core``; every other layer may import it.
"""

from .files import (
    InputError,
    atomic_write,
    current_umask,
    mkdtemp_honouring_umask,
    remove_stale_temporaries,
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
    "MIRROR_ENV",
    "NAME_DIGEST",
    "InputError",
    "atomic_write",
    "check_name_digest",
    "current_umask",
    "hub_checkpoint_path",
    "load_hub_weights",
    "load_weights",
    "mirror_url",
    "mkdtemp_honouring_umask",
    "remove_stale_temporaries",
    "sha256_of",
]

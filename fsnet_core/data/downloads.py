"""Fetch a registry asset: the file through the floor's one transfer, then unpacked into place.

The transfer (resume, retries, the ``.part`` lock, checksums, Google Drive's
confirmation page) is :mod:`fsnet_core.io.download`'s; this module knows what
an asset is:

1. its file is fetched into ``NAME.part`` and checked (length and SHA-256
   where the registry records them, archives by a full CRC / read-through
   test, weight files by loading them as tensors only), then renamed;
2. archives are unpacked into a hidden temporary folder (members that would
   land outside it are refused), and the files unpacked are moved into the
   target folder. Over an earlier copy (``--force``) only the files the
   archive holds are replaced: anything else there (flow computed into it,
   predictions, notes) is kept, and said so.

So a final name only ever holds a verified, whole file, and the whole
operation runs under the ``.part``'s lock: a second download of the same
asset waits for the first, then finds it done.
"""

from __future__ import annotations

import lzma
import os
import re
import shutil
import sys
import tarfile
import warnings
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from ..io import InputError, load_weights, mkdtemp_honouring_umask
from ..io import download as transfer
from .assets import Asset, get_asset

CHUNK = 1 << 20
ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    tarfile.TarError,
    EOFError,
    OSError,
    zlib.error,
    lzma.LZMAError,
)
KEPT = "; it was kept: delete it, or pass --force (force=True) to download it again"


# ---------------------------------------------------------------- verification


def _archive_format(path: Path) -> str | None:
    if zipfile.is_zipfile(path):
        return "zip"
    if tarfile.is_tarfile(path):
        return "tar"
    return None


def check_archive(path: Path) -> str:
    """Read every member of a zip (CRC test) or tar (full read-through); return the format."""
    fmt = _archive_format(path)
    try:
        if fmt == "zip":
            with zipfile.ZipFile(path) as z:
                bad = z.testzip()
            if bad is not None:
                raise InputError(path, f"corrupt archive: CRC check failed for member {bad!r}")
        elif fmt == "tar":
            with tarfile.open(path, "r:*") as t:
                for member in t:
                    if member.isfile():
                        stream = t.extractfile(member)
                        while stream is not None and stream.read(CHUNK):
                            pass
        else:
            raise InputError(path, "not a zip or tar archive (a corrupt or wrong file)")
    except ARCHIVE_ERRORS as exc:
        raise InputError(path, f"corrupt {fmt} archive: {exc}") from exc
    return fmt


WEIGHT_SUFFIXES = (".pth", ".pt")


def check_content(path: Path, asset: Asset) -> None:
    """What the bytes must be beyond their digest: a whole archive, or weights that load as
    tensors only (the only check when no digest is known; it refuses a file that would run
    code when unpickled)."""
    if asset.kind == "archive" or zipfile.is_zipfile(path):  # .pth files are zips too
        check_archive(path)
    if asset.kind != "archive" and asset.target.endswith(WEIGHT_SUFFIXES):
        load_weights(path)


def verify(path: Path, asset: Asset) -> None:
    """Check a file that was already in place (saved by hand, or kept from an earlier run)
    as a download is checked; a failing one is reported, never deleted."""
    try:
        transfer.check_file(
            path, size=asset.size, sha256=asset.digest, check=lambda p: check_content(p, asset)
        )
    except (InputError, transfer.DownloadError) as exc:
        raise transfer.amended(exc, KEPT) from None


# ---------------------------------------------------------------- unpacking


def _unsafe(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or re.match(r"^[A-Za-z]:", name) is not None


def _refuse_unsafe(archive: Path, member: str, unsafe: bool) -> None:
    if unsafe:
        raise InputError(archive, f"unsafe member {member!r} (it would land outside the folder)")


def extract(archive: Path, into: Path) -> None:
    """Extract a zip or tar into ``into``, refusing members that would land outside it."""
    fmt = _archive_format(archive)
    if fmt == "zip":
        with zipfile.ZipFile(archive) as z:
            for name in z.namelist():
                _refuse_unsafe(archive, name, _unsafe(name))
            z.extractall(into)
    elif fmt == "tar":
        with tarfile.open(archive, "r:*") as t:
            for m in t.getmembers():
                link_escapes = (m.issym() or m.islnk()) and _unsafe(m.linkname)
                _refuse_unsafe(archive, m.name, _unsafe(m.name) or link_escapes or m.isdev())
            if hasattr(tarfile, "data_filter"):
                t.extractall(into, filter="data")
            else:  # Python < 3.10.12 / 3.11.4: members were checked above
                t.extractall(into)
    else:
        raise InputError(archive, "not a zip or tar archive")


def _content_root(folder: Path, asset: Asset) -> Path:
    """The folder holding the archive's content, below any wrapping folders.

    With ``asset.expect``, single wrapping folders are descended until those
    entries appear; without, one wrapper named like the target or the
    archive is stripped (``DAVIS/`` in ``DAVIS-data.zip`` -> ``DAVIS``).
    """

    def inner(p: Path) -> list[Path]:
        return [c for c in p.iterdir() if c.name != "__MACOSX" and not c.name.startswith("._")]

    names = {asset.target.lower(), Path(asset.filename).stem.lower()}
    root = folder
    for _ in range(3):
        entries = inner(root)
        if asset.expect and all((root / e).exists() for e in asset.expect):
            return root
        if len(entries) != 1 or not entries[0].is_dir():
            break
        if not asset.expect and entries[0].name.lower() not in names:
            break
        root = entries[0]
    return root


def _files_under(folder: Path) -> list[Path]:
    """Every file (and link) below ``folder``, relative to it, in a stable order."""
    return sorted(
        p.relative_to(folder) for p in folder.rglob("*") if p.is_symlink() or not p.is_dir()
    )


def _merge_into(root: Path, final: Path) -> list[Path]:
    """Move every file unpacked under ``root`` to the same place under ``final``.

    What the archive holds replaces what is there; nothing else in
    ``final`` is touched. Returns the files of ``final`` that the archive
    does not hold (kept). A folder where the archive has a file (or a file
    where it has a folder) is refused before anything moves.
    """
    ours = _files_under(root)
    for rel in ours:
        there = final / rel
        if there.is_dir() and not there.is_symlink():
            raise InputError(there, "is a folder where the archive has a file: move it away")
        for parent in rel.parents:
            if parent != Path(".") and (final / parent).is_file():
                raise InputError(final / parent, "is a file where the archive has a folder")
    owned = set(ours)
    kept = [rel for rel in _files_under(final) if rel not in owned]
    for rel in ours:
        (final / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(root / rel, final / rel)
    return kept


def unpack(archive: Path, asset: Asset, dest: Path) -> Path:
    """Unpack ``archive`` into ``dest / asset.target`` through a temporary folder.

    A new target is the temporary folder renamed into place. Over an existing
    one (``--force``), what the archive holds replaces the asset's files and
    everything else is kept: a line on stderr says how many files were kept.
    """
    final = dest / asset.target
    work = mkdtemp_honouring_umask(prefix=f".{asset.target}.unpacking-", dir=dest)
    try:
        extract(archive, work / "content")
        root = _content_root(work / "content", asset)
        if asset.after_unpack is not None:
            asset.after_unpack(root)
        if final.exists():
            kept = _merge_into(root, final)
            if kept:
                shown = ", ".join(str(k) for k in kept[:3]) + (", ..." if len(kept) > 3 else "")
                print(
                    f"{final}: replaced the files {archive.name} holds; kept {len(kept)} "
                    f"file(s) it does not hold ({shown})",
                    file=sys.stderr,
                )
        else:
            os.replace(root, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    missing = [e for e in asset.expect if not (final / e).exists()]
    if missing:
        warnings.warn(
            f"{final}: unpacked, but {', '.join(missing)} not found; {asset.reads_it}",
            stacklevel=2,
        )
    return final


# ---------------------------------------------------------------- the entry point


def source_url(asset: Asset, url: str | None = None) -> str:
    """Where ``asset`` is fetched from: ``url`` if given, else the mirror if set, else its own."""
    return transfer.source_url(asset.url, asset.filename, url)


def download(
    asset: Asset | str,
    dest: str | os.PathLike | None = None,
    *,
    url: str | None = None,
    force: bool = False,
    keep_archive: bool = False,
    progress: bool = True,
    retries: int = 3,
    retry_wait: float = 2.0,
    timeout: float = 60.0,
    wait: float | None = None,
) -> Path:
    """Fetch, verify and (for archives) unpack ``asset``; return its final path.

    ``asset`` is a registry entry or its name; ``dest`` the destination folder
    (default: the asset's, e.g. ``data/`` or the torch hub cache); ``url``
    replaces the registry's address (a mirror, or a test server); without it,
    ``$FSNET_LAB_MIRROR`` (:data:`fsnet_core.io.MIRROR_ENV`), when set, serves every
    asset as ``<mirror>/<asset.filename>``, checked against the registry's
    digest where it records one. An existing result is kept unless ``force``:
    an unpacked folder as it is, a single file only once :func:`verify`
    passes (otherwise an error names it). A file saved by hand as
    ``dest/FILENAME`` is verified and used instead of downloading. Another
    process downloading the same asset is waited for (at most ``wait``
    seconds when given, then :class:`~fsnet_core.io.DownloadInProgress`).
    """
    asset = get_asset(asset) if isinstance(asset, str) else asset
    dest = asset.destination(dest)
    final = dest / asset.target
    if final.exists() and not force and asset.kind == "archive":
        return final
    dest.mkdir(parents=True, exist_ok=True)
    fetched = dest / asset.filename if asset.kind == "archive" else final
    with transfer.locked(fetched.with_name(fetched.name + ".part"), wait=wait):
        if final.exists() and not force and asset.kind == "archive":
            return final  # another process unpacked it while this one waited
        if force or not fetched.is_file():
            transfer.fetch_file(
                source_url(asset, url),
                fetched,
                own_url=asset.url,
                size=asset.size,
                sha256=asset.digest,
                check=lambda p: check_content(p, asset),
                force=force,
                retries=retries,
                retry_wait=retry_wait,
                timeout=timeout,
                progress=progress,
            )
        else:  # placed by hand (or kept from an earlier run): check it, but never delete it
            verify(fetched, asset)
        if asset.kind != "archive":
            return fetched
        if progress:
            print(f"unpacking {fetched.name} into {final}", file=sys.stderr)
        result = unpack(fetched, asset, dest)
        if not keep_archive:
            fetched.unlink()
    return result


__all__ = [
    "check_archive",
    "check_content",
    "download",
    "extract",
    "source_url",
    "unpack",
    "verify",
]

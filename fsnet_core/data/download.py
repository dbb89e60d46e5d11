"""Fetch a registry asset safely: resumable transfer, verification, unpacking into place.

The order of operations is what makes it safe to interrupt at any point:

1. bytes arrive in ``NAME.part`` (an interrupted transfer resumes from there
   with an HTTP ``Range`` request, or starts again when the server ignores it);
2. the complete ``.part`` is checked (length, SHA-256 where known, and for
   archives a full CRC / read-through test); a bad one is deleted;
3. only then is it renamed to its final name;
4. archives are unpacked into a hidden temporary folder (members that would
   land outside it are refused) and that folder is renamed into place.

So a final name only ever holds a verified, whole file or folder. Google
Drive's "can't scan this file for viruses" page is answered with plain
``urllib`` (its form, confirm token or cookie), as ``gdown`` would.
"""

from __future__ import annotations

import html.parser
import http.client
import http.cookiejar
import lzma
import os
import re
import shutil
import sys
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from ..io import InputError, load_weights, mirror_url, mkdtemp_honouring_umask, sha256_of
from .assets import Asset, get_asset

CHUNK = 1 << 20
USER_AGENT = "fsnet-lab-downloader/0.1 (+https://github.com/GewelsJI/FSNet)"
Response = http.client.HTTPResponse
ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    tarfile.TarError,
    EOFError,
    OSError,
    zlib.error,
    lzma.LZMAError,
)
NETWORK_ERRORS = (OSError, http.client.HTTPException)  # URLError and socket errors are OSErrors


class DownloadError(RuntimeError):
    """A transfer failed; the message names the address and what to do next."""


class ChecksumMismatch(DownloadError):
    """The downloaded bytes are not the expected ones (the partial file is deleted)."""


# ---------------------------------------------------------------- Google Drive's confirmation


class _ConfirmPage(html.parser.HTMLParser):
    """Collects the download form (action and hidden fields) and links with a confirm token."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None and "download" in (a.get("id", "") + a["action"]):
            self.action = a["action"]
        elif tag == "input" and self.action is not None and a.get("type") == "hidden":
            self.fields[a.get("name", "")] = a.get("value", "")
        elif tag == "a" and "confirm=" in a.get("href", ""):
            self.links.append(a["href"])


def _with_query(url: str, **params: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query)) | params
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def confirmed_url(page_url: str, page: str, cookies: http.cookiejar.CookieJar) -> str | None:
    """The address that really serves the file, from Drive's large-file warning page.

    Tries, in order, the current form (``drive.usercontent.google.com``
    with hidden fields), an older ``confirm=TOKEN`` link and an older
    ``download_warning`` cookie; None when the page offers none of them.
    """
    parser = _ConfirmPage()
    parser.feed(page)
    if parser.action:
        action = urllib.parse.urljoin(page_url, parser.action)
        return f"{action}?{urllib.parse.urlencode(parser.fields)}"
    if parser.links:
        return urllib.parse.urljoin(page_url, parser.links[0].replace("&amp;", "&"))
    token = next((c.value for c in cookies if c.name.startswith("download_warning")), None)
    return _with_query(page_url, confirm=token) if token else None


def _page_problem(page: str) -> str | None:
    """Drive's own explanation when it refuses the file (quota, permission), if any."""
    for pattern, problem in [
        (r"quota|too many users", "Google Drive's download quota for this file is exceeded"),
        (r"need (?:access|permission)|ServiceLogin", "the file is not public on Google Drive"),
    ]:
        if re.search(pattern, page, re.IGNORECASE):
            return problem
    return None


# ---------------------------------------------------------------- the transfer


class _Transfer:
    """One resumable download of ``url`` into ``part``."""

    def __init__(self, url: str, part: Path, timeout: float, progress: bool, label: str) -> None:
        self.url = url
        self.part = part
        self.timeout = timeout
        self.progress = progress
        self.label = label
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def _open(self, url: str, start: int) -> Response:
        headers = {"User-Agent": USER_AGENT}
        if start:
            headers["Range"] = f"bytes={start}-"
        return self.opener.open(urllib.request.Request(url, headers=headers), timeout=self.timeout)

    def _open_file(self, start: int) -> Response:
        """Open the file itself, answering at most two interstitial web pages on the way."""
        url = self.url
        for _ in range(3):
            response = self._open(url, start)
            if not response.headers.get_content_type().startswith("text/html"):
                return response
            page = response.read(2 << 20).decode("utf-8", "replace")
            response.close()
            url = confirmed_url(response.url, page, self.cookies)
            if url is None:
                problem = _page_problem(page)
                if problem:
                    raise DownloadError(f"{self.url}: {problem}. {self._manual_hint()}")
                url = _with_query(response.url, confirm="t")  # Drive's generic "yes, download"
        raise DownloadError(
            f"{self.url}: the server keeps answering with a web page instead of the file. "
            + self._manual_hint()
        )

    def _manual_hint(self) -> str:
        return (
            f"Download it in a browser instead and save it as {self.part.with_suffix('')}, "
            "then run the same command again (an archive is then verified and unpacked)."
        )

    def run_once(self) -> None:
        """Fetch what is missing from ``part``; raises a network error if cut off."""
        start = self.part.stat().st_size if self.part.exists() else 0
        try:
            response = self._open_file(start)
        except urllib.error.HTTPError as exc:
            if exc.code != 416 or not start:
                raise
            # 416: nothing left from ``start``; fine if the part is exactly the whole file
            if exc.headers.get("Content-Range", "").endswith(f"/{start}"):
                return
            self.part.unlink()
            return self.run_once()
        with response:
            start, total = self._resume_point(response, start)
            self._copy(response, start, total)

    def _resume_point(self, response: Response, start: int) -> tuple[int, int | None]:
        """Where the body starts in the file, and the file's total length if announced."""
        length = response.headers.get("Content-Length")
        body = int(length) if length is not None else None
        if response.status == 206:
            match = re.match(r"bytes (\d+)-\d+/(\d+|\*)", response.headers.get("Content-Range", ""))
            if match and int(match.group(1)) == start:
                total = match.group(2)
                return start, int(total) if total != "*" else None
            self.part.unlink()  # an answer for another part of the file: start afresh
            raise DownloadError(
                f"{self.url}: the server resumed at the wrong place ("
                f"{response.headers.get('Content-Range')!r} for byte {start}); the partial "
                "file was deleted, run the same command again to download it from the start"
            )
        if start:  # the server ignored Range and sends the whole file: start again
            self.part.unlink()
        return 0, body

    def _copy(self, response: Response, start: int, total: int | None) -> None:
        from tqdm.auto import tqdm

        self.part.parent.mkdir(parents=True, exist_ok=True)
        done = start
        with (
            open(self.part, "ab" if start else "wb") as out,
            tqdm(
                total=total,
                initial=start,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=self.label,
                disable=not self.progress,
            ) as bar,
        ):
            while chunk := response.read(CHUNK):
                out.write(chunk)
                done += len(chunk)
                bar.update(len(chunk))
        if total is not None and done < total:
            raise http.client.IncompleteRead(b"", total - done)


def fetch(
    url: str,
    part: Path,
    *,
    retries: int = 3,
    retry_wait: float = 2.0,
    timeout: float = 60.0,
    progress: bool = True,
) -> Path:
    """Download ``url`` into ``part``, resuming what is there and retrying when cut off.

    After ``retries`` failed resumptions the error says how far it got and
    that running again resumes from the ``.part`` file.
    """
    transfer = _Transfer(url, part, timeout, progress, part.name.removesuffix(".part"))
    for attempt in range(retries + 1):
        try:
            transfer.run_once()
            return part
        except DownloadError:
            raise
        except urllib.error.HTTPError as exc:
            raise DownloadError(
                f"{url}: the server answered HTTP {exc.code} ({exc.reason}). Check the address "
                "(override it with --url) or try again later. " + transfer._manual_hint()
            ) from exc
        except NETWORK_ERRORS as exc:
            have = part.stat().st_size if part.exists() else 0
            if attempt == retries:
                what = f"interrupted after {have:,} bytes" if have else "could not be reached"
                raise DownloadError(
                    f"{url}: {what} ({exc}). Check the internet connection (or proxy) and run "
                    f"the same command again"
                    + (f": it resumes from {part}." if have else ". ")
                    + ("" if have else transfer._manual_hint())
                ) from exc
            time.sleep(retry_wait * 2**attempt)
    raise AssertionError("unreachable")


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


def verify(part: Path, asset: Asset, delete: bool = True) -> None:
    """Check length, SHA-256, archive integrity and that weights load as tensors only.

    A failing file is deleted if ``delete`` (a download); a file that was
    already in place is reported, never deleted. Weight files are loaded with
    ``weights_only=True``: this is the only check when no size or digest is
    known, and it refuses a file that would run code when unpickled.
    """
    gone = (
        "; the file was deleted, run again to download it afresh"
        if delete
        else "; it was kept: delete it, or pass --force (force=True) to download it again"
    )
    try:
        size = part.stat().st_size
        if asset.size is not None and size != asset.size:
            raise ChecksumMismatch(f"{part}: {size:,} bytes, expected {asset.size:,}{gone}")
        if asset.sha256 or asset.sha256_prefix:
            actual = sha256_of(part)
            expected = asset.sha256 or asset.sha256_prefix or ""
            if not actual.startswith(expected.lower()):
                raise ChecksumMismatch(f"{part}: sha256 is {actual}, expected {expected}{gone}")
        if asset.kind == "archive" or zipfile.is_zipfile(part):  # .pth files are zips too
            check_archive(part)
        if asset.kind != "archive" and asset.target.endswith(WEIGHT_SUFFIXES):
            load_weights(part)
    except InputError as exc:
        if delete:
            part.unlink()
        raise InputError(exc.path, exc.problem + gone) from None
    except DownloadError:
        if delete:
            part.unlink()
        raise


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


def unpack(archive: Path, asset: Asset, dest: Path) -> Path:
    """Unpack ``archive`` into ``dest / asset.target`` through a temporary folder and a rename."""
    final = dest / asset.target
    work = mkdtemp_honouring_umask(prefix=f".{asset.target}.unpacking-", dir=dest)
    try:
        extract(archive, work / "content")
        root = _content_root(work / "content", asset)
        if asset.after_unpack is not None:
            asset.after_unpack(root)
        if final.exists():  # --force: swap the new folder in, then drop the old one
            os.replace(final, work / "previous")
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
    return url or mirror_url(asset.filename) or asset.url


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
) -> Path:
    """Fetch, verify and (for archives) unpack ``asset``; return its final path.

    ``asset`` is a registry entry or its name; ``dest`` the destination folder
    (default: the asset's, e.g. ``data/`` or the torch hub cache); ``url``
    replaces the registry's address (a mirror, or a test server); without it,
    ``$FSNET_LAB_MIRROR`` (:data:`fsnet_core.io.MIRROR_ENV`), when set, serves every
    asset as ``<mirror>/<asset.filename>``. An existing
    result is kept unless ``force``: an unpacked folder as it is, a single file
    only once :func:`verify` passes (otherwise an error names it). A file saved
    by hand as ``dest/FILENAME`` is verified and used instead of downloading.
    """
    asset = get_asset(asset) if isinstance(asset, str) else asset
    dest = asset.destination(dest)
    final = dest / asset.target
    if final.exists() and not force and asset.kind == "archive":
        return final
    dest.mkdir(parents=True, exist_ok=True)
    fetched = dest / asset.filename if asset.kind == "archive" else final
    part = fetched.with_name(fetched.name + ".part")
    if force or not fetched.is_file():
        if force:
            part.unlink(missing_ok=True)
        fetch(
            source_url(asset, url),
            part,
            retries=retries,
            retry_wait=retry_wait,
            timeout=timeout,
            progress=progress,
        )
        verify(part, asset)
        os.replace(part, fetched)
    else:  # placed by hand (or kept from an earlier run): check it, but never delete it
        verify(fetched, asset, delete=False)
    if asset.kind != "archive":
        return fetched
    if progress:
        print(f"unpacking {fetched.name} into {final}", file=sys.stderr)
    result = unpack(fetched, asset, dest)
    if not keep_archive:
        fetched.unlink()
    return result

"""Fetching one file over HTTP(S): the transfer every download of the package goes through.

The order of operations is what makes it safe to interrupt at any point:

1. a lock file beside ``NAME.part`` (pid and host, created atomically) keeps a
   second process from writing the same ``.part``: it waits, or is told;
2. bytes arrive in ``NAME.part`` (an interrupted transfer resumes from there
   with an HTTP ``Range`` request, or starts again when the server ignores it);
3. the complete ``.part`` is checked (length, SHA-256 where known, a caller's
   own check); a bad one is deleted;
4. only then is it renamed to its final name.

Network faults are retried; a fault on this machine's side (a read-only
folder, a full disk) is raised at once as the ``OSError`` it is, naming the
path. Google Drive's "can't scan this file for viruses" page is answered with
plain ``urllib`` (its form, confirm token or cookie). What a file *is* (a
registry asset, an archive to unpack, a weights file) is for the callers:
:mod:`fsnet_core.data.downloads` and :mod:`fsnet_core.io.weights`.
"""

from __future__ import annotations

import contextlib
import html.parser
import http.client
import http.cookiejar
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from .files import InputError, LockHeld, exclusive_lock, sha256_of

CHUNK = 1 << 20
USER_AGENT = "fsnet-lab-downloader/0.1 (+https://github.com/GewelsJI/FSNet)"
Response = http.client.HTTPResponse
NETWORK_ERRORS = (OSError, http.client.HTTPException)  # URLError and socket errors are OSErrors
DELETED = "; the file was deleted, run again to download it afresh"


class DownloadError(RuntimeError):
    """A transfer failed; the message names the address and what to do next.

    ``reason`` is the failure alone (address and cause), for callers that
    give their own advice, such as :class:`~fsnet_core.io.WeightsUnavailable`.
    """

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


class ChecksumMismatch(DownloadError):
    """The bytes are not the expected ones; the message names the file and both digests."""


class DownloadInProgress(DownloadError):
    """Another process holds the lock on the file's ``.part``: it is downloading it now."""


# ---------------------------------------------------------------- where a file comes from

MIRROR_ENV = "FSNET_LAB_MIRROR"
"""Environment variable naming a mirror: every file is fetched from ``<mirror>/<file name>``."""


def mirror_url(filename: str) -> str | None:
    """``$FSNET_LAB_MIRROR`` with ``filename`` appended to its path, else None.

    A query string stays a query string (``https://host/m?sig=abc`` gives
    ``https://host/m/FILE?sig=abc``), as signed or tokened mirror links need.
    """
    base = os.environ.get(MIRROR_ENV, "").strip()
    if not base:
        return None
    parts = urllib.parse.urlsplit(base)
    path = f"{parts.path.rstrip('/')}/{urllib.parse.quote(filename)}"
    return urllib.parse.urlunsplit(parts._replace(path=path))


def source_url(url: str, filename: str, override: str | None = None) -> str:
    """Where a file is fetched from: ``override`` (``--url``), else the mirror, else ``url``."""
    return override or mirror_url(filename) or url


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


class _LocalFault(Exception):
    """An OSError on this machine's side, carried past the retry loop to be raised at once."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error)
        self.error = error


@contextlib.contextmanager
def _on_disk(path: Path) -> Iterator[None]:
    """Mark OSErrors inside as local (a read-only folder, a full disk), naming ``path``."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None:
            exc.filename = str(path)
        raise _LocalFault(exc) from exc


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
                    raise DownloadError(f"{self.url}: {problem}. {self.manual_hint()}")
                url = _with_query(response.url, confirm="t")  # Drive's generic "yes, download"
        raise DownloadError(
            f"{self.url}: the server keeps answering with a web page instead of the file. "
            + self.manual_hint()
        )

    def manual_hint(self) -> str:
        return (
            f"Download it in a browser instead and save it as {self.part.with_suffix('')}, "
            "then run the same command again (an archive is then verified and unpacked)."
        )

    def _drop_part(self) -> None:
        with _on_disk(self.part):
            self.part.unlink(missing_ok=True)

    def run_once(self) -> None:
        """Fetch what is missing from ``part``; raises a network error if cut off."""
        with _on_disk(self.part):
            start = self.part.stat().st_size if self.part.exists() else 0
        try:
            response = self._open_file(start)
        except urllib.error.HTTPError as exc:
            if exc.code != 416 or not start:
                raise
            # 416: nothing left from ``start``; fine if the part is exactly the whole file
            if exc.headers.get("Content-Range", "").endswith(f"/{start}"):
                return
            self._drop_part()
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
            self._drop_part()  # an answer for another part of the file: start afresh
            raise DownloadError(
                f"{self.url}: the server resumed at the wrong place ("
                f"{response.headers.get('Content-Range')!r} for byte {start}); the partial "
                "file was deleted, run the same command again to download it from the start"
            )
        if start:  # the server ignored Range and sends the whole file: start again
            self._drop_part()
        return 0, body

    def _copy(self, response: Response, start: int, total: int | None) -> None:
        from tqdm.auto import tqdm

        with _on_disk(self.part):
            self.part.parent.mkdir(parents=True, exist_ok=True)
            out = open(self.part, "ab" if start else "wb")  # noqa: SIM115 - closed below
        done = start
        try:
            with tqdm(
                total=total,
                initial=start,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=self.label,
                disable=not self.progress,
            ) as bar:
                while chunk := response.read(CHUNK):  # the network's side
                    with _on_disk(self.part):  # this machine's side
                        out.write(chunk)
                    done += len(chunk)
                    bar.update(len(chunk))
        finally:
            with _on_disk(self.part):
                out.close()
        if total is not None and done < total:
            raise http.client.IncompleteRead(b"", total - done)


def fetch(
    url: str,
    part: str | os.PathLike,
    *,
    retries: int = 3,
    retry_wait: float = 2.0,
    timeout: float = 60.0,
    progress: bool = True,
) -> Path:
    """Download ``url`` into ``part``, resuming what is there and retrying when cut off.

    After ``retries`` failed resumptions the error says how far it got and
    that running again resumes from the ``.part`` file. An ``OSError`` on
    this machine's side (creating or writing ``part``) is raised at once,
    naming the path: no retry can fix a read-only folder or a full disk.
    """
    part = Path(part)
    transfer = _Transfer(url, part, timeout, progress, part.name.removesuffix(".part"))
    for attempt in range(retries + 1):
        try:
            transfer.run_once()
            return part
        except _LocalFault as fault:
            raise fault.error from None
        except DownloadError:
            raise
        except urllib.error.HTTPError as exc:
            reason = f"{url}: the server answered HTTP {exc.code} ({exc.reason})"
            raise DownloadError(
                f"{reason}. Check the address (override it with --url) or try again later. "
                + transfer.manual_hint(),
                reason,
            ) from exc
        except NETWORK_ERRORS as exc:
            have = part.stat().st_size if part.exists() else 0
            if attempt == retries:
                what = f"interrupted after {have:,} bytes" if have else "could not be reached"
                reason = f"{url}: {what} ({exc})"
                raise DownloadError(
                    f"{reason}. Check the internet connection (or proxy) and run "
                    f"the same command again"
                    + (f": it resumes from {part}." if have else ". ")
                    + ("" if have else transfer.manual_hint()),
                    reason,
                ) from exc
            time.sleep(retry_wait * 2**attempt)
    raise AssertionError("unreachable")


# ---------------------------------------------------------------- one writer per file


def lock_path(part: Path) -> Path:
    """The lock file guarding ``part``: ``NAME.part.lock``."""
    return part.with_name(part.name + ".lock")


@contextlib.contextmanager
def locked(part: str | os.PathLike, wait: float | None = None, poll: float = 0.5) -> Iterator[Path]:
    """Hold the lock file of ``part`` (:func:`lock_path`) while it is written and put in place.

    :func:`~fsnet_core.io.files.exclusive_lock`, so two processes never share one
    ``.part``: a stale lock is taken over, a live owner waited for up to ``wait``
    seconds (None: as long as it takes), then :class:`DownloadInProgress`.
    """
    part = Path(part)
    lock = lock_path(part)
    stack = contextlib.ExitStack()
    try:
        stack.enter_context(
            exclusive_lock(lock, f"a download of {part.name}", wait=wait, poll=poll)
        )
    except LockHeld as held:
        raise DownloadInProgress(
            f"{part}: another download ({held.holder}) is writing this file; wait for it to "
            f"finish and run again (if no such process is running, delete {lock})"
        ) from None
    with stack:
        yield part


# ---------------------------------------------------------------- a verified file in place


def check_file(
    path: Path,
    *,
    size: int | None = None,
    sha256: str | None = None,
    check: Callable[[Path], object] | None = None,
) -> None:
    """:class:`ChecksumMismatch` unless ``path`` has ``size`` bytes and its SHA-256 is
    ``sha256`` (a full digest, or the prefix torch.hub puts in file names); then ``check(path)``
    (an archive test, a weights load), whose own errors pass through."""
    actual_size = path.stat().st_size
    if size is not None and actual_size != size:
        raise ChecksumMismatch(f"{path}: {actual_size:,} bytes, expected {size:,}")
    if sha256:
        actual = sha256_of(path)
        if not actual.startswith(sha256.lower()):
            raise ChecksumMismatch(f"{path}: sha256 is {actual}, expected {sha256}")
    if check is not None:
        check(path)


def amended(exc: InputError | DownloadError, note: str) -> InputError | DownloadError:
    """The same error with ``note`` appended to its one line (what became of the file)."""
    if isinstance(exc, InputError):
        return InputError(exc.path, exc.problem + note)
    return type(exc)(f"{exc}{note}")


def fetch_file(
    url: str,
    dest: str | os.PathLike,
    *,
    own_url: str | None = None,
    size: int | None = None,
    sha256: str | None = None,
    check: Callable[[Path], object] | None = None,
    force: bool = False,
    retries: int = 3,
    retry_wait: float = 2.0,
    timeout: float = 60.0,
    progress: bool = True,
    wait: float | None = None,
) -> Path:
    """Download ``url`` to ``dest``: into ``dest.part`` under its lock, checked, then renamed.

    A file already at ``dest`` (perhaps fetched by another process while this
    one waited for the lock) is returned as it is unless ``force``: callers
    verify files they did not fetch. A download failing :func:`check_file`
    is deleted. When ``url`` is not the file's own address ``own_url`` (a
    mirror, ``--url``) and no ``sha256`` is known, a note on stderr says that
    the file could not be verified against a pinned digest.
    """
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with locked(part, wait=wait):
        if dest.is_file() and not force:
            return dest
        if force:
            part.unlink(missing_ok=True)
        fetch(url, part, retries=retries, retry_wait=retry_wait, timeout=timeout, progress=progress)
        try:
            check_file(part, size=size, sha256=sha256, check=check)
        except (InputError, DownloadError) as exc:
            part.unlink(missing_ok=True)
            raise amended(exc, DELETED) from None
        os.replace(part, dest)
    if own_url is not None and url != own_url and not sha256:
        print(
            f"note: {dest}: fetched from {url}, not from its own address, and no SHA-256 is "
            "recorded for it: it could not be verified against a pinned digest",
            file=sys.stderr,
        )
    return dest


__all__ = [
    "MIRROR_ENV",
    "ChecksumMismatch",
    "DownloadError",
    "DownloadInProgress",
    "check_file",
    "confirmed_url",
    "fetch",
    "fetch_file",
    "lock_path",
    "locked",
    "mirror_url",
    "source_url",
]

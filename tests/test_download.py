"""Downloads against a loopback HTTP server: resume, restart, checksums, archives, Drive pages."""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import http.cookiejar
import io
import json
import os
import re
import socket
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from fsnet_core.cli import main
from fsnet_core.data import downloads as D
from fsnet_core.data.assets import ASSETS, REGISTRY, Asset, get_asset
from fsnet_core.io import InputError
from fsnet_core.io import download as T

# ---------------------------------------------------------------- the loopback server


class FileServer(ThreadingHTTPServer):
    """Serves ``files`` (path -> bytes) with HTTP Range, plus a Google-Drive look-alike.

    Switches: ``ignore_range`` answers every request with the whole file;
    ``drops`` cuts that many transfers after ``drop_after`` bytes;
    ``corrupt`` flips one byte in the middle of what it serves; ``pause`` waits that many
    seconds between the headers and the body (a transfer that takes a while).
    """

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.ignore_range = False
        self.drops = 0
        self.drop_after = 0
        self.corrupt = False
        self.pause = 0.0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class Handler(BaseHTTPRequestHandler):
    server: FileServer

    def log_message(self, *args: object) -> None:  # keep the test output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        srv = self.server
        srv.requests.append((self.path, self.headers.get("Range")))
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/uc":  # Drive: large files get a warning page with a form
            if query["id"] == "quota":
                return self._page("<p>Too many users have viewed or downloaded this file.</p>")
            return self._page(
                '<a href="https://accounts.google.com/ServiceLogin">Sign in</a>'
                f'<form id="download-form" action="{srv.url("/download")}" method="get">'
                f'<input type="hidden" name="id" value="{query["id"]}">'
                '<input type="hidden" name="export" value="download">'
                '<input type="hidden" name="confirm" value="t">'
                '<input type="hidden" name="uuid" value="0f1e2d"></form>'
            )
        if parts.path == "/download":
            if query.get("confirm") != "t" or query.get("uuid") != "0f1e2d":
                return self.send_error(403)
            return self._serve(srv.files.get(f"/drive/{query['id']}"))
        return self._serve(srv.files.get(parts.path))

    def _page(self, body: str) -> None:
        data = f"<html><body>{body}</body></html>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _serve(self, data: bytes | None) -> None:
        srv = self.server
        if data is None:
            return self.send_error(404)
        if srv.corrupt:
            data = (
                data[: len(data) // 2]
                + bytes([data[len(data) // 2] ^ 0xFF])
                + data[1 + len(data) // 2 :]
            )
        start = 0
        match = re.match(r"bytes=(\d+)-$", self.headers.get("Range") or "")
        if match and not srv.ignore_range:
            start = int(match.group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                return self.end_headers()
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        time.sleep(srv.pause)
        if srv.drops > 0:  # announce everything, send a little, hang up
            srv.drops -= 1
            self.wfile.write(body[: srv.drop_after])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


@pytest.fixture()
def server() -> Iterator[FileServer]:
    srv = FileServer()
    thread = threading.Thread(target=srv.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def closed_port_url(path: str = "/x.zip") -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}{path}"


# ---------------------------------------------------------------- archives the tests make


def davis_zip() -> bytes:
    """A miniature DAVIS-data.zip: one wrapping DAVIS/ folder, 480p frames, ImageSets/480p."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:  # ~28 kB
        for split, seq in [("train", "bear"), ("val", "cows")]:
            lines = []
            for t in range(3):
                z.writestr(f"DAVIS/JPEGImages/480p/{seq}/{t:05d}.jpg", bytes([t]) * 4000)
                z.writestr(f"DAVIS/Annotations/480p/{seq}/{t:05d}.png", bytes([t + 9]) * 500)
                lines.append(
                    f"/JPEGImages/480p/{seq}/{t:05d}.jpg /Annotations/480p/{seq}/{t:05d}.png"
                )
            z.writestr(f"DAVIS/ImageSets/480p/{split}.txt", "\n".join(lines) + "\n")
    return buf.getvalue()


def authors_test_tar() -> bytes:
    """The authors' test layout as a .tar.gz with no wrapping folder."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name in ["DAVIS/cows/Frame/00000.jpg", "DAVIS/cows/OF_FlowNet2/00000.jpg"]:
            data = name.encode() * 50
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def asset(name: str = "davis-2016", **changes: object) -> Asset:
    return dataclasses.replace(get_asset(name), **changes)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.startswith(".") or ".part" in p.name)


# ---------------------------------------------------------------- the registry


def test_registry_is_complete_and_matches_torchvision() -> None:
    from torchvision.models import ResNet50_Weights
    from torchvision.models.optical_flow import Raft_Large_Weights, Raft_Small_Weights

    assert REGISTRY["resnet50-imagenet"].url == ResNet50_Weights.IMAGENET1K_V1.url
    assert REGISTRY["raft-small"].url == Raft_Small_Weights.DEFAULT.url
    assert REGISTRY["raft-large"].url == Raft_Large_Weights.DEFAULT.url
    assert REGISTRY["raft-small"].sha256_prefix == "01064c6d"
    assert REGISTRY["fsnet-checkpoint"].filename == "2021-ICCV-FSNet-20epoch-new.pth"
    drive = [a for a in ASSETS if a.is_drive]
    assert len(drive) == 6 and len({a.url for a in drive}) == 6
    assert all(a.manual.startswith("Baidu") for a in drive)
    assert REGISTRY["davis-2016"].url.startswith("https://graphics.ethz.ch/")
    assert all(a.kind in ("archive", "file", "torch-weights") and a.reads_it for a in ASSETS)
    with pytest.raises(ValueError, match="unknown asset 'davis-2017'.*davis-2016"):
        get_asset("davis-2017")


def test_torch_weights_go_to_the_hub_cache(
    server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    buf = io.BytesIO()
    torch.save({"w": torch.arange(5.0)}, buf)  # a zip-format .pth, CRC-checked on arrival
    data = buf.getvalue()
    name = f"tiny-{hashlib.sha256(data).hexdigest()[:8]}.pth"
    server.files["/w.pth"] = data
    weights = asset("raft-small", filename=name, target=name, sha256_prefix=name[5:13])
    path = D.download(weights, url=server.url("/w.pth"), progress=False)
    assert path == tmp_path / "torch" / "hub" / "checkpoints" / name
    assert torch.load(path)["w"].tolist() == [0, 1, 2, 3, 4]


# ---------------------------------------------------------------- whole downloads


def test_archive_download_unpacks_into_the_loader_layout(
    server: FileServer, tmp_path: Path
) -> None:
    server.files["/DAVIS-data.zip"] = davis_zip()
    out = D.download(asset(), tmp_path, url=server.url("/DAVIS-data.zip"), progress=False)
    assert out == tmp_path / "DAVIS"  # the wrapping folder became the target
    assert (out / "JPEGImages" / "480p" / "bear" / "00002.jpg").read_bytes() == bytes([2]) * 4000
    assert (out / "ImageSets" / "2016" / "train.txt").read_text() == "bear\n"
    assert (out / "ImageSets" / "2016" / "val.txt").read_text() == "cows\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["DAVIS"]  # archive gone, no temp
    assert leftovers(tmp_path) == []

    n = len(server.requests)  # present: nothing fetched again
    assert D.download(asset(), tmp_path, url=server.url("/DAVIS-data.zip"), progress=False) == out
    assert len(server.requests) == n


def test_force_replaces_what_the_archive_holds_and_keeps_everything_else(
    server: FileServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 19.1: flow computed into the unpacked folder, notes, predictions survive --force."""
    server.files["/d.zip"] = davis_zip()
    out = D.download(asset(), tmp_path, url=server.url("/d.zip"), progress=False)
    owned = out / "JPEGImages" / "480p" / "bear" / "00002.jpg"
    owned.write_bytes(b"damaged")  # the asset's own file, spoiled: --force repairs it
    flow = out / "Flow" / "dis" / "bear" / "00000.flo"
    flow.parent.mkdir(parents=True)
    flow.write_bytes(b"computed by fsnet flow")
    (out / "notes.txt").write_text("mine")
    (out / "JPEGImages" / "480p" / "bear" / "extra.jpg").write_bytes(b"added by hand")
    capsys.readouterr()
    D.download(asset(), tmp_path, url=server.url("/d.zip"), force=True, progress=False)
    assert owned.read_bytes() == bytes([2]) * 4000
    assert flow.read_bytes() == b"computed by fsnet flow"
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "JPEGImages" / "480p" / "bear" / "extra.jpg").is_file()
    err = capsys.readouterr().err
    assert f"{out}: replaced the files DAVIS-data.zip holds; kept 3 file(s)" in err
    assert "Flow/dis/bear/00000.flo" in err and "notes.txt" in err
    assert leftovers(tmp_path) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["DAVIS"]


def test_force_refuses_a_folder_where_the_archive_has_a_file(
    server: FileServer, tmp_path: Path
) -> None:
    server.files["/d.zip"] = davis_zip()
    out = D.download(asset(), tmp_path, url=server.url("/d.zip"), progress=False)
    in_the_way = out / "ImageSets" / "480p" / "val.txt"
    in_the_way.unlink()
    (in_the_way / "mine").mkdir(parents=True)
    with pytest.raises(InputError, match="val.txt: is a folder where the archive has a file"):
        D.download(asset(), tmp_path, url=server.url("/d.zip"), force=True, progress=False)
    assert (in_the_way / "mine").is_dir() and leftovers(tmp_path) == []


def test_tar_archive_without_wrapping_folder(server: FileServer, tmp_path: Path) -> None:
    server.files["/TestSet.tar.gz"] = authors_test_tar()
    testset = asset("fsnet-testset", url=server.url("/TestSet.tar.gz"))
    out = D.download(testset, tmp_path, progress=False, keep_archive=True)
    assert out == tmp_path / "TestSet"
    assert (out / "DAVIS" / "cows" / "OF_FlowNet2" / "00000.jpg").is_file()
    assert (tmp_path / "TestSet.zip").is_file()  # kept on request (the format is sniffed)


def test_interrupted_transfer_resumes_with_range(server: FileServer, tmp_path: Path) -> None:
    data = davis_zip()
    server.files["/d.zip"] = data
    server.drops, server.drop_after = 1, 3000
    url = server.url("/d.zip")
    with pytest.raises(T.DownloadError, match="interrupted after 3,000 bytes") as info:
        D.download(asset(), tmp_path, url=url, retries=0, progress=False)
    part = tmp_path / "DAVIS-data.zip.part"
    assert url in str(info.value) and str(part) in str(info.value)
    assert part.stat().st_size == 3000 and not (tmp_path / "DAVIS").exists()
    assert not (tmp_path / "DAVIS-data.zip").exists()  # never under the final name

    D.download(asset(), tmp_path, url=url, retries=0, progress=False)
    assert server.requests[-1] == ("/d.zip", "bytes=3000-")  # resumed, not restarted
    assert (tmp_path / "DAVIS" / "ImageSets" / "2016" / "val.txt").is_file()
    assert leftovers(tmp_path) == []


def test_cut_transfer_is_retried_automatically(server: FileServer, tmp_path: Path) -> None:
    server.files["/d.zip"] = davis_zip()
    server.drops, server.drop_after = 2, 1000
    D.download(asset(), tmp_path, url=server.url("/d.zip"), retries=2, retry_wait=0, progress=False)
    assert [r for _, r in server.requests] == [None, "bytes=1000-", "bytes=2000-"]
    assert (tmp_path / "DAVIS" / "JPEGImages").is_dir()


def test_server_ignoring_range_restarts_from_zero(server: FileServer, tmp_path: Path) -> None:
    data = davis_zip()
    server.files["/d.zip"] = data
    (tmp_path / "DAVIS-data.zip.part").write_bytes(b"stale bytes from another file" * 100)
    server.ignore_range = True
    out = D.download(asset(), tmp_path, url=server.url("/d.zip"), keep_archive=True, progress=False)
    assert server.requests[0][1] == f"bytes={29 * 100}-"  # asked to resume, got the whole file
    assert (tmp_path / "DAVIS-data.zip").read_bytes() == data
    assert (out / "Annotations" / "480p" / "cows").is_dir()


def test_complete_part_file_is_not_fetched_again(server: FileServer, tmp_path: Path) -> None:
    data = davis_zip()
    server.files["/d.zip"] = data
    (tmp_path / "DAVIS-data.zip.part").write_bytes(data)  # cut off just before verification
    D.download(asset(), tmp_path, url=server.url("/d.zip"), progress=False)
    assert server.requests == [("/d.zip", f"bytes={len(data)}-")]  # answered 416: complete
    assert (tmp_path / "DAVIS" / "JPEGImages").is_dir()


def test_checksum_mismatch_names_both_hashes_and_deletes_the_part(
    server: FileServer, tmp_path: Path
) -> None:
    data = davis_zip()
    server.files["/d.zip"] = data
    good = hashlib.sha256(data).hexdigest()
    wrong = "0" * 64
    with pytest.raises(T.ChecksumMismatch) as info:
        D.download(asset(sha256=wrong), tmp_path, url=server.url("/d.zip"), progress=False)
    message = str(info.value)
    assert str(tmp_path / "DAVIS-data.zip.part") in message and good in message and wrong in message
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(T.ChecksumMismatch, match="bytes, expected"):
        D.download(asset(size=len(data) + 1), tmp_path, url=server.url("/d.zip"), progress=False)
    out = D.download(asset(sha256=good, size=len(data)), tmp_path, url=server.url("/d.zip"))
    assert out.is_dir()


def test_corrupt_archives_are_refused_and_deleted(server: FileServer, tmp_path: Path) -> None:
    server.files["/d.zip"] = davis_zip()
    server.files["/t.tar.gz"] = authors_test_tar()[:-40]  # truncated gzip stream
    server.corrupt = True
    with pytest.raises(InputError, match="corrupt") as info:
        D.download(asset(), tmp_path, url=server.url("/d.zip"), progress=False)
    assert "DAVIS-data.zip.part" in str(info.value)
    server.corrupt = False
    with pytest.raises(InputError, match="corrupt tar archive"):
        D.download(asset("fsnet-testset"), tmp_path, url=server.url("/t.tar.gz"), progress=False)
    server.files["/page.bin"] = b"plain bytes, not an archive" * 10
    with pytest.raises(InputError, match="not a zip or tar"):
        D.download(asset(), tmp_path, url=server.url("/page.bin"), progress=False)
    assert list(tmp_path.iterdir()) == []  # nothing half-written, nothing unpacked


@pytest.mark.parametrize("kind", ["zip", "tar", "tar-link"])
def test_path_traversal_members_are_refused(server: FileServer, tmp_path: Path, kind: str) -> None:
    buf = io.BytesIO()
    if kind == "zip":
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("DAVIS/ok.txt", "fine")
            z.writestr("../escaped.txt", "outside")
    else:
        with tarfile.open(fileobj=buf, mode="w") as t:
            info = tarfile.TarInfo("DAVIS/ok.txt")
            info.size = 4
            t.addfile(info, io.BytesIO(b"fine"))
            bad = tarfile.TarInfo("/tmp/escaped.txt" if kind == "tar" else "DAVIS/link")
            if kind == "tar-link":
                bad.type, bad.linkname = tarfile.SYMTYPE, "../../etc/passwd"
            t.addfile(bad, io.BytesIO(b""))
    server.files["/evil"] = buf.getvalue()
    dest = tmp_path / "dest"
    with pytest.raises(InputError, match="unsafe member"):
        D.download(asset(expect=()), dest, url=server.url("/evil"), progress=False)
    assert not (tmp_path / "escaped.txt").exists() and not (dest / "DAVIS").exists()
    assert leftovers(dest) == [] and (dest / "DAVIS-data.zip").is_file()  # kept to inspect


def test_google_drive_confirmation_page(server: FileServer, tmp_path: Path) -> None:
    server.files["/drive/FILEID"] = authors_test_tar()
    drive = asset("fsnet-testset", url=server.url("/uc?export=download&id=FILEID"))
    out = D.download(drive, tmp_path, progress=False)
    assert (out / "DAVIS" / "cows" / "Frame" / "00000.jpg").is_file()
    paths = [urlsplit(p).path for p, _ in server.requests]
    assert paths == ["/uc", "/download"]  # the warning page, then its form
    assert "confirm=t" in server.requests[1][0] and "uuid=0f1e2d" in server.requests[1][0]


def test_google_drive_refusal_is_explained(server: FileServer, tmp_path: Path) -> None:
    drive = asset("fsnet-testset", url=server.url("/uc?export=download&id=quota"))
    with pytest.raises(T.DownloadError, match="quota.*browser") as info:
        D.download(drive, tmp_path, progress=False)
    assert str(tmp_path / "TestSet.zip") in str(info.value)  # where to put it by hand


def test_confirm_token_variants() -> None:
    jar = http.cookiejar.CookieJar()
    page = "https://drive.google.com/uc?export=download&id=X"
    link = '<a id="uc-download-link" href="/uc?export=download&amp;confirm=AbC1&amp;id=X">go</a>'
    assert T.confirmed_url(page, link, jar) == (
        "https://drive.google.com/uc?export=download&confirm=AbC1&id=X"
    )
    assert T.confirmed_url(page, "<p>nothing to click</p>", jar) is None
    cookie = http.cookiejar.Cookie(
        0, "download_warning_123", "Tok9", None, False, ".google.com", True, False, "/", True,
        False, None, False, None, None, {},
    )  # fmt: skip
    jar.set_cookie(cookie)
    assert T.confirmed_url(page, "<p>nothing to click</p>", jar).endswith("id=X&confirm=Tok9")


def test_network_failures_name_the_url_and_the_way_out(server: FileServer, tmp_path: Path) -> None:
    url = closed_port_url()
    with pytest.raises(T.DownloadError, match="could not be reached") as info:
        D.download(asset(), tmp_path, url=url, retries=1, retry_wait=0, progress=False)
    message = str(info.value)
    assert url in message and "internet" in message and str(tmp_path / "DAVIS-data.zip") in message
    with pytest.raises(T.DownloadError, match="HTTP 404") as info:
        D.download(asset(), tmp_path, url=server.url("/missing.zip"), progress=False)
    assert server.url("/missing.zip") in str(info.value)
    assert leftovers(tmp_path) == []


def test_archive_saved_by_hand_is_verified_and_unpacked(tmp_path: Path) -> None:
    (tmp_path / "DAVIS-data.zip").write_bytes(davis_zip())
    out = D.download(asset(), tmp_path, url=closed_port_url(), progress=False)  # no network
    assert (out / "ImageSets" / "2016" / "train.txt").is_file()
    broken = tmp_path / "other" / "DAVIS-data.zip"
    broken.parent.mkdir()
    broken.write_bytes(davis_zip()[:-100])
    with pytest.raises(InputError, match="zip"):
        D.download(asset(), broken.parent, url=closed_port_url(), progress=False)
    assert broken.is_file()  # a user's own file is reported, never deleted


def test_cli_download(
    server: FileServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["download", "--list"]) == 0
    listing = capsys.readouterr().out
    assert all(a.name in listing for a in ASSETS) and "1ZjJoCy8YVLbDlHZXHTZHx7cdaonePlqp" in listing
    server.files["/d.zip"] = davis_zip()
    args = ["download", "davis-2016", "--dest", str(tmp_path), "--quiet"]
    assert main([*args, "--url", server.url("/d.zip")]) == 0
    assert str(tmp_path / "DAVIS") in capsys.readouterr().out
    assert main([*args, "--force", "--url", server.url("/gone.zip")]) == 1
    assert "HTTP 404" in capsys.readouterr().err
    assert (tmp_path / "DAVIS" / "JPEGImages").is_dir()  # a failed --force keeps the old copy


# ---------------------------------------------------------------- a file already in place


def _checkpoint_bytes(n: int = 3) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save({"w": torch.arange(float(n))}, buf)
    return buf.getvalue()


def test_garbage_under_a_weights_name_is_refused_not_returned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    weights = get_asset("raft-small")
    final = tmp_path / "torch" / "hub" / "checkpoints" / weights.target
    final.parent.mkdir(parents=True)
    final.write_bytes(b"<html>quota exceeded</html>")
    with pytest.raises(T.ChecksumMismatch, match="--force") as info:
        D.download(weights, url=closed_port_url(), progress=False)
    assert str(final) in str(info.value)
    assert final.read_bytes() == b"<html>quota exceeded</html>"  # reported, never deleted


def test_unverifiable_file_in_place_must_load(server: FileServer, tmp_path: Path) -> None:
    """No size or digest is published for the authors' checkpoint: it must at least load."""
    ckpt = get_asset("fsnet-checkpoint")
    final = tmp_path / ckpt.target
    final.write_bytes(b"not a checkpoint at all")
    with pytest.raises(InputError, match="--force") as info:
        D.download(ckpt, tmp_path, url=closed_port_url(), progress=False)
    assert info.value.path == final
    server.files["/c.pth"] = _checkpoint_bytes()
    assert D.download(ckpt, tmp_path, url=server.url("/c.pth"), force=True, progress=False) == final
    assert final.read_bytes() == server.files["/c.pth"]
    assert D.download(ckpt, tmp_path, url=closed_port_url(), progress=False) == final  # now fine


def test_downloaded_pickle_with_code_is_refused(server: FileServer, tmp_path: Path) -> None:
    import torch

    class Planted:
        def __reduce__(self):
            return (open, (str(tmp_path / "code-ran"), "w"))

    buf = io.BytesIO()
    torch.save({"w": Planted()}, buf)
    server.files["/c.pth"] = buf.getvalue()
    with pytest.raises(InputError, match="could run code"):
        D.download("fsnet-checkpoint", tmp_path, url=server.url("/c.pth"), progress=False)
    assert not (tmp_path / "code-ran").exists() and leftovers(tmp_path) == []


# ---------------------------------------------------------------- a mirror for every file


def test_mirror_serves_every_asset_by_its_file_name(
    server: FileServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FSNET_LAB_MIRROR", server.url("/mirror/"))  # a trailing slash is fine
    server.files["/mirror/DAVIS-data.zip"] = davis_zip()
    root = D.download("davis-2016", tmp_path, progress=False)
    assert (root / "ImageSets" / "2016" / "val.txt").read_text() == "cows\n"
    assert server.requests == [("/mirror/DAVIS-data.zip", None)]
    server.files["/other/d.zip"] = davis_zip()  # an explicit address beats the mirror
    D.download("davis-2016", tmp_path / "x", url=server.url("/other/d.zip"), progress=False)
    assert server.requests[-1][0] == "/other/d.zip"
    assert main(["download", "--list"]) == 0
    assert f"from {server.url('/mirror/FSNet-UVOS-results.zip')}" in capsys.readouterr().out
    assert main(["download", "fsnet-testset", "--dest", str(tmp_path), "--quiet"]) == 1
    assert f"{server.url('/mirror/TestSet.zip')}: the server answered HTTP 404" in (
        capsys.readouterr().err
    )


def test_mirror_serves_the_authors_checkpoint_into_the_hub_cache(
    server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One fetch path, one place: ``FSNetWeights`` and ``fsnet download fsnet-checkpoint``."""
    from fsnet_core.model.weights import FSNetWeights

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("FSNET_LAB_MIRROR", server.url("/m"))
    name = FSNetWeights.DAVIS16_ICCV21.file_name
    server.files[f"/m/{name}"] = _checkpoint_bytes()
    cache = tmp_path / "torch" / "hub" / "checkpoints"
    assert get_asset("fsnet-checkpoint").destination() == cache
    assert main(["download", "fsnet-checkpoint", "--quiet"]) == 0
    assert (cache / name).read_bytes() == server.files[f"/m/{name}"]
    assert FSNetWeights.DAVIS16_ICCV21.local_file(progress=False) == cache / name
    assert server.requests == [(f"/m/{name}", None)]  # the second call found it in place


def test_mirror_serves_torchvision_weights_checked_against_their_name(
    server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fsnet_core.io import load_weights, weights_file

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("FSNET_LAB_MIRROR", server.url("/m"))
    data = _checkpoint_bytes()
    name = f"tiny-{hashlib.sha256(data).hexdigest()[:8]}.pth"
    server.files[f"/m/{name}"] = data
    state = load_weights(weights_file(closed_port_url(f"/models/{name}"), what="tiny"))
    assert state["w"].tolist() == [0.0, 1.0, 2.0]
    assert server.requests == [(f"/m/{name}", None)]


def test_mirror_serving_the_authors_checkpoint_says_it_was_not_verified(
    server: FileServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 19.12: no SHA-256 of the authors' file is recorded yet; a mirror's copy is said
    to be unverified, in one line (both fetchers: ``fsnet download`` and ``FSNetWeights``)."""
    from fsnet_core.model.weights import AUTHORS_CHECKPOINT_SHA256, FSNetWeights

    weights = FSNetWeights.DAVIS16_ICCV21
    assert get_asset("fsnet-checkpoint").sha256 == weights.meta["sha256"]
    assert AUTHORS_CHECKPOINT_SHA256 is None  # unrecorded: never invent a digest
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("FSNET_LAB_MIRROR", server.url("/m"))
    server.files[f"/m/{weights.file_name}"] = _checkpoint_bytes()
    weights.local_file(progress=False)
    note = [line for line in capsys.readouterr().err.splitlines() if "pinned digest" in line]
    assert note == [
        f"note: {weights.default_path()}: fetched from {server.url('/m/' + weights.file_name)}, "
        "not from its own address, and no SHA-256 is recorded for it: it could not be "
        "verified against a pinned digest"
    ]
    assert main(["download", "fsnet-checkpoint", "--force", "--quiet"]) == 0
    assert "could not be verified against a pinned digest" in capsys.readouterr().err


def test_a_pinned_digest_refuses_another_file_from_any_source(
    server: FileServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 19.12 with a stand-in pin: a mirror serving a valid checkpoint that is not the
    pinned one is refused, naming the file and both digests; the pinned one is not noted."""
    from fsnet_core.io import WeightsUnavailable
    from fsnet_core.model.weights import FSNetWeights

    weights = FSNetWeights.DAVIS16_ICCV21
    genuine, other = _checkpoint_bytes(), _checkpoint_bytes(4)
    pin, wrong = hashlib.sha256(genuine).hexdigest(), hashlib.sha256(other).hexdigest()
    monkeypatch.setitem(weights.meta, "sha256", pin)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("FSNET_LAB_MIRROR", server.url("/m"))
    server.files[f"/m/{weights.file_name}"] = other
    with pytest.raises(WeightsUnavailable) as info:
        weights.local_file(progress=False)
    message = str(info.value)
    part = f"{weights.default_path()}.part"
    assert f"{part}: sha256 is {wrong}, expected {pin}" in message and "\n" not in message
    assert not weights.default_path().exists() and not Path(part).exists()
    pinned = asset("fsnet-checkpoint", sha256=pin)  # the registry's side of the same pin
    with pytest.raises(T.ChecksumMismatch, match=f"sha256 is {wrong}, expected {pin}"):
        D.download(pinned, tmp_path / "d", progress=False)
    server.files[f"/m/{weights.file_name}"] = genuine
    assert weights.local_file(progress=False).read_bytes() == genuine
    assert "pinned digest" not in capsys.readouterr().err


def test_a_mirror_with_a_query_string_keeps_it(
    server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19.12: ``https://host/m?sig=abc`` serves ``https://host/m/FILE?sig=abc``."""
    from fsnet_core.io import mirror_url

    monkeypatch.setenv("FSNET_LAB_MIRROR", server.url("/m/?sig=abc&exp=1"))
    assert mirror_url("DAVIS-data.zip") == server.url("/m/DAVIS-data.zip?sig=abc&exp=1")
    server.files["/m/DAVIS-data.zip"] = davis_zip()
    D.download("davis-2016", tmp_path, progress=False)
    assert server.requests == [("/m/DAVIS-data.zip?sig=abc&exp=1", None)]


# ---------------------------------------------------------------- faults on this machine's side


def test_a_local_write_failure_is_reported_at_once_naming_the_path(
    server: FileServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 19.9: a full disk (``/dev/full`` as the ``.part``) is not the network's fault."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    server.files["/d.zip"] = davis_zip()
    part = tmp_path / "DAVIS-data.zip.part"
    part.symlink_to("/dev/full")
    url = server.url("/d.zip")
    with pytest.raises(OSError) as info:
        D.download(asset(), tmp_path, url=url, retries=3, retry_wait=5, progress=False)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(part)
    assert len(server.requests) == 1  # reported at once: no retries, no waiting
    args = ["download", "davis-2016", "--dest", str(tmp_path), "--url", url, "--quiet"]
    assert main(args) == 1
    assert capsys.readouterr().err == f"fsnet download: error: {part}: No space left on device\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_destination_is_reported_at_once(server: FileServer, tmp_path: Path) -> None:
    server.files["/d.zip"] = davis_zip()
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(PermissionError, match=str(tmp_path)):
            D.download(asset(), tmp_path, url=server.url("/d.zip"), retry_wait=5, progress=False)
    finally:
        tmp_path.chmod(0o755)
    assert server.requests == []


# ---------------------------------------------------------------- two downloads at once


def test_a_second_download_of_the_same_asset_waits_or_is_told(
    server: FileServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 19.10: one writer per ``.part``; the other is told, or waits and finds it done."""
    server.files["/d.zip"] = davis_zip()
    server.pause = 1.0
    url = server.url("/d.zip")
    done: list[Path] = []
    first = threading.Thread(
        target=lambda: done.append(D.download(asset(), tmp_path, url=url, progress=False))
    )
    first.start()
    lock = tmp_path / "DAVIS-data.zip.part.lock"
    deadline = time.monotonic() + 30
    while not server.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    owner = f"pid {os.getpid()} on host {socket.gethostname()}"
    held = json.loads(lock.read_text())
    assert (held["pid"], held["host"]) == (os.getpid(), socket.gethostname())
    with pytest.raises(
        T.DownloadInProgress, match=f"another download \\(a download of .*{owner}"
    ) as info:
        D.download(asset(), tmp_path, url=url, progress=False, wait=0)
    assert str(lock) in str(info.value)
    second = D.download(asset(), tmp_path, url=url, progress=False)  # waits for the first
    first.join()
    assert done == [second] == [tmp_path / "DAVIS"]
    assert len(server.requests) == 1  # the second found the asset in place
    assert f"waiting for a download of DAVIS-data.zip.part ({owner}" in capsys.readouterr().err
    assert leftovers(tmp_path) == []


def test_a_stale_lock_is_removed_and_a_foreign_one_is_named(
    server: FileServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.files["/d.zip"] = davis_zip()
    url = server.url("/d.zip")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    lock = tmp_path / "DAVIS-data.zip.part.lock"
    host = socket.gethostname()
    lock.write_text(json.dumps({"pid": gone.pid, "host": host, "what": "a download"}))  # killed
    D.download(asset(), tmp_path, url=url, progress=False, wait=0)
    err = capsys.readouterr().err
    assert f"{lock}: taking over the lock of a download, pid {gone.pid} on host {host}" in err
    assert leftovers(tmp_path) == []
    lock.write_text(json.dumps({"pid": gone.pid, "host": "another-host.example"}))  # unseen
    with pytest.raises(T.DownloadInProgress, match="another-host.example"):
        D.download(asset(), tmp_path, url=url, force=True, progress=False, wait=0)
    assert (tmp_path / "DAVIS" / "JPEGImages").is_dir()

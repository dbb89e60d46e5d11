"""``fsnet download``: fetch a public asset (checkpoint, dataset, results, weights) into place."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "download",
        help="download, verify and unpack a dataset, checkpoint or weights file",
        description="Resumable download (run it again after an interruption), checked and "
        "unpacked into the folder layout the loaders read. `fsnet download --list` shows "
        "every asset, where it comes from and what it becomes. With FSNET_LAB_MIRROR=BASE_URL "
        "in the environment (a firewall, an institutional mirror) every file is fetched from "
        "BASE_URL/FILENAME instead of its own address; --url overrides both.",
    )
    p.add_argument("name", nargs="?", metavar="NAME", help="asset name (see --list)")
    p.add_argument("--list", action="store_true", help="list the assets and exit")
    p.add_argument("--dest", type=Path, default=None, help="destination folder")
    p.add_argument(
        "--url",
        default=None,
        help="download from this address instead (see FSNET_LAB_MIRROR for all files)",
    )
    p.add_argument("--force", action="store_true", help="download again even if present")
    p.add_argument("--keep-archive", action="store_true", help="keep the archive after unpacking")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data.assets import ASSETS
    from ..data.downloads import download, source_url

    if args.list or not args.name:
        for a in ASSETS:
            where = a.destination(args.dest) / a.target
            print(f"{a.name:28s} {a.description}\n{'':28s} -> {where}  ({a.reads_it})")
            print(f"{'':28s} from {source_url(a)}")
        return 0 if args.list else 2
    path = download(
        args.name,
        args.dest,
        url=args.url,
        force=args.force,
        keep_archive=args.keep_archive,
        progress=not args.quiet,
    )
    print(f"{args.name}: {path}")
    return 0

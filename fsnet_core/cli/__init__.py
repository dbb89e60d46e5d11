"""The ``fsnet`` command line: thin wrappers over the package's functions.

Each subcommand lives in ``fsnet_core/commands/<name>.py`` and exposes
``register(subparsers)``; add a module name to :data:`COMMANDS` to add one.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS: tuple[str, ...] = (
    "demo",
    "flow",
    "download",
    "data",
    "infer",
    "segment",
    "train",
    "eval",
    "run-all",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fsnet",
        description="FSNet Lab: unsupervised video object segmentation with FSNet "
        "(Ji et al., ICCV 2021), for teaching and research.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = name.replace("-", "_")  # "run-all" lives in commands/run_all.py
        importlib.import_module(f"fsnet_core.cli.{module}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"fsnet {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

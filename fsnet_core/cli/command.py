"""The ``fsnet`` command: its parser, built from one module per subcommand, and its errors.

Each subcommand lives in ``fsnet_core/cli/<name>.py`` and exposes
``register(subparsers)``; add its name to :data:`COMMANDS` to add one. Errors
the package raises for bad input become one line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import importlib
import os
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
    "finetune",
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
        module = name.replace("-", "_")  # "run-all" lives in cli/run_all.py
        importlib.import_module(f"fsnet_core.cli.{module}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        # The reader went away (``fsnet download --list | head``): Python's documented
        # recipe, so that the final flush at exit does not complain either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as exc:
        print(f"fsnet {args.command}: error: {describe_os_error(exc)}", file=sys.stderr)
        return 1
    except (ValueError, RuntimeError) as exc:
        print(f"fsnet {args.command}: error: {exc}", file=sys.stderr)
        return 1


def describe_os_error(exc: OSError) -> str:
    """One line naming the file first: ``PATH: reason`` (``PATH -> OTHER: reason`` for renames)."""
    if exc.filename is None or not exc.strerror:
        return str(exc)
    where = str(exc.filename) + (f" -> {exc.filename2}" if exc.filename2 is not None else "")
    return f"{where}: {exc.strerror}"


__all__ = ["COMMANDS", "build_parser", "describe_os_error", "main"]

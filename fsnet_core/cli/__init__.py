"""The ``fsnet`` command line: thin wrappers over the package's functions.

``command`` (the parser and the one-line errors; ``fsnet = fsnet_core.cli:main``)
and one module per subcommand (``fsnet_core/cli/<name>.py``, each with
``register(subparsers)``), listed in :data:`COMMANDS`.
"""

from .command import COMMANDS, build_parser, describe_os_error, main

__all__ = ["COMMANDS", "build_parser", "describe_os_error", "main"]

"""One module per ``fsnet`` subcommand, each with ``register(subparsers)``."""

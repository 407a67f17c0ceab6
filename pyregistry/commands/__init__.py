"""``pyregistry`` subcommands, one module each; see :mod:`pyregistry.cli`."""

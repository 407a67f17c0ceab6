"""The ``pyregistry`` command.

Subcommands live in :mod:`pyregistry.commands`, one module each, found automatically: a
module there defines ``register(subparsers)``, which adds its parser and sets
``run=<function(args) -> int>`` as a default. Adding ``user``, ``project``, ``token-server``
or ``garbage-collect`` means adding a module, not editing this file.

Exit status: what the command returns; 2 for usage and configuration errors (the message
goes to stderr, naming the key and the file).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

import pyregistry
import pyregistry.commands
from pyregistry.config import ConfigError

USAGE_ERROR = 2


def command_modules() -> list[ModuleType]:
    """Every module of :mod:`pyregistry.commands` that defines ``register``, by name."""
    modules = []
    for info in sorted(pkgutil.iter_modules(pyregistry.commands.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"pyregistry.commands.{info.name}")
        if hasattr(module, "register"):
            modules.append(module)
    return modules


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pyregistry",
        description="A pure-Python OCI distribution registry (drop-in for distribution).",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in command_modules():
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage error / help
        return exc.code if isinstance(exc.code, int) else USAGE_ERROR
    if args.version:
        print(f"pyregistry {pyregistry.__version__}")
        return 0
    run = getattr(args, "run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return USAGE_ERROR
    try:
        return int(run(args) or 0)
    except ConfigError as exc:
        print(f"pyregistry: configuration error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        return 130

"""The ``pyregistry`` command.

Subcommands live in :mod:`pyregistry.commands`, one module each, found automatically: a
module there defines ``register(subparsers)``, which adds its parser and sets
``run=<function(args) -> int>`` as a default. Adding ``user``, ``project``, ``token-server``
or ``garbage-collect`` means adding a module, not editing this file.

A command named like its module (``serve``) loads that module alone: ``pyregistry serve``
then does not import every other command's dependencies (the access-control commands
pull in cryptography and bcrypt: some 19 MiB in a process that only supervises workers).

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


def command_modules(command: str | None = None) -> list[ModuleType]:
    """Every module of :mod:`pyregistry.commands` that defines ``register``, by name; only
    the module named ``command`` when there is one."""
    names = sorted(
        info.name
        for info in pkgutil.iter_modules(pyregistry.commands.__path__)
        if not info.name.startswith("_")
    )
    module_name = command.replace("-", "_") if command is not None else None
    if module_name in names:
        names = [module_name]  # `garbage-collect` lives in garbage_collect.py
    modules = []
    for name in names:
        module = importlib.import_module(f"pyregistry.commands.{name}")
        if hasattr(module, "register"):
            modules.append(module)
    return modules


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command (of ``command`` alone when a module bears its name)."""
    parser, known = _parser(command)
    if command is not None and command not in known:
        parser, _ = _parser(None)  # the module of that name defines other commands
    return parser


def _parser(command: str | None) -> tuple[argparse.ArgumentParser, set[str]]:
    parser = argparse.ArgumentParser(
        prog="pyregistry",
        description="A pure-Python OCI distribution registry (drop-in for distribution).",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in command_modules(command):
        module.register(subparsers)
    return parser, set(subparsers.choices)


def _command_word(argv: Sequence[str]) -> str | None:
    """The first word that is not an option: the command, if any."""
    return next((word for word in argv if not word.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_word(words))
    try:
        args = parser.parse_args(words)
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

"""``pyregistry user …``, ``pyregistry project …`` and ``pyregistry token-server``.

Users live in the htpasswd file, projects and roles in the rules file; both paths come
from the configuration (``auth.token.issue.users``/``.rules`` or
``auth.htpasswd.path``/``.rules``) or from ``--htpasswd``/``--rules``. Files are replaced
atomically under a lock, and a running registry picks the change up on its next request.

:func:`register` adds the subcommands; each sets ``run``, called with the parsed
arguments and returning the exit status.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys
from collections.abc import Callable, Iterator

from pyregistry.auth import htpasswd
from pyregistry.auth.files import file_lock as _locked
from pyregistry.auth.files import write_atomically
from pyregistry.auth.options import parse_auth
from pyregistry.auth.rules import ROLES, Project, Rules, check_project_name, parse_rules
from pyregistry.config import ConfigError, load_config


class CliError(Exception):
    """A user mistake: printed without a traceback, exit status 1."""


def _configured_paths(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """(htpasswd, rules) from the configuration, when one is given or in the environment."""
    if not args.config and not os.environ.get("REGISTRY_CONFIGURATION_PATH"):
        return None, None
    config = load_config(args.config or None)
    options = parse_auth(config.auth, config.source)
    if options.token is not None and options.token.issue is not None:
        return options.token.issue.users, options.token.issue.rules
    if options.htpasswd is not None:
        return options.htpasswd.path, options.htpasswd.rules
    return None, None


def _paths(args: argparse.Namespace) -> tuple[str | None, str | None]:
    users, rules = (args.htpasswd, args.rules)
    if users is None or rules is None:
        configured = _configured_paths(args)
        users = users or configured[0]
        rules = rules or configured[1]
    return users, rules


def _need(path: str | None, what: str, option: str) -> str:
    if not path:
        raise CliError(f"no {what}: pass {option} or a configuration (-c) that names one")
    return path


def _read_rules(path: str) -> Rules:
    try:
        with open(path, "rb") as handle:
            return parse_rules(handle.read())
    except FileNotFoundError:
        return Rules()
    except ValueError as exc:
        raise CliError(f"{path}: {exc}") from exc


@contextlib.contextmanager
def _editing_rules(path: str) -> Iterator[Rules]:
    with _locked(path):
        rules = _read_rules(path)
        yield rules
        write_atomically(path, rules.dump(), 0o644 if not os.path.exists(path) else None)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif args.password is not None:
        password = args.password
    elif sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise CliError("the passwords differ")
    else:
        raise CliError("give the password with --password-stdin (or --password)")
    if not password:
        raise CliError("empty password")
    return password


def _project(rules: Rules, name: str) -> Project:
    project = rules.projects.get(name)
    if project is None:
        raise CliError(f"no project {name!r} (create it with: pyregistry project create {name})")
    return project


# --- user -----------------------------------------------------------------------------


def user_add(args: argparse.Namespace) -> int:
    users_path, rules_path = _paths(args)
    users_path = _need(users_path, "htpasswd file", "--htpasswd")
    password = _password(args)
    try:
        with _locked(users_path):
            new = htpasswd.set_user(users_path, args.name, password)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    if args.admin:
        with _editing_rules(_need(rules_path, "rules file", "--rules")) as rules:
            rules.admins.add(args.name)
    suffix = " (system admin)" if args.admin else ""
    print(f"{'added' if new else 'updated'} user {args.name}{suffix}")
    return 0


def user_remove(args: argparse.Namespace) -> int:
    users_path, rules_path = _paths(args)
    users_path = _need(users_path, "htpasswd file", "--htpasswd")
    with _locked(users_path):
        removed = htpasswd.remove_user(users_path, args.name)
    if rules_path:
        with _editing_rules(rules_path) as rules:
            rules.admins.discard(args.name)
            for project in rules.projects.values():
                project.members.pop(args.name, None)
    if not removed:
        raise CliError(f"no user {args.name!r}")
    print(f"removed user {args.name}")
    return 0


def user_list(args: argparse.Namespace) -> int:
    users_path, rules_path = _paths(args)
    users_path = _need(users_path, "htpasswd file", "--htpasswd")
    try:
        with open(users_path, "rb") as handle:
            entries = htpasswd.parse_htpasswd(handle.read())
    except FileNotFoundError:
        entries = {}
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    rules = _read_rules(rules_path) if rules_path else Rules()
    for name in sorted(entries):
        roles = [
            f"{p.name}:{p.members[name]}" for p in rules.projects.values() if name in p.members
        ]
        admin = " admin" if name in rules.admins else ""
        print(f"{name}{admin}{'  ' + ' '.join(sorted(roles)) if roles else ''}")
    return 0


# --- project --------------------------------------------------------------------------


def project_create(args: argparse.Namespace) -> int:
    try:
        check_project_name(args.name)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    with _editing_rules(_need(_paths(args)[1], "rules file", "--rules")) as rules:
        if args.name in rules.projects:
            raise CliError(f"project {args.name!r} exists")
        rules.projects[args.name] = Project(args.name, public=args.public)
    print(f"created {'public' if args.public else 'private'} project {args.name}")
    return 0


def project_add_member(args: argparse.Namespace) -> int:
    users_path, rules_path = _paths(args)
    if users_path and not args.force:
        try:
            with open(users_path, "rb") as handle:
                known = htpasswd.parse_htpasswd(handle.read())
        except FileNotFoundError:
            known = {}
        if args.user not in known:
            raise CliError(f"no user {args.user!r} (add it first, or pass --force)")
    with _editing_rules(_need(rules_path, "rules file", "--rules")) as rules:
        _project(rules, args.project).members[args.user] = args.role
    print(f"{args.user} is {args.role} of {args.project}")
    return 0


def project_remove_member(args: argparse.Namespace) -> int:
    with _editing_rules(_need(_paths(args)[1], "rules file", "--rules")) as rules:
        if _project(rules, args.project).members.pop(args.user, None) is None:
            raise CliError(f"{args.user!r} is no member of {args.project!r}")
    print(f"removed {args.user} from {args.project}")
    return 0


def project_set_public(args: argparse.Namespace) -> int:
    public = args.public.lower() in ("true", "yes", "1", "on")
    if args.public.lower() not in ("true", "yes", "1", "on", "false", "no", "0", "off"):
        raise CliError(f"expected true or false, got {args.public!r}")
    with _editing_rules(_need(_paths(args)[1], "rules file", "--rules")) as rules:
        _project(rules, args.project).public = public
    print(f"project {args.project} is now {'public' if public else 'private'}")
    return 0


def project_list(args: argparse.Namespace) -> int:
    rules = _read_rules(_need(_paths(args)[1], "rules file", "--rules"))
    for name, project in sorted(rules.projects.items()):
        members = " ".join(f"{u}:{r}" for u, r in sorted(project.members.items()))
        print(f"{name}\t{'public' if project.public else 'private'}\t{members}")
    return 0


def token_server(args: argparse.Namespace) -> int:
    """Serve only the built-in token service (for a registry elsewhere, e.g. distribution)."""
    import uvicorn
    from starlette.applications import Starlette

    from pyregistry.auth import token_routes

    config = load_config(args.config or None)
    routes = token_routes(config)
    if not routes:
        raise CliError("the configuration has no auth.token.issue section")
    host, _, port = args.addr.rpartition(":")
    uvicorn.run(Starlette(routes=routes), host=host or "127.0.0.1", port=int(port))
    return 0


# --- wiring ---------------------------------------------------------------------------


def _guarded(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except (CliError, ConfigError, OSError) as exc:
            print(f"pyregistry: {exc}", file=sys.stderr)
            return 1

    return run


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c", "--config", help="registry configuration (default: $REGISTRY_CONFIGURATION_PATH)"
    )
    parser.add_argument("--htpasswd", help="the htpasswd file (overrides the configuration)")
    parser.add_argument("--rules", help="the rules file (overrides the configuration)")


def _command(
    parent: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    func: Callable[[argparse.Namespace], int],
    help_text: str,
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = parent.add_parser(name, help=help_text, description=help_text)
    _common(parser)
    parser.set_defaults(run=_guarded(func))
    return parser


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``user``, ``project`` and ``token-server`` to the ``pyregistry`` command."""
    user = subparsers.add_parser("user", help="manage registry users (htpasswd, bcrypt)")
    users = user.add_subparsers(dest="user_command", metavar="COMMAND", required=True)
    add = _command(users, "add", user_add, "add a user or change their password")
    add.add_argument("name")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument("-p", "--password", help="the password (visible to other local users)")
    add.add_argument("--admin", action="store_true", help="also make the user a system admin")
    _command(users, "remove", user_remove, "remove a user and their memberships").add_argument(
        "name"
    )
    _command(users, "list", user_list, "list users, their admin flag and roles")

    project = subparsers.add_parser("project", help="manage projects and their members")
    projects = project.add_subparsers(dest="project_command", metavar="COMMAND", required=True)
    create = _command(projects, "create", project_create, "create a project")
    create.add_argument("name")
    create.add_argument("--public", action="store_true", help="anyone may pull")
    member = _command(projects, "add-member", project_add_member, "give a user a role")
    member.add_argument("project")
    member.add_argument("user")
    member.add_argument("role", choices=ROLES)
    member.add_argument("--force", action="store_true", help="even if the user does not exist")
    remove = _command(projects, "remove-member", project_remove_member, "take a user's role")
    remove.add_argument("project")
    remove.add_argument("user")
    public = _command(projects, "set-public", project_set_public, "make a project public or not")
    public.add_argument("project")
    public.add_argument("public", metavar="true|false")
    _command(projects, "list", project_list, "list projects, visibility and members")

    server = subparsers.add_parser(
        "token-server", help="serve only the built-in token service (auth.token.issue)"
    )
    server.add_argument("-c", "--config", help="registry configuration")
    server.add_argument("--addr", default="127.0.0.1:5001", help="HOST:PORT to listen on")
    server.set_defaults(run=_guarded(token_server))

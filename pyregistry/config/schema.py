"""The shape of ``config.yml`` as one table, and the check that walks it.

Each key distribution knows (2.8 and 3.x spellings) is listed once below; ``check``
walks a parsed document against the table, normalises the few short forms
(``storage: inmemory``) and raises :class:`ConfigError` naming the key path. Storage driver
parameters, auth provider parameters, middleware options and ``log.fields`` are free-form:
their owners check them.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pyregistry.config.duration import parse_duration
from pyregistry.config.errors import ConfigError


@dataclass(frozen=True)
class Scalar:
    """A leaf: ``str``, ``bool``, ``int``, ``duration``, or a choice among ``choices``."""

    kind: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Struct:
    """Fixed keys. ``env_names`` maps the Go field names (upper-case) that differ from the
    YAML key, since distribution's environment overrides walk Go field names."""

    fields: Mapping[str, Node]
    env_names: Mapping[str, str] = field(default_factory=dict)
    #: Keys that must be present when the mapping is (a health check's ``file``...).
    required: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListOf:
    item: Node


@dataclass(frozen=True)
class MapOf:
    """Free keys, each value of one shape (headers, ``log.fields``, driver parameters)."""

    value: Node


@dataclass(frozen=True)
class OneOf:
    """distribution's ``storage`` and ``auth``: exactly one provider section (free-form
    parameters) beside some fixed keys; a bare string names a provider with no parameters."""

    what: str
    fixed: Mapping[str, Node] = field(default_factory=dict)
    required: bool = False


@dataclass(frozen=True)
class AnyValue:
    pass


Node = Scalar | Struct | ListOf | MapOf | OneOf | AnyValue

ANY = AnyValue()
STR = Scalar("str")
BOOL = Scalar("bool")
INT = Scalar("int")
DURATION = Scalar("duration")
LEVEL = Scalar("choice", ("error", "warn", "info", "debug"))
STRLIST = ListOf(STR)
HEADERS = MapOf(STRLIST)


def _s(**fields: Node) -> Struct:
    return Struct(fields)


_CHECK_TIMING = {"interval": DURATION, "threshold": INT, "timeout": DURATION}
_REDIS_TLS = _s(enabled=BOOL, certificate=STR, key=STR, clientcas=STRLIST, insecure=BOOL)

SCHEMA = _s(
    version=STR,
    loglevel=LEVEL,
    log=_s(
        accesslog=_s(disabled=BOOL),
        level=LEVEL,
        formatter=Scalar("choice", ("text", "json", "logstash")),
        fields=MapOf(ANY),
        reportcaller=BOOL,
        hooks=ListOf(
            Struct(
                {
                    "disabled": BOOL,
                    "type": STR,
                    "levels": STRLIST,
                    "options": _s(
                        smtp=_s(addr=STR, username=STR, password=STR, insecure=BOOL),
                        **{"from": STR},
                        to=STRLIST,
                    ),
                },
                env_names={"MAILOPTIONS": "options"},
            )
        ),
    ),
    storage=OneOf(
        "storage driver",
        required=True,
        fixed={
            "delete": _s(enabled=BOOL),
            "redirect": _s(disable=BOOL),
            "cache": _s(blobdescriptor=STR, layerinfo=STR, blobdescriptorsize=INT),
            "maintenance": _s(
                uploadpurging=_s(enabled=BOOL, age=DURATION, interval=DURATION, dryrun=BOOL),
                readonly=_s(enabled=BOOL),
            ),
            "tag": _s(concurrencylimit=INT),
        },
    ),
    auth=OneOf("auth provider"),
    middleware=_s(
        **{
            point: ListOf(
                Struct({"name": STR, "disabled": BOOL, "options": MapOf(ANY)}, required=("name",))
            )
            for point in ("registry", "repository", "storage")
        }
    ),
    reporting=_s(
        bugsnag=_s(apikey=STR, releasestage=STR, endpoint=STR),
        newrelic=_s(licensekey=STR, name=STR, verbose=BOOL),
    ),
    http=_s(
        addr=STR,
        net=Scalar("choice", ("tcp", "tcp4", "tcp6", "unix")),
        host=STR,
        prefix=STR,
        secret=STR,
        relativeurls=BOOL,
        draintimeout=DURATION,
        tls=_s(
            certificate=STR,
            key=STR,
            clientcas=STRLIST,
            clientauth=Scalar(
                "choice",
                (
                    "request-client-cert",
                    "require-any-client-cert",
                    "verify-client-cert-if-given",
                    "require-and-verify-client-cert",
                ),
            ),
            minimumtls=Scalar("choice", ("tls1.0", "tls1.1", "tls1.2", "tls1.3")),
            ciphersuites=STRLIST,
            letsencrypt=_s(cachefile=STR, email=STR, hosts=STRLIST, directoryurl=STR),
        ),
        headers=HEADERS,
        debug=_s(addr=STR, prometheus=_s(enabled=BOOL, path=STR)),
        http2=_s(disabled=BOOL),
        h2c=_s(enabled=BOOL),
        # pyregistry: connection limits, and zot's request-rate limit
        timeouts=_s(header=DURATION, idle=DURATION),
        maxconnections=INT,
        ratelimit=_s(
            rate=INT,
            methods=ListOf(Struct({"method": STR, "rate": INT}, required=("method", "rate"))),
        ),
    ),
    notifications=Struct(
        {
            "events": _s(includereferences=BOOL),
            # pyregistry: where the durable delivery queue lives
            "queue": _s(directory=STR),
            "endpoints": ListOf(
                Struct(
                    {
                        "name": STR,
                        "disabled": BOOL,
                        "url": STR,
                        "headers": HEADERS,
                        "timeout": DURATION,
                        "threshold": INT,
                        "backoff": DURATION,
                        "ignoredmediatypes": STRLIST,
                        "ignore": _s(mediatypes=STRLIST, actions=STRLIST),
                    },
                    required=("name", "url"),
                )
            ),
        },
        env_names={"EVENTCONFIG": "events"},
    ),
    redis=_s(
        # 2.8
        addr=STR,
        pool=_s(maxidle=INT, maxactive=INT, idletimeout=DURATION),
        # both
        password=STR,
        db=INT,
        dialtimeout=DURATION,
        readtimeout=DURATION,
        writetimeout=DURATION,
        tls=_REDIS_TLS,
        # 3.x (go-redis UniversalOptions, inlined)
        addrs=STRLIST,
        username=STR,
        clientname=STR,
        protocol=INT,
        sentinelusername=STR,
        sentinelpassword=STR,
        mastername=STR,
        maxretries=INT,
        minretrybackoff=DURATION,
        maxretrybackoff=DURATION,
        poolfifo=BOOL,
        poolsize=INT,
        pooltimeout=DURATION,
        minidleconns=INT,
        maxidleconns=INT,
        maxactiveconns=INT,
        connmaxidletime=DURATION,
        connmaxlifetime=DURATION,
        maxredirects=INT,
        readonly=BOOL,
        routebylatency=BOOL,
        routerandomly=BOOL,
    ),
    health=Struct(
        {
            "storagedriver": _s(enabled=BOOL, interval=DURATION, threshold=INT),
            "file": ListOf(
                Struct({"file": STR, "interval": DURATION, "threshold": INT}, required=("file",))
            ),
            "http": ListOf(
                Struct(
                    {"uri": STR, "headers": HEADERS, "statuscode": INT, **_CHECK_TIMING},
                    required=("uri",),
                )
            ),
            "tcp": ListOf(Struct({"addr": STR, **_CHECK_TIMING}, required=("addr",))),
        },
        env_names={"FILECHECKERS": "file", "HTTPCHECKERS": "http", "TCPCHECKERS": "tcp"},
    ),
    catalog=_s(maxentries=INT),
    proxy=_s(
        remoteurl=STR,
        username=STR,
        password=STR,
        ttl=DURATION,
        remotenamespace=STR,
        exec=_s(command=STR, lifetime=DURATION),
        # in distribution's own config-cache.yml example; no such option exists (the TTL is
        # ``ttl``) and distribution ignores it: accepted, ignored, warned about
        cacheTTL=DURATION,
    ),
    compatibility=_s(
        schema1=Struct(
            {"signingkeyfile": STR, "enabled": BOOL}, env_names={"TRUSTKEY": "signingkeyfile"}
        )
    ),
    validation=_s(
        enabled=BOOL,
        disabled=BOOL,
        manifests=_s(
            # pyregistry: accept manifests whose blobs or children are absent
            sparse=BOOL,
            urls=_s(allow=STRLIST, deny=STRLIST),
            indexes=_s(
                platforms=Scalar("choice", ("all", "none", "list")),
                platformlist=ListOf(_s(architecture=STR, os=STR, variant=STR)),
            ),
        ),
    ),
    policy=_s(repository=_s(classes=STRLIST)),
    # pyregistry: the metadata index (docs/index.md)
    index=_s(enabled=BOOL, path=STR),
)


def join(path: str, key: str | int) -> str:
    """``http`` + ``addr`` -> ``http.addr``; ``health.file`` + 0 -> ``health.file[0]``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def check(node: Node, value: Any, path: str, source: str) -> Any:
    """Validate ``value`` against ``node``; return it with short forms expanded."""

    def fail(message: str, at: str = path) -> ConfigError:
        return ConfigError(message, key=at or None, source=source)

    if value is None or isinstance(node, AnyValue):
        return value
    if isinstance(node, Scalar):
        _check_scalar(node, value, fail)
        return value
    if isinstance(node, ListOf):
        if not isinstance(value, list):
            raise fail(f"expected a list, got {_describe(value)}")
        return [check(node.item, item, join(path, i), source) for i, item in enumerate(value)]
    if isinstance(value, str) and isinstance(node, OneOf):
        value = {value: None}
    if not isinstance(value, dict):
        raise fail(f"expected a mapping, got {_describe(value)}")
    if isinstance(node, MapOf):
        return {
            str(key): check(node.value, item, join(path, str(key)), source)
            for key, item in value.items()
        }
    if isinstance(node, Struct):
        out: dict[str, Any] = {}
        for key, item in value.items():
            sub = node.fields.get(key) if isinstance(key, str) else None
            if sub is None:
                raise fail(f"unknown key{_suggest(key, node.fields)}", join(path, str(key)))
            out[key] = check(sub, item, join(path, key), source)
        for key in node.required:
            if out.get(key) in (None, ""):
                raise fail("required", join(path, key))
        return out
    return _check_one_of(node, value, path, source, fail)


def _check_one_of(node: OneOf, value: dict[Any, Any], path: str, source: str, fail: Any) -> Any:
    out: dict[str, Any] = {}
    providers: list[str] = []
    for key, item in value.items():
        key = str(key)
        if key in node.fixed:
            out[key] = check(node.fixed[key], item, join(path, key), source)
            continue
        if item is not None and not isinstance(item, dict):
            raise fail(f"expected a mapping of parameters, got {_describe(item)}", join(path, key))
        providers.append(key)
        out[key] = item
    if len(providers) > 1:
        raise fail(f"must provide exactly one {node.what}, got: {', '.join(sorted(providers))}")
    if node.required and not providers:
        known = ", ".join(sorted(node.fixed))
        raise fail(f"no {node.what} configured (a key other than {known})")
    return out


def _check_scalar(node: Scalar, value: Any, fail: Any) -> None:
    kind = node.kind
    if isinstance(value, (dict, list)):
        raise fail(f"expected a single value, got {_describe(value)}")
    if kind == "str":
        return  # any scalar reads as its text, as Go's YAML decoder does for strings
    if kind == "bool" and not isinstance(value, bool):
        raise fail(f"expected true or false, got {value!r}")
    if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        raise fail(f"expected an integer, got {value!r}")
    if kind == "duration":
        try:
            parse_duration(value)
        except ValueError as exc:
            raise fail(str(exc)) from None
    if kind == "choice" and str(value).lower() not in node.choices:
        raise fail(f"invalid value {value!r}, expected one of: {', '.join(node.choices)}")


def _suggest(key: object, known: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(str(key), list(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{hint}; known keys: {', '.join(sorted(known))}"


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)

"""Turn the config's ``redis`` section (2.8 or 3.x spelling) into redis-py connection settings.

Redis as distribution 3.x's go-redis "universal" client reaches it: one address is one
node; with ``mastername``, the master Redis Sentinel names, asking the sentinels at
``addrs`` (after a failover, connections go to the new master; credentials:
``sentinelusername``/``sentinelpassword`` for the sentinels, ``username``/``password`` for
the master); several addresses without ``mastername`` are seed nodes of a Redis Cluster
(redis-py's cluster client: each key goes to the node of its slot, moved slots are
followed; database 0 only, as go-redis's cluster client). Timeouts default short on
purpose: a cache that makes a request wait for a dead Redis is worse than no cache.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass, field
from typing import Any, cast

from redis.asyncio import BlockingConnectionPool, ConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import Connection, SSLConnection
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import (
    Sentinel,
    SentinelConnectionPool,
    SentinelManagedConnection,
    SentinelManagedSSLConnection,
)
from redis.backoff import NoBackoff
from redis.exceptions import RedisClusterException, RedisError

from pyregistry.config.errors import ConfigError
from pyregistry.config.model import RedisConfig

log = logging.getLogger("pyregistry.redis")

#: What a Redis that fails raises: redis-py's errors, the cluster client's own (no node
#: reachable, a slot no node serves: not RedisError subclasses) and the socket's.
REDIS_FAILURES: tuple[type[Exception], ...] = (RedisError, RedisClusterException, OSError)

DEFAULT_PORT = 6379
#: Used when ``dialtimeout`` is not set: connection refused is instant, a black hole is not.
DEFAULT_CONNECT_TIMEOUT = 1.0
#: Used when neither ``readtimeout`` nor ``writetimeout`` is set.
DEFAULT_SOCKET_TIMEOUT = 1.0


@dataclass(frozen=True)
class RedisSettings:
    """Everything needed to open connections to the cache's Redis node."""

    host: str
    port: int
    db: int = 0
    username: str | None = None
    password: str | None = None
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    socket_timeout: float = DEFAULT_SOCKET_TIMEOUT
    #: ``pool.maxactive`` / ``poolsize``: None leaves the pool unbounded (redigo's 0).
    max_connections: int | None = None
    #: How long a request waits for a free connection when the pool is bounded.
    pool_timeout: float | None = None
    client_name: str | None = None
    tls: bool = False
    tls_certificate: str | None = None
    tls_key: str | None = None
    tls_cas: list[str] = field(default_factory=list)
    tls_insecure: bool = False
    #: Sentinel's name of the master to use (None: ``host``/``port`` is the node).
    master_name: str | None = None
    #: The sentinels to ask for it (``host``/``port`` is the first).
    sentinels: tuple[tuple[str, int], ...] = ()
    sentinel_username: str | None = None
    sentinel_password: str | None = None
    #: A Redis Cluster's seed nodes (``host``/``port`` is the first); empty: not a cluster.
    cluster_nodes: tuple[tuple[str, int], ...] = ()

    @property
    def cluster(self) -> bool:
        return bool(self.cluster_nodes)

    @property
    def address(self) -> str:
        """``host:port`` (or the master's name and its sentinels, or the cluster's seed
        nodes) for log lines and health messages (never the password)."""
        if self.master_name is not None:
            sentinels = ", ".join(_host_port(host, port) for host, port in self.sentinels)
            return f"{self.master_name} (sentinels {sentinels})"
        if self.cluster:
            nodes = ", ".join(_host_port(host, port) for host, port in self.cluster_nodes)
            return f"cluster {nodes}"
        return _host_port(self.host, self.port)


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_address(addr: str) -> tuple[str, int]:
    """``host:port``, ``[v6]:port`` or a bare host (port 6379)."""
    text = addr.strip()
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"invalid redis address {addr!r}")
        port_text = rest[1:]
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host, port_text = text, ""
    if not host:
        raise ValueError(f"invalid redis address {addr!r}: no host")
    try:
        port = int(port_text) if port_text else DEFAULT_PORT
    except ValueError:
        raise ValueError(f"invalid redis address {addr!r}: bad port") from None
    if not 0 < port < 65536:
        raise ValueError(f"invalid redis address {addr!r}: bad port")
    return host, port


def settings_from_config(redis: RedisConfig) -> RedisSettings:
    """The typed ``redis`` section -> what redis-py is given."""
    if not redis.addrs:
        raise ConfigError("no address configured (addr or addrs)", key="redis")
    try:
        nodes = tuple(parse_address(addr) for addr in redis.addrs)
    except ValueError as exc:
        raise ConfigError(str(exc), key="redis.addr") from None
    host, port = nodes[0]
    cluster = len(set(nodes)) > 1 and not redis.mastername
    db = int(redis.db or 0)
    if cluster and db:
        log.warning("redis.db %d is ignored: a Redis Cluster has database 0 only", db)
        db = 0
    timeouts = [t for t in (redis.readtimeout_seconds, redis.writetimeout_seconds) if t]
    max_connections = redis.pool_maxactive or redis.maxactiveconns
    return RedisSettings(
        host=host,
        port=port,
        db=db,
        username=redis.username,
        password=redis.password,
        connect_timeout=redis.dialtimeout_seconds or DEFAULT_CONNECT_TIMEOUT,
        socket_timeout=max(timeouts) if timeouts else DEFAULT_SOCKET_TIMEOUT,
        max_connections=max_connections if max_connections and max_connections > 0 else None,
        pool_timeout=redis.pool_timeout_seconds or None,
        client_name=redis.clientname or None,
        tls=redis.tls_enabled,
        tls_certificate=redis.tls_certificate,
        tls_key=redis.tls_key,
        tls_cas=list(redis.tls_clientcas),
        tls_insecure=redis.tls_insecure,
        master_name=redis.mastername or None,
        sentinels=nodes if redis.mastername else (),
        sentinel_username=redis.sentinelusername or None,
        sentinel_password=redis.sentinelpassword or None,
        cluster_nodes=tuple(dict.fromkeys(nodes)) if cluster else (),
    )


def _connection_kwargs(settings: RedisSettings) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "db": settings.db,
        "username": settings.username,
        "password": settings.password,
        "socket_connect_timeout": settings.connect_timeout,
        "socket_timeout": settings.socket_timeout,
        # One immediate retry heals a pooled connection Redis closed (restart, idle
        # timeout); more would only multiply the wait while Redis is really down.
        "retry": Retry(NoBackoff(), 1),
        "client_name": settings.client_name,
        "decode_responses": True,
    }
    kwargs.update(_tls_kwargs(settings))
    return kwargs


def _tls_kwargs(settings: RedisSettings) -> dict[str, Any]:
    if not settings.tls:
        return {}
    return dict(
        ssl_certfile=settings.tls_certificate,
        ssl_keyfile=settings.tls_key,
        ssl_cert_reqs=ssl.CERT_NONE if settings.tls_insecure else ssl.CERT_REQUIRED,
        ssl_check_hostname=not settings.tls_insecure,
        ssl_ca_data=_ca_bundle(settings.tls_cas),
    )


def _ca_bundle(paths: list[str]) -> str | None:
    """Several CA files as one PEM bundle (redis-py takes one file or one string)."""
    if not paths:
        return None
    chunks = []
    for path in paths:
        try:
            with open(path, encoding="ascii") as handle:
                chunks.append(handle.read())
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}", key="redis.tls") from None
    return "\n".join(chunks)


def create_client(settings: RedisSettings) -> Redis:
    """A client with its own pool; connections open lazily, bound to the loop using them."""
    if settings.master_name is not None:
        return _master_client(settings, settings.master_name)
    if settings.cluster:
        return _cluster_client(settings)
    connection_class = SSLConnection if settings.tls else Connection
    kwargs = {"host": settings.host, "port": settings.port, **_connection_kwargs(settings)}
    pool: ConnectionPool
    if settings.max_connections is not None:
        # Like go-redis's PoolSize: wait for a free connection rather than fail at once.
        pool = BlockingConnectionPool(
            max_connections=settings.max_connections,
            timeout=settings.pool_timeout or settings.socket_timeout,
            connection_class=connection_class,
            **kwargs,
        )
    else:
        pool = ConnectionPool(connection_class=connection_class, **kwargs)
    return Redis(connection_pool=pool)


def _master_client(settings: RedisSettings, master_name: str) -> Redis:
    """A client of the master Sentinel names: each new connection asks a sentinel where
    it is, and connections to a former master are dropped once it has moved."""
    sentinel_kwargs: dict[str, Any] = {
        "username": settings.sentinel_username,
        "password": settings.sentinel_password,
        "socket_connect_timeout": settings.connect_timeout,
        "socket_timeout": settings.socket_timeout,
        **_tls_kwargs(settings),
    }
    sentinel = Sentinel(
        settings.sentinels, sentinel_kwargs=sentinel_kwargs, **_connection_kwargs(settings)
    )
    connection_class = SentinelManagedSSLConnection if settings.tls else SentinelManagedConnection
    pool_kwargs: dict[str, Any] = {"connection_class": connection_class}
    if settings.max_connections is not None:
        pool_kwargs["max_connections"] = settings.max_connections
    client: Redis = sentinel.master_for(master_name, **pool_kwargs)
    return client


def _cluster_client(settings: RedisSettings) -> Redis:
    """A Redis Cluster client: it learns the slots from the seed nodes on first use and
    sends each command to the node owning its key (following MOVED and ASK).

    Typed as :class:`Redis`: the cluster client answers every command the registry sends
    (one-key commands, pipelines without a transaction or within one slot, scripts that
    declare their keys; :func:`hash_tagged` keeps the index's keys in one slot)."""
    kwargs = _connection_kwargs(settings)
    del kwargs["db"]  # a cluster has database 0 only
    # ``retry`` as for one node: one immediate retry, no backoff (redis-py's cluster default,
    # three retries with backoff of up to seconds, made every request touching a dead
    # node's slots wait ~4 s); slot redirections (MOVED, ASK) are followed regardless
    kwargs["ssl"] = settings.tls  # with the ssl_* options of _tls_kwargs
    if settings.max_connections is not None:
        kwargs["max_connections"] = settings.max_connections
    nodes = [ClusterNode(host, port) for host, port in settings.cluster_nodes]
    client = RedisCluster(startup_nodes=nodes, **kwargs)
    return cast(Redis, client)


def hash_tagged(prefix: str, settings: RedisSettings) -> str:
    """``prefix`` with its name in braces on a cluster (every key under it then hashes
    to one slot, so a script may use several), as it is otherwise."""
    if not settings.cluster:
        return prefix
    name = prefix.rstrip(":")
    return "{" + name + "}" + prefix[len(name) :]


async def close_client(client: Redis) -> None:
    """Close a client and its pool (``aclose`` on redis-py >= 5.0.1, ``close`` before),
    and the sentinels' connections of a Sentinel-managed one."""
    closer = getattr(client, "aclose", None) or client.close
    await closer()
    if isinstance(client, RedisCluster):
        return  # its nodes' connections closed with it
    pool = client.connection_pool
    await pool.disconnect()
    if isinstance(pool, SentinelConnectionPool):
        for sentinel in pool.sentinel_manager.sentinels:
            sentinel_closer = getattr(sentinel, "aclose", None) or sentinel.close
            await sentinel_closer()

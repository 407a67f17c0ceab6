"""``redis``: distribution 2.8's keys (``addr``, ``pool.*``) and 3.x's (go-redis
``UniversalOptions`` inlined: ``addrs``, ``poolsize``...), read into one set of fields.

Keys redis-py has no equivalent for are accepted and typed but not acted on (README).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyregistry.config.declare import setting
from pyregistry.config.schema import BOOL, DURATION, INT, STR, STRLIST


@dataclass
class RedisConfig:
    #: 3.x ``addrs``; 2.8's ``addr`` is put first.
    addrs: list[str] = setting(STRLIST, factory=list)
    addr: str | None = setting(STR)
    username: str | None = setting(STR)
    password: str | None = setting(STR)
    db: int = setting(INT, default=0)
    dialtimeout_seconds: float | None = setting(DURATION, "dialtimeout")
    readtimeout_seconds: float | None = setting(DURATION, "readtimeout")
    writetimeout_seconds: float | None = setting(DURATION, "writetimeout")
    pool_maxidle: int | None = setting(INT, "pool.maxidle", "maxidleconns")
    pool_maxactive: int | None = setting(INT, "pool.maxactive", "poolsize")
    pool_idletimeout_seconds: float | None = setting(
        DURATION, "pool.idletimeout", "connmaxidletime"
    )
    pool_timeout_seconds: float | None = setting(DURATION, "pooltimeout")
    maxactiveconns: int | None = setting(INT)
    clientname: str | None = setting(STR)
    #: ``tls.enabled``, or implied by a client certificate
    tls_enabled: bool = setting(BOOL, "tls.enabled", default=False)
    tls_certificate: str | None = setting(STR, "tls.certificate")
    tls_key: str | None = setting(STR, "tls.key")
    tls_clientcas: list[str] = setting(STRLIST, "tls.clientcas", factory=list)
    tls_insecure: bool = setting(BOOL, "tls.insecure", default=False)
    # Sentinel (3.x, go-redis failover): the master named, found through the sentinels
    sentinelusername: str | None = setting(STR)
    sentinelpassword: str | None = setting(STR)
    mastername: str | None = setting(STR)
    # 3.x keys accepted without effect (several addrs without mastername: refused)
    protocol: int | None = setting(INT)
    maxretries: int | None = setting(INT)
    minretrybackoff: float | None = setting(DURATION)
    maxretrybackoff: float | None = setting(DURATION)
    poolfifo: bool | None = setting(BOOL)
    minidleconns: int | None = setting(INT)
    connmaxlifetime: float | None = setting(DURATION)
    maxredirects: int | None = setting(INT)
    readonly: bool | None = setting(BOOL)
    routebylatency: bool | None = setting(BOOL)
    routerandomly: bool | None = setting(BOOL)

    def __post_init__(self) -> None:
        if self.addr:
            self.addrs = [self.addr] + [a for a in self.addrs if a != self.addr]
        self.tls_enabled = self.tls_enabled or bool(self.tls_certificate)

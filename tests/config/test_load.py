"""Loading distribution's config.yml into the typed model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pyregistry.config import Config, ConfigError, load_config

FIXTURES = Path(__file__).parent / "fixtures"
NO_ENV: dict[str, str] = {}


#: Examples that ask for what pyregistry cannot do (tests/config/test_unsupported.py).
REFUSED_EXAMPLES = {
    "v2.8-reference.yml": "reporting.bugsnag",
}


def load(name: str, env: dict[str, str] | None = None) -> Config:
    """Read an example as a file reader would: every key parsed, none refused."""
    return load_config(str(FIXTURES / name), env or NO_ENV, supported_only=False)


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.yml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.yml")))
def test_every_documented_example_loads(name: str) -> None:
    if name in REFUSED_EXAMPLES:
        with pytest.raises(ConfigError) as refused:
            load_config(str(FIXTURES / name), NO_ENV)
        assert refused.value.key == REFUSED_EXAMPLES[name]
        assert refused.value.source is not None and refused.value.source.endswith(name)
    config = load(name)
    assert config.version == "0.1"
    assert config.source.endswith(name)
    assert config.storage.driver in {"filesystem", "s3", "azure", "gcs", "swift"}


def test_reference_example_every_section(tmp_path: Path) -> None:
    c = load("reference-filesystem.yml")
    assert (c.log.level, c.log.formatter, c.log.reportcaller) == ("debug", "json", True)
    assert c.log.fields == {"service": "registry", "environment": "staging"}
    assert c.log.accesslog_disabled is True
    assert c.log.hooks[0]["options"]["smtp"]["addr"] == "smtp.example.org:25"

    s = c.storage
    assert (s.driver, s.parameters) == (
        "filesystem",
        {"rootdirectory": "/srv/registry", "maxthreads": 100},
    )
    assert (s.delete_enabled, s.redirect_disable, s.readonly) == (True, True, False)
    assert (s.cache_blobdescriptor, s.cache_blobdescriptorsize) == ("inmemory", 5000)
    assert s.uploadpurging_age_seconds == 72 * 3600
    assert s.uploadpurging_interval_seconds == 12 * 3600
    assert (s.uploadpurging_enabled, s.uploadpurging_dryrun) == (True, True)
    assert s.tag_concurrencylimit == 8

    h = c.http
    assert (h.addr, h.net, h.prefix) == ("localhost:5000", "tcp", "/my/nested/registry/")
    assert (h.host, h.secret, h.relativeurls) == (
        "https://registry.example.org:5000",
        "not-a-real-secret",
        False,
    )
    assert h.draintimeout_seconds == 60.0
    assert h.headers == {"X-Content-Type-Options": ["nosniff"]}
    assert h.tls.certificate == "/etc/registry/tls/cert.pem"
    assert h.tls.clientcas == ["/etc/registry/tls/ca.pem", "/etc/registry/tls/other-ca.pem"]
    assert (h.tls.minimumtls, h.tls.clientauth) == ("tls1.3", "verify-client-cert-if-given")
    assert h.tls.ciphersuites[0] == "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
    assert h.tls.letsencrypt["hosts"] == ["registry.example.org"]
    assert (h.debug.addr, h.debug.prometheus_enabled, h.debug.prometheus_path) == (
        "localhost:5001",
        True,
        "/custom-metrics",
    )
    assert (h.http2_disabled, h.h2c_enabled) == (True, False)

    assert c.auth == {"htpasswd": {"realm": "basic-realm", "path": "/etc/registry/htpasswd"}}
    assert c.middleware["storage"][0]["options"]["duration"] == "3000s"
    assert c.notifications["events"] == {"includereferences": True}
    endpoint = c.notifications["endpoints"][0]
    assert (endpoint["name"], endpoint["timeout"], endpoint["threshold"]) == ("listener", "1s", 10)

    r = c.redis
    assert r is not None
    assert (r.addrs, r.password, r.db) == (["localhost:6379"], "redispass", 2)
    timeouts = (r.dialtimeout_seconds, r.readtimeout_seconds, r.writetimeout_seconds)
    assert timeouts == pytest.approx((0.01, 0.02, 0.03))
    assert (r.pool_maxidle, r.pool_maxactive, r.pool_idletimeout_seconds) == (16, 64, 300.0)
    assert (r.tls_enabled, r.tls_certificate) == (True, "/etc/registry/redis/cert.crt")
    assert r.tls_clientcas == ["/etc/registry/redis/ca.pem"]

    assert c.health["storagedriver"] == {"enabled": True, "interval": "10s", "threshold": 3}
    assert c.health["tcp"][0]["addr"] == "redis.example.org:6379"
    assert c.proxy["remoteurl"] == "https://upstream-registry.example.org"
    assert c.proxy["exec"]["lifetime"] == "1h"
    assert c.validation["manifests"]["indexes"]["platformlist"] == [
        {"architecture": "amd64", "os": "linux"}
    ]
    assert c.raw["storage"]["filesystem"]["maxthreads"] == 100


def test_v28_spellings() -> None:
    c = load("v2.8-reference.yml")
    assert (c.log.level, c.log.formatter) == ("warn", "logstash")  # from deprecated loglevel
    assert c.storage.driver == "swift"
    assert c.storage.parameters["authurl"] == "https://keystone.example.org/v3/auth"
    assert c.storage.cache_blobdescriptor == "redis"  # from the old layerinfo
    assert c.storage.uploadpurging_enabled is False
    assert c.storage.readonly is True
    assert c.storage.delete_enabled is False  # distribution's default with a file
    assert c.http.secret == "12345"  # a YAML integer read as text, as Go does
    r = c.redis
    assert r is not None
    assert (r.addrs, r.db, r.tls_enabled) == (["localhost:6379"], 1, True)
    assert (r.pool_maxidle, r.pool_maxactive, r.pool_idletimeout_seconds) == (16, 64, 300.0)
    assert c.notifications["endpoints"][0]["timeout"] == 500  # nanoseconds, kept raw
    assert c.reporting["newrelic"]["verbose"] is True
    assert c.compatibility["schema1"]["enabled"] is True
    assert c.catalog == {"maxentries": 500}
    assert c.policy == {"repository": {"classes": ["image"]}}


def test_defaults_with_a_file_follow_distribution() -> None:
    c = load("development.yml")
    assert c.storage.delete_enabled is False
    assert c.storage.uploadpurging_enabled is True
    assert c.storage.uploadpurging_age_seconds == 168 * 3600
    assert c.storage.uploadpurging_interval_seconds == 24 * 3600
    assert c.storage.cache_blobdescriptor is None
    assert c.log.formatter == "text" and c.log.level == "debug"
    assert c.http.tls.certificate is None
    assert c.http.debug.prometheus_enabled is False
    assert c.http.debug.prometheus_path == "/metrics"
    assert c.redis is None
    assert c.auth == {} and c.health == {}
    assert c.path is not None and c.path.endswith("development.yml")


def test_no_file_means_the_builtin_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    c = load_config(None, NO_ENV)
    assert c.path is None and c.source == "<defaults>"
    assert c.storage.driver == "filesystem"
    assert c.storage.parameters == {"rootdirectory": str(tmp_path / "registry-data")}
    assert c.storage.delete_enabled is True
    assert c.http.addr == "127.0.0.1:5000"


def test_configuration_path_variable_names_the_file() -> None:
    c = load_config(
        None,
        {"REGISTRY_CONFIGURATION_PATH": str(FIXTURES / "v2.8-reference.yml")},
        supported_only=False,
    )
    assert c.storage.driver == "swift"
    assert c.warnings == []  # the variable is not taken for an override


def test_storage_may_be_a_bare_driver_name(tmp_path: Path) -> None:
    c = load_config(write(tmp_path, "version: 0.1\nstorage: inmemory\n"), NO_ENV)
    assert (c.storage.driver, c.storage.parameters) == ("inmemory", {})


def test_driver_section_without_parameters(tmp_path: Path) -> None:
    c = load_config(write(tmp_path, "version: 0.1\nstorage:\n  inmemory:\n"), NO_ENV)
    assert (c.storage.driver, c.storage.parameters) == ("inmemory", {})


def expect_error(tmp_path: Path, text: str, key: str | None, message: str) -> ConfigError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, NO_ENV)
    err = info.value
    assert err.key == key
    assert err.source == path
    assert message in str(err)
    assert path in str(err)
    return err


def test_unknown_key_names_path_and_file(tmp_path: Path) -> None:
    err = expect_error(
        tmp_path,
        "version: 0.1\nstorage: inmemory\nhttp:\n  adr: ':5000'\n",
        "http.adr",
        "unknown key",
    )
    assert "did you mean 'addr'" in str(err)


def test_unknown_key_in_a_list_item(tmp_path: Path) -> None:
    expect_error(
        tmp_path,
        "version: 0.1\nstorage: inmemory\nhealth:\n  file:\n    - file: /x\n      intervl: 1s\n",
        "health.file[0].intervl",
        "unknown key",
    )


def test_unknown_top_level_section(tmp_path: Path) -> None:
    expect_error(tmp_path, "version: 0.1\nstorage: inmemory\nstorge: {}\n", "storge", "unknown key")


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        (
            "storage:\n  inmemory:\n  delete:\n    enabled: maybe\n",
            "storage.delete.enabled",
            "true or false",
        ),
        (
            "storage: inmemory\nhttp:\n  draintimeout: soon\n",
            "http.draintimeout",
            "invalid duration",
        ),
        ("storage: inmemory\nhttp:\n  draintimeout: '30'\n", "http.draintimeout", "missing unit"),
        ("storage: inmemory\nredis:\n  db: first\n", "redis.db", "integer"),
        ("storage: inmemory\nlog:\n  level: loud\n", "log.level", "expected one of"),
        ("storage: inmemory\nlog:\n  formatter: xml\n", "log.formatter", "expected one of"),
        (
            "storage: inmemory\nhttp:\n  tls:\n    clientcas: /ca.pem\n",
            "http.tls.clientcas",
            "a list",
        ),
        ("storage: inmemory\nhttp:\n  headers:\n    X-A: nosniff\n", "http.headers.X-A", "a list"),
        ("storage: inmemory\nhttp: localhost\n", "http", "a mapping"),
        (
            "storage: inmemory\nnotifications:\n  endpoints:\n    name: x\n",
            "notifications.endpoints",
            "a list",
        ),
        (
            "storage: inmemory\nnotifications:\n  endpoints:\n    - nme: x\n",
            "notifications.endpoints[0].nme",
            "unknown key",
        ),
        ("storage: inmemory\nproxy:\n  username: [user]\n", "proxy.username", "single value"),
    ],
)
def test_wrong_types_name_the_key(tmp_path: Path, text: str, key: str, message: str) -> None:
    expect_error(tmp_path, "version: 0.1\n" + text, key, message)


def test_exactly_one_storage_driver(tmp_path: Path) -> None:
    expect_error(
        tmp_path,
        "version: 0.1\nstorage:\n  filesystem: {}\n  s3: {}\n",
        "storage",
        "exactly one storage driver, got: filesystem, s3",
    )


def test_a_storage_driver_is_required(tmp_path: Path) -> None:
    expect_error(
        tmp_path,
        "version: 0.1\nstorage:\n  delete:\n    enabled: true\n",
        "storage",
        "no storage driver",
    )
    expect_error(tmp_path, "version: 0.1\nhttp:\n  addr: ':1'\n", "storage", "no storage driver")


def test_exactly_one_auth_provider(tmp_path: Path) -> None:
    expect_error(
        tmp_path,
        "version: 0.1\nstorage: inmemory\nauth:\n  silly: {}\n  htpasswd: {}\n",
        "auth",
        "exactly one auth provider",
    )


def test_version_is_required_and_checked(tmp_path: Path) -> None:
    expect_error(tmp_path, "storage: inmemory\n", "version", "required")
    expect_error(tmp_path, "version: 0.2\nstorage: inmemory\n", "version", "unsupported version")
    expect_error(tmp_path, "version: one\nstorage: inmemory\n", "version", "unsupported version")


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.yml")
    with pytest.raises(ConfigError, match="cannot read") as info:
        load_config(missing, NO_ENV)
    assert info.value.source == missing
    expect_error(tmp_path, "version: 0.1\nstorage: [unclosed\n", None, "invalid YAML")
    expect_error(tmp_path, "- just\n- a list\n", None, "YAML mapping")


def test_empty_sections_are_fine(tmp_path: Path) -> None:
    c = load_config(
        write(tmp_path, "version: 0.1\nstorage: inmemory\nhttp:\nlog:\nauth:\n"), NO_ENV
    )
    assert c.http.addr == ":5000" and c.auth == {} and c.log.level == "info"


def test_loading_does_not_touch_os_environ(tmp_path: Path) -> None:
    before = dict(os.environ)
    load("reference-filesystem.yml", {"REGISTRY_HTTP_ADDR": ":1"})
    with pytest.raises(ConfigError):  # refused, still without touching the environment
        load_config(str(FIXTURES / "reference-filesystem.yml"), {"REGISTRY_HTTP_ADDR": ":1"})
    assert dict(os.environ) == before


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("health:\n  file:\n    - interval: 1s\n", "health.file[0].file"),
        ("health:\n  tcp:\n    - addr: ''\n", "health.tcp[0].addr"),
        ("health:\n  http:\n    - statuscode: 200\n", "health.http[0].uri"),
        ("notifications:\n  endpoints:\n    - name: x\n", "notifications.endpoints[0].url"),
        ("middleware:\n  storage:\n    - options: {}\n", "middleware.storage[0].name"),
    ],
)
def test_required_keys(tmp_path: Path, text: str, key: str) -> None:
    expect_error(tmp_path, "version: 0.1\nstorage: inmemory\n" + text, key, "required")


def test_distributions_own_example_configs() -> None:
    dev = load("distribution-config-dev.yml")
    assert dev.storage.tag_concurrencylimit == 8
    assert dev.storage.uploadpurging_enabled is False
    assert (dev.http.debug.addr, dev.http.debug.prometheus_enabled) == (":5001", True)
    assert dev.warnings == []
    cache = load("distribution-config-cache.yml")
    assert cache.storage.cache_blobdescriptor == "redis"
    assert cache.redis is not None and cache.redis.pool_maxactive == 64
    assert cache.proxy["remoteurl"] == "https://registry-1.docker.io"
    # distribution ignores this misspelt key of its own example; we accept it and say so
    assert any("proxy.cacheTTL" in warning for warning in cache.warnings)

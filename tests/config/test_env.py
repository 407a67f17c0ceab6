"""``REGISTRY_*`` environment overrides, as distribution applies them."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyregistry.config import ConfigError, load_config

FIXTURES = Path(__file__).parent / "fixtures"
DEFAULT = str(FIXTURES / "packaged-default.yml")


def test_documented_examples() -> None:
    c = load_config(
        DEFAULT,
        {
            "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY": "/somewhere",
            "REGISTRY_HTTP_ADDR": "127.0.0.1:6000",
            "REGISTRY_LOG_LEVEL": "debug",
            "REGISTRY_STORAGE_DELETE_ENABLED": "false",
        },
    )
    assert c.storage.parameters == {"rootdirectory": "/somewhere"}
    assert c.http.addr == "127.0.0.1:6000"
    assert c.log.level == "debug"
    assert c.storage.delete_enabled is False
    assert c.raw["storage"]["filesystem"]["rootdirectory"] == "/somewhere"


def test_values_are_yaml() -> None:
    c = load_config(
        DEFAULT,
        {
            "REGISTRY_STORAGE_DELETE_ENABLED": "true",
            "REGISTRY_HTTP_TLS_CLIENTCAS": "[/a.pem, /b.pem]",
            "REGISTRY_HTTP_DRAINTIMEOUT": "45s",
            "REGISTRY_STORAGE_CACHE_BLOBDESCRIPTORSIZE": "77",
        },
    )
    assert c.storage.delete_enabled is True
    assert c.http.tls.clientcas == ["/a.pem", "/b.pem"]
    assert c.http.draintimeout_seconds == 45.0
    assert c.storage.cache_blobdescriptorsize == 77


def test_string_settings_keep_the_text() -> None:
    c = load_config(DEFAULT, {"REGISTRY_HTTP_SECRET": "0x10", "REGISTRY_HTTP_HOST": "true"})
    assert c.http.secret == "0x10"
    assert c.http.host == "true"


def test_storage_type_from_the_environment_replaces_the_section() -> None:
    # Applied in name order: REGISTRY_STORAGE first wipes filesystem (and delete, cache),
    # then the S3 parameters land in the new section.
    c = load_config(
        DEFAULT,
        {
            "REGISTRY_STORAGE_S3_REGION": "eu-west-1",
            "REGISTRY_STORAGE_S3_BUCKET": "images",
            "REGISTRY_STORAGE": "s3",
        },
    )
    assert c.storage.driver == "s3"
    assert c.storage.parameters == {"region": "eu-west-1", "bucket": "images"}
    assert c.storage.delete_enabled is False
    assert c.storage.cache_blobdescriptor is None


def test_a_second_driver_from_the_environment_is_an_error() -> None:
    with pytest.raises(ConfigError, match="exactly one storage driver"):
        load_config(DEFAULT, {"REGISTRY_STORAGE_S3_BUCKET": "images"})


def test_overrides_create_missing_sections_and_keys() -> None:
    c = load_config(
        str(FIXTURES / "development.yml"),
        {
            "REGISTRY_LOG_FIELDS_ENVIRONMENT": "prod",
            "REGISTRY_HTTP_HEADERS_STRICT-TRANSPORT-SECURITY": "[max-age=31536000]",
            "REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED": "true",
            "REGISTRY_REDIS_ADDR": "localhost:6379",
            "REGISTRY_AUTH_HTPASSWD_REALM": "basic",
            "REGISTRY_AUTH_HTPASSWD_PATH": "/etc/htpasswd",
            "REGISTRY_NOTIFICATIONS_ENDPOINTS_0_NAME": "hook",
            "REGISTRY_NOTIFICATIONS_ENDPOINTS_0_URL": "http://127.0.0.1:9/e",
            "REGISTRY_HTTP_TLS_LETSENCRYPT_HOSTS_0": "registry.example.org",
        },
    )
    assert c.log.fields == {"environment": "prod"}
    assert c.http.headers == {"strict-transport-security": ["max-age=31536000"]}
    assert c.http.debug.prometheus_enabled is True
    assert c.http.debug.addr == "localhost:5001"  # siblings are kept
    assert c.redis is not None and c.redis.addrs == ["localhost:6379"]
    assert c.auth == {"htpasswd": {"realm": "basic", "path": "/etc/htpasswd"}}
    assert c.notifications["endpoints"] == [{"name": "hook", "url": "http://127.0.0.1:9/e"}]
    assert c.http.tls.letsencrypt == {"hosts": ["registry.example.org"]}


def test_list_elements_by_index() -> None:
    c = load_config(
        str(FIXTURES / "reference-filesystem.yml"),
        {
            "REGISTRY_HEALTH_TCP_0_TIMEOUT": "1s",
            "REGISTRY_HEALTH_FILE_1_FILE": "/second",
            "REGISTRY_HTTP_TLS_LETSENCRYPT_HOSTS_0": "other.example.org",
        },
        supported_only=False,  # the example asks for a proxy and middleware
    )
    assert c.health["tcp"][0] == {
        "addr": "redis.example.org:6379",
        "timeout": "1s",
        "interval": "10s",
        "threshold": 3,
    }
    assert [f["file"] for f in c.health["file"]] == ["/srv/registry-down", "/second"]
    assert c.http.tls.letsencrypt["hosts"] == ["other.example.org"]


def test_go_field_names_work_where_they_differ_from_yaml_keys() -> None:
    c = load_config(
        DEFAULT,
        {
            "REGISTRY_HEALTH_FILECHECKERS_0_FILE": "/tmp/down",
            "REGISTRY_NOTIFICATIONS_EVENTCONFIG_INCLUDEREFERENCES": "true",
        },
    )
    assert c.health["file"] == [{"file": "/tmp/down"}]
    assert c.notifications["events"] == {"includereferences": True}


def test_index_past_the_end_is_an_error() -> None:
    with pytest.raises(ConfigError, match="undefined list index 3") as info:
        load_config(DEFAULT, {"REGISTRY_HEALTH_FILE_3_FILE": "/x"})
    assert info.value.key == "REGISTRY_HEALTH_FILE_3_FILE"
    with pytest.raises(ConfigError, match="non-numeric"):
        load_config(DEFAULT, {"REGISTRY_HEALTH_FILE_FIRST_FILE": "/x"})


def test_bad_values_are_errors_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="storage.delete.enabled.*true or false"):
        load_config(DEFAULT, {"REGISTRY_STORAGE_DELETE_ENABLED": "maybe"})
    with pytest.raises(ConfigError, match="REGISTRY_HTTP_HEADERS.*invalid YAML"):
        load_config(DEFAULT, {"REGISTRY_HTTP_HEADERS": "{unclosed"})


def test_unknown_variables_are_ignored_with_a_warning() -> None:
    c = load_config(
        DEFAULT,
        {
            "REGISTRY_HTTP_ADRESS": ":1",
            "REGISTRY_NOPE": "1",
            "REGISTRY_HTTP_ADDR_X": "1",
            "PATH": "/bin",
        },
    )
    assert c.http.addr == ":5000"
    assert len(c.warnings) == 3
    assert any("REGISTRY_HTTP_ADRESS" in w for w in c.warnings)


def test_overrides_apply_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    c = load_config(
        None, {"REGISTRY_HTTP_ADDR": "127.0.0.1:7000", "REGISTRY_LOG_FORMATTER": "json"}
    )
    assert c.http.addr == "127.0.0.1:7000"
    assert c.log.formatter == "json"
    assert c.storage.parameters["rootdirectory"] == str(tmp_path / "registry-data")


def test_environment_names_are_case_insensitive_on_the_config_side() -> None:
    c = load_config(DEFAULT, {"REGISTRY_HTTP_HEADERS_X-CONTENT-TYPE-OPTIONS": "[deny]"})
    assert c.http.headers == {"X-Content-Type-Options": ["deny"]}

"""``storage.maintenance.gc``: parsed, checked, and wired into the app only when asked."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pyregistry.app import build_registry, create_app
from pyregistry.client.content import build_image
from pyregistry.config import ConfigError, load_config
from pyregistry.gc.online import OnlineCollector
from pyregistry.gc.settings import GCSettings, gc_settings
from tests.gc.scenario import push


def _config(tmp_path: Path, gc: str, extra: str = "") -> Path:
    path = tmp_path / "config.yml"
    path.write_text(
        f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {tmp_path / 'data'}\n"
        f"  delete:\n    enabled: true\n{extra}  maintenance:\n    gc:\n{gc}"
    )
    return path


def test_keys_and_defaults(tmp_path: Path) -> None:
    config = load_config(str(_config(tmp_path, "      enabled: true\n      grace: 90s\n")))
    settings = gc_settings(config)
    assert settings.enabled and settings.grace_seconds == 90
    assert settings.interval_seconds == 24 * 3600 and not settings.delete_untagged
    assert not settings.dry_run


@pytest.mark.parametrize(
    ("gc", "key"),
    [
        ("      enabled: yes-please\n", "storage.maintenance.gc.enabled"),
        ("      grace: ten\n", "storage.maintenance.gc.grace"),
        ("      sweep: true\n", "storage.maintenance.gc"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, gc: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        gc_settings(load_config(str(_config(tmp_path, gc))))
    assert key in str(caught.value)


def test_the_app_collects_only_when_enabled_and_writable(tmp_path: Path) -> None:
    on = load_config(str(_config(tmp_path, "      enabled: true\n")))
    assert isinstance(create_app(on).state.collector, OnlineCollector)
    off = load_config(str(_config(tmp_path, "      enabled: false\n")))
    assert create_app(off).state.collector is None
    readonly = load_config(
        str(_config(tmp_path, "      enabled: true\n    readonly:\n      enabled: true\n"))
    )
    assert create_app(readonly).state.collector is None


def test_the_metadata_index_follows_collected_manifests(tmp_path: Path) -> None:
    config = load_config(str(_config(tmp_path, "      enabled: true\n")))

    async def scenario() -> None:
        registry = build_registry(config)
        try:
            index = registry.index
            assert index is not None
            app = registry.repository("app")
            await push(app, build_image(seed="kept"), "v1")
            untagged = await push(app, build_image(seed="untagged"))
            gone = registry.repository("gone")
            await gone.manifests.delete(await push(gone, build_image(seed="gone"), "x"))
            # Pushed while the index was being built, "app" is in doubt (answered from
            # storage) until the repair a listing starts: the index answers after that.
            for _ in range(100):
                if await index.tags("app", None, None) is not None:
                    break
                await asyncio.sleep(0.1)
            collector = OnlineCollector(
                registry, GCSettings(enabled=True, grace_seconds=0, delete_untagged=True)
            )
            collector.clock_skew = 0.0
            report = await collector.collect_once()
            assert report.ok and report.manifests_deleted == 1, report.errors
            assert not await app.manifests.exists(untagged)
            assert await index.catalog(None, None) == await registry.catalog(from_storage=True)
            page = await index.tags("app", None, None)
            assert page is not None and list(page.tags) == ["v1"]
        finally:
            await registry.close()

    asyncio.run(scenario())

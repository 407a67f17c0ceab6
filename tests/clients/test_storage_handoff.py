"""The on-disk layout is shared: a root written by one server is served by the other.

This is the drop-in promise: an operator can swap distribution for pyregistry (or back)
on the same storage root without migrating anything.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.distribution import run_distribution
from tests.support.images import (
    Image,
    MultiArchImage,
    assert_layout_holds,
)
from tests.support.pyregistry_target import run_pyregistry
from tests.support.skopeo import Skopeo

pytestmark = pytest.mark.slow  # real clients: a few seconds each


def _push_both(
    skopeo: Skopeo, host: str, single: tuple[Path, Image], multi: tuple[Path, MultiArchImage]
) -> None:
    (single_layout, single_image), (multi_layout, multi_image) = single, multi
    pushed = skopeo.copy(f"oci:{single_layout}:v1", f"docker://{host}/handoff/single:v1")
    assert pushed == single_image.manifest_digest
    pushed = skopeo.copy(
        f"oci:{multi_layout}:v1", f"docker://{host}/handoff/multi:v1", all_images=True
    )
    assert pushed == multi_image.index_digest


def _pull_and_compare(
    skopeo: Skopeo,
    host: str,
    single: tuple[Path, Image],
    multi: tuple[Path, MultiArchImage],
    destination: Path,
) -> None:
    _, single_image = single
    _, multi_image = multi
    destination.mkdir(parents=True)
    assert skopeo.list_tags(f"docker://{host}/handoff/single") == ["v1"]

    pulled = destination / "single"
    digest = skopeo.copy(f"docker://{host}/handoff/single:v1", f"oci:{pulled}:v1")
    assert digest == single_image.manifest_digest
    assert_layout_holds(pulled, "v1", single_image)

    pulled = destination / "multi"
    digest = skopeo.copy(f"docker://{host}/handoff/multi:v1", f"oci:{pulled}:v1", all_images=True)
    assert digest == multi_image.index_digest
    assert_layout_holds(pulled, "v1", multi_image)


def test_pyregistry_root_served_by_distribution(
    skopeo: Skopeo,
    single: tuple[Path, Image],
    multi: tuple[Path, MultiArchImage],
    tmp_path: Path,
) -> None:
    root = tmp_path / "root"
    with run_pyregistry(root) as (host, _url):
        _push_both(skopeo, host, single, multi)
    with run_distribution(root) as distribution:
        _pull_and_compare(skopeo, distribution.host, single, multi, tmp_path / "pulled")


def test_distribution_root_served_by_pyregistry(
    skopeo: Skopeo,
    single: tuple[Path, Image],
    multi: tuple[Path, MultiArchImage],
    tmp_path: Path,
) -> None:
    root = tmp_path / "root"
    with run_distribution(root) as distribution:
        _push_both(skopeo, distribution.host, single, multi)
    with run_pyregistry(root) as (host, _url):
        _pull_and_compare(skopeo, host, single, multi, tmp_path / "pulled")

"""The listing contract of ``tests/api/test_listing.py``, answered by the metadata index.

The same tests run here against a filesystem registry with its index built, so every
tags/list and _catalog below goes through the index (the last test proves it does)."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from pyregistry.index import IndexService
from tests.api.test_listing import (  # noqa: F401 (collected by pytest with this fixture)
    tagged,
    test_catalog_default_page_is_100,
    test_catalog_invalid_n_is_400,
    test_catalog_lists_nested_names_with_pagination,
    test_empty_catalog,
    test_tags_invalid_n_is_400,
    test_tags_last_without_n,
    test_tags_list_all,
    test_tags_n_larger_than_count_has_no_link,
    test_tags_n_zero_is_empty_without_link,
    test_tags_of_repository_without_tags_is_empty,
    test_tags_of_unknown_repository_is_404,
    test_tags_pagination_follows_link_headers,
)
from tests.index.helpers import index_directory, push_tagged, wait_until


def test_the_index_answers(client: TestClient, index: IndexService, root: Path) -> None:
    push_tagged(client, "a/b", ["v1", "v2"], "answers")
    push_tagged(client, "a-b", ["x"], "answers-2")
    before = (index.answered, index.bypassed)
    assert client.get("/v2/a/b/tags/list").json()["tags"] == ["v1", "v2"]
    assert client.get("/v2/_catalog?n=1").json()["repositories"] == ["a/b"]
    assert client.get("/v2/_catalog?last=a/b").json()["repositories"] == ["a-b"]
    assert (index.answered - before[0], index.bypassed - before[1]) == (3, 0)
    state = wait_until(index_directory(root), "clean")
    assert state.repositories == ["a/b", "a-b"]
    assert state.tags == {"a/b": ["v1", "v2"], "a-b": ["x"]}


def test_deletes_reach_the_index(client: TestClient, index: IndexService, root: Path) -> None:
    bypassed = index.bypassed  # the fixture's first listing came before the build
    digest = push_tagged(client, "del/me", ["one", "two", "three"], "deletes")
    push_tagged(client, "del/me", ["other"], "deletes-2")
    assert client.delete("/v2/del/me/manifests/two").status_code == 202
    assert client.get("/v2/del/me/tags/list").json()["tags"] == ["one", "other", "three"]
    assert client.delete(f"/v2/del/me/manifests/{digest}").status_code == 202
    assert client.get("/v2/del/me/tags/list").json()["tags"] == ["other"]
    assert index.bypassed == bypassed
    assert wait_until(index_directory(root), "clean").tags == {"del/me": ["other"]}


def test_a_page_size_beyond_any_integer_is_no_limit(
    client: TestClient, index: IndexService
) -> None:
    """Found by the fuzzer: ``n`` past SQLite's 64-bit integers answered 500."""
    push_tagged(client, "huge/n", ["a", "b"], "huge-n")
    huge = "9" * 30
    tags = client.get(f"/v2/huge/n/tags/list?n={huge}")
    assert tags.status_code == 200 and tags.json()["tags"] == ["a", "b"]
    catalog = client.get(f"/v2/_catalog?n={huge}")
    # Past catalog.maxentries: refused as distribution refuses it, never a 500.
    assert catalog.status_code == 400
    assert catalog.json()["errors"][0]["code"] == "PAGINATION_NUMBER_INVALID"

"""Content discovery: tag listing (end-8a/8b) with pagination, and the optional catalog."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from conformance import content
from conformance.checks import CheckFailed, describe, expect, expect_status, json_body
from conformance.runner import Context, conformance_test

_LINK_RE = re.compile(r'^\s*<([^>]+)>\s*;\s*rel="?next"?\s*$')


def next_link(resp: httpx.Response) -> str | None:
    """The RFC 5988 ``rel="next"`` target, absolute; None when there is no next page."""
    value: str | None = resp.headers.get("Link")
    if value is None:
        return None
    match = _LINK_RE.match(value)
    expect(match is not None, f"Link header {value!r} is not '<url>; rel=\"next\"'")
    assert match is not None
    return urljoin(str(resp.request.url), str(match.group(1)))


def _tagged_repo(ctx: Context, tags: list[str]) -> str:
    """A fresh repository holding one manifest under every tag in ``tags``."""
    repo = ctx.repo("tags")
    ctx.client.push_tagged(repo, content.image(), tags)
    return repo


def _tags_of(ctx: Context, repo: str, resp: httpx.Response) -> list[str]:
    expect_status(resp, 200)
    doc = json_body(resp)
    expect(isinstance(doc, dict) and doc.get("name") == repo, f"bad name: {describe(resp)}")
    tags = doc.get("tags")
    expect(isinstance(tags, list), f"'tags' is not a list: {describe(resp)}")
    result: list[str] = list(tags)
    return result


TAGS = ["v1.0", "alpha", "Beta", "latest", "v0.9", "z-last", "9", "_under"]


@conformance_test("discovery", "tags-list")
def tags_list(ctx: Context) -> None:
    """end-8a: 200 with the repository's name and every tag, each once."""
    repo = _tagged_repo(ctx, TAGS)
    got = _tags_of(ctx, repo, ctx.client.request("GET", f"/v2/{repo}/tags/list"))
    expect(sorted(got) == sorted(TAGS), f"tags {sorted(got)}, expected {sorted(TAGS)}")


@conformance_test("discovery", "tags-list-order")
def tags_list_order(ctx: Context) -> None:
    """Tags MUST come in lexical order (ASCII or case-insensitive: both are allowed)."""
    repo = _tagged_repo(ctx, TAGS)
    got = _tags_of(ctx, repo, ctx.client.request("GET", f"/v2/{repo}/tags/list"))
    expect(
        got in (sorted(TAGS), sorted(TAGS, key=str.lower)),
        f"tags {got}, expected {sorted(TAGS)} (lexical order)",
    )


@conformance_test("discovery", "tags-list-n", features=["tags-pagination"])
def tags_list_n(ctx: Context) -> None:
    """?n=k gives exactly k tags when more exist (or fewer with a Link header)."""
    repo = _tagged_repo(ctx, TAGS)
    full = _tags_of(ctx, repo, ctx.client.request("GET", f"/v2/{repo}/tags/list"))
    resp = ctx.client.request("GET", f"/v2/{repo}/tags/list", params={"n": "3"})
    page = _tags_of(ctx, repo, resp)
    link = next_link(resp)
    expect(
        page == full[:3] or (link is not None and page == full[: len(page)]),
        f"n=3 gave {page}, expected {full[:3]}",
    )


@conformance_test("discovery", "tags-list-last", features=["tags-pagination"])
def tags_list_last(ctx: Context) -> None:
    """?last=<tag> starts after that tag; with n it is bounded."""
    repo = _tagged_repo(ctx, TAGS)
    full = _tags_of(ctx, repo, ctx.client.request("GET", f"/v2/{repo}/tags/list"))
    after = full[2]
    got = _tags_of(
        ctx, repo, ctx.client.request("GET", f"/v2/{repo}/tags/list", params={"last": after})
    )
    expect(got == full[3:], f"last={after} gave {got}, expected {full[3:]}")
    resp = ctx.client.request("GET", f"/v2/{repo}/tags/list", params={"n": "2", "last": after})
    got = _tags_of(ctx, repo, resp)
    expect(got == full[3:5], f"n=2&last={after} gave {got}, expected {full[3:5]}")


@conformance_test("discovery", "tags-list-pagination-link", features=["tags-pagination"])
def tags_list_pages(ctx: Context) -> None:
    """Following Link (or last=) page by page visits every tag once, in order."""
    repo = _tagged_repo(ctx, TAGS)
    full = _tags_of(ctx, repo, ctx.client.request("GET", f"/v2/{repo}/tags/list"))
    seen: list[str] = []
    url: str | None = f"/v2/{repo}/tags/list?n=3"
    for _ in range(len(full) + 2):
        if url is None:
            break
        resp = ctx.client.request("GET", url)
        page = _tags_of(ctx, repo, resp)
        expect(len(page) <= 3, f"page larger than n=3: {page}")
        seen.extend(page)
        url = next_link(resp)
        if url is None and page and len(seen) < len(full):
            url = f"/v2/{repo}/tags/list?n=3&last={page[-1]}"
        if url is not None:
            query = parse_qs(urlsplit(url).query)
            expect("n" in query or "last" in query, f"next page URL {url} keeps no cursor")
        if not page:
            break
    expect(seen == full, f"paging gave {seen}, expected {full}")


@conformance_test("discovery", "tags-list-n-zero", features=["tags-pagination"])
def tags_list_zero(ctx: Context) -> None:
    """n=0: an empty list and no Link header (a MUST)."""
    repo = _tagged_repo(ctx, TAGS[:3])
    resp = ctx.client.request("GET", f"/v2/{repo}/tags/list", params={"n": "0"})
    got = _tags_of(ctx, repo, resp)
    expect(got == [], f"n=0 gave {got}")
    expect("Link" not in resp.headers, f"n=0 answered with Link {resp.headers.get('Link')!r}")


@conformance_test("discovery", "tags-list-empty", features=["empty-tag-list"])
def tags_list_empty(ctx: Context) -> None:
    """A repository holding only untagged manifests exists: 200 and an empty list."""
    repo = ctx.repo("untagged")
    manifest = content.image()
    ctx.client.push_manifest(repo, manifest.digest, manifest)
    got = _tags_of(ctx, repo, ctx.client.request("GET", f"/v2/{repo}/tags/list"))
    expect(got == [], f"untagged repository lists tags {got}")


def _catalog_page(
    ctx: Context, url: str, params: dict[str, str] | None = None
) -> tuple[list[str], httpx.Response]:
    resp = ctx.client.request("GET", url, params=params)
    expect_status(resp, 200)
    doc = json_body(resp)
    repos = doc.get("repositories") if isinstance(doc, dict) else None
    expect(isinstance(repos, list), f"'repositories' is not a list: {describe(resp)}")
    return list(repos or []), resp


def _catalog_all(ctx: Context) -> list[str]:
    """Every repository, following Link pages (registries may page by default)."""
    everything: list[str] = []
    url: str | None = "/v2/_catalog"
    for _ in range(1000):
        if url is None:
            return everything
        page, resp = _catalog_page(ctx, url)
        everything.extend(page)
        url = next_link(resp)
    raise CheckFailed("catalog pagination did not end after 1000 pages")


@conformance_test("discovery", "catalog", features=["catalog"])
def catalog(ctx: Context) -> None:
    """GET /v2/_catalog lists repositories in lexical order, paged with n/last and Link."""
    parent = ctx.repo("catalog")  # a fresh parent keeps our three adjacent in any listing
    repos = [f"{parent}/r{i}" for i in range(3)]
    for repo in repos:
        ctx.client.push_manifest(repo, "latest", content.image())
    everything = _catalog_all(ctx)
    expect(set(repos) <= set(everything), f"catalog misses {set(repos) - set(everything)}")
    ours = [r for r in everything if r in repos]
    expect(ours == repos, f"sibling repositories out of lexical order: {ours}")
    expect(len(set(everything)) == len(everything), "catalog lists a repository twice")

    first, resp = _catalog_page(ctx, "/v2/_catalog", {"n": "1"})
    expect(first == everything[:1], f"n=1 gave {first}, expected {everything[:1]}")
    expect(next_link(resp) is not None, "n=1 with more repositories but no Link header")

    start = everything.index(repos[0])
    after, _ = _catalog_page(ctx, "/v2/_catalog", {"n": "2", "last": everything[start]})
    expect(
        after == everything[start + 1 : start + 3],
        f"n=2&last={everything[start]} gave {after}, expected {everything[start + 1 : start + 3]}",
    )

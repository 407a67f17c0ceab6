"""Odd requests to the UI get a page with a 4xx status, never a 500 or a traceback, and
no path shows an image outside the repository it names."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.ui.conftest import PASSWORDS, Site

PATHS = [
    "/repositories/..%2F..%2Fetc%2Fpasswd",
    "/repositories/UPPER/case",
    "/repositories/team/app/-/manifests/sha256:nothex",
    "/repositories/team/app/-/manifests/no$such*tag",
    "/repositories/team/app/-/tags/v1/delete/extra",
    "/repositories/team/app/-/unknown",
    "/repositories/-",
    "/repositories/team/app?page=-5&sort=%00&order=sideways",
    "/repositories?q=" + "x" * 5000 + "&page=99999999999999999999",
    "/projects/NO_SUCH",
    "/projects/" + "a" * 300,
    "/audit?before=not-an-id",
    "/login?next=//evil.example.com/",
    "/static/../settings.py",
]


@pytest.mark.parametrize("path", PATHS)
def test_odd_paths_are_answered_without_an_error(site: Site, path: str) -> None:
    answer = httpx.get(site.url(path), follow_redirects=False)
    assert answer.status_code < 500, answer.text[-500:]
    assert "Traceback" not in answer.text


def test_posts_that_are_not_forms_are_refused(site: Site) -> None:
    with httpx.Client() as client:
        for body, content_type, status in [
            (b'{"csrf": "x"}', "application/json", 415),
            (b"csrf=" + b"x" * 20000, "application/x-www-form-urlencoded", 413),
            (b"csrf=%ff%fe", "application/x-www-form-urlencoded", 403),
        ]:
            answer = client.post(
                site.url("/projects/team/members"),
                content=body,
                headers={"content-type": content_type},
            )
            assert answer.status_code == status, answer.text[-300:]


def test_a_private_image_never_shows_through_a_public_repository(site: Site) -> None:
    """Once an admin has looked at a private image (its details are then known to the
    process), its digest under a public repository's path is still not found there."""
    digest = site.digests["secret/db:1.0"]
    with httpx.Client(base_url=site.registry.url) as admin:
        login = admin.get("/ui/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', login.text)
        assert csrf is not None
        form = {"csrf": csrf.group(1), "username": "root", "password": PASSWORDS["root"]}
        assert admin.post("/ui/login", data=form).status_code == 303
        seen = admin.get(f"/ui/repositories/secret/db/-/manifests/{digest}")
        assert seen.status_code == 200 and digest in seen.text
    answer = httpx.get(site.url(f"/repositories/library/alpine/-/manifests/{digest}"))
    assert answer.status_code == 404
    assert "Layers" not in answer.text

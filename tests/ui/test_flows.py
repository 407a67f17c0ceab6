"""The UI's flows in a real browser (Debian's chromium through Playwright): what anonymous
visitors see, search, an image and its pull command, deletes by role, members by a project
admin, the admin pages, and the pages on a phone in dark mode. Each main page is saved as
a screenshot (``tests/ui/browser.py`` says where)."""

from __future__ import annotations

from typing import Any

import yaml

from tests.ui.browser import screenshot
from tests.ui.conftest import PUBLIC_HOST, Site, log_in


def names_in_table(page: Any) -> list[str]:
    return [text.strip() for text in page.locator("tbody td.name").all_inner_texts()]


def test_an_anonymous_visitor_sees_public_projects_only(site: Site, browser: Any) -> None:
    page = browser.new_page()
    page.goto(site.url("/projects"))
    assert names_in_table(page) == ["library"]
    screenshot(page, "projects-anonymous")
    # The first Tab reaches the link that skips the navigation.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.goto(site.url("/repositories"))
    assert names_in_table(page) == ["library/alpine"]
    # A private repository's page sends the visitor to log in, showing nothing of it.
    page.goto(site.url("/repositories/secret/db"))
    assert "/ui/login" in page.url
    assert "secret/db" not in page.inner_text("main")
    page.close()


def test_search_open_an_image_and_copy_its_pull_command(site: Site, browser: Any) -> None:
    page = log_in(browser, site, "root")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    # Script errors and Content-Security-Policy refusals would show in the console.
    problems: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error":
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(site.url("/repositories"))
    assert names_in_table(page) == [
        "library/alpine",
        "secret/db",
        "team/app",
        "team/tools",
    ]
    # Sorted by tag count, most first, two a page: team/app (2 tags) and library/alpine,
    # then the next page.
    page.click("th >> text=Tags")
    page.click("th >> text=Tags")
    assert page.get_attribute("th[aria-sort]", "aria-sort") == "descending"
    page.goto(page.url + "&size=2")
    assert names_in_table(page)[0] == "team/app"
    assert "Page 1 of 2" in page.inner_text(".pager")
    first_page = names_in_table(page)
    page.click("a[rel=next]")
    page.wait_for_url("**page=2**")
    assert len(names_in_table(page)) == 2
    assert set(names_in_table(page)).isdisjoint(first_page)

    # Sorted by size (from the index), largest first.
    page.goto(site.url("/repositories"))
    page.click("th >> text=Size")
    page.click("th >> text=Size")
    assert page.get_attribute("th[aria-sort]", "aria-sort") == "descending"
    shown = page.locator("tbody tr td.num:nth-child(3)").all_inner_texts()
    assert all(size.endswith("KiB") for size in shown), shown
    numbers = [float(size.split()[0]) for size in shown]
    assert numbers == sorted(numbers, reverse=True)

    page.fill("#q", "app")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=app**")
    assert names_in_table(page) == ["team/app"]
    tags, size = page.locator("tbody tr").first.locator("td.num").all_inner_texts()
    assert tags == "2"  # from the index
    assert size.endswith("KiB")  # from the index
    screenshot(page, "repositories-search")

    page.click("text=team/app")
    page.wait_for_selector("tr[data-tag]")
    # Tags newest push first: v2 was pushed after v1.
    assert page.locator("tr[data-tag]").evaluate_all("rows => rows.map(r => r.dataset.tag)") == [
        "v2",
        "v1",
    ]
    assert page.locator("text=linux/amd64").count() >= 1
    screenshot(page, "repository")

    page.click("tr[data-tag=v2] >> text=v2")
    page.wait_for_selector("[data-testid=digest]")
    assert page.inner_text("[data-testid=digest]") == site.digests["team/app:v2"]
    layers = page.locator("h2:text('Layers') + .table-wrap tbody tr")
    assert layers.count() == 3
    assert page.locator(f"tr[data-referrer='{site.digests['team/app:v2 signature']}']").count()
    assert "application/vnd.example.signature" in page.inner_text("main")
    assert "layer 0" in page.inner_text("main")  # the config's history
    screenshot(page, "image")

    page.click("button[data-copy=pull-docker]")
    page.wait_for_selector("button[data-copy=pull-docker][data-copied]")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == f"docker pull {PUBLIC_HOST}/team/app:v2"
    assert page.inner_text("[data-copy-status]") == f"Copied: {copied}"
    podman = page.input_value("#pull-podman")
    assert podman == f"podman pull {PUBLIC_HOST}/team/app:v2"
    pinned = page.input_value("#pull-digest")  # what the tag points to now, for good
    assert pinned == f"docker pull {PUBLIC_HOST}/team/app@{site.digests['team/app:v2']}"

    page.click("main a:text('team/app')")  # back to the repository, then v1: it has labels
    page.click("tr[data-tag=v1] >> text=v1")
    page.wait_for_selector("h2:text('Labels')")
    labels = page.inner_text("h2:text('Labels') + dl")
    assert "org.opencontainers.image.source" in labels and "https://example.com/app" in labels
    assert "linux/arm64" in page.inner_text("main")
    assert problems == []
    page.context.close()


def test_a_multi_platform_index_shows_its_platforms(site: Site, browser: Any) -> None:
    page = browser.new_page()  # a public project: no login needed
    page.goto(site.url("/repositories/library/alpine/-/manifests/3.19"))
    platforms = page.locator("h2:text('Platforms') + .table-wrap tbody tr").all_inner_texts()
    assert [p.split()[0] for p in platforms] == ["linux/amd64", "linux/arm64"]
    screenshot(page, "image-index")
    page.close()


def test_a_maintainer_deletes_a_tag_and_a_guest_cannot(site: Site, browser: Any) -> None:
    guest = log_in(browser, site, "gus")
    guest.goto(site.url("/repositories/team/tools"))
    assert guest.locator("tr[data-tag='1.0']").count() == 1
    assert guest.locator("text=Delete").count() == 0  # no button for a guest
    guest.goto(site.url("/repositories/team/tools/-/tags/1.0/delete"))
    assert "403" in guest.inner_text("h1")
    # Even a well-formed POST (with the guest's own CSRF token) is refused.
    status = guest.evaluate(
        """async () => {
            const csrf = document.querySelector("input[name=csrf]").value;
            const answer = await fetch(location.pathname, {method: "POST",
                headers: {"Content-Type": "application/x-www-form-urlencoded"},
                body: new URLSearchParams({csrf})});
            return answer.status;
        }"""
    )
    assert status == 403
    guest.context.close()

    maintainer = log_in(browser, site, "maya")
    maintainer.goto(site.url("/repositories/team/tools"))
    maintainer.click("tr[data-tag='1.0'] >> text=Delete")
    maintainer.wait_for_selector("text=Delete tag?")
    screenshot(maintainer, "confirm-delete")
    maintainer.click("button:text('Delete')")
    maintainer.wait_for_selector("[data-testid=flash]")
    assert "Tag 1.0 deleted" in maintainer.inner_text("[data-testid=flash]")
    assert maintainer.locator("tr[data-tag='1.0']").count() == 0
    # The untagged manifest is still there by digest; delete it too.
    digest = site.digests["team/tools:1.0"]
    maintainer.goto(site.url(f"/repositories/team/tools/-/manifests/{digest}"))
    maintainer.click("text=Delete this manifest and its tags")
    maintainer.click("button:text('Delete')")
    maintainer.wait_for_selector("[data-testid=flash]")
    assert f"Manifest {digest}" in maintainer.inner_text("[data-testid=flash]")
    maintainer.goto(site.url(f"/repositories/team/tools/-/manifests/{digest}"))
    assert "404" in maintainer.inner_text("h1")
    maintainer.context.close()


def test_a_project_admin_adds_a_member(site: Site, browser: Any) -> None:
    guest = log_in(browser, site, "gus")
    guest.goto(site.url("/projects/team"))
    assert guest.locator("#member-user").count() == 0
    guest.context.close()

    admin = log_in(browser, site, "pat")
    admin.goto(site.url("/projects/team"))
    admin.fill("#member-user", "newbie")
    admin.select_option("#member-role", "developer")
    admin.click("text=Save member")
    admin.wait_for_selector("tr[data-member=newbie]")
    assert "developer" in admin.inner_text("tr[data-member=newbie]")
    assert "newbie: developer" in site.rules.read_text()
    screenshot(admin, "project")
    admin.click("tr[data-member=newbie] >> text=Remove")
    admin.wait_for_selector("[data-testid=flash]")
    assert admin.locator("tr[data-member=newbie]").count() == 0
    # Public for a moment: an anonymous visitor sees it, then no longer.
    admin.click("text=Make public")
    admin.wait_for_selector("text=Make private")
    visitor = browser.new_page()
    visitor.goto(site.url("/projects"))
    assert names_in_table(visitor) == ["library", "team"]
    admin.click("text=Make private")
    admin.wait_for_selector("text=Make public")
    visitor.reload()
    assert names_in_table(visitor) == ["library"]
    visitor.close()
    admin.context.close()


def test_admin_pages_storage_usage_and_audit_log(site: Site, browser: Any) -> None:
    page = log_in(browser, site, "root")
    page.goto(site.url("/projects"))
    page.fill("#project-name", "fresh")
    page.click("text=Create project")
    page.wait_for_selector("[data-testid=flash]")
    assert page.inner_text("h1").startswith("fresh")
    assert yaml.safe_load(site.rules.read_text())["projects"]["fresh"]["public"] is False
    page.goto(site.url("/usage"))
    assert page.inner_text("h1") == "Storage usage"
    assert page.inner_text("[data-testid=bytes]").endswith("KiB")
    screenshot(page, "usage")
    page.goto(site.url("/audit"))
    actions = page.locator("tr[data-action]").evaluate_all(
        "rows => rows.map(r => r.dataset.action)"
    )
    assert "login" in actions
    deletes = page.locator("tr[data-action=delete]").all_inner_texts()
    assert any("maya" in row and "team/tools:1.0" in row for row in deletes)  # deleted above
    screenshot(page, "audit")
    page.context.close()

    user = log_in(browser, site, "maya")
    user.goto(site.url("/audit"))
    assert "403" in user.inner_text("h1")
    user.goto(site.url("/projects"))
    assert user.locator("#project-name").count() == 0
    user.context.close()


def test_readable_on_a_phone_in_dark_mode(site: Site, browser: Any) -> None:
    options = {"viewport": {"width": 390, "height": 844}, "color_scheme": "dark"}
    page = log_in(browser, site, "root", **options)
    pages = {
        "phone-dark-repositories": "/repositories",
        "phone-dark-image": "/repositories/team/app/-/manifests/v2",
    }
    for name, path in pages.items():
        page.goto(site.url(path))
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is wider than the phone's screen by {overflow} px"
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(13, 17, 23)", background
        screenshot(page, name)
    page.context.close()

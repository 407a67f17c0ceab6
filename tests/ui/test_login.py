"""Logging in to the UI in a real browser: the registry's users, a signed HttpOnly SameSite
session cookie, refusals for a wrong password and for a form without its CSRF token."""

from __future__ import annotations

import re
from typing import Any

import httpx

from pyregistry.auth.htpasswd import set_user
from tests.ui.browser import screenshot
from tests.ui.conftest import PASSWORDS, Site


def test_log_in_with_the_keyboard_and_out_again(site: Site, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(site.url("/login"))
    screenshot(page, "login")
    # Keyboard only: the user field has focus, Tab moves on, Enter submits.
    page.keyboard.type("maya")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORDS["maya"])
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=user]")
    assert page.inner_text("[data-testid=user]").strip() == "maya"
    (cookie,) = [c for c in context.cookies() if c["name"] == "pyregistry_ui"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/ui"
    # The script of the page cannot read the session cookie.
    assert "pyregistry_ui" not in page.evaluate("document.cookie")
    page.click("text=Log out")
    page.wait_for_selector("text=Log in")
    assert page.locator("[data-testid=user]").count() == 0
    context.close()


def test_a_wrong_password_is_refused(site: Site, browser: Any) -> None:
    page = browser.new_page()
    page.goto(site.url("/login"))
    page.fill("#username", "maya")
    page.fill("#password", "not-her-password")
    page.click("button[type=submit]")
    assert "Wrong user name or password" in page.inner_text("[role=alert]")
    assert page.locator("[data-testid=user]").count() == 0
    page.close()


def test_a_post_without_the_csrf_token_changes_nothing(site: Site) -> None:
    with httpx.Client(base_url=site.registry.url) as client:
        client.get("/ui/login")  # a session (and its token) exists, the form is not used
        password = PASSWORDS["maya"]
        for forged in ({"csrf": "forged"}, {}):
            answer = client.post(
                "/ui/login", data={"username": "maya", "password": password, **forged}
            )
            assert answer.status_code == 403
        page = client.get("/ui/repositories")
        assert 'data-testid="user"' not in page.text  # still nobody logged in


def test_a_new_password_ends_the_users_sessions(site: Site) -> None:
    with httpx.Client(base_url=site.registry.url) as client:
        login = client.get("/ui/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', login.text)
        assert csrf is not None
        form = {"csrf": csrf.group(1), "username": "gus", "password": PASSWORDS["gus"]}
        assert client.post("/ui/login", data=form).status_code == 303
        assert 'data-testid="user"' in client.get("/ui/repositories").text
        set_user(str(site.users), "gus", "a-new-password")
        try:
            assert 'data-testid="user"' not in client.get("/ui/repositories").text
        finally:
            set_user(str(site.users), "gus", PASSWORDS["gus"])
        # The old session stays ended, even with the old password back.
        assert 'data-testid="user"' not in client.get("/ui/repositories").text

"""Signing in through the real form, as a person would, in a fresh browser context."""

from __future__ import annotations

from tests.cast import PASSWORD

WAIT_MS = 30_000  # the worker has to move the workflow on between steps


def sign_in(
    browser, live_server, username, *, viewport=None, wait_ms: int = WAIT_MS, init_script=""
):
    """A page signed in as ``username`` (downloads accepted), on the home page; ``viewport``
    such as ``{"width": 800, "height": 1280}`` for a bench tablet; ``init_script`` runs in
    every page the context opens, before the page's own scripts."""
    options = {"accept_downloads": True} | ({"viewport": viewport} if viewport else {})
    context = browser.new_context(**options)
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    page.set_default_timeout(wait_ms)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return page

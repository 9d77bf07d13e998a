"""Logging a Playwright page in to a running Shoal, and noticing any dialog a page opens (a hostile
string that ran as script would open one)."""

from __future__ import annotations

from playwright.sync_api import Dialog, Page

from tests.support.server import ADMIN_EMAIL, ADMIN_PASSWORD, RunningShoal


def log_in(page: Page, shoal: RunningShoal) -> None:
    page.goto(f"{shoal.url}/login")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def record_dialogs(page: Page) -> list[str]:
    """Every alert/confirm/prompt the page opens from now on, dismissed; the test asserts it stays []."""
    opened: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return opened

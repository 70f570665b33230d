"""Browser fixtures: a live portal on a private SQLite copy, driven by Playwright + Chromium.

Chromium is taken from $CHROMIUM or /usr/bin/chromium (browsers are never downloaded). Without
it the browser tests are skipped with the reason shown, unless REQUIRE_BROWSER=1 makes that
a failure.
"""
import os
import re
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from ..conftest import database_copy, make_app

CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PHONE = {"width": 360, "height": 740}
HALL_PC = {"width": 1366, "height": 768}


def chromium_path() -> str | None:
    candidate = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
    return candidate if Path(candidate).exists() else shutil.which("chromium")


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        reason = "Chromium not found (set CHROMIUM or install /usr/bin/chromium)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def live_server(templates, tmp_path):
    """Serve a fresh portal on a free local port; yields its base URL."""
    with database_copy("sqlite", templates, tmp_path) as url:
        instance = tmp_path / "instance"
        instance.mkdir()
        app = make_app(url, instance, WTF_CSRF_ENABLED=True)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_port}"
        server.shutdown()
        thread.join(timeout=5)


def _page(browser, viewport, request, refusal: tuple[int, str] | None = None):
    """A page that fails the test on any console error, page error or failed request.

    ``refusal`` = (status, URL pattern) lets through one refused form: the portal answers a
    form with mistakes with its messages and a 4xx status, which Chromium logs as "Failed to
    load resource: … status of 4xx". At most one, on a URL matching the pattern, is allowed.
    """
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    errors, refused = [], []

    def console(message):
        url = message.location.get("url", "").split("?")[0]
        if refusal and message.type == "error" and f"status of {refusal[0]}" in message.text \
                and re.search(refusal[1], url):
            refused.append(message.text)
        else:
            _console_error(message, errors)

    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", console)
    page.on("requestfailed", lambda req: _failed_request(req, errors))
    yield page
    artifacts = Path(os.environ.get("TEST_ARTIFACTS", "test-artifacts"))
    if getattr(request.node, "rep_call_failed", False):
        artifacts.mkdir(exist_ok=True)
        page.screenshot(path=str(artifacts / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert not errors, f"browser console errors: {errors}"
    assert len(refused) <= 1, f"the form was refused more than once: {refused}"


def _console_error(message, errors: list) -> None:
    """Collect console errors, except the browser's own report of a cancelled favicon fetch."""
    if message.type == "error" and "favicon" not in message.location.get("url", ""):
        if not message.text.startswith("Failed to load resource: net::ERR_"):
            errors.append(message.text)


def _failed_request(request, errors: list) -> None:
    """Collect failed requests; a favicon fetch or load cut short by navigating away is no fault."""
    if "favicon" in request.url or request.failure == "net::ERR_ABORTED":
        return
    errors.append(f"{request.method} {request.url}: {request.failure}")


@pytest.fixture
def page(browser, request):
    """A hall-PC-sized page that fails the test on any console error (CSP included)."""
    yield from _page(browser, HALL_PC, request)


@pytest.fixture
def phone(browser, request):
    """A phone-sized page (360 px wide)."""
    yield from _page(browser, PHONE, request)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call_failed = report.failed
    return report


def live_db(tmp_path) -> sqlite3.Connection:
    """The live server's database (the private copy the live_server fixture serves)."""
    return sqlite3.connect(tmp_path / "portal.db")


def sign_in(page, base_url: str, work_no: str, password: str = "demo-pass-2026") -> None:
    """Sign in through the form, using the keyboard as on the hall PC."""
    page.goto(f"{base_url}/login")
    page.get_by_label("工号").fill(work_no)
    page.get_by_label("密码").fill(password)
    page.get_by_label("密码").press("Enter")
    page.wait_for_url(f"{base_url}/")

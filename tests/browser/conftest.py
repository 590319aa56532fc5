"""Browser tests: Playwright for Python driving Debian's Chromium against real gunicorn + a real
Celery worker on PostgreSQL and Redis. No browser is downloaded at run time.

`RISKHUB_SCREENSHOTS=<dir>` (`make screenshots`) also writes a screenshot of each page visited,
at 400 px and 1400 px wide.
"""

import os
import re
import shutil
import time
from pathlib import Path

import pytest

from blacklist.services.keys import seller_create
from console.models import Role
from console.services import member_create
from tests import stack

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = os.environ.get("RISKHUB_SCREENSHOTS")
WIDTHS = (400, 1400)
PASSWORD = "a long test password 42"
CODE_RE = re.compile(r"code: (\d+)")


def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    return sync_playwright


@pytest.fixture(scope="module")
def web(django_db_setup):
    """`gunicorn riskhub.wsgi` on the test database, mailing to files the tests can read."""
    if not stack.REAL_STACK:
        pytest.skip("needs PostgreSQL + Redis (run `make test` with the services up)")
    # Code mails are sent by the Celery worker; every child process mails to stack.MAIL_DIR.
    server = stack.start_gunicorn(workers=2, DJANGO_ALLOW_ASYNC_UNSAFE="")
    server.mail_dir = stack.MAIL_DIR
    yield server
    server.stop()


def _missing(reason):
    """Skip locally; on CI (CI=true) the browser tests must run, so a missing piece fails."""
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    sync_playwright = _playwright()
    if sync_playwright is None:
        _missing("playwright is not installed (make test installs requirements-dev.txt)")
    if not Path(CHROMIUM).exists():
        _missing(f"no Chromium at {CHROMIUM} (make test installs Debian's chromium)")
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are
    # plain synchronous code, so Django's async-safety guard would be a false alarm here.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-background-networking"]
        )
        yield chromium
        chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class Actor:
    """One person in their own browser context (own cookies), on the served app."""

    def __init__(self, browser, base_url, name, javascript=True):
        self.name = name
        self.context = browser.new_context(
            base_url=base_url, viewport={"width": 1400, "height": 900}, java_script_enabled=javascript
        )
        self.page = self.context.new_page()
        self.csp_violations = []
        self.page.on(
            "console",
            lambda msg: self.csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None,
        )

    def goto(self, path):
        response = self.page.goto(path)
        return response

    def shoot(self, name):
        if not SCREENSHOTS:
            return
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 900})
            self.page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}-{width}.png"), full_page=True)
        self.page.set_viewport_size({"width": 1400, "height": 900})

    def sign_in(self, email, password=PASSWORD):
        self.goto("/console/sign-in/")
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url("**/console/")

    def close(self):
        self.context.close()


@pytest.fixture
def actors(browser, web):
    made = []

    def make(name, javascript=True):
        actor = Actor(browser, web.url, name, javascript=javascript)
        made.append(actor)
        return actor

    yield make
    for actor in made:
        actor.close()


def seller_with_user(name, email, role=Role.OWNER):
    seller, _ = seller_create(name=name)
    member_create(seller=seller, email=email, role=role, password=PASSWORD)
    return seller


def code_from_mail(mail_dir, since, timeout=30):
    """The one-time code in the newest mail written after `since` (file email backend)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = sorted(
            (p for p in Path(mail_dir).iterdir() if p.stat().st_mtime >= since), key=lambda p: p.stat().st_mtime
        )
        for path in reversed(files):
            match = CODE_RE.search(path.read_text(errors="replace"))
            if match:
                return match.group(1)
        time.sleep(0.2)
    raise AssertionError("no appeal code was mailed")

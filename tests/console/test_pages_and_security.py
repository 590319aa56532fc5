"""The landing page, sign-in and its throttling, CSP, session settings, the commands."""

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from console.models import Membership
from tests.console.conftest import PASSWORD, console_client

pytestmark = pytest.mark.django_db


def test_the_landing_page_shows_the_ways_in(client):
    page = client.get("/")
    assert page.status_code == 200
    text = page.content.decode()
    for link in ('href="/console/sign-in/"', 'href="/buyer/"', 'href="/api/docs/"'):
        assert link in text


def test_every_page_carries_a_strict_content_security_policy(client):
    policy = client.get("/")["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert client.get("/api/docs/").status_code == 200


def test_the_page_middleware_runs_for_pages_and_not_for_the_api_or_the_probes(client, seller_a):
    """Pages (the admin's too) get the session, CSP and frame headers; the JSON API and the probes
    skip that chain (riskhub.middleware.PageMiddleware)."""
    for path in ("/", "/console/sign-in/", "/admin/login/", "/buyer/", "/api/docs/"):
        page = client.get(path)
        assert "Content-Security-Policy" in page, path
        assert page["X-Frame-Options"] == "DENY", path
    assert "csrftoken" in client.get("/console/sign-in/").cookies
    for response in (seller_a.get("/api/v1/flags"), client.get("/healthz"), client.get("/api/v1/reasons")):
        assert response.status_code in (200, 401), response.content
        assert "Content-Security-Policy" not in response and "X-Frame-Options" not in response
        assert "Cookie" not in response.get("Vary", "")
        assert response["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware still runs


def test_a_page_middleware_with_view_hooks_is_refused(settings):
    from django.core.exceptions import ImproperlyConfigured

    from riskhub.middleware import PageMiddleware

    settings.PAGE_MIDDLEWARE = [*settings.PAGE_MIDDLEWARE, "django.middleware.csrf.CsrfViewMiddleware"]
    with pytest.raises(ImproperlyConfigured, match="process_view"):
        PageMiddleware(lambda request: None)


def test_a_member_signs_in_with_email_and_password(seller_a):
    console_client(seller_a.seller, "clerk@seller-a.test")
    client = Client()
    response = client.post("/console/sign-in/", {"username": "clerk@seller-a.test", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/console/"
    assert client.get("/console/").status_code == 200
    assert client.post("/console/sign-out/").status_code == 302
    assert client.get("/console/").status_code == 302


def test_sign_in_is_throttled_after_repeated_failures(seller_a):
    console_client(seller_a.seller, "clerk@seller-a.test")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert (
            client.post("/console/sign-in/", {"username": "clerk@seller-a.test", "password": "wrong"}).status_code
            == 200
        )
    locked = client.post("/console/sign-in/", {"username": "clerk@seller-a.test", "password": "wrong"})
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    right = client.post("/console/sign-in/", {"username": "clerk@seller-a.test", "password": PASSWORD})
    assert right.status_code == 429, "even the right password waits out the cool-off"


def test_sessions_are_short_lived_and_script_proof():
    assert settings.SESSION_COOKIE_HTTPONLY and settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert settings.SESSION_COOKIE_AGE <= 24 * 3600


def test_password_reset_mails_a_console_link(seller_a, mailoutbox):
    console_client(seller_a.seller, "clerk@seller-a.test")
    response = Client().post("/console/password-reset/", {"email": "clerk@seller-a.test"})
    assert response.status_code == 302
    assert "/console/password-reset/" in mailoutbox[0].body


def test_create_seller_can_create_the_first_user(reasons, capsys):
    call_command("create_seller", "Shop Z", "--user", "Owner@Shop-Z.test", "--password", "pw-123456789")
    out, err = capsys.readouterr()
    assert out.strip().splitlines()[-1].startswith("rh_"), "the key stays alone on the last line"
    membership = Membership.objects.get(user__username="owner@shop-z.test")
    assert membership.seller.name == "Shop Z" and membership.is_owner
    assert membership.user.check_password("pw-123456789")


def test_demo_seller_prints_a_working_sign_in(reasons, capsys):
    call_command("demo_seller")
    call_command("demo_seller")  # a second run resets the password, and still has one user
    out, _ = capsys.readouterr()
    line = [ln for ln in out.splitlines() if "sign in as" in ln][-1]
    username, password = line.split("sign in as ")[1].split(" / ")
    assert User.objects.get(username=username).check_password(password.strip())


def test_pages_answer_errors_in_html_and_the_api_in_json(user_a):
    page = user_a.get("/console/flags/00000000-0000-0000-0000-000000000000/retract/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
    assert "Not found" in page.content.decode()
    assert Client().get("/no-such-page").status_code == 404
    api = Client().get("/api/v1/no-such-endpoint")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"

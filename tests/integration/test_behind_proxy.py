"""HTTPS behind a TLS-terminating proxy: the admin login through real gunicorn.

The test plays the proxy: it speaks plain HTTP to gunicorn and sets what a proxy sets
(`X-Forwarded-Proto: https`, `X-Forwarded-For`), with the browser's `Origin`. Settings come
from the environment, as in production.
"""

import http.client
import re
import urllib.parse
from http.cookies import SimpleCookie

import pytest
from django.contrib.auth import get_user_model

from tests import stack
from tests.conftest import real_stack

pytestmark = [pytest.mark.integration, pytest.mark.e2e, real_stack]

PUBLIC = "https://riskhub.example"
HTTPS_ENV = {
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto,https",
    "CSRF_TRUSTED_ORIGINS": PUBLIC,
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "TRUSTED_PROXIES": "127.0.0.1",
    # gunicorn itself trusts X-Forwarded-Proto from 127.0.0.1 by default; switched off here so
    # the test shows Django's setting doing the work, as it must when the proxy is another host.
    "FORWARDED_ALLOW_IPS": "",
}
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(scope="module")
def behind_proxy(request, django_db_setup):
    server = stack.start_gunicorn(workers=1, **HTTPS_ENV)
    request.addfinalizer(server.stop)
    return server


class Browser:
    """A browser behind the proxy: keeps cookies (only ones marked Secure, as over HTTPS)."""

    def __init__(self, server, *, proto="https"):
        self.netloc = urllib.parse.urlsplit(server.url).netloc
        self.proto = proto
        self.cookies = {}
        self.secure_flags = {}

    def send(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection(self.netloc, timeout=30)
        all_headers = {
            "X-Forwarded-Proto": self.proto,
            "X-Forwarded-For": "203.0.113.50",
            "Origin": PUBLIC,
            "Referer": PUBLIC + "/admin/login/",
        }
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            body = urllib.parse.urlencode(body)
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        all_headers.update(headers or {})
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie(header)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
                self.secure_flags[name] = bool(morsel["secure"])
        connection.close()
        return response, text


def test_the_admin_login_works_behind_a_tls_proxy(behind_proxy, transactional_db):
    get_user_model().objects.create_superuser("ops", "ops@example.com", "a-long-test-password")
    browser = Browser(behind_proxy)

    response, page = browser.send("GET", "/admin/login/?next=/admin/")
    assert response.status == 200, page[:500]
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    token = TOKEN.search(page).group(1)
    assert browser.secure_flags["csrftoken"] is True

    response, page = browser.send(
        "POST",
        "/admin/login/?next=/admin/",
        {"csrfmiddlewaretoken": token, "username": "ops", "password": "a-long-test-password", "next": "/admin/"},
    )
    assert response.status == 302, page[:800]
    assert response.headers["Location"] == "/admin/"
    assert browser.secure_flags["sessionid"] is True

    response, page = browser.send("GET", "/admin/")
    assert response.status == 200
    assert "Site administration" in page


def test_plain_http_to_the_proxy_is_redirected_to_https(behind_proxy):
    response, _ = Browser(behind_proxy, proto="http").send("GET", "/admin/login/")
    assert response.status == 301
    assert response.headers["Location"].startswith("https://")
    # The probes stay reachable over the proxy's internal plain HTTP.
    response, _ = Browser(behind_proxy, proto="http").send("GET", "/healthz")
    assert response.status == 200


def test_without_the_proxy_header_setting_https_is_not_recognised(django_db_setup):
    """The failure SECURE_PROXY_SSL_HEADER prevents: every request looks like plain HTTP, so a
    redirect to HTTPS loops forever."""
    env = {k: v for k, v in HTTPS_ENV.items() if k != "SECURE_PROXY_SSL_HEADER"}
    server = stack.start_gunicorn(workers=1, **env)
    try:
        response, _ = Browser(server).send("GET", "/admin/login/")
        assert response.status == 301
    finally:
        server.stop()

"""The admin flag list: riskhub branding, and search by a raw identifier hashed on the fly."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from blacklist.services.flags import flag_submit
from tests.conftest import ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(reasons):
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@riskhub.test", "pw"))
    return client


def test_the_admin_carries_riskhub_branding(staff):
    page = staff.get("/admin/").content.decode()
    assert "risk<b>hub</b>" in page and "console/admin.css" in page


def test_a_raw_identifier_finds_the_buyer_s_flags_without_reaching_a_url(staff, seller_a, seller_b):
    flag_submit(seller=seller_a.seller, identifiers=ids(email="jane@example.com"), reason="other", order_ref="A-1")
    flag_submit(seller=seller_b.seller, identifiers=ids(email="other@example.com"), reason="other", order_ref="B-1")

    response = staff.post("/console/staff/flag-search/", {"q": "  Jane@Example.com "})
    assert response.status_code == 302
    assert "jane" not in response["Location"].lower() and "identifiers__in=" in response["Location"]
    listing = staff.get(response["Location"]).content.decode()
    assert "A-1" in listing and "B-1" not in listing
    assert 'method="post" action="/console/staff/flag-search/"' in listing

    nobody = staff.get(staff.post("/console/staff/flag-search/", {"q": "nobody@example.com"})["Location"])
    assert "A-1" not in nobody.content.decode() and "B-1" not in nobody.content.decode()
    by_ref = staff.post("/console/staff/flag-search/", {"q": "B-1"})["Location"]
    assert "q=B-1" in by_ref


def test_only_staff_may_search(client, user_a):
    assert client.post("/console/staff/flag-search/", {"q": "x"}).status_code == 302  # to the admin sign-in
    assert user_a.post("/console/staff/flag-search/", {"q": "x"})["Location"].startswith("/admin/login/")
    assert user_a.get("/console/staff/flag-search/").status_code in (302, 405)

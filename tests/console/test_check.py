"""Check a buyer: the decision card, answered from the same selector as the API."""

import logging

import pytest

from blacklist.services.flags import flag_submit
from tests.conftest import ids, make_persona, rescore

pytestmark = pytest.mark.django_db

JANE = "jane.doe@example.com"


def _flag(seller, reason, order_ref, **buyer):
    return flag_submit(seller=seller, identifiers=ids(**(buyer or {"email": JANE})), reason=reason, order_ref=order_ref)


def test_it_shows_the_decision_with_reasons_counts_and_own_tags(seller_a, user_a, reasons):
    others = [make_persona(f"Other {i}").seller for i in range(3)]
    _flag(others[0], "extortion", "X-1")
    _flag(others[1], "extortion", "X-2")
    _flag(others[2], "refund_abuse", "X-3")
    _flag(seller_a.seller, "refund_abuse", "A-1001")
    rescore()

    response = user_a.post("/console/", {"email": " Jane.Doe@Example.com", "payment_method": "prepaid"})

    assert response.status_code == 200
    page = response.content.decode()
    card = response.context["card"]
    assert card["decision"] == "no_ship"
    assert card["reporting_sellers"] == 4
    assert {r["code"]: r["sellers"] for r in card["reasons"]} == {"extortion": 2, "refund_abuse": 2}
    assert "Flagged by 4 sellers" in page
    assert 'class="card decision decision-no_ship"' in page
    assert '<meter min="0" max="4" value="2"' in page
    assert "Your own tags:" in page and "A-1001" in page
    assert "Why one seller alone never blocks" in page
    assert card["explanation"] in page


def test_an_unknown_buyer_is_ship_with_score_zero(user_a):
    card = user_a.post("/console/", {"phone": "+49 30 1234567"}).context["card"]
    assert (card["decision"], card["score"], card["reasons"]) == ("ship", 0, [])


def test_it_answers_bad_input_with_form_errors_never_a_500(user_a):
    empty = user_a.post("/console/", {})
    assert empty.status_code == 400
    assert "Give at least one identifier" in empty.content.decode()
    bad_phone = user_a.post("/console/", {"phone": "12", "country": "DE"})
    assert bad_phone.status_code == 400
    assert bad_phone.context["form"].errors["phone"]
    assert user_a.post("/console/", {"email": "x@example.com", "country": "ZZ"}).status_code == 400
    assert user_a.post("/console/", {"email": "x" * 400}).status_code == 400


def test_identifiers_stay_out_of_urls_and_logs(user_a, caplog):
    caplog.set_level(logging.DEBUG)
    response = user_a.post("/console/", {"email": "secret.buyer@example.com", "phone": "12"})
    assert response.status_code == 400
    assert "secret.buyer" not in caplog.text and "secret.buyer" not in response.get("Location", "")
    page = user_a.get("/console/").content.decode()
    assert 'method="post" action="/console/"' in page
    assert 'autocomplete="off"' in page, "browsers must not keep identifiers in their form history"


def test_flag_this_buyer_carries_the_identifiers_into_the_flag_form(user_a):
    response = user_a.post("/console/flag/", {"prefill": "1", "email": JANE, "phone": "", "country": "DE"})
    assert response.status_code == 200
    form = response.context["form"]
    assert not form.errors
    assert form["email"].value() == JANE and form["country"].value() == "DE"


def test_the_console_counts_checks_and_flags_against_the_api_s_rate_limits(settings, user_a):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "decisions": "2/min", "flags": "1/min"}
    # Fixed one-minute windows: a few more tries than the limit hit it even across a boundary.
    checks = [user_a.post("/console/", {"email": JANE}) for _ in range(5)]
    assert [r.status_code for r in checks][:2] == [200, 200]
    limited = next(r for r in checks if r.status_code == 429)
    assert limited["Retry-After"] and "Rate limit exceeded" in limited.content.decode()
    flags = [user_a.post("/console/flag/", {"email": JANE, "reason": "other", "order_ref": f"A-{i}"}) for i in range(4)]
    assert flags[0].status_code == 302
    assert 429 in [r.status_code for r in flags]

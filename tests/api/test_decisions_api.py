"""POST /api/v1/decisions: the precomputed score, the asker's own flags, other sellers as counts."""

import json
from datetime import datetime

import pytest
from django.core.cache import cache

from blacklist.models import Flag
from identity.models import Buyer, Identifier
from scoring.models import BuyerScore
from tests.conftest import make_persona, rescore

pytestmark = pytest.mark.django_db

DECISIONS = "/api/v1/decisions"
FLAGS = "/api/v1/flags"
BUYER = {"email": "decided@example.com", "phone": "+4915112340000"}


def flag(persona, reason="extortion", order_ref=None, buyer=None, **extra):
    body = {
        "buyer": buyer or BUYER,
        "reason": reason,
        "order_ref": order_ref or f"{persona.seller.pk}-{reason}",
        **extra,
    }
    response = persona.post(FLAGS, body)
    assert response.status_code == 201, response.content
    return response.json()


def decide(persona, buyer=None, **extra):
    response = persona.post(DECISIONS, {"buyer": buyer or BUYER, **extra})
    assert response.status_code == 200, response.content
    return response.json()


def keys_of(value):
    """Every key anywhere in a JSON document."""
    if isinstance(value, dict):
        return set(value) | set().union(*(keys_of(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(keys_of(v) for v in value)) if value else set()
    return set()


def test_an_unknown_buyer_is_ship_with_score_0(seller_a):
    decision = decide(seller_a, buyer={"email": "never-seen@example.com"})
    assert decision["decision"] == "ship"
    assert decision["score"] == 0
    assert decision["reporting_sellers"] == 0
    assert decision["reasons"] == []
    assert decision["own_flags"] == []
    assert decision["conditions"] == []
    assert decision["score_computed_at"] is None
    assert isinstance(decision["explanation"], str) and decision["explanation"]


def test_asking_about_a_buyer_creates_nothing(seller_a):
    decide(seller_a, buyer={"email": "ask-only@example.com"})
    assert not Buyer.objects.exists()
    assert not Identifier.objects.exists()


def test_the_decision_has_the_documented_shape(seller_a, seller_b):
    flag(seller_b)
    rescore()
    decision = decide(seller_a, order={"ref": "A-2002", "payment_method": "cod", "country": "DE"})
    assert {
        "decision",
        "conditions",
        "score",
        "reporting_sellers",
        "reasons",
        "own_flags",
        "explanation",
        "score_computed_at",
    } <= set(decision)
    assert decision["decision"] in {"ship", "review", "no_ship"}
    assert 0 < decision["score"] <= 100
    assert decision["reporting_sellers"] == 1
    [reason] = decision["reasons"]
    assert reason["code"] == "extortion"
    assert reason["label"] == "Malicious threats or extortion"
    assert reason["sellers"] == 1
    datetime.fromisoformat(reason["last_flagged_at"])
    datetime.fromisoformat(decision["score_computed_at"])


def test_other_sellers_appear_only_as_counts(seller_a, seller_b, outsider):
    b_flag = flag(seller_b, order_ref="B-ORDER-SECRET-1", note="Seller B private remark about the parcel")
    o_flag = flag(outsider, reason="refund_abuse", order_ref="OUT-ORDER-SECRET-2", note="Outsider's own words")
    rescore()

    decision = decide(seller_a)
    text = json.dumps(decision)

    assert decision["reporting_sellers"] == 2
    assert {r["code"]: r["sellers"] for r in decision["reasons"]} == {"extortion": 1, "refund_abuse": 1}
    assert decision["own_flags"] == []
    for secret in (
        seller_b.seller.name,
        outsider.seller.name,
        seller_b.key,
        outsider.key,
        b_flag["id"],
        o_flag["id"],
        "B-ORDER-SECRET-1",
        "OUT-ORDER-SECRET-2",
        "private remark",
        "own words",
    ):
        assert secret not in text
    leaking = {k for k in keys_of(decision) if "seller" in k or k in {"note", "name", "notes"}}
    assert leaking <= {"sellers", "reporting_sellers"}


def test_own_flags_list_only_the_askers_flags(seller_a, seller_b):
    a_flag = flag(seller_a, order_ref="A-1")
    b_flag = flag(seller_b, order_ref="B-1")
    rescore()

    for persona, own in ((seller_a, a_flag), (seller_b, b_flag)):
        decision = decide(persona)
        assert [f["id"] for f in decision["own_flags"]] == [own["id"]]
        [listed] = decision["own_flags"]
        assert listed["reason"] == "extortion"
        assert listed["order_ref"] == own["order_ref"]
        assert listed["created_at"]


def test_reasons_count_the_askers_own_flags(seller_a, seller_b):
    flag(seller_a, order_ref="A-1")
    flag(seller_a, order_ref="A-2")  # one seller, one voice
    flag(seller_b, order_ref="B-1")
    rescore()
    decision = decide(seller_a)
    assert decision["reporting_sellers"] == 2
    assert {r["code"]: r["sellers"] for r in decision["reasons"]} == {"extortion": 2}
    assert len(decision["own_flags"]) == 2


def test_a_lookup_by_any_linked_identifier_finds_the_buyer(seller_a, seller_b):
    flag(seller_b, buyer={"email": "Linked@Example.com", "phone": "+49 30 1234567"})
    rescore()
    for buyer in ({"email": " linked@example.COM"}, {"phone": "030 1234567", "country": "DE"}):
        decision = decide(seller_a, buyer=buyer)
        assert decision["reporting_sellers"] == 1
        assert decision["score"] > 0


def test_the_decision_reads_the_precomputed_score(seller_a, seller_b, outsider):
    flag(seller_b)
    rescore()
    before = decide(seller_a)
    assert before["score"] > 0

    flag(outsider, reason="card_fraud")
    stale = decide(seller_a)
    assert stale["score"] == before["score"]
    assert stale["reporting_sellers"] == 1
    assert [r["code"] for r in stale["reasons"]] == ["extortion"]
    assert stale["score_computed_at"] == before["score_computed_at"]

    rescore()
    fresh = decide(seller_a)
    assert fresh["score"] > before["score"]
    assert fresh["reporting_sellers"] == 2
    assert {r["code"] for r in fresh["reasons"]} == {"extortion", "card_fraud"}
    assert fresh["score_computed_at"] > before["score_computed_at"]


def test_a_flagged_buyer_not_yet_scored_has_no_score_yet(seller_a, seller_b):
    flag(seller_b)
    assert not BuyerScore.objects.exists()
    decision = decide(seller_a)
    assert decision["score"] == 0
    assert decision["reasons"] == []
    assert decision["score_computed_at"] is None


def test_your_own_flag_blocks_at_once_before_any_score(seller_a):
    flag(seller_a, reason="refund_abuse")
    assert not BuyerScore.objects.exists()
    decision = decide(seller_a)
    assert decision["decision"] == "no_ship"
    assert decision["score_computed_at"] is None
    assert "You flagged this buyer yourself" in decision["explanation"]


def test_a_retracted_flag_stops_counting_after_the_rescore(seller_a, seller_b):
    b_flag = flag(seller_b)
    rescore()
    assert decide(seller_a)["reporting_sellers"] == 1
    assert seller_b.delete(f"{FLAGS}/{b_flag['id']}").status_code == 204
    rescore()
    decision = decide(seller_a)
    assert decision["reporting_sellers"] == 0
    assert decision["score"] == 0
    assert decision["decision"] == "ship"


def test_many_sellers_push_towards_no_ship(seller_a):
    for n in range(6):
        flag(make_persona(f"Reporter {n}"), reason="extortion")
        flag(make_persona(f"Carder {n}"), reason="card_fraud")
    rescore()
    decision = decide(seller_a)
    assert decision["reporting_sellers"] == 12
    assert decision["score"] >= 75
    assert decision["decision"] == "no_ship"
    assert [r["sellers"] for r in decision["reasons"]] == [6, 6]


def test_a_decision_never_writes_flags(seller_a, seller_b):
    flag(seller_b)
    rescore()
    count = Flag.objects.count()
    decide(seller_a)
    assert Flag.objects.count() == count


# --- rate limits ----------------------------------------------------------------------------------


@pytest.fixture
def tiny_decision_limit(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "decisions": "2/hour"}
    cache.clear()  # counters from earlier runs live in the shared cache
    yield
    cache.clear()


def test_over_the_rate_limit_is_429_with_retry_after(seller_a, seller_b, tiny_decision_limit):
    for _ in range(2):
        assert seller_a.post(DECISIONS, {"buyer": BUYER}).status_code == 200
    response = seller_a.post(DECISIONS, {"buyer": BUYER})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["message"]
    assert error["details"] == {"limit": 2, "window_seconds": 3600}
    # The limit is per key: another seller is not affected, nor another endpoint.
    assert seller_b.post(DECISIONS, {"buyer": BUYER}).status_code == 200
    assert seller_a.get(FLAGS).status_code == 200


def test_a_buyer_whose_flags_all_expired_is_not_called_never_flagged(seller_a, seller_b):
    from datetime import timedelta

    from django.utils import timezone

    from scoring.services import flags_expire

    old = timezone.now() - timedelta(days=3 * 365)
    for persona, ref in ((seller_a, "A-old"), (seller_b, "B-old")):
        response = persona.post(
            "/api/v1/flags",
            {
                "buyer": {"email": "lapsed@example.com"},
                "reason": "extortion",
                "order_ref": ref,
                "occurred_at": old.isoformat(),
            },
        )
        assert response.status_code == 201
    assert flags_expire() == 2
    rescore()
    decision = seller_a.post("/api/v1/decisions", {"buyer": {"email": "lapsed@example.com"}}).json()
    assert (decision["decision"], decision["score"]) == ("ship", 0)
    assert "expired" in decision["explanation"] and "No seller has flagged" not in decision["explanation"]

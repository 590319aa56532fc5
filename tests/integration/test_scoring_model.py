"""The scoring model, end to end: API → PostgreSQL → real Celery worker → decision.

One test per numbered point of the scoring issue, under the default policy.
"""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from blacklist.lifecycle import flag_transition
from blacklist.models import ActorType, AuditEvent, Flag, FlagStatus, Seller
from identity.models import Buyer
from scoring.tasks import expire_flags, recompute_seller_trust
from tests.conftest import make_persona, real_stack
from tests.stack import wait_for

pytestmark = [pytest.mark.integration, real_stack]


def settle():
    """Wait until the worker has scored every marked buyer."""
    wait_for(lambda: not Buyer.objects.filter(needs_score_since__isnull=False).exists(), message="scores to settle")


def flag(persona, reason, order_ref, days_ago=0, **buyer):
    body = {"buyer": buyer or {"email": "buyer@example.com"}, "reason": reason, "order_ref": order_ref}
    if days_ago:
        body["occurred_at"] = (timezone.now() - timedelta(days=days_ago)).isoformat()
    response = persona.post("/api/v1/flags", body)
    assert response.status_code in (200, 201), response.json()
    return response.json()


def decide(persona, order=None, **buyer):
    body = {"buyer": buyer or {"email": "buyer@example.com"}}
    if order:
        body["order"] = order
    response = persona.post("/api/v1/decisions", body)
    assert response.status_code == 200, response.json()
    return response.json()


def established(name):
    persona = make_persona(name)
    Seller.objects.filter(pk=persona.seller.pk).update(trust=1.0)
    return persona


def test_one_seller_counts_once_however_many_flags(celery_worker, live_reasons):
    loud, quiet, asker = established("Loud"), established("Quiet"), make_persona("Asker")
    for n in range(40):
        flag(loud, "refund_abuse", f"L-{n}", email="loud@example.com")
    flag(quiet, "refund_abuse", "Q-1", email="quiet@example.com")
    settle()
    forty, one = decide(asker, email="loud@example.com"), decide(asker, email="quiet@example.com")
    assert forty["reasons"][0]["sellers"] == 1
    assert forty["score"] == one["score"]


def test_one_sellers_flag_alone_never_blocks_other_sellers(celery_worker, live_reasons):
    accuser, asker = established("Accuser"), make_persona("Asker")
    for reason in ("extortion", "card_fraud", "non_payment", "refund_abuse"):
        flag(accuser, reason, f"A-{reason}")
    settle()
    result = decide(asker)
    assert result["decision"] == "review"
    assert "rests on one seller alone" in result["explanation"]


def test_six_new_sellers_flagging_extortion_within_a_month_give_no_ship(celery_worker, live_reasons):
    for n in range(6):
        flag(make_persona(f"New {n}"), "extortion", f"E-{n}", days_ago=5 * n)
    asker = make_persona("Asker")
    settle()
    result = decide(asker)
    assert result["decision"] == "no_ship"
    assert result["reporting_sellers"] == 6
    assert result["reasons"][0] == result["reasons"][0] | {"code": "extortion", "sellers": 6}


def test_sellers_whose_flags_are_overturned_count_less(celery_worker, live_reasons):
    sloppy, asker = established("Sloppy"), make_persona("Asker")
    for n in range(10):
        flag(sloppy, "refund_abuse", f"S-{n}", email=f"victim{n}@example.com")
    flag(sloppy, "extortion", "S-X", email="target@example.com")
    settle()
    before = decide(asker, email="target@example.com")["score"]
    for f in Flag.objects.filter(seller=sloppy.seller, reason_id="refund_abuse")[:6]:
        with transaction.atomic():
            flag_transition(flag=f, action="dispute", actor_type=ActorType.BUYER)
            flag_transition(flag=f, action="overturn", actor_type=ActorType.ADMIN, actor_id="1")
    settle()
    recompute_seller_trust.delay()
    wait_for(lambda: Seller.objects.get(pk=sloppy.seller.pk).trust < 0.5, message="trust to drop")
    seller = Seller.objects.get(pk=sloppy.seller.pk)
    assert "6 of 11 flags overturned on appeal" in seller.trust_details["reasons"]
    settle()
    wait_for(lambda: decide(asker, email="target@example.com")["score"] < before, message="the score to follow trust")


def test_flags_past_their_maximum_age_expire_and_stop_counting(celery_worker, live_reasons):
    old, asker = established("Old"), make_persona("Asker")
    created = flag(old, "unpaid_order", "O-1", days_ago=400)  # unpaid_order: max age 365 days
    flag(old, "extortion", "O-2", days_ago=5 * 365)
    settle()
    expire_flags.delay()
    wait_for(lambda: Flag.objects.get(pk=created["id"]).status == FlagStatus.EXPIRED, message="expiry")
    assert AuditEvent.objects.filter(flag_id=created["id"], action="expire", actor_type="system").exists()
    settle()
    result = decide(asker)
    assert (result["decision"], result["score"], result["reasons"]) == ("ship", 0, [])
    listed = {f["order_ref"]: f["status"] for f in old.get("/api/v1/flags").json()["results"]}
    assert listed == {"O-1": "expired", "O-2": "expired"}


def test_rescore_command_rebuilds_scores_in_the_workers(celery_worker, live_reasons):
    a, b, asker = established("A"), established("B"), make_persona("Asker")
    flag(a, "extortion", "A-1")
    flag(b, "extortion", "B-1")
    settle()
    fresh = decide(asker)["score"]
    # A year passes: pretend the flags happened a year earlier, then rescore everything.
    Flag.objects.update(occurred_at=timezone.now() - timedelta(days=365))
    call_command("rescore", "--all")
    aged = decide(asker)
    assert aged["score"] < fresh
    assert Buyer.objects.filter(needs_score_since__isnull=False).count() == 0


def test_logistics_reasons_add_conditions_not_blocks(celery_worker, live_reasons):
    sellers = [established(f"Courier {n}") for n in range(5)]
    for n, s in enumerate(sellers):
        flag(s, "remote_address", f"R-{n}")
        flag(s, "cod_refusal", f"C-{n}")
    asker = make_persona("Asker")
    settle()
    cod = decide(asker, order={"payment_method": "cod"})
    prepaid = decide(asker, order={"payment_method": "prepaid"})
    assert (cod["decision"], cod["score"], cod["conditions"]) == ("ship", 0, ["prepaid_only"])
    assert (prepaid["decision"], prepaid["score"]) == ("ship", 0)
    assert "Ship only with: prepaid only." in cod["explanation"]


def test_cod_refusal_does_not_affect_a_prepaid_order(celery_worker, live_reasons):
    courier, asker = established("Courier"), make_persona("Asker")
    flag(courier, "cod_refusal", "C-1")
    settle()
    assert decide(asker, order={"payment_method": "prepaid"})["conditions"] == []
    assert decide(asker, order={"payment_method": "cod"})["conditions"] == ["prepaid_only"]


def test_your_own_flag_is_your_own_blacklist(celery_worker, live_reasons):
    me, other = make_persona("Me"), make_persona("Other")
    mine = flag(me, "refund_abuse", "M-1")
    settle()
    assert decide(me)["decision"] == "no_ship"
    assert [f["id"] for f in decide(me)["own_flags"]] == [mine["id"]]
    theirs = decide(other)
    assert theirs["decision"] == "ship"
    assert theirs["own_flags"] == []
    assert me.put("/api/v1/policy", {"review_at": 40, "no_ship_at": 75, "own_flags_block": False}).status_code == 200
    assert decide(me)["decision"] == "ship"


def test_a_policy_changes_only_its_sellers_decisions(celery_worker, live_reasons):
    strict, lenient = make_persona("Strict"), make_persona("Lenient")
    for n in range(2):
        flag(established(f"Reporter {n}"), "refund_abuse", f"R-{n}")
    settle()
    baseline = decide(lenient)
    policy = {"review_at": 10, "no_ship_at": 20, "own_flags_block": True, "reason_overrides": {"other": "ignore"}}
    assert strict.put("/api/v1/policy", policy).status_code == 200
    assert strict.get("/api/v1/policy").json() == policy
    assert decide(strict)["decision"] == "no_ship"
    assert decide(lenient) == baseline
    inverted = strict.put("/api/v1/policy", {"review_at": 80, "no_ship_at": 50, "own_flags_block": True})
    assert inverted.status_code == 400
    assert inverted.json()["error"]["details"]["review_at"]
    ignored = strict.put("/api/v1/policy", {**policy, "reason_overrides": {"refund_abuse": "ignore"}})
    assert ignored.status_code == 200
    result = decide(strict)
    assert (result["decision"], result["score"]) == ("ship", 0)
    assert result["reasons"][0]["ignored"] is True


def test_the_explanation_orders_reasons_and_names_counts_and_fading(celery_worker, live_reasons):
    asker = make_persona("Asker")
    for n in range(3):
        flag(established(f"X{n}"), "extortion", f"X-{n}", days_ago=400 + n)
    flag(established("R"), "refund_abuse", "R-1", days_ago=2)
    flag(established("C"), "remote_address", "C-1")
    settle()
    result = decide(asker)
    codes = [r["code"] for r in result["reasons"]]
    assert codes[-1] == "remote_address"
    scores = [r["reason_score"] for r in result["reasons"] if r["kind"] == "trust"]
    assert scores == sorted(scores, reverse=True)
    assert result["explanation"].startswith("Flagged by 5 sellers: malicious threats or extortion (3)")
    assert "Most flags are over a year old" in result["explanation"]
    assert "Ship only with: prepaid only." in result["explanation"] or result["decision"] == "no_ship"

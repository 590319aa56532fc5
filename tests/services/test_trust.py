"""Seller trust from the audit trail: it survives the retention purge of flag rows."""

from datetime import timedelta

from django.utils import timezone

from blacklist.lifecycle import flag_transition
from blacklist.models import ActorType, Flag, Seller
from blacklist.services.flags import flag_submit
from disputes.services.retention import retention_purge
from scoring.services import seller_trust_recompute
from tests.conftest import ids


def _flag(persona, n):
    flag, _ = flag_submit(
        seller=persona.seller, identifiers=ids(email=f"t{n}@example.com"), reason="refund_abuse", order_ref=f"T-{n}"
    )
    return flag


def test_trust_counts_overturned_and_retracted_flags(seller_a, seller_b):
    flags = [_flag(seller_a, n) for n in range(6)]
    for flag in flags[:3]:
        flag_transition(flag=flag, action="dispute", actor_type=ActorType.BUYER)
        flag_transition(flag=flag, action="overturn", actor_type=ActorType.ADMIN, actor_id="1")
    flag_transition(flag=flags[3], action="retract", actor_type=ActorType.SELLER, actor_id=seller_a.seller.pk)
    _flag(seller_b, 99)
    seller_trust_recompute()
    a, b = Seller.objects.get(pk=seller_a.seller.pk), Seller.objects.get(pk=seller_b.seller.pk)
    assert (a.trust_details["flags"], a.trust_details["overturned"], a.trust_details["retracted"]) == (6, 3, 1)
    assert b.trust_details["flags"] == 1
    assert a.trust < 0.5 <= b.trust


def test_a_sellers_overturned_flags_keep_counting_after_retention_purges_them(seller_a):
    flags = [_flag(seller_a, n) for n in range(4)]
    for flag in flags[:2]:
        flag_transition(flag=flag, action="dispute", actor_type=ActorType.BUYER)
        flag_transition(flag=flag, action="overturn", actor_type=ActorType.ADMIN, actor_id="1")
    seller_trust_recompute()
    before = Seller.objects.get(pk=seller_a.seller.pk).trust
    Flag.objects.filter(pk__in=[f.pk for f in flags[:2]]).update(status_changed_at=timezone.now() - timedelta(days=900))
    assert retention_purge()["flags"] == 2
    seller_trust_recompute()
    seller = Seller.objects.get(pk=seller_a.seller.pk)
    assert seller.trust_details["overturned"] == 2
    assert seller.trust == before

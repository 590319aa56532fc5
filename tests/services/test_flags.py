"""The flag services: submit (idempotent, audited, redacted) and retract."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from blacklist.models import ActorType, AuditEvent, Flag, FlagStatus
from blacklist.services.flags import flag_retract, flag_submit
from identity.models import Buyer, Identifier
from riskhub.errors import NotFound
from tests.conftest import buyer_id_of, ids

pytestmark = pytest.mark.django_db


def submit(persona, *, email="flagged@example.com", reason="refund_abuse", order_ref="A-1", **extra):
    return flag_submit(seller=persona.seller, identifiers=ids(email=email), reason=reason, order_ref=order_ref, **extra)


def test_it_records_a_flag_and_marks_the_buyer_for_scoring(seller_a):
    occurred = timezone.now() - timedelta(days=3)
    flag, created = submit(seller_a, occurred_at=occurred, note="Kept the goods.")
    assert created
    flag.refresh_from_db()
    assert (flag.seller, flag.reason_id, flag.order_ref, flag.status) == (
        seller_a.seller,
        "refund_abuse",
        "A-1",
        FlagStatus.ACTIVE,
    )
    assert flag.occurred_at == occurred
    assert flag.note == "Kept the goods."
    assert Buyer.objects.get(pk=buyer_id_of(flag)).needs_score_since is not None


def test_occurred_at_defaults_to_now(seller_a):
    before = timezone.now()
    flag, _ = submit(seller_a)
    assert before <= flag.occurred_at <= timezone.now()


def test_resubmission_is_idempotent(seller_a):
    first, created = submit(seller_a)
    again, created_again = submit(seller_a, email="  FLAGGED@example.com", note="a different note")
    assert created and not created_again
    assert again.pk == first.pk
    assert Flag.objects.count() == 1
    assert AuditEvent.objects.filter(flag_id=first.pk, action="created").count() == 1


def test_another_order_reason_or_seller_is_a_new_flag(seller_a, seller_b):
    first, _ = submit(seller_a)
    assert submit(seller_a, order_ref="A-2")[1]
    assert submit(seller_a, reason="extortion")[1]
    assert submit(seller_b)[1]
    assert Flag.objects.count() == 4
    assert Flag.objects.values("buyer_key").distinct().count() == 1
    assert Identifier.objects.count() == 1
    assert first.pk in Flag.objects.values_list("pk", flat=True)


def test_creating_a_flag_writes_an_audit_event(seller_a):
    flag, _ = submit(seller_a)
    event = AuditEvent.objects.get(flag_id=flag.pk)
    assert event.action == "created"
    assert event.actor_type == ActorType.SELLER
    assert event.actor_id == str(seller_a.seller.pk)
    assert (event.from_status, event.to_status) == ("", FlagStatus.ACTIVE)


def test_a_seller_retracts_its_own_flag(seller_a):
    flag, _ = submit(seller_a)
    Buyer.objects.filter(pk=buyer_id_of(flag)).update(needs_score_since=None)

    retracted = flag_retract(seller=seller_a.seller, flag_id=flag.pk)

    assert retracted.pk == flag.pk
    flag.refresh_from_db()
    assert flag.status == FlagStatus.RETRACTED
    assert flag.status_changed_at > flag.created_at
    assert Buyer.objects.get(pk=buyer_id_of(flag)).needs_score_since is not None
    event = AuditEvent.objects.filter(flag_id=flag.pk).last()
    assert event.action == "retract"
    assert (event.from_status, event.to_status) == (FlagStatus.ACTIVE, FlagStatus.RETRACTED)
    assert (event.actor_type, event.actor_id) == (ActorType.SELLER, str(seller_a.seller.pk))


def test_retracting_twice_changes_nothing_more(seller_a):
    flag, _ = submit(seller_a)
    flag_retract(seller=seller_a.seller, flag_id=flag.pk)
    flag_retract(seller=seller_a.seller, flag_id=flag.pk)
    assert AuditEvent.objects.filter(flag_id=flag.pk).count() == 2
    flag.refresh_from_db()
    assert flag.status == FlagStatus.RETRACTED


def test_retracting_someone_elses_flag_is_not_found(seller_a, seller_b):
    flag, _ = submit(seller_a)
    with pytest.raises(NotFound):
        flag_retract(seller=seller_b.seller, flag_id=flag.pk)
    flag.refresh_from_db()
    assert flag.status == FlagStatus.ACTIVE
    assert AuditEvent.objects.filter(flag_id=flag.pk).count() == 1


def test_retracting_an_unknown_flag_is_not_found(seller_a):
    with pytest.raises(NotFound):
        flag_retract(seller=seller_a.seller, flag_id="00000000-0000-4000-8000-000000000000")


@pytest.mark.parametrize(
    "note",
    [
        "Mail him at Evil.Buyer+tag@Example.co.uk before shipping.",
        "Called +49 151 12345678 and was threatened.",
        "Phone (030) 123-4567, email x_y@mail.example.org.",
        "Number 0151.1234.5678 again",
    ],
)
def test_notes_are_stored_with_emails_and_phones_redacted(seller_a, note):
    flag, _ = submit(seller_a, note=note)
    flag.refresh_from_db()
    assert "[redacted]" in flag.note
    assert "@" not in flag.note
    assert not re.search(r"\d{3}", flag.note)
    for secret in ("Evil.Buyer", "12345678", "123-4567", "x_y@", "1234.5678"):
        assert secret not in flag.note


def test_a_note_without_contact_details_is_kept(seller_a):
    flag, _ = submit(seller_a, note="Order 42 returned empty box on 3 May.")
    flag.refresh_from_db()
    assert flag.note == "Order 42 returned empty box on 3 May."

"""The audit trail is append-only everywhere; the lifecycle refuses illegal moves."""

import pytest
from django.db import DatabaseError, connection, transaction

from blacklist.lifecycle import flag_transition
from blacklist.models import AuditEvent, Flag, FlagStatus
from riskhub.errors import Conflict
from tests.conftest import real_stack
from tests.due_process.helpers import flag, open_dispute

EMAIL = "buyer@example.com"


def test_creating_a_flag_writes_an_audit_event(seller_a):
    flagged = flag(seller_a, email=EMAIL)
    event = AuditEvent.objects.get(flag_id=flagged["id"])
    assert (event.action, event.actor_type, event.to_status) == ("created", "seller", "active")
    assert event.actor_id == str(seller_a.seller.pk)


def test_the_model_refuses_to_edit_or_delete_an_event(seller_a):
    flagged = flag(seller_a, email=EMAIL)
    event = AuditEvent.objects.get(flag_id=flagged["id"])
    event.note = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()


@real_stack
def test_postgresql_refuses_updates_and_deletes_that_bypass_the_model(seller_a):
    flagged = flag(seller_a, email=EMAIL)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(flag_id=flagged["id"]).update(note="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(flag_id=flagged["id"]).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM blacklist_auditevent")
    assert AuditEvent.objects.get(flag_id=flagged["id"]).note == ""


@pytest.mark.django_db
def test_the_admin_cannot_add_change_or_delete_events(admin_client, seller_a):
    flagged = flag(seller_a, email=EMAIL)
    event = AuditEvent.objects.get(flag_id=flagged["id"])
    page = admin_client.get(f"/admin/blacklist/auditevent/{event.pk}/change/")
    assert page.status_code == 200  # viewable...
    assert b'name="_save"' not in page.content  # ...but not editable
    assert admin_client.get("/admin/blacklist/auditevent/add/").status_code == 403
    assert admin_client.get(f"/admin/blacklist/auditevent/{event.pk}/delete/").status_code == 403
    admin_client.post(f"/admin/blacklist/auditevent/{event.pk}/change/", {"note": "x"})
    admin_client.post(
        "/admin/blacklist/auditevent/",
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    assert AuditEvent.objects.filter(pk=event.pk, note="").exists()


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (FlagStatus.RETRACTED, "dispute"),
        (FlagStatus.EXPIRED, "dispute"),
        (FlagStatus.OVERTURNED, "dispute"),
        (FlagStatus.ACTIVE, "uphold"),
        (FlagStatus.ACTIVE, "overturn"),
        (FlagStatus.UPHELD, "overturn"),
        (FlagStatus.DISPUTED, "retract"),
        (FlagStatus.DISPUTED, "expire"),
        (FlagStatus.OVERTURNED, "retract"),
    ],
)
def test_illegal_transitions_are_refused_and_not_audited(seller_a, status, action):
    flagged = flag(seller_a, email=EMAIL)
    Flag.objects.filter(pk=flagged["id"]).update(status=status)
    events = AuditEvent.objects.count()
    with pytest.raises(Conflict) as refused:
        flag_transition(flag=Flag.objects.get(pk=flagged["id"]), action=action)
    assert refused.value.status == 409
    assert AuditEvent.objects.count() == events
    assert Flag.objects.get(pk=flagged["id"]).status == status


def test_a_seller_cannot_retract_a_flag_under_dispute(seller_a, mailoutbox):
    flagged, _, _ = open_dispute(seller_a, EMAIL)
    response = seller_a.delete(f"/api/v1/flags/{flagged['id']}")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "illegal_transition"

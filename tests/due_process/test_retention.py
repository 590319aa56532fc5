"""Retention: spent flags and their dispute texts are purged; the audit trail stays."""

from datetime import timedelta

from django.conf import settings as django_settings
from django.utils import timezone

from blacklist.models import AuditEvent, Flag, FlagStatus
from disputes.models import AppealCode, Dispute
from disputes.services.retention import retention_purge
from disputes.tasks import purge_expired_data
from tests.due_process.helpers import flag, open_dispute, start

EMAIL = "buyer@example.com"


def _age(flag_id, days):
    Flag.objects.filter(pk=flag_id).update(status_changed_at=timezone.now() - timedelta(days=days))


def test_old_retracted_overturned_and_expired_flags_are_purged_with_their_disputes(
    seller_a, admin_key, mailoutbox, settings
):
    settings.RETENTION_DAYS = 30
    overturned, dispute, _ = open_dispute(seller_a, EMAIL, order_ref="O-1")
    admin_key.post(f"/api/v1/admin/disputes/{dispute['id']}/resolve", {"outcome": "overturned", "note": "n"})
    retracted = flag(seller_a, email=EMAIL, order_ref="R-1")
    seller_a.delete(f"/api/v1/flags/{retracted['id']}")
    expired = flag(seller_a, email=EMAIL, order_ref="E-1")
    Flag.objects.filter(pk=expired["id"]).update(status=FlagStatus.EXPIRED)
    active = flag(seller_a, email=EMAIL, order_ref="K-1")
    recent = flag(seller_a, email=EMAIL, order_ref="K-2")
    seller_a.delete(f"/api/v1/flags/{recent['id']}")
    for flagged in (overturned, retracted, expired, active):
        _age(flagged["id"], 31)
    _age(recent["id"], 29)

    purged = retention_purge()

    assert purged["flags"] == 3
    assert purged["disputes"] == 1
    assert set(Flag.objects.values_list("order_ref", flat=True)) == {"K-1", "K-2"}
    assert not Dispute.objects.exists()
    # The history outlives the flag: ids, statuses, digests — no texts.
    actions = list(AuditEvent.objects.filter(flag_id=overturned["id"]).values_list("action", flat=True))
    assert actions == ["created", "dispute", "overturn"]
    assert AuditEvent.objects.filter(flag_id=retracted["id"], action="retract").exists()
    audit = admin_key.get("/api/v1/admin/audit", {"flag": overturned["id"]})
    assert len(audit.json()["results"]) == 3


def test_upheld_and_disputed_flags_are_kept_however_old(seller_a, admin_key, mailoutbox, settings):
    settings.RETENTION_DAYS = 1
    upheld, dispute, _ = open_dispute(seller_a, EMAIL, order_ref="U-1")
    admin_key.post(f"/api/v1/admin/disputes/{dispute['id']}/resolve", {"outcome": "upheld"})
    disputed, _, _ = open_dispute(seller_a, "other@example.com", order_ref="D-1")
    for flagged in (upheld, disputed):
        _age(flagged["id"], 400)
    assert retention_purge()["flags"] == 0
    assert Dispute.objects.count() == 2


def test_spent_codes_are_purged(seller_a, mailoutbox):
    flag(seller_a, email=EMAIL)
    start(EMAIL)
    AppealCode.objects.update(expires_at=timezone.now() - timedelta(days=2))
    assert retention_purge()["codes"] == 1
    assert not AppealCode.objects.exists()


def test_the_purge_runs_periodically(seller_a, settings):
    schedule = django_settings.CELERY_BEAT_SCHEDULE["disputes-purge-expired-data"]
    assert schedule["task"] == "disputes.tasks.purge_expired_data"
    settings.RETENTION_DAYS = 10
    retracted = flag(seller_a, email=EMAIL)
    seller_a.delete(f"/api/v1/flags/{retracted['id']}")
    _age(retracted["id"], 11)
    assert purge_expired_data.apply().get()["flags"] == 1
    assert not Flag.objects.filter(pk=retracted["id"]).exists()

"""Retention: forget what no longer counts.

Flags that are retracted, overturned or expired are deleted RETENTION_DAYS after their last
status change, and their disputes (statements, responses, notes) with them. The audit trail
stays: it holds only ids, statuses and digests, and a trigger refuses to change it anyway.
Spent one-time codes go after a day.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from blacklist.models import Flag, FlagStatus
from disputes.models import AppealCode, Dispute

logger = logging.getLogger(__name__)

PURGEABLE = (FlagStatus.RETRACTED, FlagStatus.OVERTURNED, FlagStatus.EXPIRED)
CODE_KEEP = timedelta(days=1)
BATCH = 1000


def retention_purge(*, now=None, days=None):
    """Delete purgeable flags older than the retention period, in batches; returns counts.

    Each batch re-checks the status under lock, so a flag that changed meanwhile is kept.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.RETENTION_DAYS if days is None else days)
    purged = {"flags": 0, "disputes": 0, "codes": 0}
    while True:
        with transaction.atomic():
            ids = list(
                Flag.objects.select_for_update(skip_locked=True)
                .filter(status__in=PURGEABLE, status_changed_at__lt=cutoff)
                .values_list("pk", flat=True)[:BATCH]
            )
            if not ids:
                break
            purged["disputes"] += Dispute.objects.filter(flag_id__in=ids).delete()[1].get(Dispute._meta.label, 0)
            # Counted by model: the delete cascades to the rows naming the flag's identifiers.
            purged["flags"] += Flag.objects.filter(pk__in=ids).delete()[1].get(Flag._meta.label, 0)
    purged["codes"] = AppealCode.objects.filter(expires_at__lt=now - CODE_KEEP).delete()[0]
    if any(purged.values()):
        logger.info("retention: purged %(flags)d flags, %(disputes)d disputes, %(codes)d codes", purged)
    return purged

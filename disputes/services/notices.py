"""Mail about disputes: the seller's notice of an appeal, the buyer's outcome.

Each notice is sent right after the commit that causes it (in the request's process, so the
sealed address never travels through the broker) and marked as done on the dispute row. A
periodic job (`notices_send_pending`) retries any that failed. Failures are logged by
exception type only: an SMTP error message may quote the recipient.
"""

import logging
from datetime import timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from disputes.crypto import InvalidToken, open_sealed
from disputes.models import Dispute, DisputeStatus

logger = logging.getLogger(__name__)

CONTACT_PURPOSE = "contact"
# The pending-notice job leaves fresh rows to the on-commit send that is probably running.
RETRY_AFTER = timedelta(minutes=2)
# An outcome mail that still fails after this long is given up, and the sealed address dropped.
GIVE_UP_AFTER = timedelta(days=7)


def _send(subject, body, to):
    try:
        send_mail(subject, body, None, [to])
        return True
    except Exception as exc:
        logger.warning("could not send a dispute notice (%s)", exc.__class__.__name__)
        return False


def dispute_notify_seller(*, dispute_id):
    """Tell the flag's seller about a new appeal (by email when it has a contact address).

    Without an address the notice is the dispute itself, listed by GET /api/v1/disputes.
    Returns True when the notice is (now) done.
    """
    with transaction.atomic():
        dispute = (
            Dispute.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("flag", "flag__seller")
            .filter(pk=dispute_id, seller_notified_at__isnull=True)
            .first()
        )
        if dispute is None:
            return True
        seller = dispute.flag.seller
        if seller.contact_email:
            body = (
                f"A buyer has appealed one of your flags.\n\n"
                f"Dispute: {dispute.pk}\n"
                f"Flag: {dispute.flag_id} ({dispute.flag.reason_id}, your order {dispute.flag.order_ref})\n\n"
                f"The buyer's statement:\n{dispute.statement}\n\n"
                "You can answer with evidence before an admin reviews it:\n"
                f"  POST /api/v1/disputes/{dispute.pk}/response\n"
                "While the appeal is open the flag keeps counting.\n"
            )
            if not _send(
                f"riskhub: your flag on order {dispute.flag.order_ref} is disputed", body, seller.contact_email
            ):
                return False
        dispute.seller_notified_at = timezone.now()
        dispute.save(update_fields=["seller_notified_at"])
    return True


def dispute_notify_buyer(*, dispute_id):
    """Mail the buyer the outcome of a reviewed appeal, then forget the address.

    Returns True when the notice is (now) done.
    """
    with transaction.atomic():
        dispute = (
            Dispute.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("flag")
            .filter(pk=dispute_id, outcome_notified_at__isnull=True)
            .exclude(status=DisputeStatus.OPEN)
            .first()
        )
        if dispute is None:
            return True
        if dispute.contact_encrypted:
            try:
                to = open_sealed(CONTACT_PURPOSE, dispute.contact_encrypted)
            except InvalidToken:
                logger.warning("dispute %s: the sealed contact cannot be opened (key rotated away?)", dispute.pk)
                to = None
            if to is not None:
                if dispute.status == DisputeStatus.OVERTURNED:
                    verdict = "overturned: the flag no longer counts against you"
                else:
                    verdict = "upheld: the flag stays in place"
                body = (
                    "An admin has reviewed your appeal.\n\n"
                    f"Flag: {dispute.flag_id} (reason {dispute.flag.reason_id}, order {dispute.flag.order_ref})\n"
                    f"Outcome: {verdict}.\n"
                )
                if dispute.resolution_note:
                    body += f"\nThe reviewer's note:\n{dispute.resolution_note}\n"
                if not _send("riskhub: the outcome of your appeal", body, to):
                    return False
        dispute.contact_encrypted = ""
        dispute.outcome_notified_at = timezone.now()
        dispute.save(update_fields=["contact_encrypted", "outcome_notified_at"])
    return True


def notices_send_pending(*, now=None):
    """Retry notices that were not sent right after their commit; returns how many are done.

    Outcome mails still failing after GIVE_UP_AFTER are dropped with the sealed address.
    """
    now = now or timezone.now()
    done = 0
    for pk in Dispute.objects.filter(seller_notified_at__isnull=True, created_at__lte=now - RETRY_AFTER).values_list(
        "pk", flat=True
    )[:500]:
        done += dispute_notify_seller(dispute_id=pk)
    pending = Dispute.objects.filter(resolved_at__isnull=False, outcome_notified_at__isnull=True)
    Dispute.objects.filter(pk__in=pending.filter(resolved_at__lte=now - GIVE_UP_AFTER).values("pk")).update(
        contact_encrypted="", outcome_notified_at=now
    )
    for pk in pending.filter(resolved_at__lte=now - RETRY_AFTER).values_list("pk", flat=True)[:500]:
        done += dispute_notify_buyer(dispute_id=pk)
    return done

"""Mail about disputes: the seller's notice of an appeal, the buyer's outcome.

Each notice is sent right after the commit that causes it (in the request's process, so the
sealed address never travels through the broker) and marked as done on the dispute row. A
periodic job (`notices_send_pending`) retries any that failed. Failures are logged by
exception type only: an SMTP error message may quote the recipient.

A seller notice that fails for good — the mail server refuses the address (5xx), or it still
fails after GIVE_UP_AFTER — is not retried any more: it is recorded once in the flag's audit
trail (`seller_notice_failed`, "dispute <id>: <why>"), and the admin's dispute queue shows it
(filter "seller notice: failed"), so staff can reach the seller another way.
"""

import logging
from datetime import timedelta
from smtplib import SMTPRecipientsRefused, SMTPResponseException

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from blacklist.lifecycle import audit_record
from blacklist.models import ActorType, AuditEvent
from disputes.crypto import InvalidToken, open_sealed
from disputes.models import Dispute, DisputeStatus

logger = logging.getLogger(__name__)

CONTACT_PURPOSE = "contact"
# The pending-notice job leaves fresh rows to the on-commit send that is probably running.
RETRY_AFTER = timedelta(minutes=2)
# A notice that still fails after this long is given up (an outcome mail also drops the address).
GIVE_UP_AFTER = timedelta(days=7)
NOTICE_FAILED = "seller_notice_failed"

SENT, RETRY, FAILED = "sent", "retry", "failed"


def _permanent(exc):
    """Whether retrying cannot help: the server refused the recipient for good, or answered 5xx."""
    if isinstance(exc, SMTPRecipientsRefused):  # also raised for 4xx ("try later") refusals
        return all(500 <= code < 600 for code, _ in exc.recipients.values())
    return isinstance(exc, SMTPResponseException) and 500 <= exc.smtp_code < 600


def _send(subject, body, to):
    try:
        send_mail(subject, body, None, [to])
        return SENT
    except Exception as exc:
        logger.warning("could not send a dispute notice (%s)", exc.__class__.__name__)
        return FAILED if _permanent(exc) else RETRY


def seller_notice_failed():
    """An expression for Dispute querysets: has its seller notice been given up (audited)?

    Matched by flag and time (a give-up recorded after this dispute was opened): a flag has at
    most one open dispute, and a notice is only ever given up while its dispute is the newest.
    """
    return Exists(
        AuditEvent.objects.filter(
            flag_id=OuterRef("flag_id"), action=NOTICE_FAILED, created_at__gte=OuterRef("created_at")
        )
    )


def _seller_notice_give_up(dispute, why):
    logger.warning("dispute %s: the seller notice is given up (%s)", dispute.pk, why)
    audit_record(
        flag_id=dispute.flag_id,
        action=NOTICE_FAILED,
        actor_type=ActorType.SYSTEM,
        from_status=dispute.flag.status,
        to_status=dispute.flag.status,
        note=f"dispute {dispute.pk}: {why}",
    )


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
            outcome = _send(
                f"riskhub: your flag on order {dispute.flag.order_ref} is disputed", body, seller.contact_email
            )
            if outcome == FAILED:
                _seller_notice_give_up(dispute, "the mail server refused the seller's address")
                return True
            if outcome == RETRY:
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
                if _send("riskhub: the outcome of your appeal", body, to) == RETRY:
                    return False  # a refused address is given up at once, as below
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
    unsent = Dispute.objects.filter(seller_notified_at__isnull=True).exclude(seller_notice_failed())
    for dispute in unsent.filter(created_at__lte=now - GIVE_UP_AFTER).select_related("flag")[:500]:
        _seller_notice_give_up(dispute, f"still failing after {GIVE_UP_AFTER.days} days")
    for pk in unsent.filter(created_at__lte=now - RETRY_AFTER, created_at__gt=now - GIVE_UP_AFTER).values_list(
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

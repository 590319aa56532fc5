"""A seller's path: answer an appeal against one of its flags before it is reviewed."""

import re

from django.db import transaction
from django.utils import timezone

from blacklist.lifecycle import audit_record
from blacklist.models import ActorType, FlagStatus
from disputes.models import Dispute, DisputeStatus
from identity.identifiers import redact
from riskhub.errors import Conflict, NotFound

_URL = re.compile(r"^https?://\S+$")
_EMAIL = re.compile(r"[^\s@/:?#]+@[^\s@/?#]+\.[A-Za-z]{2,}")


def _redact_evidence(item):
    # A URL keeps its digits (order numbers look like phone numbers); email addresses go either way.
    item = item.strip()
    return _EMAIL.sub("[redacted]", item) if _URL.match(item) else redact(item)


def dispute_respond(*, seller, dispute_id, response, evidence=()):
    """Record (or replace) the seller's answer to an open dispute on its own flag.

    Someone else's or unknown dispute → 404; an already reviewed one → 409. Like notes, the
    texts are stripped of email addresses and phone numbers. The answer is audited.
    """
    with transaction.atomic():
        dispute = (
            Dispute.objects.select_for_update(of=("self",))
            .select_related("flag")
            .filter(pk=dispute_id, flag__seller=seller)
            .first()
        )
        if dispute is None:
            raise NotFound("No such dispute.")
        if dispute.status != DisputeStatus.OPEN:
            raise Conflict(f"This dispute was already reviewed ({dispute.status}).", code="dispute_closed")
        dispute.seller_response = redact(response)
        dispute.seller_evidence = [_redact_evidence(item) for item in evidence]
        dispute.seller_responded_at = timezone.now()
        dispute.save(update_fields=["seller_response", "seller_evidence", "seller_responded_at"])
        audit_record(
            flag_id=dispute.flag_id,
            action="seller_response",
            actor_type=ActorType.SELLER,
            actor_id=seller.pk,
            from_status=FlagStatus.DISPUTED,
            to_status=FlagStatus.DISPUTED,
            note=f"dispute {dispute.pk}",
        )
    return dispute

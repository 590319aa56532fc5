"""A buyer contests a link ("this phone number is not mine"); an admin severs or rejects it."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from blacklist.services.links import link_assertions
from disputes.models import LinkContest, LinkContestStatus
from disputes.selectors import linked_to
from identity.identifiers import redact
from identity.services import link_sever
from riskhub.errors import ApplicationError, Conflict, NotFound

OUTCOMES = (LinkContestStatus.SEVERED, LinkContestStatus.REJECTED)


def link_contest_open(*, buyer, identifier_id, statement):
    """Contest an identifier linked to the buyer's email; 404 unless it is linked to it now."""
    _, others = linked_to(email_digest=buyer.email_digest)
    identifier = others.filter(pk=identifier_id).first()
    if identifier is None:
        raise NotFound("No such linked identifier.")
    try:
        with transaction.atomic():
            return LinkContest.objects.create(
                buyer_digest=buyer.email_digest, identifier=identifier, statement=redact(statement)
            )
    except IntegrityError:
        raise Conflict("This link is already contested.", code="link_contest_open") from None


def link_contest_resolve(*, contest_id, outcome, note="", actor):
    """Close an open contest. `severed`: sever every asserted link between the contested
    identifier and the rest of the buyer's identifiers, so the relink detaches it (audited in
    identity.LinkSeverance, and counted against the asserting sellers' trust)."""
    if outcome not in OUTCOMES:
        raise ApplicationError("Outcome must be severed or rejected.", code="invalid_outcome")
    with transaction.atomic():
        contest = LinkContest.objects.select_for_update().filter(pk=contest_id).first()
        if contest is None:
            raise NotFound("No such link contest.")
        if contest.status != LinkContestStatus.OPEN:
            raise Conflict(f"This contest is already {contest.status}.", code="link_contest_closed")
        if outcome == LinkContestStatus.SEVERED:
            own, others = linked_to(email_digest=contest.buyer_digest)
            group = {own.pk, *others.values_list("pk", flat=True)} if own else set()
            target = contest.identifier_id
            ends = {b for a, b, _, _ in link_assertions(identifier_ids=[target]) if b in group and b != target}
            for end in sorted(ends):
                link_sever(a=target, b=end, actor=actor, note=f"link contest {contest.pk}: {note}"[:1000])
        contest.status, contest.resolved_at, contest.resolved_by = outcome, timezone.now(), str(actor)[:64]
        contest.resolution_note = redact(note or "")[:2000]
        contest.save(update_fields=["status", "resolved_at", "resolved_by", "resolution_note"])
    return contest

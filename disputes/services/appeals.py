"""A buyer's path: ask for a code, trade it for a token, contest a flag.

The buyer has no account; control of an email address is the proof. The address itself is
only ever held in memory, as an HMAC digest, or sealed (see disputes.crypto).
"""

import hashlib
import hmac
import logging
import secrets

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from blacklist.lifecycle import flag_transition
from blacklist.models import ActorType, Flag, FlagStatus
from disputes.auth import buyer_token_issue
from disputes.crypto import InvalidToken, open_sealed, seal
from disputes.models import AppealCode, Dispute, DisputeStatus
from disputes.selectors import appeal_blocked_until, buyer_flags
from disputes.services.notices import CONTACT_PURPOSE, dispute_notify_seller
from identity.identifiers import IdentifierKind, digest, normalise_email, redact
from riskhub.errors import ApplicationError, Conflict, NotFound
from riskhub.ratelimit import RateLimited, hit, parse_rate

logger = logging.getLogger(__name__)

CODE_DIGITS = 8
# The sealed address a start request hands to the worker (never the address in the clear).
CODE_REQUEST_PURPOSE = "appeal-code-request"


class CodeMailFailed(Exception):
    """The code mail could not be sent (carries the cause's type only, never its text)."""


class InvalidCode(ApplicationError):
    status = 400
    code = "invalid_code"

    def __init__(self):
        # One message for wrong, used, expired and exhausted codes: it tells an attacker nothing.
        super().__init__("The code is wrong, used up or expired. Request a new one with POST /api/v1/appeals/start.")


def email_digest(email):
    """The digest an email identifier is stored under (raises InvalidIdentifier on a malformed one)."""
    return digest(IdentifierKind.EMAIL, normalise_email(email))


def _code_hash(email_digest_, code):
    # Keyed: eight digits are a small space, so a plain hash in a leaked table would be reversible.
    return hmac.new(settings.SECRET_KEY.encode(), f"{email_digest_}:{code}".encode(), hashlib.sha256).hexdigest()


def _limit(name, ident):
    limit, window = parse_rate(settings.APPEAL_RATE_LIMITS[name])
    hit(f"appeal:{name}:{ident}", limit=limit, window=window)


def _ip_key(ip):
    return hashlib.sha256((ip or "unknown").encode()).hexdigest()[:32]


def appeal_start(*, email, ip):
    """Rate-limit a request for a one-time code; returns the sealed request for the worker.

    1. Rate-limit per client IP and per email digest (token buckets; 429 either way, known
       address or not).
    2. Seal the address for `appeal_code_issue`, which runs in the worker (disputes.tasks): the
       request does the same work whether or not anything is held about the address, so
       neither its timing nor its answer tells them apart, and no web worker waits on a
       database lookup, a sleep or a mail server.
    """
    digest_ = email_digest(email)
    _limit("start_ip", _ip_key(ip))
    _limit("start_email", digest_)
    return seal(CODE_REQUEST_PURPOSE, email.strip())


def appeal_code_issue(*, sealed_email):
    """Mail a fresh one-time code when flags are held about the sealed address (the worker's half).

    1. Open the request; one older than a code's lifetime is dropped (the buyer has asked again).
    2. No flags held about the digest: nothing to do (and nothing tells the requester).
    3. Store the new code hashed. Earlier codes stay valid — someone else asking for a code must
       not void the one the buyer holds — except beyond the newest APPEAL_CODES_LIVE.
    4. Mail it; a mail failure voids the code and raises, so the task retries with a new one.
    Returns True when a code was mailed.
    """
    try:
        email = open_sealed(CODE_REQUEST_PURPOSE, sealed_email, max_age=settings.APPEAL_CODE_TTL.total_seconds())
    except InvalidToken:
        logger.warning("dropped an appeal code request that was stale or not ours")
        return False
    digest_ = email_digest(email)
    if not buyer_flags(email_digest=digest_).exists():
        return False
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    now = timezone.now()
    with transaction.atomic():
        row = AppealCode.objects.create(
            email_digest=digest_, code_hash=_code_hash(digest_, code), expires_at=now + settings.APPEAL_CODE_TTL
        )
        keep = _live_codes(digest_, now).values_list("pk", flat=True)[: settings.APPEAL_CODES_LIVE]
        _live_codes(digest_, now).exclude(pk__in=list(keep)).update(used_at=now)
    try:
        _send_code(email=email, code=code)
    except Exception as exc:
        AppealCode.objects.filter(pk=row.pk).update(used_at=timezone.now())
        logger.warning("could not send an appeal code (%s); the task retries", exc.__class__.__name__)
        # An SMTP error's text may quote the address, and Celery logs what a task raises: only
        # the type travels on, without the original (`from None`).
        raise CodeMailFailed(exc.__class__.__name__) from None
    return True


def _live_codes(digest_, now):
    return AppealCode.objects.filter(
        email_digest=digest_,
        used_at__isnull=True,
        expires_at__gt=now,
        attempts__lt=settings.APPEAL_CODE_MAX_TOTAL_ATTEMPTS,
    ).order_by("-created_at", "-pk")


def _send_code(*, email, code):
    minutes = int(settings.APPEAL_CODE_TTL.total_seconds() // 60)
    body = (
        "Someone (we hope you) asked to see and contest what riskhub holds about this email address.\n\n"
        f"Your one-time code: {code}\n\n"
        f"It works once and expires in {minutes} minutes. If you did not ask for it, ignore this message.\n"
    )
    send_mail("Your riskhub appeal code", body, None, [email])


def appeal_session(*, email, code, ip):
    """Trade a correct one-time code for a buyer token.

    1. Rate-limit per client IP, and count this client's guesses on this address: after
       APPEAL_CODE_MAX_ATTEMPTS within a code's lifetime this client is refused. Guesses are
       counted per client so that someone else's wrong codes never burn the buyer's code.
    2. Compare against the address's live codes (there may be a few, see appeal_code_issue).
    3. Right: every live code of the address is used up, a token issued. Wrong: each live code
       counts the guess; past APPEAL_CODE_MAX_TOTAL_ATTEMPTS (all clients together) it is dead,
       which bounds brute force from many addresses even if the rate-limit store is down.
    """
    ip_key = _ip_key(ip)
    _limit("session_ip", ip_key)
    digest_ = email_digest(email)
    try:
        hit(
            f"appeal:guesses:{digest_}:{ip_key}",
            limit=settings.APPEAL_CODE_MAX_ATTEMPTS,
            window=settings.APPEAL_CODE_TTL.total_seconds(),
        )
    except RateLimited:
        raise InvalidCode() from None
    now = timezone.now()
    given = _code_hash(digest_, str(code).strip())
    with transaction.atomic():
        rows = list(_live_codes(digest_, now).select_for_update())
        ok = any(hmac.compare_digest(row.code_hash, given) for row in rows)
        if ok:
            AppealCode.objects.filter(pk__in=[r.pk for r in rows]).update(used_at=now)
        elif rows:
            for row in rows:
                row.attempts += 1
                row.save(update_fields=["attempts"])
    if not ok:
        raise InvalidCode()
    return buyer_token_issue(email_digest=digest_, email=email.strip())


def appeal_create(*, buyer, flag_id, statement):
    """Contest one flag of this buyer; returns the open Dispute.

    1. Lock the flag, found only among the flags held about this buyer (buyer_flags; anyone
       else's → 404).
    2. Refuse a second open appeal, and an upheld flag within APPEAL_COOLDOWN_DAYS (409).
    3. Move the flag to `disputed` (audited; the score keeps counting it) and record the appeal,
       with the buyer's address sealed for the outcome mail.
    4. Once committed, tell the flag's seller.
    """
    held = buyer_flags(email_digest=buyer.email_digest).values("pk")
    with transaction.atomic():
        flag = Flag.objects.select_for_update().filter(pk=flag_id, pk__in=held).first()
        if flag is None:
            raise NotFound("No such flag.")
        if Dispute.objects.filter(flag=flag, status=DisputeStatus.OPEN).exists():
            raise Conflict("This flag is already under appeal.", code="appeal_open")
        if flag.status == FlagStatus.UPHELD:
            last = Dispute.objects.filter(flag=flag, status=DisputeStatus.UPHELD).order_by("-resolved_at").first()
            until = appeal_blocked_until(last_upheld_at=last.resolved_at if last else None)
            if until is not None:
                raise Conflict(
                    "This flag was upheld after review and cannot be appealed again yet.",
                    code="appeal_too_soon",
                    details={"appealable_after": until.isoformat()},
                )
        dispute = Dispute(
            flag=flag,
            statement=redact(statement),
            buyer_digest=buyer.email_digest,
            contact_encrypted=seal(CONTACT_PURPOSE, buyer.email),
        )
        flag_transition(
            flag=flag,
            action="dispute",
            actor_type=ActorType.BUYER,
            actor_id=buyer.email_digest,
            note=f"dispute {dispute.pk}",
        )
        try:
            with transaction.atomic():
                dispute.save(force_insert=True)
        except IntegrityError:
            raise Conflict("This flag is already under appeal.", code="appeal_open") from None
        transaction.on_commit(lambda: dispute_notify_seller(dispute_id=dispute.pk))
    return dispute

"""A buyer's path: ask for a code, trade it for a token, contest a flag.

The buyer has no account; control of an email address is the proof. The address itself is
only ever held in memory, as an HMAC digest, or sealed (see disputes.crypto).
"""

import hashlib
import hmac
import logging
import secrets
import time

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from blacklist.lifecycle import flag_transition
from blacklist.models import ActorType, Flag, FlagStatus
from disputes.auth import buyer_token_issue
from disputes.crypto import seal
from disputes.models import AppealCode, Dispute, DisputeStatus
from disputes.selectors import appeal_blocked_until, buyer_flags
from disputes.services.notices import CONTACT_PURPOSE, dispute_notify_seller
from identity.identifiers import IdentifierKind, digest, normalise_email, redact
from riskhub.errors import ApplicationError, Conflict, NotFound
from riskhub.ratelimit import hit, parse_rate

logger = logging.getLogger(__name__)

CODE_DIGITS = 8


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
    """Mail a one-time code when flags are held about this address; the caller always answers 202.

    1. Rate-limit per email digest and per client IP (429 either way, known address or not).
    2. If the digest belongs to a buyer with flags: replace any earlier code with a fresh one,
       stored hashed, and mail it.
    3. Pad the call to APPEAL_START_MIN_SECONDS so known and unknown addresses take alike long.
    """
    started = time.monotonic()
    digest_ = email_digest(email)
    _limit("start_ip", _ip_key(ip))
    _limit("start_email", digest_)
    if buyer_flags(email_digest=digest_).exists():
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        now = timezone.now()
        with transaction.atomic():
            AppealCode.objects.filter(email_digest=digest_, used_at__isnull=True).update(used_at=now)
            AppealCode.objects.create(
                email_digest=digest_, code_hash=_code_hash(digest_, code), expires_at=now + settings.APPEAL_CODE_TTL
            )
        _send_code(email=email, code=code)
    remaining = settings.APPEAL_START_MIN_SECONDS - (time.monotonic() - started)
    if remaining > 0:
        time.sleep(remaining)


def _send_code(*, email, code):
    minutes = int(settings.APPEAL_CODE_TTL.total_seconds() // 60)
    body = (
        "Someone (we hope you) asked to see and contest what riskhub holds about this email address.\n\n"
        f"Your one-time code: {code}\n\n"
        f"It works once and expires in {minutes} minutes. If you did not ask for it, ignore this message.\n"
    )
    try:
        send_mail("Your riskhub appeal code", body, None, [email])
    except Exception as exc:  # the address may be in the exception text: log the type only
        logger.warning("could not send an appeal code (%s)", exc.__class__.__name__)


def appeal_session(*, email, code, ip):
    """Trade a correct one-time code for a buyer token.

    1. Rate-limit per client IP.
    2. Lock the newest live code of this digest and count the attempt (committed even when wrong).
    3. Wrong: refuse, and burn the code after APPEAL_CODE_MAX_ATTEMPTS. Right: burn it, issue a token.
    """
    _limit("session_ip", _ip_key(ip))
    digest_ = email_digest(email)
    now = timezone.now()
    with transaction.atomic():
        row = (
            AppealCode.objects.select_for_update()
            .filter(email_digest=digest_, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if row is None:
            ok = False
        else:
            row.attempts += 1
            ok = hmac.compare_digest(row.code_hash, _code_hash(digest_, str(code).strip()))
            if ok or row.attempts >= settings.APPEAL_CODE_MAX_ATTEMPTS:
                row.used_at = now
            row.save(update_fields=["attempts", "used_at"])
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

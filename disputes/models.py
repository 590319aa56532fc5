"""Due process: one-time appeal codes and disputes (a buyer's appeal against one flag).

Nothing here holds a raw buyer identifier: codes are keyed by the email's HMAC digest, and the
address the outcome is mailed to is kept only encrypted, and only until that mail is sent.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from blacklist.models import Flag


class AppealCode(models.Model):
    """A one-time code mailed to a buyer; stored only as HMAC(SECRET_KEY, digest:code)."""

    email_digest = models.CharField(max_length=64, db_index=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="appealcode_expires_idx")]

    def __str__(self):
        return f"code for {self.email_digest[:12]}…"


class DisputeStatus(models.TextChoices):
    OPEN = "open"
    UPHELD = "upheld"
    OVERTURNED = "overturned"


class Dispute(models.Model):
    """A buyer's appeal against one flag, the seller's answer, and the admin's outcome.

    The texts live here (not in the audit trail) so the retention purge can remove them with
    the flag; the audit events only point at the dispute by id.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="disputes")
    status = models.CharField(max_length=12, choices=DisputeStatus.choices, default=DisputeStatus.OPEN)
    statement = models.TextField(max_length=2000)
    # The HMAC digest of the verified email that opened the appeal (an id, not an identifier).
    buyer_digest = models.CharField(max_length=64)
    # Fernet ciphertext of that email, for the outcome mail only; emptied once it is sent.
    contact_encrypted = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    seller_notified_at = models.DateTimeField(null=True, blank=True)
    seller_response = models.TextField(max_length=4000, blank=True)
    seller_evidence = models.JSONField(default=list, blank=True)
    seller_responded_at = models.DateTimeField(null=True, blank=True)

    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)

    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=64, blank=True, help_text='"user:<id>" or "key:<id>".')
    resolution_note = models.TextField(max_length=2000, blank=True)
    outcome_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        permissions = [("review_dispute", "Can claim, uphold and overturn disputes")]
        constraints = [
            models.UniqueConstraint(fields=["flag"], condition=Q(status="open"), name="dispute_one_open_per_flag"),
            models.CheckConstraint(
                condition=Q(status__in=["open", "upheld", "overturned"]), name="dispute_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="open", resolved_at__isnull=True)
                | (~Q(status="open") & Q(resolved_at__isnull=False)),
                name="dispute_resolved_iff_closed",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="dispute_queue_idx"),
            models.Index(
                fields=["created_at"],
                name="dispute_seller_unnotified_idx",
                condition=Q(seller_notified_at__isnull=True),
            ),
            models.Index(
                fields=["resolved_at"],
                name="dispute_outcome_unsent_idx",
                condition=Q(resolved_at__isnull=False, outcome_notified_at__isnull=True),
            ),
        ]

    def __str__(self):
        return f"dispute {str(self.pk)[:8]} ({self.status})"

    @property
    def is_open(self):
        return self.status == DisputeStatus.OPEN


class LinkContestStatus(models.TextChoices):
    OPEN = "open"
    SEVERED = "severed"
    REJECTED = "rejected"


class LinkContest(models.Model):
    """A buyer's claim that an identifier linked to their email is not theirs.

    An admin who agrees severs the links that join it to the buyer (identity.LinkSeverance).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    buyer_digest = models.CharField(max_length=64, help_text="HMAC digest of the verified email.")
    identifier = models.ForeignKey("identity.Identifier", on_delete=models.CASCADE, related_name="+")
    statement = models.TextField(max_length=2000)
    status = models.CharField(max_length=12, choices=LinkContestStatus.choices, default=LinkContestStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=64, blank=True)
    resolution_note = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["buyer_digest", "identifier"], condition=Q(status="open"), name="linkcontest_one_open"
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="linkcontest_queue_idx")]

    def __str__(self):
        return f"link contest {str(self.pk)[:8]} ({self.status})"

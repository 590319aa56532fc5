"""Buyer identity: identifiers (kept only as keyed digests), and the buyers they assemble into.

A `Buyer` is not a person on file: it is a connected component of corroborated links between
identifiers (see identity.graph), recomputed whenever the evidence behind a link changes. Its
id may be reused, split or retired by the relink; nothing outside identity and scoring should
hold on to it.
"""

from django.db import models
from django.db.models import F, Q

from identity.identifiers import IdentifierKind


class Buyer(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    # Set in the same transaction as any change to the evidence about this buyer; cleared by the
    # scorer once links and score are recomputed. The sweep re-queues marks older than
    # SCORE_SWEEP_AFTER.
    needs_score_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["needs_score_since"],
                name="identity_buyer_needs_score_idx",
                condition=Q(needs_score_since__isnull=False),
            ),
        ]

    def __str__(self):
        return f"buyer #{self.pk}"


class Identifier(models.Model):
    """A normalised identifier, kept only as HMAC-SHA-256(IDENTIFIER_KEY, kind:value)."""

    # Unique through a constraint, not unique=True: on PostgreSQL that would add a second,
    # varchar_pattern_ops index for LIKE queries nobody makes, written on every new identifier.
    digest = models.CharField(max_length=64)
    kind = models.CharField(max_length=24, choices=IdentifierKind.choices)
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="identifiers")
    # Linked to more than LINK_HUB_LIMIT identifiers of one kind (a parcel locker, a relay
    # email): it still carries the flags that name it, but links nothing. Set by the relink.
    is_hub = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["digest"], name="identifier_digest_unique")]
        indexes = [
            models.Index(fields=["kind"], name="identity_hub_idx", condition=Q(is_hub=True)),
        ]

    def __str__(self):
        return f"{self.kind} {self.digest[:12]}…"


class LinkSeverance(models.Model):
    """An admin's ruling that two identifiers do not belong together.

    A severed pair links nothing, however many sellers assert it, until an admin restores it
    (`restored_at`). Rows are never deleted: they are the pair's history.
    """

    low = models.ForeignKey(Identifier, on_delete=models.CASCADE, related_name="+")
    high = models.ForeignKey(Identifier, on_delete=models.CASCADE, related_name="+")
    severed_at = models.DateTimeField(auto_now_add=True)
    severed_by = models.CharField(max_length=64, help_text='"user:<id>" or "key:<id>".')
    note = models.CharField(max_length=1000, blank=True)
    restored_at = models.DateTimeField(null=True, blank=True)
    restored_by = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(low__lt=F("high")), name="severance_pair_ordered"),
            models.UniqueConstraint(
                fields=["low", "high"], condition=Q(restored_at__isnull=True), name="severance_one_live_per_pair"
            ),
        ]

    def __str__(self):
        state = "restored" if self.restored_at else "severed"
        return f"{self.low_id}–{self.high_id} {state}"

    @property
    def is_live(self):
        return self.restored_at is None

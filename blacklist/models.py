import uuid

from django.db import models
from django.db.models import Q

from identity.models import Identifier


class Seller(models.Model):
    name = models.CharField(max_length=200)
    contact_email = models.EmailField(blank=True, help_text="Where dispute notices are sent.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Seller trust (scoring.trust): how much one voice of this seller weighs in a score.
    trust = models.FloatField(default=0.5)
    trust_details = models.JSONField(default=dict, blank=True)
    trust_computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(trust__gte=0) & Q(trust__lte=1), name="seller_trust_range"),
        ]

    def __str__(self):
        return self.name

    # DRF treats the authenticated principal as a user.
    is_authenticated = True


class ApiKey(models.Model):
    """An API key, stored only as its SHA-256 digest.

    Keys are 256-bit random tokens, so a fast hash is enough: nobody can brute-force the
    preimage, and the decision hot path cannot afford a password hasher.
    """

    seller = models.ForeignKey(Seller, null=True, blank=True, on_delete=models.CASCADE, related_name="keys")
    is_admin = models.BooleanField(default=False)
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, help_text="First characters of the key, to recognise it.")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        constraints = [
            models.CheckConstraint(
                condition=(Q(is_admin=True) & Q(seller__isnull=True)) | (Q(is_admin=False) & Q(seller__isnull=False)),
                name="apikey_admin_xor_seller",
            ),
        ]

    def __str__(self):
        owner = "admin" if self.is_admin else str(self.seller)
        return f"{self.prefix}… ({owner})"


class ReasonKind(models.TextChoices):
    TRUST = "trust"
    LOGISTICS = "logistics"


class Reason(models.Model):
    """A flag reason. Seeded by a migration; weights and time constants are editable data."""

    code = models.SlugField(max_length=40, primary_key=True)
    label = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=ReasonKind.choices)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    weight = models.FloatField(help_text="Risk one fully trusted, fresh seller report adds (0–0.95).")
    half_life_days = models.PositiveIntegerField(help_text="A report weighs half as much after this many days.")
    max_age_days = models.PositiveIntegerField(help_text="Flags older than this expire and stop counting.")
    condition = models.CharField(
        max_length=40, blank=True, help_text="Logistics reasons: the shipping condition they add."
    )
    condition_payment = models.CharField(
        max_length=12, blank=True, help_text='Only add the condition for orders paid this way (e.g. "cod").'
    )

    class Meta:
        ordering = ["position", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(weight__gte=0) & Q(weight__lte=0.95), name="reason_weight_range"),
            models.CheckConstraint(condition=Q(half_life_days__gte=1), name="reason_half_life_positive"),
            models.CheckConstraint(condition=Q(max_age_days__gte=1), name="reason_max_age_positive"),
        ]

    def __str__(self):
        return self.code


class FlagStatus(models.TextChoices):
    ACTIVE = "active"
    RETRACTED = "retracted"
    DISPUTED = "disputed"
    UPHELD = "upheld"
    OVERTURNED = "overturned"
    EXPIRED = "expired"


# Statuses whose flags count towards a score.
COUNTING_STATUSES = (FlagStatus.ACTIVE, FlagStatus.DISPUTED, FlagStatus.UPHELD)


class Flag(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of their own for seller and reason: every query by seller is served by the unique
    # constraint and flag_seller_created_idx (both lead with it), and reasons are filtered with a
    # seller or a status. Each index is written on every flag insert (docs/benchmarks.md).
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="flags", db_index=False)
    # The digests this seller named: the flag counts for a question about any of them, and
    # naming several together is this seller's claim that they are one buyer (a link).
    identifiers = models.ManyToManyField(Identifier, through="FlagIdentifier", related_name="flags")
    # sha256 of the sorted digests: "the same buyer" for idempotency, whatever the links say.
    buyer_key = models.CharField(max_length=64)
    reason = models.ForeignKey(Reason, on_delete=models.PROTECT, related_name="flags", db_index=False)
    order_ref = models.CharField(max_length=64)
    note = models.TextField(max_length=1000, blank=True)
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=12, choices=FlagStatus.choices, default=FlagStatus.ACTIVE)
    status_changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "buyer_key", "reason", "order_ref"], name="flag_one_per_seller_buyer_reason_order"
            ),
        ]
        indexes = [
            models.Index(fields=["seller", "-created_at"], name="flag_seller_created_idx"),
            models.Index(fields=["status", "occurred_at"], name="flag_status_occurred_idx"),
        ]

    def __str__(self):
        return f"{self.reason_id} by {self.seller_id} ({self.status})"

    @property
    def counts(self):
        return self.status in COUNTING_STATUSES


class FlagIdentifier(models.Model):
    """One identifier a flag named. Two rows of one flag are a link its seller asserted."""

    # Both directions are served by the two composite indexes below, not by per-column ones.
    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="+", db_index=False)
    identifier = models.ForeignKey(Identifier, on_delete=models.PROTECT, related_name="+", db_index=False)
    # The flag names more than one identifier, so this row is one end of a link. Most flags name
    # one: the relink finds the links through a partial index over the few rows that are.
    asserts_link = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["flag", "identifier"], name="flagidentifier_unique"),
        ]
        indexes = [
            models.Index(fields=["identifier", "flag"], name="flagidentifier_identifier_idx"),
            models.Index(fields=["identifier"], name="flagidentifier_link_idx", condition=Q(asserts_link=True)),
        ]

    def __str__(self):
        return f"{self.flag_id} names {self.identifier_id}"


class ActorType(models.TextChoices):
    SELLER = "seller"
    ADMIN = "admin"
    BUYER = "buyer"
    SYSTEM = "system"


class AuditEvent(models.Model):
    """Append-only history of every flag's life. Holds ids and statuses only, never identifiers.

    `flag_id` is a plain UUID (no foreign key) so the history outlives retention purges.
    """

    flag_id = models.UUIDField(db_index=True)
    actor_type = models.CharField(max_length=8, choices=ActorType.choices)
    actor_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=20)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    note = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.action} {self.flag_id} by {self.actor_type}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit events are append-only")

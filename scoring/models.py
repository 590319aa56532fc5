from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from blacklist.models import Reason, Seller
from identity.models import Buyer


class BuyerScore(models.Model):
    """The precomputed score a decision reads. Rebuilt from the flags, never incremented.

    `reasons` maps a reason code to its breakdown:
    {"sellers": int, "last_flagged_at": iso, "risk": float 0–1, "fading": float 0–1, "disputed": int}
    """

    buyer = models.OneToOneField(Buyer, primary_key=True, on_delete=models.CASCADE, related_name="score")
    score = models.PositiveSmallIntegerField(default=0)
    reporting_sellers = models.PositiveIntegerField(default=0)
    reasons = models.JSONField(default=dict)
    # Flags on this buyer that no longer count because they expired (by status or by age): the
    # explanation must not call a buyer whose flags all lapsed "never flagged".
    lapsed = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=100), name="score_range"),
        ]

    def __str__(self):
        return f"{self.buyer_id}: {self.score}"


class SellerPolicy(models.Model):
    """A seller's own decision policy; sellers without a row use the defaults."""

    seller = models.OneToOneField(Seller, primary_key=True, on_delete=models.CASCADE, related_name="policy")
    review_at = models.PositiveSmallIntegerField(default=40)
    no_ship_at = models.PositiveSmallIntegerField(default=75)
    own_flags_block = models.BooleanField(default=True)
    # {"<reason code>": "ignore" | "review"}
    reason_overrides = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "seller policies"
        constraints = [
            models.CheckConstraint(condition=Q(no_ship_at__lte=100), name="policy_no_ship_at_range"),
            models.CheckConstraint(condition=Q(review_at__lte=models.F("no_ship_at")), name="policy_thresholds_order"),
        ]

    def __str__(self):
        return f"policy of {self.seller}"

    def clean(self):
        from scoring.policy import OVERRIDE_IGNORE, OVERRIDE_REVIEW

        errors = {}
        if self.review_at is not None and self.no_ship_at is not None and self.review_at > self.no_ship_at:
            errors["review_at"] = "Must not be above no_ship_at."
        overrides = self.reason_overrides
        if not isinstance(overrides, dict):
            errors["reason_overrides"] = 'Use an object: {"<reason code>": "ignore" | "review"}.'
        else:
            codes = set(Reason.objects.values_list("code", flat=True))
            bad = [k for k, v in overrides.items() if k not in codes or v not in (OVERRIDE_IGNORE, OVERRIDE_REVIEW)]
            if bad:
                errors["reason_overrides"] = f"Unknown reason codes or actions: {', '.join(sorted(bad))}."
        if errors:
            raise ValidationError(errors)

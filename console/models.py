"""Who may use the seller console: a Django user belongs to one seller, a seller has several users."""

from django.conf import settings
from django.db import models

from blacklist.models import Seller


class Role(models.TextChoices):
    OWNER = "owner"  # may also manage the seller's members and API keys
    MEMBER = "member"


class Membership(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["seller", "created_at"], name="membership_seller_idx")]

    def __str__(self):
        return f"{self.user} → {self.seller} ({self.role})"

    @property
    def is_owner(self):
        return self.role == Role.OWNER

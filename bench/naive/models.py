from django.db import models


class Seller(models.Model):
    name = models.CharField(max_length=200)
    api_key = models.CharField(max_length=64, unique=True)

    def __str__(self):
        return self.name


class Flag(models.Model):
    """One flag, the buyer's identifiers as the seller sent them (lower-cased email)."""

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE)
    email = models.CharField(max_length=320, blank=True, db_index=True)
    phone = models.CharField(max_length=64, blank=True, db_index=True)
    platform_id = models.CharField(max_length=200, blank=True, db_index=True)
    reason = models.CharField(max_length=64)
    order_ref = models.CharField(max_length=200)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.reason} by {self.seller_id}"

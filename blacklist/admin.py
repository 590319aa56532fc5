"""Admin for sellers, keys, reasons, flags and the audit trail (buyers: identity.admin).

Actions call services; nothing here writes flag state directly.
"""

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count

from blacklist.lifecycle import flag_transition
from blacklist.models import ActorType, ApiKey, AuditEvent, Flag, FlagIdentifier, Reason, Seller
from blacklist.services.keys import api_key_create, api_key_revoke
from riskhub.admin import ReadOnlyAdmin
from riskhub.errors import ApplicationError


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    fields = ("prefix", "name", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Seller)
class SellerAdmin(admin.ModelAdmin):
    list_display = ("name", "contact_email", "is_active", "trust", "flag_count", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "contact_email")
    readonly_fields = ("trust", "trust_details", "trust_computed_at", "created_at")
    inlines = [ApiKeyInline]
    actions = ["issue_key"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_flags=Count("flags"))

    @admin.display(ordering="_flags", description="flags")
    def flag_count(self, obj):
        return obj._flags

    @admin.action(description="Issue a new API key (shown once)")
    def issue_key(self, request, queryset):
        for seller in queryset:
            _, raw = api_key_create(seller=seller, name="admin-issued")
            self.message_user(request, f"New key for {seller.name}: {raw}", messages.WARNING)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("prefix", "seller", "is_admin", "name", "created_at", "last_used_at", "revoked_at")
    list_filter = ("is_admin", "revoked_at")
    search_fields = ("prefix", "name", "seller__name")
    raw_id_fields = ("seller",)
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # keys are created by the seller action or `manage.py create_seller`

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset):
        for key in queryset:
            api_key_revoke(key=key)


@admin.register(Reason)
class ReasonAdmin(admin.ModelAdmin):
    list_display = ("code", "label", "kind", "weight", "half_life_days", "max_age_days", "condition")
    list_editable = ("weight", "half_life_days", "max_age_days")
    ordering = ("position",)

    def has_delete_permission(self, request, obj=None):
        return False


class FlagIdentifierInline(admin.TabularInline):
    """The identifiers the flag named (kind and digest prefix), with the buyer each is part of."""

    model = FlagIdentifier
    extra = 0
    fields = ("identifier", "kind", "buyer")
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = "identifiers named"

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("identifier")

    @admin.display(description="kind")
    def kind(self, obj):
        return obj.identifier.kind

    @admin.display(description="buyer")
    def buyer(self, obj):
        return f"buyer #{obj.identifier.buyer_id}"


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    list_display = ("id", "reason", "seller", "order_ref", "status", "occurred_at", "created_at")
    list_filter = ("status", "reason")
    search_fields = ("=id", "order_ref", "seller__name")
    raw_id_fields = ("seller",)
    inlines = [FlagIdentifierInline]
    readonly_fields = (
        "id",
        "seller",
        "reason",
        "order_ref",
        "occurred_at",
        "created_at",
        "status",
        "status_changed_at",
    )
    list_select_related = ("seller", "reason")
    show_full_result_count = False
    actions = ["expire"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Expire the selected flags")
    def expire(self, request, queryset):
        for flag_id in queryset.values_list("pk", flat=True):
            try:
                with transaction.atomic():
                    flag = Flag.objects.select_for_update().get(pk=flag_id)
                    flag_transition(flag=flag, action="expire", actor_type=ActorType.ADMIN, actor_id=request.user.pk)
            except ApplicationError as exc:
                self.message_user(request, f"{flag_id}: {exc.message}", messages.ERROR)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the audit trail cannot be edited or deleted here."""

    list_display = ("created_at", "flag_id", "action", "from_status", "to_status", "actor_type", "actor_id")
    list_filter = ("action", "actor_type")
    search_fields = ("=flag_id",)
    show_full_result_count = False

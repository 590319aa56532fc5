"""Admin for sellers, keys, reasons, flags and the audit trail (buyers: identity.admin).

Actions call services; nothing here writes flag state directly.
"""

import re

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.http import urlencode

from blacklist.lifecycle import flag_transition
from blacklist.models import ActorType, ApiKey, AuditEvent, Flag, FlagIdentifier, Reason, Seller
from blacklist.selectors import links_of
from blacklist.services.keys import api_key_create, api_key_revoke
from identity.identifiers import identifier_digests
from identity.models import Buyer, Identifier, LinkSeverance
from identity.services import link_restore
from riskhub.admin import ReadOnlyAdmin
from riskhub.errors import ApplicationError

_DIGEST_RE = re.compile(r"[0-9a-f]{64}")


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


# --- buyer identity (models in identity; shown here, where the flags and sellers behind links live)


@admin.register(Buyer)
class BuyerAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "needs_score_since", "identifier_count")
    list_filter = (("needs_score_since", admin.EmptyFieldListFilter),)
    fields = ("id", "created_at", "needs_score_since", "identity_graph")
    readonly_fields = fields
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_identifiers=Count("identifiers"))

    @admin.display(ordering="_identifiers", description="identifiers")
    def identifier_count(self, obj):
        return obj._identifiers

    @admin.display(description="identity graph")
    def identity_graph(self, obj):
        nodes = list(Identifier.objects.filter(buyer=obj).order_by("kind", "pk"))
        sellers = {}
        for node in nodes:
            node.prefix = node.digest[:12]
            node.links = links_of(node.pk)
            sellers.update((pk, None) for link in node.links for pk in link["sellers"])
        names = dict(Seller.objects.filter(pk__in=list(sellers)).values_list("pk", "name"))
        members = {n.pk for n in nodes}
        for node in nodes:
            for link in node.links:
                link["seller_names"] = [names.get(pk, f"#{pk}") for pk in link["sellers"]]
                link["outside"] = link["other"] not in members
        context = {"nodes": nodes, "min_sellers": settings.LINK_MIN_SELLERS, "hub_limit": settings.LINK_HUB_LIMIT}
        return render_to_string("admin/identity/buyer_graph.html", context)


@admin.register(Identifier)
class IdentifierAdmin(ReadOnlyAdmin):
    change_list_template = "admin/hashed_search_change_list.html"

    list_display = ("id", "kind", "digest_prefix", "buyer", "is_hub", "created_at")
    list_filter = ("kind", "is_hub")
    search_fields = ("=digest",)
    search_help_text = "A raw email, phone (international format), platform id, address or payment fingerprint — "
    search_help_text += "hashed on the fly and never stored or put in a URL — or a digest."
    raw_id_fields = ("buyer",)
    show_full_result_count = False

    @admin.display(description="digest")
    def digest_prefix(self, obj):
        return f"{obj.digest[:12]}…"

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "hashed_search_url": reverse("admin:identity_identifier_search")}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        search = self.admin_site.admin_view(self.search_view)
        return [path("search/", search, name="identity_identifier_search"), *super().get_urls()]

    def get_search_results(self, request, queryset, search_term):
        digests = [d for d in search_term.split(",") if _DIGEST_RE.fullmatch(d)]
        return queryset.filter(digest__in=digests), False

    def search_view(self, request):
        """The search box (POST): a raw identifier becomes digests before anything reaches a URL."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        term = request.POST.get("q", "").strip()
        digests = [term] if _DIGEST_RE.fullmatch(term) else identifier_digests(term)
        url = reverse("admin:identity_identifier_changelist")
        return HttpResponseRedirect(f"{url}?{urlencode({'q': ','.join(digests) or '0' * 64})}")


@admin.register(LinkSeverance)
class LinkSeveranceAdmin(ReadOnlyAdmin):
    list_display = ("low", "high", "severed_at", "severed_by", "restored_at", "restored_by", "note")
    list_filter = (("restored_at", admin.EmptyFieldListFilter),)
    raw_id_fields = ("low", "high")
    actions = ["restore"]

    @admin.action(description="Restore the selected links (they may link again)")
    def restore(self, request, queryset):
        for ruling in queryset.filter(restored_at__isnull=True):
            link_restore(a=ruling.low_id, b=ruling.high_id, actor=f"user:{request.user.pk}")

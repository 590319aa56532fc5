"""The dispute review queue in the Django admin.

Read-only pages; every change goes through disputes.services (claim, release, uphold,
overturn), from the actions on the queue or the buttons on a dispute's page.
"""

import re
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode

from disputes.models import Dispute, DisputeStatus, LinkContest
from disputes.selectors import (
    buyer_other_flags,
    flags_about,
    seller_track_record,
)
from disputes.services.links import link_contest_resolve
from disputes.services.notices import seller_notice_failed
from disputes.services.review import dispute_claim, dispute_claim_touch, dispute_release, dispute_resolve
from identity.identifiers import identifier_digests
from identity.models import Identifier
from riskhub.admin import ReadOnlyAdmin
from riskhub.errors import ApplicationError

AGES = {"1d": (None, 1), "1-7d": (1, 7), "7d+": (7, None)}


class AgeFilter(admin.SimpleListFilter):
    title = "age"
    parameter_name = "age"

    def lookups(self, request, model_admin):
        return [("1d", "under a day"), ("1-7d", "1–7 days"), ("7d+", "over 7 days")]

    def queryset(self, request, queryset):
        if self.value() not in AGES:
            return queryset
        now = timezone.now()
        younger, older = AGES[self.value()]
        if younger is not None:
            queryset = queryset.filter(created_at__lte=now - timedelta(days=younger))
        if older is not None:
            queryset = queryset.filter(created_at__gt=now - timedelta(days=older))
        return queryset


class ClaimFilter(admin.SimpleListFilter):
    title = "claim"
    parameter_name = "claim"

    def lookups(self, request, model_admin):
        return [("free", "unclaimed"), ("mine", "claimed by me"), ("others", "claimed by others")]

    def queryset(self, request, queryset):
        live = Q(claimed_by__isnull=False, claimed_at__gt=timezone.now() - _claim_ttl())
        if self.value() == "free":
            return queryset.exclude(live)
        if self.value() == "mine":
            return queryset.filter(live, claimed_by=request.user)
        if self.value() == "others":
            return queryset.filter(live).exclude(claimed_by=request.user)
        return queryset


class SellerNoticeFilter(admin.SimpleListFilter):
    title = "seller notice"
    parameter_name = "notice"

    def lookups(self, request, model_admin):
        return [("failed", "failed (given up)"), ("pending", "pending"), ("sent", "sent")]

    def queryset(self, request, queryset):
        if self.value() == "failed":
            return queryset.filter(notice_failed=True)
        if self.value() == "pending":
            return queryset.filter(seller_notified_at__isnull=True, notice_failed=False)
        if self.value() == "sent":
            return queryset.filter(seller_notified_at__isnull=False)
        return queryset


def _claim_ttl():
    return settings.DISPUTE_CLAIM_TTL


DIGEST_SEARCH = "buyer:"
_DIGEST_RE = re.compile(r"[0-9a-f]{64}")


def _is_uuid(term):
    try:
        uuid.UUID(term)
    except ValueError:
        return False
    return True


def _actor(request):
    return f"user:{request.user.pk}"


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    change_list_template = "admin/hashed_search_change_list.html"

    list_display = (
        "short_id",
        "created_at",
        "age",
        "reason",
        "seller",
        "status",
        "responded",
        "seller_notice",
        "claim_state",
    )
    list_filter = ("status", "flag__reason", AgeFilter, ClaimFilter, SellerNoticeFilter)
    search_fields = ("flag__order_ref",)
    search_help_text = (
        "A buyer's email, phone (international format), platform id or payment fingerprint — hashed on the fly, "
        "never stored — or a dispute id, flag id or order reference."
    )
    ordering = ("created_at", "id")
    list_select_related = ("flag", "flag__seller", "flag__reason", "claimed_by")
    show_full_result_count = False
    list_per_page = 50
    actions = ["claim_selected", "release_selected", "uphold_selected", "overturn_selected"]
    fields = (
        "id",
        "status",
        "flag",
        "created_at",
        "statement",
        "seller_notified_at",
        "seller_response",
        "seller_evidence",
        "seller_responded_at",
        "claimed_by",
        "claimed_at",
        "resolved_at",
        "resolved_by",
        "resolution_note",
        "outcome_notified_at",
    )
    readonly_fields = fields

    # --- permissions: the pages are read-only; reviewing is a permission of its own ----------

    def has_review_permission(self, request):
        return request.user.has_perm("disputes.review_dispute")

    # --- the queue ------------------------------------------------------------------------

    @admin.display(description="dispute", ordering="created_at")
    def short_id(self, obj):
        return str(obj.pk)[:8]

    @admin.display(description="age")
    def age(self, obj):
        days = (timezone.now() - obj.created_at).days
        return f"{days} d" if days else "today"

    @admin.display(description="reason", ordering="flag__reason")
    def reason(self, obj):
        return obj.flag.reason_id

    @admin.display(description="seller", ordering="flag__seller__name")
    def seller(self, obj):
        return obj.flag.seller.name

    @admin.display(description="seller answered", boolean=True)
    def responded(self, obj):
        return obj.seller_responded_at is not None

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(notice_failed=seller_notice_failed())

    @admin.display(description="seller notice")
    def seller_notice(self, obj):
        if obj.seller_notified_at is not None:
            return "sent"
        return "FAILED" if obj.notice_failed else "pending"

    @admin.display(description="claim")
    def claim_state(self, obj):
        if obj.claimed_by_id and obj.claimed_at and timezone.now() - obj.claimed_at < _claim_ttl():
            return str(obj.claimed_by)
        return "—"

    def get_search_results(self, request, queryset, search_term):
        """Search by buyer identifier (digested here, as at the API), dispute/flag id or order ref.

        `buyer:<digest>,…` searches by digests: the search box posts its term to `search_view`,
        which redirects here with digests, so a raw identifier never lands in a URL (or an
        access log, or the browser history).
        """
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.startswith(DIGEST_SEARCH):
            digests = [d for d in term[len(DIGEST_SEARCH) :].split(",") if _DIGEST_RE.fullmatch(d)]
            return queryset.filter(flag_id__in=flags_about(digests=digests)), False
        condition = Q(flag__order_ref=term)
        if _is_uuid(term):
            condition |= Q(pk=term) | Q(flag_id=term)
        digests = identifier_digests(term)
        if digests:
            condition |= Q(flag_id__in=flags_about(digests=digests))
        return queryset.filter(condition), False

    # --- actions (through the services) ----------------------------------------------------

    def _each(self, request, queryset, verb, call):
        done = 0
        for dispute_id in queryset.values_list("pk", flat=True):
            try:
                call(dispute_id)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{str(dispute_id)[:8]}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, f"{verb} {done} dispute{'s' if done != 1 else ''}.", messages.SUCCESS)

    @admin.action(description="Claim the selected disputes", permissions=["review"])
    def claim_selected(self, request, queryset):
        self._each(request, queryset, "Claimed", lambda pk: dispute_claim(dispute_id=pk, user=request.user))

    @admin.action(description="Release my claim on the selected disputes", permissions=["review"])
    def release_selected(self, request, queryset):
        self._each(request, queryset, "Released", lambda pk: dispute_release(dispute_id=pk, user=request.user))

    @admin.action(description="Uphold the selected disputes (keep the flags)…", permissions=["review"])
    def uphold_selected(self, request, queryset):
        return self._resolve_selected(request, queryset, DisputeStatus.UPHELD)

    @admin.action(description="Overturn the selected disputes (the flags stop counting)…", permissions=["review"])
    def overturn_selected(self, request, queryset):
        return self._resolve_selected(request, queryset, DisputeStatus.OVERTURNED)

    def _resolve_selected(self, request, queryset, outcome):
        """First ask for the note (an intermediate page), then resolve each dispute."""
        if request.POST.get("confirm") == "yes":
            note = request.POST.get("note", "")[:2000]
            self._each(
                request,
                queryset,
                outcome.capitalize(),
                lambda pk: dispute_resolve(
                    dispute_id=pk, outcome=outcome, note=note, actor_id=_actor(request), user=request.user
                ),
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"{'Uphold' if outcome == DisputeStatus.UPHELD else 'Overturn'} disputes",
            "opts": self.model._meta,
            "disputes": queryset.select_related("flag"),
            "action": request.POST.get("action"),
            "outcome": outcome,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/disputes/dispute/resolve_selected.html", context)

    # --- the dispute's page --------------------------------------------------------------------

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "hashed_search_url": reverse("admin:disputes_dispute_search")}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        review = self.admin_site.admin_view(self.review_view)
        search = self.admin_site.admin_view(self.search_view)
        return [
            path("<uuid:dispute_id>/review/", review, name="disputes_dispute_review"),
            path("search/", search, name="disputes_dispute_search"),
            *super().get_urls(),
        ]

    def search_view(self, request):
        """The search box (POST): turn a buyer identifier into digests before it reaches a URL.

        Dispute / flag ids and order references of disputed flags are searched as typed; any
        other term is taken for a buyer identifier and only the digests of known identifiers
        are passed on (none known: a digest that matches nothing).
        """
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        term = request.POST.get("q", "").strip()
        url = reverse("admin:disputes_dispute_changelist")
        if not term:
            return HttpResponseRedirect(url)
        if _is_uuid(term) or Dispute.objects.filter(flag__order_ref=term).exists():
            query = term
        else:
            digests = identifier_digests(term)
            known = sorted(set(Identifier.objects.filter(digest__in=digests).values_list("digest", flat=True)))
            query = DIGEST_SEARCH + ",".join(known or digests[:1] or ["0" * 64])
        return HttpResponseRedirect(f"{url}?{urlencode({'q': query})}")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        dispute = self.get_object(request, object_id)
        if dispute is not None:
            if dispute_claim_touch(dispute_id=dispute.pk, user=request.user):
                dispute.refresh_from_db(fields=["claimed_at"])
            live_claim = (
                dispute.claimed_by_id is not None
                and dispute.claimed_at is not None
                and timezone.now() - dispute.claimed_at < _claim_ttl()
            )
            mine = live_claim and dispute.claimed_by_id == request.user.pk
            extra_context["review"] = {
                "dispute": dispute,
                "flag": dispute.flag,
                "seller": dispute.flag.seller,
                "track": seller_track_record(seller=dispute.flag.seller),
                "other_flags": list(buyer_other_flags(dispute=dispute)[:50]),
                "claimed": live_claim,
                "claimed_by_me": mine,
                "can_act": dispute.is_open and self.has_review_permission(request) and (mine or not live_claim),
                "action_url": reverse("admin:disputes_dispute_review", args=[dispute.pk]),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def review_view(self, request, dispute_id):
        """The buttons on a dispute's page: claim, release, uphold, overturn (POST)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_review_permission(request):
            raise PermissionDenied
        step = request.POST.get("step")
        note = request.POST.get("note", "")[:2000]
        calls = {
            "claim": lambda: dispute_claim(dispute_id=dispute_id, user=request.user),
            "release": lambda: dispute_release(dispute_id=dispute_id, user=request.user),
            DisputeStatus.UPHELD.value: lambda: dispute_resolve(
                dispute_id=dispute_id,
                outcome=DisputeStatus.UPHELD,
                note=note,
                actor_id=_actor(request),
                user=request.user,
            ),
            DisputeStatus.OVERTURNED.value: lambda: dispute_resolve(
                dispute_id=dispute_id,
                outcome=DisputeStatus.OVERTURNED,
                note=note,
                actor_id=_actor(request),
                user=request.user,
            ),
        }
        if step not in calls:
            self.message_user(request, "Unknown step.", messages.ERROR)
        else:
            try:
                dispute = calls[step]()
                done = {"claim": "claimed", "release": "released"}.get(step, step)
                self.message_user(request, f"Dispute {str(dispute.pk)[:8]} {done}.", messages.SUCCESS)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
        return HttpResponseRedirect(reverse("admin:disputes_dispute_change", args=[dispute_id]))


@admin.register(LinkContest)
class LinkContestAdmin(ReadOnlyAdmin):
    """Buyers' claims that an identifier linked to their email is not theirs."""

    list_display = ("id", "created_at", "status", "identifier", "kind", "resolved_at", "resolved_by")
    list_filter = ("status",)
    list_select_related = ("identifier",)
    fields = ("id", "status", "identifier", "statement", "created_at", "resolved_at", "resolved_by", "resolution_note")
    readonly_fields = fields
    ordering = ("created_at", "id")
    actions = ["sever_selected", "reject_selected"]

    @admin.display(description="kind")
    def kind(self, obj):
        return obj.identifier.kind

    def _resolve(self, request, queryset, outcome):
        for contest_id in queryset.values_list("pk", flat=True):
            try:
                link_contest_resolve(contest_id=contest_id, outcome=outcome, actor=_actor(request))
            except ApplicationError as exc:
                self.message_user(request, f"{str(contest_id)[:8]}: {exc.message}", messages.ERROR)

    @admin.action(description="Agree: sever the contested links")
    def sever_selected(self, request, queryset):
        self._resolve(request, queryset, "severed")

    @admin.action(description="Reject the selected contests")
    def reject_selected(self, request, queryset):
        self._resolve(request, queryset, "rejected")

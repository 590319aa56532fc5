"""The seller's settings: decision policy, API keys, members."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from blacklist.services.keys import api_key_create, api_key_revoke
from console.forms import ApiKeyForm, ConfirmForm, MemberForm, PolicyForm
from console.selectors import api_keys_of, members_of
from console.services import member_invite, member_remove
from console.views.common import owner_required, posted, seller_required
from riskhub.errors import ApplicationError
from scoring.selectors import policy_of
from scoring.services import policy_update


@seller_required
@require_http_methods(["GET", "POST"])
def policy(request):
    form = PolicyForm(posted(request), initial=PolicyForm.initial_from(policy_of(seller=request.seller)))
    if request.method == "POST" and form.is_valid():
        policy_update(seller=request.seller, **form.cleaned_data["policy"])
        messages.success(request, _("Policy saved. It applies to your decisions only."))
        return redirect("console:policy")
    return render(request, "console/seller/policy.html", {"form": form}, status=400 if form.errors else 200)


@owner_required
@require_http_methods(["GET", "POST"])
def keys(request):
    form, new_key = ApiKeyForm(posted(request)), None
    if request.method == "POST" and form.is_valid():
        # Shown in this response only; only its digest is stored.
        key, raw = api_key_create(seller=request.seller, name=form.cleaned_data["name"])
        new_key, form = {"key": key, "raw": raw}, ApiKeyForm()
    context = {"form": form, "keys": api_keys_of(seller=request.seller), "new_key": new_key}
    return render(request, "console/seller/keys.html", context, status=400 if form.errors else 200)


@owner_required
@require_http_methods(["GET", "POST"])
def key_revoke(request, key_id):
    key = api_keys_of(seller=request.seller).filter(pk=key_id, revoked_at__isnull=True).first()
    if key is None:
        raise Http404
    form = ConfirmForm(posted(request))
    if request.method == "POST" and form.is_valid():
        api_key_revoke(key=key)
        messages.success(request, _("Key %(prefix)s… revoked.") % {"prefix": key.prefix})
        return redirect("console:keys")
    return render(request, "console/seller/key_revoke.html", {"key": key, "form": form})


@seller_required
@require_http_methods(["GET", "POST"])
def members(request):
    form = MemberForm(posted(request))
    if request.method == "POST":
        if not request.membership.is_owner:
            return render(request, "console/owner_only.html", status=403)
        if form.is_valid():
            try:
                member_invite(seller=request.seller, request=request, **form.cleaned_data)
            except ApplicationError as exc:
                form.add_error("email", exc.message)
            else:
                messages.success(request, _("Invitation sent: they choose their password from the email."))
                return redirect("console:members")
    context = {"form": form, "members": members_of(seller=request.seller)}
    return render(request, "console/seller/members.html", context, status=400 if form.errors else 200)


@owner_required
@require_http_methods(["POST"])
def member_remove_view(request, membership_id):
    try:
        member_remove(seller=request.seller, membership_id=membership_id, by=request.user)
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404 from None
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Member removed."))
    return redirect("console:members")

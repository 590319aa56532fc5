"""The buyer's page: no account, an emailed one-time code, then the flags and the appeal.

The buyer token from `appeal_session` (sealed, short-lived; see disputes.auth) is kept in an
HttpOnly cookie scoped to /buyer/: nothing about the buyer is stored server-side, and the email
address travels only in POST bodies.
"""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.exceptions import AuthenticationFailed

from console.forms import AppealForm, BuyerCodeForm, BuyerEmailForm
from console.views.common import posted
from disputes.auth import buyer_token_read
from disputes.selectors import buyer_flags, buyer_links, flag_appealable
from disputes.services.appeals import appeal_create, appeal_session, appeal_start
from disputes.services.links import link_contest_open
from disputes.tasks import appeal_code_send_later
from riskhub.clientip import client_ip
from riskhub.errors import ApplicationError

COOKIE = "rh_buyer"
COOKIE_PATH = "/buyer/"


def buyer_required(view):
    """The buyer the cookie's token stands for is `request.buyer`; none or expired → start page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            request.buyer = buyer_token_read(request.COOKIES.get(COOKIE, ""))
        except AuthenticationFailed:
            messages.info(request, _("Your session has ended. Ask for a new code to continue."))
            response = redirect("buyer:start")
            response.delete_cookie(COOKIE, path=COOKIE_PATH)
            return response
        return view(request, *args, **kwargs)

    return never_cache(wrapper)


@never_cache
@require_http_methods(["GET", "POST"])
def start(request):
    """Ask for a code. The answer is the same whether or not anything is held about the address."""
    form = BuyerEmailForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            # As the API does: rate-limit here, look up and mail in the worker (disputes.tasks).
            appeal_code_send_later(appeal_start(email=form.cleaned_data["email"], ip=client_ip(request)))
        except ApplicationError as exc:
            return _retry_later(request, form, exc)
        code_form = BuyerCodeForm(initial={"email": form.cleaned_data["email"]})
        return render(request, "console/buyer/code.html", {"form": code_form})
    return render(request, "console/buyer/start.html", {"form": form}, status=400 if form.errors else 200)


def _retry_later(request, form, exc):
    if exc.status != 429:
        form.add_error(None, exc.message)
        return render(request, "console/buyer/start.html", {"form": form}, status=exc.status)
    form.add_error(None, _("Too many requests. Please wait a while and try again."))
    response = render(request, "console/buyer/start.html", {"form": form}, status=429)
    for name, value in exc.headers.items():
        response[name] = value
    return response


@never_cache
@require_POST
def code(request):
    """Trade the code for a buyer token, kept in a cookie that only /buyer/ pages receive."""
    form = BuyerCodeForm(request.POST)
    if form.is_valid():
        try:
            token = appeal_session(
                email=form.cleaned_data["email"], code=form.cleaned_data["code"], ip=client_ip(request)
            )
        except ApplicationError as exc:
            message = (
                _("Too many attempts. Please wait and try again.")
                if exc.status == 429
                else _("The code is wrong, used up or expired. Check it, or ask for a new one.")
            )
            form.add_error("code", message)
        else:
            response = redirect("buyer:flags")
            response.set_cookie(
                COOKIE,
                token,
                max_age=int(settings.APPEAL_TOKEN_TTL.total_seconds()),
                path=COOKIE_PATH,
                secure=request.is_secure() or settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
            return response
    return render(request, "console/buyer/code.html", {"form": form}, status=400)


@buyer_required
def flags(request):
    held = list(buyer_flags(email_digest=request.buyer.email_digest))
    for flag in held:
        flag.appealable = flag_appealable(flag)
    context = {
        "flags": held,
        "links": buyer_links(email_digest=request.buyer.email_digest),
        "token_minutes": int(settings.APPEAL_TOKEN_TTL.total_seconds() // 60),
        "review_days": settings.APPEAL_REVIEW_TARGET_DAYS,
    }
    return render(request, "console/buyer/flags.html", context)


@buyer_required
@require_http_methods(["GET", "POST"])
def contest(request, flag_id):
    flag = buyer_flags(email_digest=request.buyer.email_digest).filter(pk=flag_id).first()
    if flag is None:
        raise Http404
    appealable, status = flag_appealable(flag), 200
    form = AppealForm(posted(request))
    if request.method == "POST" and not appealable:
        status = 409
    elif request.method == "POST" and form.is_valid():
        try:
            appeal_create(buyer=request.buyer, flag_id=flag.pk, statement=form.cleaned_data["statement"])
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            status = exc.status
        else:
            messages.success(request, _("Your appeal was received. We will email you the outcome."))
            return redirect("buyer:flags")
    elif request.method == "POST":
        status = 400
    context = {"flag": flag, "form": form, "appealable": appealable, "review_days": settings.APPEAL_REVIEW_TARGET_DAYS}
    return render(request, "console/buyer/contest.html", context, status=status)


@buyer_required
@require_http_methods(["GET", "POST"])
def link_contest(request, identifier_id):
    """ "This is not mine": contest an identifier linked to the buyer's email (disputes.services.links)."""
    link = next((x for x in buyer_links(email_digest=request.buyer.email_digest) if x["id"] == identifier_id), None)
    if link is None:
        raise Http404
    form, status = AppealForm(posted(request)), 200
    if request.method == "POST" and form.is_valid():
        try:
            link_contest_open(
                buyer=request.buyer, identifier_id=identifier_id, statement=form.cleaned_data["statement"]
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            status = exc.status
        else:
            messages.success(request, _("We received your request. We will review the link and email you."))
            return redirect("buyer:flags")
    elif request.method == "POST":
        status = 400
    context = {"link": link, "form": form, "review_days": settings.APPEAL_REVIEW_TARGET_DAYS}
    return render(request, "console/buyer/link_contest.html", context, status=status)


@require_POST
def sign_out(request):
    response = redirect(reverse("buyer:start"))
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response

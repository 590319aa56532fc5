"""What every console page needs: a signed-in user of a seller, and no caching of answers."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from console.selectors import membership_of
from riskhub.errors import ApplicationError
from riskhub.ratelimit import scope_hit


def seller_required(view):
    """Signed in and a member of a seller: `request.seller` and `request.membership` are set.

    Every console read and write is scoped by `request.seller`, never by anything in the request,
    so one seller's user cannot reach another seller's data. Pages are never cached: they show
    decisions, flags and keys.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        membership = membership_of(request.user)
        if membership is None or not membership.seller.is_active:
            return render(request, "console/no_seller.html", status=403)
        request.membership, request.seller = membership, membership.seller
        return view(request, *args, **kwargs)

    return never_cache(login_required(wrapper))


def owner_required(view):
    """Like seller_required, for pages that manage the seller's members and keys."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.membership.is_owner:
            return render(request, "console/owner_only.html", status=403)
        return view(request, *args, **kwargs)

    return seller_required(wrapper)


def posted(request):
    """The POST data to bind a form to, even an empty POST (`request.POST or None` would leave
    the form unbound, and an empty submission would pass for a first visit)."""
    return request.POST if request.method == "POST" else None


PAGE_SIZE = 25


def page_of(request, items):
    """One page of `items` (?page=N; a bad or missing N gives the first or last page)."""
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


def over_limit(request, scope):
    """None, or the 429 error when this user is over the API's `scope` rate (settings.RATE_LIMITS):
    the console counts per user what the API counts per key, with the same limiter."""
    try:
        scope_hit(scope, ident=f"user:{request.user.pk}")
    except ApplicationError as exc:
        return exc
    return None


def render_form(request, template, context, *, form, error=None):
    """Render a form page: 200, 400 with form errors, or the service error's own status (and
    headers, e.g. Retry-After), shown on the form."""
    status = 400 if form.errors else 200
    if error is not None:
        form.add_error(None, error.message)
        status = error.status
    response = render(request, template, context, status=status)
    for name, value in (getattr(error, "headers", None) or {}).items():
        response[name] = value
    return response

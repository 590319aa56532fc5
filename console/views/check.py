"""Check a buyer (the decision card) and flag a buyer. Identifiers come in POST bodies only."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from blacklist.services.flags import flag_submit
from console.forms import IDENTIFIER_FIELDS, CheckForm, FlagForm
from console.views.common import over_limit, posted, render_form, seller_required
from riskhub.errors import ApplicationError
from scoring.policy import MIN_SELLERS_FOR_NO_SHIP
from scoring.rules import rules_cached
from scoring.selectors import decision_for
from scoring.views import decision_body


def card_from(body):
    """The API's decision body, with what a person needs to read it: labels for own flags."""
    rules = rules_cached()
    own = [{**f, "label": rules[f["reason"]].label if f["reason"] in rules else f["reason"]} for f in body["own_flags"]]
    return {
        **body,
        "own_flags": own,
        "disputed": sum(r["disputed"] for r in body["reasons"]),
        "min_sellers": MIN_SELLERS_FOR_NO_SHIP,
        "computed_at": parse_datetime(body["score_computed_at"]) if body["score_computed_at"] else None,
    }


@seller_required
@require_http_methods(["GET", "POST"])
def check(request):
    card, form, error = None, CheckForm(posted(request)), None
    if request.method == "POST" and form.is_valid():
        error = over_limit(request, "decisions")
        if error is None:
            decision, own_flags, score_row = decision_for(
                seller=request.seller, identifiers=form.cleaned_data["identifiers"], order=form.order()
            )
            card = card_from(decision_body(decision, own_flags, score_row))
    # The answer is rendered in the POST's own response (no redirect): the identifiers never
    # travel in a URL, and the form keeps them for "flag this buyer".
    return render_form(request, "console/seller/check.html", {"form": form, "card": card}, form=form, error=error)


@seller_required
@require_http_methods(["GET", "POST"])
def flag(request):
    if request.method == "POST" and "prefill" in request.POST:
        # From the decision card: start the flag form with the identifiers just checked.
        keep = [*IDENTIFIER_FIELDS, "country"]
        form = FlagForm(initial={k: request.POST.get(k, "") for k in keep})
    elif request.method == "POST":
        form = FlagForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if error := over_limit(request, "flags"):
                    raise error
                flag, created = flag_submit(
                    seller=request.seller,
                    identifiers=data["identifiers"],
                    reason=data["reason"],
                    order_ref=data["order_ref"],
                    occurred_at=form.occurred_at(),
                    note=data["note"],
                )
            except ApplicationError as exc:
                return render_form(request, "console/seller/flag.html", {"form": form}, form=form, error=exc)
            if created:
                messages.success(request, _("Flag recorded for order %(ref)s.") % {"ref": flag.order_ref})
            else:
                messages.info(request, _("You had already flagged this order for this reason."))
            return redirect("console:flags")
    else:
        form = FlagForm()
    return render_form(request, "console/seller/flag.html", {"form": form}, form=form)

"""The seller's own flags: list with filters and pages, retract with confirmation."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from blacklist.models import FlagStatus
from blacklist.selectors import flags_of
from blacklist.services.flags import flag_retract
from console.forms import FlagFilterForm, RetractForm
from console.views.common import posted, seller_required
from disputes.models import DisputeStatus
from disputes.selectors import disputes_of
from riskhub.errors import ApplicationError

PAGE_SIZE = 25


def page_of(request, items):
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


@seller_required
def flag_list(request):
    filters = FlagFilterForm(request.GET or None, statuses=FlagStatus.values)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    flags = flags_of(
        seller=request.seller, reason=chosen.get("reason") or None, status=chosen.get("status") or None
    ).select_related("reason")
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filters": filters, "page": page_of(request, flags), "query": query.urlencode()}
    return render(request, "console/seller/flags.html", context)


@seller_required
@require_http_methods(["GET", "POST"])
def flag_retract_view(request, flag_id):
    flag = flags_of(seller=request.seller).filter(pk=flag_id).select_related("reason").first()
    if flag is None:
        raise Http404
    form = RetractForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            flag_retract(seller=request.seller, flag_id=flag.pk)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Flag for order %(ref)s retracted.") % {"ref": flag.order_ref})
        return redirect("console:flags")
    return render(request, "console/seller/retract.html", {"flag": flag, "form": form})


@seller_required
def dispute_list(request):
    status = request.GET.get("status")
    disputes = disputes_of(seller=request.seller, status=status if status in DisputeStatus.values else None)
    context = {
        "page": page_of(request, disputes.select_related("flag__reason")),
        "status": status,
        "statuses": DisputeStatus.values,
        "query": f"status={status}" if status in DisputeStatus.values else "",
    }
    return render(request, "console/seller/disputes.html", context)

"""The seller's own flags: list with filters and pages, retract with confirmation."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from blacklist.models import FlagStatus
from blacklist.selectors import flags_of
from blacklist.services.flags import flag_retract
from console.forms import FlagFilterForm, RetractForm
from console.views.common import page_of, posted, seller_required
from riskhub.errors import ApplicationError


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

"""Disputes on the seller's flags: read the buyer's statement, answer with evidence."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from console.forms import DisputeResponseForm
from console.views.common import page_of, posted, seller_required
from disputes.models import DisputeStatus
from disputes.selectors import disputes_of
from disputes.services.responses import dispute_respond
from riskhub.errors import ApplicationError


@seller_required
@require_http_methods(["GET", "POST"])
def dispute_detail(request, dispute_id):
    dispute = disputes_of(seller=request.seller).filter(pk=dispute_id).select_related("flag__reason").first()
    if dispute is None:
        raise Http404
    initial = {"response": dispute.seller_response, "evidence": "\n".join(dispute.seller_evidence or [])}
    form = DisputeResponseForm(posted(request), initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            dispute_respond(
                seller=request.seller,
                dispute_id=dispute.pk,
                response=form.cleaned_data["response"],
                evidence=form.cleaned_data["evidence"],
            )
        except ApplicationError as exc:  # e.g. reviewed meanwhile (409): the page shows the outcome
            messages.error(request, exc.message)
            status = exc.status
            dispute.refresh_from_db()
        else:
            messages.success(request, _("Your answer was recorded; a reviewer will read it."))
            return redirect("console:dispute", dispute_id=dispute.pk)
    elif request.method == "POST":
        status = 400
    return render(request, "console/seller/dispute.html", {"dispute": dispute, "form": form}, status=status)


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

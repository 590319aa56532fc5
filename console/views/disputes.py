"""Disputes on the seller's flags: read the buyer's statement, answer with evidence."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from console.forms import DisputeResponseForm
from console.views.common import posted, seller_required
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
    if request.method == "POST" and form.is_valid():
        try:
            dispute_respond(
                seller=request.seller,
                dispute_id=dispute.pk,
                response=form.cleaned_data["response"],
                evidence=form.cleaned_data["evidence"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Your answer was recorded; a reviewer will read it."))
            return redirect("console:dispute", dispute_id=dispute.pk)
    status = 400 if form.errors else 200
    return render(request, "console/seller/dispute.html", {"dispute": dispute, "form": form}, status=status)

"""The naive design's two endpoints: a key looked up per request, the body parsed by the standard
library, one `bulk_create` per batch, one aggregate per decision."""

import functools
import json

from django.db.models import Count, Q
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from naive.models import Flag, Seller

# The reasons that stop a shipment outright; any other flag asks for a review.
NO_SHIP_REASONS = {"extortion", "card_fraud", "refund_abuse"}


def keyed(view):
    """A POST endpoint for the seller whose Bearer key the request carries (401 without one)."""

    @csrf_exempt
    @require_POST
    @functools.wraps(view)
    def wrapped(request):
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        seller = Seller.objects.filter(api_key=key).first()
        if seller is None:
            return JsonResponse({"error": "unauthenticated"}, status=401)
        return view(request, seller)

    return wrapped


def flag_row(seller, item):
    buyer = item.get("buyer") or {}
    return Flag(
        seller=seller,
        email=(buyer.get("email") or "").lower(),
        phone=buyer.get("phone") or "",
        platform_id=buyer.get("platform_id") or "",
        reason=item["reason"],
        order_ref=item["order_ref"],
        note=item.get("note") or "",
    )


@keyed
def flags_batch(request, seller):
    items = json.loads(request.body)["flags"]
    flags = Flag.objects.bulk_create([flag_row(seller, item) for item in items])
    return JsonResponse({"results": [{"status": 201, "id": flag.pk} for flag in flags]})


@keyed
def decision(request, seller):
    buyer = json.loads(request.body).get("buyer") or {}
    match = Q()
    for column in ("email", "phone", "platform_id"):
        if value := buyer.get(column):
            match |= Q(**{column: value.lower() if column == "email" else value})
    if not match:
        return JsonResponse({"error": "no identifier"}, status=400)
    reasons = dict(
        Flag.objects.filter(match)
        .values("reason")
        .annotate(sellers=Count("seller", distinct=True))
        .values_list("reason", "sellers")
    )
    if any(reason in NO_SHIP_REASONS for reason in reasons):
        answer = "no_ship"
    elif reasons:
        answer = "review"
    else:
        answer = "ship"
    return JsonResponse({"decision": answer, "reasons": reasons})


def ready(request):
    """The bench waits for this before loading (it touches the database, as riskhub's /readyz does)."""
    Seller.objects.exists()
    return JsonResponse({"status": "ok"})

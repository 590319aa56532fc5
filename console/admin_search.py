"""Search the admin's flag list by a raw buyer identifier, hashed on the fly.

The flag list's search box posts here (POST: the term never lands in a URL, an access log or
the browser history). A flag id or an order reference is searched as typed; anything else is
read as a buyer identifier, digested as the API does, and the list is filtered to the flags
naming any identifier of the buyers those digests belong to — by internal identifier ids.
"""

import uuid

from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from blacklist.models import Flag
from identity.identifiers import identifier_digests
from identity.models import Identifier


def _is_uuid(term):
    try:
        uuid.UUID(term)
    except ValueError:
        return False
    return True


@require_POST
def flag_search(request):
    if not request.user.has_perm("blacklist.view_flag"):
        raise PermissionDenied
    term = request.POST.get("q", "").strip()[:500]
    url = reverse("admin:blacklist_flag_changelist")
    if not term:
        return HttpResponseRedirect(url)
    if _is_uuid(term) or Flag.objects.filter(order_ref=term).exists():
        return HttpResponseRedirect(f"{url}?{urlencode({'q': term})}")
    digests = identifier_digests(term)
    ids = Identifier.objects.filter(buyer__identifiers__digest__in=digests).values_list("pk", flat=True).distinct()
    found = ",".join(str(pk) for pk in sorted(ids)) or "0"  # 0: no identifier, an empty list
    return HttpResponseRedirect(f"{url}?{urlencode({'identifiers__in': found})}")

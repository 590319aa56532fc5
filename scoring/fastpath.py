"""The lean path for POST /api/v1/decisions, the one endpoint every seller calls per order.

DRF's dispatch (wrapping the request, content negotiation, the authenticator/permission/throttle
objects, the parser negotiation) cost about as much CPU as the decision itself. For an ordinary
request — a POST with a JSON body, nothing in the query string, an Accept header that can only mean
JSON, a seller's Bearer key — `lean_post` runs the same mechanisms directly, in DRF's order:

    key_authenticate (blacklist.auth) → scope_hit (riskhub.ratelimit) → LimitedJSONParser
    (riskhub.parsers) → the view's answer → the response finalised by DRF's own finalize_response,
    errors rendered by riskhub.errors.exception_handler.

Anything else returns None before any side effect, and the view falls back to DRF's full dispatch:
other methods (405), other content types (415) or empty bodies, unusual Accept headers (406),
missing, malformed or bad keys (401 with WWW-Authenticate) and admin keys (403). A failed key
lookup writes nothing, so handing it on to DRF repeats no side effect.
"""

from django.http import HttpResponse
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header
from rest_framework.renderers import JSONRenderer

from blacklist.auth import key_authenticate
from riskhub.errors import exception_handler
from riskhub.parsers import LimitedJSONParser
from riskhub.ratelimit import scope_hit

# Accept headers for which DRF's negotiation picks JSONRenderer with the plain "application/json"
# media type (no parameters such as `indent`, which would change the rendering).
_PLAIN_ACCEPT = frozenset({"", "*/*", "application/json"})
_RENDERER = JSONRenderer()
_PARSER = LimitedJSONParser()


def lean_post(view, request, *, answer):
    """The response to an ordinary POST to `view`, or None to let DRF dispatch the request.

    `answer(seller=, data=)` turns the parsed JSON body into the response data; it may raise
    anything riskhub.errors.exception_handler renders (ValidationError, ApplicationError, ...).
    """
    meta = request.META
    if (
        request.method != "POST"
        or meta.get("CONTENT_TYPE") != "application/json"
        or meta.get("QUERY_STRING")  # ?format= is DRF content negotiation
        or meta.get("HTTP_ACCEPT", "").strip() not in _PLAIN_ACCEPT
        or not _has_body(meta)
    ):
        return None
    try:
        authenticated = key_authenticate(header=get_authorization_header(request))
    except exceptions.AuthenticationFailed:
        return None
    if authenticated is None:
        return None
    seller, key = authenticated
    if key.is_admin or seller is None:
        return None
    try:
        scope_hit(view.throttle_scope, ident=key.pk)
        body = answer(seller=seller, data=_PARSER.parse(request))
    except Exception as exc:
        return _error_response(view, request, exc)
    # What DRF's Response + finalize_response produce for this data, without the template
    # response machinery: the same renderer, content type and view headers (`Allow`).
    response = HttpResponse(_RENDERER.render(body), content_type=_RENDERER.media_type)
    for name, value in view.default_response_headers.items():
        response[name] = value
    return response


def _error_response(view, request, exc):
    """The error envelope for `exc`, exactly as DRF's dispatch renders it (riskhub.errors)."""
    response = exception_handler(exc, {"view": view, "request": request})
    if response is None:
        raise exc  # unexpected: Django's 500 handler answers, as behind DRF
    response.exception = True
    view.args, view.kwargs, view.request = (), {}, request
    view.headers = view.default_response_headers
    request.accepted_renderer, request.accepted_media_type = _RENDERER, _RENDERER.media_type
    return view.finalize_response(request, response)


def _has_body(meta):
    try:
        return int(meta.get("CONTENT_LENGTH") or 0) > 0
    except ValueError:
        return False

"""One error envelope for every 4xx/5xx under /api/.

    {"error": {"code": "validation_error", "message": "...", "details": {...}}}

Domain code raises `ApplicationError` (or a subclass) with a stable `code`; DRF's own exceptions
are mapped to the same shape by `exception_handler`.
"""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message, *, code=None, status=None, details=None, headers=None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.details = details
        self.headers = headers or {}

    def as_dict(self):
        return error_body(self.code, self.message, self.details)


class NotFound(ApplicationError):
    status = 404
    code = "not_found"


class Conflict(ApplicationError):
    status = 409
    code = "conflict"


class PayloadTooLarge(ApplicationError):
    status = 413
    code = "payload_too_large"

    def __init__(self, message=None, **kwargs):
        super().__init__(message or f"The request body is larger than {settings.MAX_REQUEST_BYTES} bytes.", **kwargs)


class TemporarilyUnavailable(ApplicationError):
    """503: the database could not serve the request right now (riskhub.db); safe to retry."""

    status = 503
    code = "temporarily_unavailable"

    def __init__(self, message="The database is briefly unavailable; retry the request.", **kwargs):
        super().__init__(message, headers={"Retry-After": "1"}, **kwargs)


def error_body(code, message, details=None):
    body = {"code": code, "message": message}
    if details:
        body["details"] = details
    return body


_DRF_CODES = {
    drf.ParseError: "malformed_request",
    drf.AuthenticationFailed: "unauthenticated",
    drf.NotAuthenticated: "unauthenticated",
    drf.PermissionDenied: "forbidden",
    drf.NotFound: "not_found",
    drf.MethodNotAllowed: "method_not_allowed",
    drf.NotAcceptable: "not_acceptable",
    drf.UnsupportedMediaType: "unsupported_media_type",
    drf.Throttled: "rate_limited",
}


def flatten_detail(detail):
    """DRF error details (ErrorDetail trees) → plain JSON."""
    if isinstance(detail, dict):
        return {str(k): flatten_detail(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [flatten_detail(v) for v in detail]
    return str(detail)


def error_parts(exc):
    """(status, envelope, headers) for an exception the API answers with a 4xx, or None for an
    unexpected one (Django's 500 handler renders the envelope). The one mapping behind both the
    DRF views (`exception_handler`) and the plain decision view (`error_response`)."""
    if isinstance(exc, RequestDataTooBig):
        # A body is read through `request.body`, where Django enforces
        # DATA_UPLOAD_MAX_MEMORY_SIZE (= MAX_REQUEST_BYTES) before our parser sees a byte.
        exc = PayloadTooLarge()
    elif isinstance(exc, (OperationalError, InterfaceError)):
        # A lost connection or a database that is down, past any retry (riskhub.db): retryable.
        logger.warning("database unavailable for a request (%s)", exc.__class__.__name__)
        exc = TemporarilyUnavailable()
    if isinstance(exc, ApplicationError):
        return exc.status, {"error": exc.as_dict()}, exc.headers
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf.PermissionDenied()
    if isinstance(exc, drf.ValidationError):
        details = flatten_detail(exc.detail)
        if not isinstance(details, dict):
            details = {"non_field_errors": details if isinstance(details, list) else [details]}
        return 400, {"error": error_body("validation_error", "The request has invalid fields.", details)}, {}
    if isinstance(exc, drf.APIException):
        code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None) is not None:
            headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
        message = exc.detail if isinstance(exc.detail, str) else "Request failed."
        return exc.status_code, {"error": error_body(code, str(message))}, headers
    return None


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: the envelope as a DRF Response."""
    parts = error_parts(exc)
    if parts is None:
        return None
    status, body, headers = parts
    return Response(body, status=status, headers=headers)


def error_response(exc):
    """The envelope for `exc` as a plain JsonResponse (views outside DRF); re-raises an
    unexpected exception, so Django's 500 handler answers as it does behind DRF."""
    parts = error_parts(exc)
    if parts is None:
        raise exc
    status, body, headers = parts
    return JsonResponse(body, status=status, headers=headers)


@csrf_exempt  # unknown /api/ paths answer JSON 404 for every method, never an HTML CSRF page
def api_not_found(request, *args, **kwargs):
    return JsonResponse({"error": error_body("not_found", "No such endpoint.")}, status=404)


def handler404(request, exception=None):
    return JsonResponse({"error": error_body("not_found", "Not found.")}, status=404)


def handler500(request):
    return JsonResponse({"error": error_body("server_error", "Internal server error.")}, status=500)


def handler400(request, exception=None):
    return JsonResponse({"error": error_body("bad_request", "Bad request.")}, status=400)


def handler403(request, exception=None):
    return JsonResponse({"error": error_body("forbidden", "Forbidden.")}, status=403)

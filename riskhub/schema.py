"""The OpenAPI schema's error responses, derived for every operation in one place.

`ApiSchema` (DEFAULT_SCHEMA_CLASS) adds to each operation the error statuses it can answer,
worked out from what the view is made of, so no view keeps a list that can drift:

    400  it takes a body or query parameters (validation, malformed JSON, bad cursor or page size)
    401  it needs a key or token                 403  its permission can refuse a valid key
    404  its path names an object                409  it raises a Conflict (`raises` on the view)
    413, 415  it takes a body                    429  it is rate-limited (with `Retry-After`)
    503  always: the database may be restarting (riskhub.db; with `Retry-After`)

A view adds what only its services know with `raises = (Conflict, NotFound, RateLimited, ...)`:
ApplicationError subclasses whose `status` is documented. Every error response is the one
`ErrorEnvelope` component, the shape riskhub.errors renders.
"""

import uritemplate
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny

ERROR_DESCRIPTIONS = {
    400: "Invalid input: the body, a query parameter, the cursor or page_size (`validation_error`, "
    "`malformed_request`, `invalid_cursor`, `invalid_page_size`, ...).",
    401: "Missing, malformed, unknown or revoked credentials (`unauthenticated`).",
    403: "The credentials are valid but not for this endpoint (`forbidden`).",
    404: "No such object, or not yours (`not_found`).",
    409: "The object's state does not allow this (`conflict`, `illegal_transition`, `appeal_open`, ...).",
    413: "The body is larger than MAX_REQUEST_BYTES (`payload_too_large`).",
    415: "The body is not JSON (`unsupported_media_type`).",
    429: "Rate limit exceeded (`rate_limited`); retry after `Retry-After` seconds.",
    503: "A dependency is briefly unavailable (`temporarily_unavailable`); safe to retry.",
}
BODY_METHODS = {"POST", "PUT", "PATCH"}


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. `validation_error`.")
    message = serializers.CharField(help_text="Human-readable; never echoes a buyer identifier.")
    details = serializers.DictField(
        required=False, help_text="Per-field messages for `validation_error`; other data for some codes."
    )

    class Meta:
        ref_name = "Error"


class ErrorEnvelopeSerializer(serializers.Serializer):
    error = ErrorSerializer()

    class Meta:
        ref_name = "ErrorEnvelope"


def _view_statuses(view):
    return {exc.status for exc in getattr(view, "raises", ())}


class ApiSchema(AutoSchema):
    def error_statuses(self):
        """The error statuses this operation can answer (see the module docstring)."""
        statuses = set(_view_statuses(self.view)) | {503}
        parameters = self._get_parameters()
        if self.method in BODY_METHODS and self.get_request_serializer() is not None:
            statuses |= {400, 413, 415}
        if any(p.get("in") == "query" for p in parameters):
            statuses.add(400)
        if uritemplate.variables(self.path):
            statuses.add(404)
        permissions = [p for p in self.view.get_permissions() if not isinstance(p, AllowAny)]
        if permissions:
            statuses.add(401)
        if any(getattr(p, "can_forbid", False) for p in permissions):
            statuses.add(403)
        if self.view.get_throttles():
            statuses.add(429)
        return statuses

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        envelope = self.resolve_serializer(ErrorEnvelopeSerializer, "response").ref
        for status in sorted(self.error_statuses()):
            if str(status) in responses:
                continue
            response = {
                "description": ERROR_DESCRIPTIONS[status],
                "content": {"application/json": {"schema": envelope}},
            }
            if status in (429, 503):
                response["headers"] = {
                    "Retry-After": {
                        "description": "Seconds to wait before retrying.",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1},
                    }
                }
            responses[str(status)] = response
        return responses

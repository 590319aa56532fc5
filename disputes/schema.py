"""OpenAPI description of the buyer token (drf-spectacular picks extensions up on import)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BuyerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "disputes.auth.BuyerTokenAuthentication"
    name = "buyerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A short-lived buyer token from POST /api/v1/appeals/session (not an API key).",
        }

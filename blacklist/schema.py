"""OpenAPI descriptions of riskhub's authentication (loaded by BlacklistConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "blacklist.auth.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A seller (or admin) API key: `Authorization: Bearer rh_…`.",
        }

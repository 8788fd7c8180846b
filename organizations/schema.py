"""Teach drf-spectacular how our authentication classes appear in the OpenAPI document."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "organizations.authentication.ApiTokenAuthentication"
    name = ["BearerToken", "ApiKeyHeader"]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "http", "scheme": "bearer", "description": "An organization's API token."},
            {
                "type": "apiKey",
                "in": "header",
                "name": "x-api-key",
                "description": "The same token in Archera's header.",
            },
        ]


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "organizations.authentication.CsrfSessionAuthentication"
    name = "SessionCookie"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}

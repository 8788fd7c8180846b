"""API credentials: ``Authorization: Bearer <token>`` or ``x-api-key: <token>``, or a session."""

from typing import NoReturn

from django.utils import timezone
from rest_framework import authentication, exceptions

from core.throttling import FailedAuthenticationThrottle

from .models import ApiToken, hash_secret

# Writing last_used_at on every request would turn reads into writes; once a minute is enough.
LAST_USED_RESOLUTION_SECONDS = 60


def presented_secret(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() in ("bearer", "token") and value.strip():
            return value.strip()
        return None
    api_key = request.META.get("HTTP_X_API_KEY", "").strip()
    return api_key or None


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """Authenticates an organization's API token; the token, not a user, is the principal."""

    def authenticate(self, request):
        secret = presented_secret(request)
        if secret is None:
            if request.META.get("HTTP_AUTHORIZATION"):
                self.fail(request, "Unsupported authorization scheme.")
            return None
        FailedAuthenticationThrottle().check(request)
        token = (
            ApiToken.objects.select_related("organization", "created_by")
            .filter(secret_hash=hash_secret(secret))
            .first()
        )
        if token is None:
            self.fail(request, "Invalid API token.")
        if token.revoked_at is not None:
            self.fail(request, "This API token has been revoked.")
        if not token.is_active:
            self.fail(request, "This API token has expired.")
        now = timezone.now()
        if (
            token.last_used_at is None
            or (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS
        ):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        request._request.api_token = token
        return (TokenUser(token), token)

    @staticmethod
    def fail(request, message: str) -> NoReturn:
        """Count the failure against the client address (429 once over its limit), then 401."""
        FailedAuthenticationThrottle().count_failure(request)
        raise exceptions.AuthenticationFailed(message)

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class TokenUser:
    """Stands in for ``request.user`` when an API token authenticated the request."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, token: ApiToken):
        self.token = token
        self.pk = None
        self.id = None
        self.username = f"token:{token.display_id}"

    def __str__(self) -> str:
        return self.username


class CsrfSessionAuthentication(authentication.SessionAuthentication):
    """Django session sign-in, CSRF enforced on unsafe methods (DRF's default behaviour)."""

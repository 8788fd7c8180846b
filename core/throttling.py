"""Rate limits per credential (API token, else user, else client address).

The counter lives in Django's cache: Redis in production, so every web process shares it.
"""

from rest_framework.throttling import SimpleRateThrottle


class CredentialRateThrottle(SimpleRateThrottle):
    scope = "credential"

    def get_cache_key(self, request, view):
        token = getattr(request, "api_token", None)
        if token is not None:
            ident = f"token:{token.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"addr:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

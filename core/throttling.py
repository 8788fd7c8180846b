"""Rate limits per credential (API token, else user, else client address), and a separate limit
on failed authentication per client address.

The counters live in Django's cache: Redis in production, so every web process shares them.
"""

from django.conf import settings
from rest_framework import exceptions
from rest_framework.throttling import SimpleRateThrottle


def client_address(request) -> str | None:
    """The caller's address: ``REMOTE_ADDR``, or, behind ``TRUSTED_PROXY_COUNT`` proxies, the
    address the outermost trusted proxy saw (``X-Forwarded-For`` counted from the right, so a
    client cannot choose its own address). Rate limits and the login lockout both use it; None
    for a request that came from no connection (``force_login``)."""
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return remote


class CredentialRateThrottle(SimpleRateThrottle):
    scope = "credential"

    def get_ident(self, request) -> str:
        return client_address(request) or "unknown"

    def get_cache_key(self, request, view):
        token = getattr(request, "api_token", None)
        if token is not None:
            ident = f"token:{token.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"addr:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class FailedAuthenticationThrottle(SimpleRateThrottle):
    """Counts requests whose credentials fail (unknown, revoked or expired token, none at all)
    per client address.

    DRF authenticates before it throttles, so a request with bad credentials never reaches the
    ordinary throttles; authentication and the permission check consult this one instead. Once
    an address is over the limit every credential it presents is refused with a 429 before it is
    looked up, so guessing gets no answer either way until the window passes.
    """

    scope = "failed_auth"

    def get_ident(self, request) -> str:
        return client_address(request) or "unknown"

    def get_cache_key(self, request, view=None):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def _load(self, request) -> None:
        self.key = self.get_cache_key(request)
        self.now = self.timer()
        self.history = [
            moment for moment in self.cache.get(self.key, []) if moment > self.now - self.duration
        ]

    def check(self, request) -> None:
        """Refuse with a 429 if the address has used up its failures."""
        self._load(request)
        if len(self.history) >= self.num_requests:
            raise exceptions.Throttled(self.wait())

    def count_failure(self, request) -> None:
        """Record one failure (a 429 instead if the address is already over its limit)."""
        self.check(request)
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)


def refuse_anonymous(request, refusal: exceptions.NotAuthenticated) -> exceptions.APIException:
    """A call without credentials counts as a failed authentication: the 401 it gets, or a 429
    once its address is over the limit (called by the API exception handler)."""
    try:
        FailedAuthenticationThrottle().count_failure(request)
    except exceptions.Throttled as throttled:
        return throttled
    return refusal

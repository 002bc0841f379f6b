"""Who may call what: an active instrument's token may post results and read the batches it
loads; a user token carries the user's roles (COMPLIANCE.md C9). docs/api.md has the table."""

from __future__ import annotations

from functools import cache as cache_for_process
from typing import Any

from django.conf import settings
from django.core.cache import cache
from redis import Redis
from rest_framework.permissions import BasePermission
from rest_framework.throttling import SimpleRateThrottle

from samples.roles import Role, has_role
from samples.selectors.setup import is_active_instrument


class IsInstrument(BasePermission):
    message = "Only an active instrument's token may post results."

    def has_permission(self, request: Any, view: Any) -> bool:
        return is_active_instrument(request.user)


def roles_allowed(*roles: Role) -> type[BasePermission]:
    """A permission class letting in tokens (or sessions) whose owner has one of ``roles``;
    ``Role.INSTRUMENT`` lets in active instruments only."""
    people = [role for role in roles if role is not Role.INSTRUMENT]
    instruments = Role.INSTRUMENT in roles
    needed = f"This needs the role {' or '.join(r.label.lower() for r in people)}"

    class HasRole(BasePermission):
        message = f"{needed}, or an active instrument's token." if instruments else f"{needed}."

        def has_permission(self, request: Any, view: Any) -> bool:
            user = request.user
            return has_role(user, *people) or (instruments and is_active_instrument(user))

    return HasRole


STAFF = (Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE)


class PerClientThrottle(SimpleRateThrottle):
    """Requests per client (token owner; anonymous callers by address), at the rate of the
    ``API_THROTTLE_RATE`` setting, read when checked so a deployment can tune it.

    Counted in the shared Redis cache, so every web process counts together, as a sliding
    window: this window's count plus the previous one's, weighted by how much of it still
    overlaps the last ``duration`` seconds (one round trip per request)."""

    scope = "client"

    def get_rate(self) -> str:
        return str(settings.API_THROTTLE_RATE)

    def get_cache_key(self, request: Any, view: Any) -> str:
        user = request.user
        ident = f"user:{user.pk}" if user.is_authenticated else f"ip:{self.get_ident(request)}"
        return cache.make_key(f"throttle:{ident}")

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        now = self.timer()
        window, elapsed = divmod(now, self.duration)
        key = self.get_cache_key(request, view)
        this, last = f"{key}:{int(window)}", f"{key}:{int(window) - 1}"
        with _redis().pipeline(transaction=False) as pipe:
            pipe.incr(this)
            pipe.expire(this, 2 * self.duration)
            pipe.get(last)
            count, _, previous = pipe.execute()
        overlap = 1 - elapsed / self.duration
        self.retry_after = self.duration - elapsed
        return bool(int(previous or 0) * overlap + count <= self.num_requests)

    def wait(self) -> float:
        return self.retry_after


@cache_for_process
def _redis() -> Redis:
    """A client on the cache's Redis (its connection pool kept for the process)."""
    return Redis.from_url(settings.CACHES["default"]["LOCATION"])

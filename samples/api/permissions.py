"""Who may call what: an instrument token may only post results; a user token carries the
user's roles (COMPLIANCE.md C9)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.permissions import BasePermission
from rest_framework.throttling import UserRateThrottle

from samples.roles import Role, has_role


class IsInstrument(BasePermission):
    message = "Only a registered instrument's token may post results."

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(
            has_role(user, Role.INSTRUMENT)
            and getattr(user, "instrument", None) is not None
            and user.instrument.is_active
        )


def roles_allowed(*roles: Role) -> type[BasePermission]:
    """A permission class letting in tokens (or sessions) whose owner has one of ``roles``."""

    class HasRole(BasePermission):
        message = f"This needs the role {' or '.join(r.label.lower() for r in roles)}."

        def has_permission(self, request: Any, view: Any) -> bool:
            return has_role(request.user, *roles)

    return HasRole


STAFF = (Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE)


class PerClientThrottle(UserRateThrottle):
    """Requests per client (token owner; anonymous callers by address), at the rate of the
    ``API_THROTTLE_RATE`` setting, read when checked so a deployment can tune it."""

    scope = "client"

    def get_rate(self) -> str:
        return str(settings.API_THROTTLE_RATE)

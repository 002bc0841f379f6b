"""Who may do what: every service checks the acting user's role first (COMPLIANCE.md C9), so
a page, the API and a command refuse alike."""

from __future__ import annotations

from typing import Any

from samples.errors import NotAllowed
from samples.roles import Role, has_role


def require_role(user: Any, *roles: Role) -> None:
    if not has_role(user, *roles):
        names = " or ".join(role.label.lower() for role in roles)
        raise NotAllowed(f"Only a {names} may do this.")

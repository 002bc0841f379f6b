"""The roles of LabTrack users, their Django groups, and the check every view makes.

Roles (COMPLIANCE.md C9): technician, reviewer, compliance officer (read and export only),
administrator (configuration, no lab actions), instrument (API only). A user's roles are the
groups they belong to; the superuser flag itself grants no lab role, but an account created as a
superuser (``manage.py createsuperuser``, the first administrator) joins the administrator group.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, Permission
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase


class Role(StrEnum):
    TECHNICIAN = "technician"
    REVIEWER = "reviewer"
    COMPLIANCE = "compliance"
    ADMIN = "admin"
    INSTRUMENT = "instrument"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def slug(self) -> str:
        return self.value


_LABELS = {
    Role.TECHNICIAN: "Technician",
    Role.REVIEWER: "Reviewer",
    Role.COMPLIANCE: "Compliance officer",
    Role.ADMIN: "Administrator",
    Role.INSTRUMENT: "Instrument",
}

# Django model permissions each group holds, for the admin site. Lab actions are checked by
# role in services, not by these. Nobody may delete users: they are deactivated (C13).
_GROUP_PERMISSIONS: dict[Role, list[str]] = {
    Role.ADMIN: [
        "auth.view_user", "auth.add_user", "auth.change_user",
        "auth.view_group",
        "samples.view_assay", "samples.add_assay", "samples.change_assay",
        "samples.view_instrument", "samples.add_instrument", "samples.change_instrument",
        "samples.view_destination", "samples.add_destination", "samples.change_destination",
        "samples.view_controlmaterial", "samples.add_controlmaterial",
        "samples.change_controlmaterial",
        "samples.view_controllot", "samples.add_controllot", "samples.change_controllot",
        "knox.view_authtoken", "knox.delete_authtoken",
        "axes.view_accessattempt", "axes.delete_accessattempt",
    ],
}  # fmt: skip


def user_roles(user: AbstractBaseUser | AnonymousUser) -> list[Role]:
    """The user's roles in a fixed order, cached on the user object for the request."""
    if not user.is_authenticated or not user.is_active:
        return []
    cached = getattr(user, "_labtrack_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
        cached = [role for role in Role if role.value in names]
        user._labtrack_roles = cached  # type: ignore[attr-defined]
    return cached


def has_role(user: AbstractBaseUser | AnonymousUser, *roles: Role) -> bool:
    return any(role in roles for role in user_roles(user))


def role_required(*roles: Role) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., Any]]:
    """Anonymous users go to the login page; signed-in users without one of ``roles`` get 403."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not has_role(request.user, *roles):
                raise PermissionDenied("This page is not available to your role.")
            return view(request, *args, **kwargs)

        return login_required(wrapper)

    return decorator


def ensure_role_groups(**kwargs: Any) -> None:
    """Create one group per role and grant the admin-site permissions above (idempotent)."""
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        wanted = {tuple(dotted.split(".")) for dotted in _GROUP_PERMISSIONS.get(role, [])}
        if not wanted:
            continue
        existing = Permission.objects.filter(
            content_type__app_label__in={app for app, _ in wanted},
            codename__in={codename for _, codename in wanted},
        ).select_related("content_type")
        # An app may not have migrated yet: its permissions come on a later migrate.
        found = [p for p in existing if (p.content_type.app_label, p.codename) in wanted]
        missing = set(found) - set(group.permissions.all())
        if missing:
            group.permissions.add(*missing)


def make_new_superuser_an_administrator(
    sender: type, instance: AbstractBaseUser, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """post_save of the user model: an account created as a superuser joins the admin group.

    Without it the first account (``manage.py createsuperuser``) would have no role: an empty
    navigation and 403 on every page. Only creation counts, so an administrator may later take
    the role away from a superuser; fixtures (``raw``) are loaded as they are. The membership is
    an ordinary role change, recorded in the audit trail like any other.
    """
    if created and not raw and getattr(instance, "is_superuser", False):
        group, _ = Group.objects.get_or_create(name=Role.ADMIN.value)
        instance.groups.add(group)  # type: ignore[attr-defined]

"""The audit trail of every change outside the workflows: configuration (assays and their
ranges, instruments), records (samples, results, retests, signatures, inbox entries), accounts
(users, their roles, API tokens).

Database triggers (django-pghistory) write an event row for every insert, update and delete,
whatever made it: a page, the API, the admin, a management command, a bulk update or raw SQL.
Each event row is a snapshot of the record after the change (before it, for a delete), with
the time, the label and the context (who, from which page or endpoint, why). Event tables are
append-only (triggers refuse UPDATE and DELETE) and each is a hash chain (migration
``samples.0005_audit_chain``), checked with the workflow history by ``manage.py audit verify``.
"""

from __future__ import annotations

from typing import Any

import pghistory
import pgtrigger
from django.contrib.auth import get_user_model
from django.db import models
from knox.models import AuthToken
from pghistory.models import Event


def changes() -> tuple[pghistory.RowEvent, ...]:
    """Insert, update and delete trackers (new ones for each model: they bind to it)."""
    return (pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())


class AuditEvent(Event):
    """An audit event; the database sets its place in its table's hash chain on insert."""

    pgh_prev_hash = models.CharField(max_length=64, default="", editable=False)
    pgh_hash = models.CharField(max_length=64, default="", editable=False)

    class Meta:
        abstract = True


def audited(model: type[models.Model], *, added: tuple[str, ...] = ()) -> type[models.Model]:
    """Track every change of ``model`` in ``<Model>Event``, chained and append-only.

    ``added``: fields the model gained after it had events. Each is nullable in the event
    table, so the events written before it have no value there and keep their hashes (a field
    left out of an event's content is not hashed; a ``false`` or ``0`` filled in would be)."""
    track = pghistory.track(
        *changes(),
        base_model=AuditEvent,
        append_only=True,
        model_name=f"{model.__name__}Event",
        attrs={name: _nullable(model._meta.get_field(name)) for name in added},
    )
    return track(model)


def audited_with(*added: str):  # type: ignore[no-untyped-def]
    """``@audited`` for a model with fields added after it had events (see ``audited``)."""
    return lambda model: audited(model, added=added)


def _nullable(field: Any) -> models.Field:  # type: ignore[type-arg]
    """A copy of a model's field for its event table: nullable, without a default."""
    _, _, args, kwargs = field.deconstruct()
    kwargs.pop("default", None)  # a default would be written into the older events too
    return type(field)(*args, **{**kwargs, "null": True})


User = get_user_model()


# Other apps' models are tracked through proxies, so the triggers' migrations are LabTrack's.
class AuditedUser(User):  # type: ignore[misc,valid-type]
    class Meta:
        proxy = True
        # No shared or reused accounts (COMPLIANCE.md C13): users are deactivated, never deleted.
        triggers = [pgtrigger.Protect(name="never_deleted", operation=pgtrigger.Delete)]


class AuditedRole(User.groups.through):  # type: ignore[misc,name-defined]
    class Meta:
        proxy = True


class AuditedToken(AuthToken):
    class Meta:
        proxy = True


UserEvent = pghistory.create_event_model(
    AuditedUser,
    *changes(),
    fields=["username", "first_name", "last_name", "email", "is_active", "is_staff"],
    base_model=AuditEvent,
    append_only=True,
    abstract=False,
    model_name="UserEvent",
)
RoleEvent = pghistory.create_event_model(
    AuditedRole,
    pghistory.InsertEvent("role.add"),
    pghistory.DeleteEvent("role.remove"),
    base_model=AuditEvent,
    append_only=True,
    abstract=False,
    model_name="RoleEvent",
)
TokenEvent = pghistory.create_event_model(
    AuditedToken,
    pghistory.InsertEvent("token.create"),
    pghistory.DeleteEvent("token.revoke"),
    fields=["token_key", "user", "created", "expiry"],  # never the digest
    base_model=AuditEvent,
    append_only=True,
    abstract=False,
    model_name="TokenEvent",
    obj_field=None,  # type: ignore[arg-type]  # documented; the key is the digest: not kept
)

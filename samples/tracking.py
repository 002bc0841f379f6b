"""The audit trail of every change outside the workflows: configuration (assays and their
ranges, instruments), records (samples, results, retests, signatures, inbox entries), accounts
(users, their roles, API tokens).

Database triggers (django-pghistory) write an event row for every insert, update and delete,
whatever made it: a page, the API, the admin, a management command, a bulk update or raw SQL.
Each event row is a snapshot of the record after the change (before it, for a delete), with
the time, the label and the context (who, from which page or endpoint, why), copied into the
event itself so that its hash covers it. Event tables are append-only (triggers refuse UPDATE
and DELETE) and each is a hash chain (migrations ``samples.0005_audit_chain`` and
``samples.0017_evidence``), checked with the workflow history by ``manage.py audit verify``.

An account's events hold whether it is a superuser, and a ``user.password`` event each time its
password is set, changed or reset (by whom: its context), never the password's hash.
Sign-ins, failed sign-ins, lockouts and sign-outs are not changes of a record: the sign-in
receivers (``samples.signins``) write them to ``SignInEvent``, a table of its own with the same
columns for time, label and hash chain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pghistory
import pgtrigger
from django.apps import apps
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
    # Who, from where and why (the request's context) as it was when the event was written,
    # copied by the chain trigger so that the event's hash covers it (``pgh_context`` is a row
    # of its own, shared by a request's events, that the hash does not reach).
    pgh_context_snapshot = models.JSONField(null=True, blank=True, editable=False)

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
    if field.is_relation:  # as pghistory copies the other keys: no reverse name, no constraint
        target = field.remote_field.model
        return models.ForeignKey(
            field.model if target == "self" else target,
            on_delete=models.DO_NOTHING,
            null=True,
            related_name="+",
            db_constraint=False,
        )
    _, _, args, kwargs = field.deconstruct()
    kwargs.pop("default", None)  # a default would be written into the older events too
    return type(field)(*args, **{**kwargs, "null": True})


def audited_without(
    *blobs: str, added: tuple[str, ...] = ()
) -> Callable[[type[models.Model]], type[models.Model]]:
    """``audited``, the event rows leaving out the fields ``blobs`` (stored content, which
    the events name by its SHA-256 instead); ``added`` as for ``audited``."""

    def track(model: type[models.Model]) -> type[models.Model]:
        fields = [f.name for f in model._meta.concrete_fields if f.name not in blobs]
        tracker = pghistory.track(
            *changes(),
            fields=fields,
            obj_field=pghistory.ObjForeignKey(related_name="audit_events"),
            base_model=AuditEvent,
            append_only=True,
            model_name=f"{model.__name__}Event",
            attrs={name: _nullable(model._meta.get_field(name)) for name in added},
        )
        return tracker(model)

    return track


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
    # A new password (set, changed or reset) is an event of its own; the hash is never copied.
    pghistory.UpdateEvent("user.password", condition=pghistory.AnyChange("password")),
    fields=[
        *("username", "first_name", "last_name", "email"),
        *("is_active", "is_staff", "is_superuser"),
    ],
    # Null in the events written before it was kept, so their hashes stay as they were.
    attrs={"is_superuser": models.BooleanField(null=True)},
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


class ClockTimestamp(models.Func):
    """The database's clock at the insert (as the trail's other events take it)."""

    template = "clock_timestamp()"
    output_field = models.DateTimeField()


class SignInKind(models.TextChoices):
    SUCCESS = "signin.success", "signed in"
    FAILURE = "signin.failure", "sign-in failed"
    LOCKOUT = "signin.lockout", "locked out"
    SIGNOUT = "signin.signout", "signed out"


class SignInEvent(models.Model):
    """A sign-in, a failed sign-in (or a wrong password when signing), a lockout or a sign-out:
    who was named, the account if there is one, from which address and, for a failure, why.
    Never the password. Append-only; the whole table is one hash chain (migration
    ``samples.0018_account_actions``), its columns named as those of the other event tables."""

    pgh_id = models.BigAutoField(primary_key=True)
    pgh_created_at = models.DateTimeField(db_default=ClockTimestamp())
    pgh_label = models.CharField(max_length=32, choices=SignInKind.choices)
    pgh_prev_hash = models.CharField(max_length=64, default="", editable=False)
    pgh_hash = models.CharField(max_length=64, default="", editable=False)
    username = models.CharField(max_length=150)  # as typed: the account may not exist
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    failures = models.PositiveIntegerField(null=True, blank=True)  # for a lockout

    class Meta:
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return f"{self.pgh_label} {self.username}"


@dataclass(frozen=True)
class EventTable:
    """An event table of the audit trail and how its hash chains are drawn."""

    table: str
    # The column whose value names a chain ("" where the whole table is one chain).
    chain: str
    # Whether its rows have a request's context (who, from where, why): a sign-in has none, it
    # names its own person.
    contexted: bool


def event_tables() -> tuple[EventTable, ...]:
    """Every event table of the audit trail, read from the models: those ``audited`` made,
    those made here for other apps' models, and ``SignInEvent``. The one list: the checks of
    the chains, the anchors and the database's guards are held to it."""
    tables = []
    for model in apps.get_app_config("samples").get_models():
        if not (issubclass(model, AuditEvent) or model is SignInEvent):
            continue
        columns = {field.column for field in model._meta.concrete_fields}
        tables.append(
            EventTable(
                model._meta.db_table,
                "pgh_obj_id" if "pgh_obj_id" in columns else "",
                "pgh_context_id" in columns,
            )
        )
    return tuple(tables)

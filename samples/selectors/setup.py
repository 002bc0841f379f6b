"""Reads for the setup pages: assays, instruments, accounts and API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from knox.models import AuthToken

from samples.models import Assay, Instrument
from samples.roles import Role, has_role, user_roles


def assay_list() -> QuerySet[Assay]:
    return Assay.objects.filter(is_active=True)


@dataclass(frozen=True)
class InstrumentRow:
    name: str
    model: str
    serial: str
    is_active: bool
    assay_codes: list[str]


def instrument_list() -> list[InstrumentRow]:
    return [
        InstrumentRow(i.name, i.model, i.serial, i.is_active, [a.code for a in i.assays.all()])
        for i in Instrument.objects.prefetch_related("assays")
    ]


def instrument_named(name: str) -> Instrument | None:
    """The instrument called ``name``, with its service identity; None when there is none."""
    return Instrument.objects.select_related("service_user").filter(name=name).first()


def instrument_of(pk: int) -> Instrument | None:
    return Instrument.objects.select_related("service_user").filter(pk=pk).first()


def is_active_instrument(user: Any) -> bool:
    """An instrument's service identity whose instrument is still in use: a deactivated
    instrument's token is refused everywhere (403), like a user left with no role, and its
    messages over MLLP get an AR."""
    return bool(
        has_role(user, Role.INSTRUMENT)
        and getattr(user, "instrument", None) is not None
        and user.instrument.is_active
    )


@dataclass(frozen=True)
class AccountRow:
    username: str
    full_name: str
    roles: list[Role]
    is_active: bool
    last_login: datetime | None
    date_joined: datetime


def account_list() -> list[AccountRow]:
    """People's accounts (instrument service identities are listed with the instruments)."""
    users = (
        get_user_model()
        .objects.exclude(groups__name=Role.INSTRUMENT.value)
        .prefetch_related("groups")
        .order_by("username")
    )
    rows = []
    for user in users:
        names = {group.name for group in user.groups.all()}
        rows.append(
            AccountRow(
                username=user.username,
                full_name=user.get_full_name(),
                roles=[role for role in Role if role.value in names],
                is_active=user.is_active,
                last_login=user.last_login,
                date_joined=user.date_joined,
            )
        )
    return rows


def api_token_list() -> list[dict[str, Any]]:
    tokens = AuthToken.objects.select_related("user", "user__instrument").order_by("created")
    rows = []
    for token in tokens:
        instrument = getattr(token.user, "instrument", None)
        rows.append(
            {
                "key": token.token_key,
                "owner": f"instrument {instrument.name}" if instrument else token.user.username,
                "roles": [role.value for role in user_roles(token.user)],
                "created": token.created,
            }
        )
    return rows

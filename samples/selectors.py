"""Reads for pages and APIs. Nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from samples.models import Assay, Instrument
from samples.roles import Role


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

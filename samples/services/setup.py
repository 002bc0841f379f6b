"""Instruments: registered with a service identity of their own and a first API token."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from knox.models import AuthToken

from samples.models import Assay, Instrument
from samples.roles import Role
from samples.services.accounts import instrument_name_check


def instrument_register(
    *, name: str, model: str, serial: str, assay_codes: list[str]
) -> tuple[Instrument, str]:
    """Register an instrument with its own service identity and a first API token.

    The token is returned once and stored only as a hash; it never expires until revoked.
    The name may not be a person's username (``instrument_name_check``).
    """
    instrument_name_check(name)
    user = get_user_model().objects.create(username=f"instrument-{name.lower()}")
    user.set_unusable_password()  # an instrument signs in with its token, never a password
    user.save(update_fields=["password"])
    user.groups.add(Group.objects.get(name=Role.INSTRUMENT.value))
    instrument = Instrument.objects.create(name=name, model=model, serial=serial, service_user=user)
    instrument.assays.set(Assay.objects.filter(code__in=assay_codes))
    _, token = AuthToken.objects.create(user=user, expiry=None)
    return instrument, token

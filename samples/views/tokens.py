"""API tokens for administrators: every token with its owner, a new one for an instrument or a
user (shown once, on this page only), and revoking one.

The form names no owner until one is chosen, and replacing an owner's current token needs the
box "I understand the old token stops working" ticked: without it nothing changes and the page
says why (400)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from knox.models import AuthToken

from samples.errors import LabError
from samples.models import Instrument
from samples.roles import Role, role_required
from samples.selectors.setup import api_token_list
from samples.services.tokens import (
    api_token_create,
    api_token_owner,
    api_token_revoke,
)
from samples.views.errors import refusal_as_message


def token_page(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    with_token = set(AuthToken.objects.values_list("user_id", flat=True))
    instruments = Instrument.objects.filter(is_active=True).select_related("service_user")
    users = get_user_model().objects.filter(is_active=True, instrument__isnull=True)
    return {
        "tokens": api_token_list(),
        "owners": [
            (f"instrument:{i.name}", f"instrument {i.name}", i.service_user_id in with_token)
            for i in instruments
        ]
        + [(f"user:{u.username}", f"user {u.username}", u.pk in with_token) for u in users],
        "new_token": request.session.pop("new_api_token", None),
        **extra,
    }


@role_required(Role.ADMIN)
def token_list(request: HttpRequest) -> HttpResponse:
    return render(request, "samples/token_list.html", token_page(request))


@require_POST
@role_required(Role.ADMIN)
def token_create(request: HttpRequest) -> HttpResponse:
    owner_ref = request.POST.get("owner", "")
    kind, _, name = owner_ref.partition(":")
    try:
        if kind not in ("instrument", "user") or not name:
            raise LabError("Choose the instrument or user the token is for.")
        owner = api_token_owner(
            instrument=name if kind == "instrument" else None,
            username=name if kind == "user" else None,
        )
        if AuthToken.objects.filter(user=owner).exists() and not request.POST.get("replace"):
            raise LabError(
                f"{owner_ref.replace(':', ' ')} already has a token. Tick “I understand the old"
                " token stops working” to replace it; nothing was changed."
            )
        token = api_token_create(owner=owner)
    except LabError as refusal:
        context = token_page(request, form_error=refusal.message, chosen=owner_ref)
        return render(request, "samples/token_list.html", context, status=400)
    # Shown once, on the next page load only; the database keeps only its hash.
    request.session["new_api_token"] = {"owner": owner.get_username(), "token": token}
    return redirect("samples:token_list")


@require_POST
@role_required(Role.ADMIN)
@refusal_as_message(back="samples:token_list")
def token_revoke(request: HttpRequest) -> HttpResponse:
    owner = api_token_revoke(token_key=request.POST.get("key", ""))
    messages.success(request, f"The token of {owner.get_username()} is revoked.")
    return redirect("samples:token_list")

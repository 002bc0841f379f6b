"""API tokens for administrators: every token with its owner, a new one for an instrument or a
user (shown once, on this page only), and revoking one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from samples.errors import LabError
from samples.models import Instrument
from samples.roles import Role, role_required
from samples.services.tokens import (
    api_token_create,
    api_token_list,
    api_token_owner,
    api_token_revoke,
)


@role_required(Role.ADMIN)
def token_list(request: HttpRequest) -> HttpResponse:
    context = {
        "tokens": api_token_list(),
        "instruments": Instrument.objects.filter(is_active=True),
        "users": get_user_model().objects.filter(is_active=True, instrument__isnull=True),
        "new_token": request.session.pop("new_api_token", None),
    }
    return render(request, "samples/token_list.html", context)


@require_POST
@role_required(Role.ADMIN)
def token_create(request: HttpRequest) -> HttpResponse:
    owner_ref = request.POST.get("owner", "")
    kind, _, name = owner_ref.partition(":")
    try:
        owner = api_token_owner(
            instrument=name if kind == "instrument" else None,
            username=name if kind == "user" else None,
        )
        token = api_token_create(owner=owner)
    except LabError as refusal:
        messages.error(request, refusal.message)
    else:
        # Shown once, on the next page load only; the database keeps only its hash.
        request.session["new_api_token"] = {"owner": owner.get_username(), "token": token}
    return redirect("samples:token_list")


@require_POST
@role_required(Role.ADMIN)
def token_revoke(request: HttpRequest) -> HttpResponse:
    try:
        owner = api_token_revoke(token_key=request.POST.get("key", ""))
    except LabError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, f"The token of {owner.get_username()} is revoked.")
    return redirect("samples:token_list")

"""Token authentication for API clients: one query per request finds the token, its owner,
the owner's instrument (if any), roles, and who minted the token.

A person's token minted by someone else (an administrator) says so in everything done with it:
the request's audit context gets ``token_minted_by`` and the person's lifecycle actions name
the minter beside the person (``samples.actors``)."""

from __future__ import annotations

from hmac import compare_digest
from typing import Any

import pghistory
from django.contrib.auth.models import Group
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import CharField, OuterRef
from django.db.models.expressions import RawSQL
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS
from rest_framework.exceptions import AuthenticationFailed

from samples.actors import COMMAND_LINE
from samples.roles import Role

# Who minted the token: the person signed in when its creation was recorded (its audit
# event's context), or the command line when nobody was.
_MINTED_BY = RawSQL(
    """SELECT coalesce(u.username, %s) FROM samples_tokenevent AS e
    LEFT JOIN pghistory_context AS c ON c.id = e.pgh_context_id
    LEFT JOIN auth_user AS u ON u.id = CASE WHEN jsonb_typeof(c.metadata->'user') = 'number'
                                            THEN (c.metadata->>'user')::integer END
    WHERE e.token_key = knox_authtoken.token_key AND e.user_id = knox_authtoken.user_id
      AND e.pgh_label = 'token.create'
    ORDER BY e.pgh_id DESC LIMIT 1""",
    [COMMAND_LINE],
    output_field=CharField(),
)


class ClientTokenAuthentication(TokenAuthentication):
    """Knox tokens (stored hashed), read with everything a request then asks about its client.

    Tokens here do not expire (one per client, until an administrator revokes it), so the
    owner's other tokens are not scanned for expired ones on every request; a token that does
    carry a past expiry is refused."""

    def authenticate_credentials(self, token: bytes) -> tuple[Any, AuthToken]:
        text = token.decode("utf-8", errors="replace")
        if "\x00" in text:  # PostgreSQL text cannot hold it: no token could match
            raise AuthenticationFailed("Invalid token.")
        candidates = (
            AuthToken.objects.filter(token_key=text[: CONSTANTS.TOKEN_KEY_LENGTH])
            .select_related("user", "user__instrument")
            .annotate(
                role_names=ArraySubquery(
                    Group.objects.filter(user=OuterRef("user_id")).values("name")
                ),
                minted_by=_MINTED_BY,
            )
        )
        digest = hash_token(text)
        for candidate in candidates:
            if not compare_digest(digest, candidate.digest):
                continue
            user = candidate.user
            if candidate.expiry is not None and candidate.expiry < timezone.now():
                break
            if not user.is_active:
                raise AuthenticationFailed("User inactive or deleted.")
            user._labtrack_roles = [r for r in Role if r.value in candidate.role_names]
            _say_who_minted(user, candidate.minted_by)
            return user, candidate
        raise AuthenticationFailed("Invalid token.")


def _say_who_minted(user: Any, minted_by: str | None) -> None:
    """A person's token minted by someone else: the request's records and lifecycle actions
    name the minter. An instrument's tokens are always minted for it: nothing to say."""
    if not minted_by or minted_by == user.get_username():
        return
    if getattr(user, "instrument", None) is not None:
        return
    user.token_minted_by = minted_by
    pghistory.context(token_minted_by=minted_by)  # joins the request's audit context


class ClientTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """How the OpenAPI schema describes it: ``Authorization: Token <token>``."""

    target_class = ClientTokenAuthentication
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        scheme = build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Token"
        )
        scheme["description"] = (
            "An API token made by an administrator (/tokens/ or `manage.py api_tokens create`), "
            "sent as `Authorization: Token <token>`. An active instrument's token may post "
            "results and read batches; a user's token carries that user's roles."
        )
        return scheme

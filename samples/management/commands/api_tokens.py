"""``manage.py api_tokens list | create (--instrument NAME | --user USERNAME) | revoke KEY``.

A token is shown once, when created; only its key prefix is stored readable. Creating a token
for a client that has one replaces it (one token per instrument or integration client).
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from samples.errors import LabError
from samples.selectors.setup import api_token_list
from samples.services.tokens import (
    api_token_create,
    api_token_owner,
    api_token_revoke,
)
from samples.values.times import utc_text


class Command(BaseCommand):
    help = "List, create and revoke API tokens of instruments and integration clients."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("list", help="every token: key prefix, owner, roles, created")
        create = actions.add_parser("create", help="a new token (shown once)")
        owner = create.add_mutually_exclusive_group(required=True)
        owner.add_argument("--instrument", help="the instrument's name, e.g. Cobas-1")
        owner.add_argument("--user", help="a user's name: the token carries their roles")
        revoke = actions.add_parser("revoke", help="revoke a token by its key prefix")
        revoke.add_argument("key", help="the key prefix shown by list (6 characters or more)")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            if action == "list":
                self._list()
            elif action == "create":
                owner = api_token_owner(instrument=options["instrument"], username=options["user"])
                token = api_token_create(owner=owner)
                self.stdout.write(f"Token for {owner.get_username()} (shown only now):\n{token}")
            else:
                owner = api_token_revoke(token_key=options["key"])
                self.stdout.write(f"Revoked the token of {owner.get_username()}.")
        except LabError as refusal:
            raise CommandError(refusal.message) from None

    def _list(self) -> None:
        rows = api_token_list()
        if not rows:
            self.stdout.write("No API tokens.")
        for row in rows:
            roles = ", ".join(row["roles"]) or "no role"
            created = utc_text(row["created"])
            self.stdout.write(f"{row['key']}  {row['owner']:<28} {roles:<20} {created}")

"""``migrate`` as the owner role (``DATABASE_OWNER_URL``); the application's role, which owns
nothing, is granted its rights afterwards (``labtrack.owner.after_migrate``)."""

from typing import Any

from django.core.management.commands import migrate
from django.db import connections

from labtrack.owner import as_owner


class Command(migrate.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        with as_owner(connections[options["database"]]):
            super().handle(*args, **options)

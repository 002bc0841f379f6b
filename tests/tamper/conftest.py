"""Tampering attempts against the database, each made twice on real connections of their own:
as the application's role (what the application's credentials allow) and as an ordinary role
that has been granted every table right, TRUNCATE included, but owns nothing (what a reporting
account or a leaked grant allows). Both must be refused, or the change detected.

Add an attempt as a test that takes ``intruder`` (parametrized over both roles) and, when it
needs rows to attack, ``trail`` (a released sample with its whole trail, committed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import suppress

import pghistory
import psycopg
import pytest
from psycopg import sql
from rest_framework.test import APIClient

from samples.services.tokens import api_token_create
from samples.tasks import audit_check_nightly
from tests import database_roles
from tests.samples.conftest import glucose, instrument, lab  # noqa: F401  (fixtures)
from tests.samples.lab import make_assay
from tests.tamper.intruders import Intruder
from tests.workers import database_url_as

ORDINARY_ROLE = "labtrack_ordinary"


@pytest.fixture(scope="session")
def ordinary_role(django_db_setup, django_db_blocker) -> str:
    """A login role with every table right on the test database (granted by the owner), which
    owns nothing; made by a superuser (tests/database_roles.py says which)."""
    superuser = database_roles.superuser_url()
    if superuser is None:
        pytest.fail(
            "The tampering tests make a second role and need a superuser's connection: set "
            "DATABASE_SUPERUSER_URL (the embedded server's is found by itself)."
        )
    with psycopg.connect(superuser, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [ORDINARY_ROLE])
        if found.fetchone() is None:
            with suppress(psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
                conn.execute(
                    sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE").format(
                        sql.Identifier(ORDINARY_ROLE)
                    )
                )
    role = sql.Identifier(ORDINARY_ROLE)
    with psycopg.connect(database_roles.owner_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
        conn.execute(
            sql.SQL(
                "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public "
                "TO {}"
            ).format(role)
        )
        conn.execute(
            sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(role)
        )
    return ORDINARY_ROLE


@pytest.fixture
def app_connection() -> Iterator[Intruder]:
    with psycopg.connect(database_roles.app_url(), autocommit=True) as conn:
        yield Intruder(database_roles.app_role(), conn)


@pytest.fixture
def ordinary_connection(ordinary_role: str) -> Iterator[Intruder]:
    with psycopg.connect(database_url_as(ordinary_role), autocommit=True) as conn:
        yield Intruder(ordinary_role, conn)


@pytest.fixture(params=["app_connection", "ordinary_connection"], ids=["app", "ordinary"])
def intruder(request: pytest.FixtureRequest) -> Intruder:
    """Each attempt as the application's role, then as the ordinary role with every grant."""
    return request.getfixturevalue(request.param)


@pytest.fixture
def trail(lab):  # noqa: F811  (the fixture imported above)
    """A released sample whose result came as an instrument message, a chain check, a change
    made with a context (who and why): committed rows in the trail's tables."""
    lab.register("S-000901")
    lab.receive("S-000901")
    lab.to_batch("S-000901")
    lab.close_batches()
    lab.start_run()
    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION=f"Token {api_token_create(owner=lab.instrument.service_user)}"
    )
    body = {"sample": "S-000901", "assay": "GLU", "value": "5.1", "run_id": "R-9"}
    response = api.post("/api/v1/results/", json.dumps(body), content_type="application/json")
    assert response.status_code == 201
    lab.env.run_until_idle()
    lab.verify("S-000901")
    with pghistory.context(user="seed", reason="a change with its reason"):
        make_assay("CREA", name="Creatinine", units="umol/L")
    assert audit_check_nightly.run() is True
    return lab

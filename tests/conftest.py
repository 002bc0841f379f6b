"""The shared cast: one user per role, made the way an administrator would make them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import global_settings
from django.contrib.auth.models import Group
from django.test import Client

from samples.roles import Role
from tests import database_roles
from tests.cast import PASSWORD
from tests.replaying import assert_every_history_replays


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """The test database is created and migrated by the owner role (tests/database_roles.py)."""
    database_roles.become_owner()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Then the tests run as the application's role, which owns nothing."""
    with django_db_blocker.unblock():
        database_roles.become_app()
    yield
    with django_db_blocker.unblock():
        database_roles.become_owner_again()


@pytest.fixture(scope="session", autouse=True)
def flush_as_owner():
    """Django's flush between transactional tests empties every table with TRUNCATE, which
    the trail's tables refuse to anyone but their owner, and to it only when asked for."""
    from django.core.management.commands import flush
    from django.db import connections

    from labtrack.guards import TRUNCATE_SETTING
    from labtrack.owner import as_owner

    original = flush.Command.handle

    def handle(self, **options):
        database = connections[options["database"]]
        with as_owner(database):
            with database.cursor() as cursor:
                cursor.execute(f"SET {TRUNCATE_SETTING} = on")
            try:
                return original(self, **options)
            finally:
                with database.cursor() as cursor:
                    cursor.execute(f"RESET {TRUNCATE_SETTING}")

    flush.Command.handle = handle
    yield
    flush.Command.handle = original


@pytest.fixture
def owner_sql():
    """Runs SQL committed on a connection of its own as the role that owns the tables: the
    intruder with more rights than the application, whom the hash chains must still catch.
    Rows of the test are seen only if committed: such tests are ``transaction=True``."""
    return database_roles.owner_sql


@pytest.fixture
def rewrite_around_triggers():
    """Runs SQL on a table as its owner with the table's own triggers off for that one
    transaction (``ALTER TABLE ... DISABLE TRIGGER USER``): what only the owner or a superuser
    can do, and what the hash chains must then reveal. Such tests are ``transaction=True``."""
    return database_roles.rewrite_around_triggers


@pytest.fixture(scope="session", autouse=True)
def separate_celery_broker():
    """Everything this session sends goes to a Redis db of its own, where the test workers
    listen, so a `make run` worker on the same Redis never takes a test's task (or the reverse).
    Set before anything is sent, so Celery's connection pools are created with it."""
    from labtrack.celery import app
    from tests.workers import worker_broker_url

    app.conf.broker_url = worker_broker_url()


@pytest.fixture(scope="session", autouse=True)
def audit_anchors_of_the_session(tmp_path_factory):
    """Processes a test starts (workers, beat) keep their audit anchors and key in a folder of
    the session's, never in the data folder of a `make run` on the same machine."""
    import os

    folder = tmp_path_factory.mktemp("audit-anchors")
    os.environ["AUDIT_ANCHOR_DIR"] = str(folder / "anchors")
    os.environ["AUDIT_ANCHOR_KEY_FILE"] = str(folder / "anchor-key.pem")


@pytest.fixture(autouse=True)
def audit_anchors_of_its_own(settings, tmp_path):
    """Each test starts with no anchor, and a signing key made on first use."""
    settings.AUDIT_ANCHOR_DIR = tmp_path / "audit-anchors"
    settings.AUDIT_ANCHOR_KEY_FILE = tmp_path / "audit-anchor-key.pem"
    settings.AUDIT_ANCHOR_KEY_CREATE = True


# A fast hasher first (new passwords), the configured ones after it (passwords hashed before).
FAST_PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    *global_settings.PASSWORD_HASHERS,
]


@pytest.fixture(autouse=True)
def fast_password_hashing(request, settings):
    """Passwords are hashed fast in the tests: a full-strength hash costs a sizeable part of a
    second, and most tests make and sign in several people. Passwords are still checked. A test
    that starts real processes (``slow``) keeps the configured hashers, since a server of its own
    reads what the test wrote, and so does one marked ``real_password_hashing``."""
    if request.node.get_closest_marker("slow") is None and (
        request.node.get_closest_marker("real_password_hashing") is None
    ):
        settings.PASSWORD_HASHERS = FAST_PASSWORD_HASHERS


@pytest.fixture
def make_user(django_user_model) -> Callable[..., object]:
    def make(username: str, *roles: Role, **fields: object) -> object:
        fields = {"first_name": username.title(), **fields}
        user = django_user_model.objects.create_user(username=username, password=PASSWORD, **fields)
        user.groups.add(*Group.objects.filter(name__in=[r.value for r in roles]))
        return user

    return make


@pytest.fixture
def technician(make_user):
    return make_user("tess", Role.TECHNICIAN)


@pytest.fixture
def second_technician(make_user):
    return make_user("theo", Role.TECHNICIAN)


@pytest.fixture
def reviewer(make_user):
    return make_user("ravi", Role.REVIEWER)


@pytest.fixture
def compliance_officer(make_user):
    return make_user("carmen", Role.COMPLIANCE)


@pytest.fixture
def administrator(make_user):
    return make_user("alex", Role.ADMIN, is_staff=True)


@pytest.fixture
def signed_in(client: Client) -> Callable[[object], Client]:
    """Sign a user in through the real login form (so axes and sessions are exercised)."""

    def sign_in(user) -> Client:
        response = client.post(
            "/accounts/login/", {"username": user.username, "password": PASSWORD}
        )
        assert response.status_code == 302, response.content[:500]
        return client

    return sign_in


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "histories_not_replayed(reason): the test writes run histories by hand (not through the "
        "engine) or leaves runs deliberately unreplayable; the replay check skips it",
    )
    config.addinivalue_line(
        "markers",
        "real_password_hashing: the test hashes passwords as configured (not the tests' fast "
        "hasher)",
    )


@pytest.fixture(autouse=True)
def every_history_replays(request):
    """After every test that touches the database, replay each run's whole recorded history
    from the table, from the top in a fresh session, against the code now loaded, and fail
    the test if one blocks or reaches other decisions than those recorded (a deadline worked
    out differently, a decision the history lacks, another ending). Workers keep workflows in
    memory and feed them only new events; this check makes sure that shortcut is never what
    makes a test pass."""
    uses_db = (
        request.node.get_closest_marker("django_db") is not None
        or "_django_db_helper" in request.fixturenames
    )
    skip = request.node.get_closest_marker("histories_not_replayed")
    if not uses_db or skip is not None:
        yield
        return
    request.getfixturevalue("_django_db_helper")  # so the check runs before the database goes
    yield
    assert_every_history_replays()

"""The shared cast: one user per role, made the way an administrator would make them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from samples.roles import Role
from tests.cast import PASSWORD


@pytest.fixture(scope="session", autouse=True)
def separate_celery_broker():
    """Everything this session sends goes to a Redis db of its own, where the test workers
    listen, so a `make run` worker on the same Redis never takes a test's task (or the reverse).
    Set before anything is sent, so Celery's connection pools are created with it."""
    from labtrack.celery import app
    from tests.workers import worker_broker_url

    app.conf.broker_url = worker_broker_url()


@pytest.fixture
def make_user(django_user_model) -> Callable[..., object]:
    def make(username: str, *roles: Role, **fields: object) -> object:
        user = django_user_model.objects.create_user(
            username=username, password=PASSWORD, first_name=username.title(), **fields
        )
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

"""The first administrator, made with `manage.py createsuperuser` as the README says, holds the
administrator role: the administrator's navigation and pages, not an empty menu and 403."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from samples.roles import Role, user_roles
from samples.tracking import RoleEvent
from tests.cast import NAVIGATION, PASSWORD
from tests.samples.views.test_navigation import nav_labels

pytestmark = pytest.mark.django_db


@pytest.fixture
def first_administrator(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command(
        "createsuperuser",
        interactive=False,
        username="root",
        email="root@lab.example",
        stdout=StringIO(),
    )
    return get_user_model().objects.get(username="root")


def test_createsuperuser_makes_an_administrator(first_administrator):
    assert user_roles(first_administrator) == [Role.ADMIN]


def test_the_first_administrator_sees_the_administrators_navigation(first_administrator, signed_in):
    response = signed_in(first_administrator).get("/")
    assert response.status_code == 200
    assert nav_labels(response.content.decode()) == NAVIGATION[Role.ADMIN]


@pytest.mark.parametrize("path", ["/tokens/", "/users/", "/audit/", "/admin/"])
def test_the_first_administrator_opens_the_administrators_pages(
    first_administrator, signed_in, path
):
    assert signed_in(first_administrator).get(path).status_code == 200


def test_the_role_given_to_the_first_administrator_is_in_the_audit_trail(first_administrator):
    event = RoleEvent.objects.get(user=first_administrator)
    assert event.pgh_label == "role.add"
    assert event.group.name == Role.ADMIN.value


def test_an_ordinary_account_gets_no_role_by_itself(django_user_model):
    user = django_user_model.objects.create_user(username="plain", password=PASSWORD)
    assert user_roles(user) == []

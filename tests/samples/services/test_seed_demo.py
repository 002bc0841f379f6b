"""seed_demo loads one user per role, assays and an instrument; a second run changes nothing."""

from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory
from knox.models import AuthToken

from samples.demo.data import DEMO_INSTRUMENT_NAME, DEMO_USERS
from samples.models import Assay, Instrument
from samples.roles import user_roles

pytestmark = pytest.mark.django_db

SNAPSHOT_MODELS = [
    "auth.User",
    "auth.Group",
    "samples.Assay",
    "samples.Instrument",
    "knox.AuthToken",
    "samples.Sample",
    "samples.Result",
    "workflows.Run",
    "samples.ControlLot",
    "samples.ControlResult",
]


def snapshot() -> dict[str, list[dict]]:
    """Every row of every model seed_demo touches, plus group memberships and permissions."""
    rows = {
        label: list(apps.get_model(label).objects.order_by("pk").values())
        for label in SNAPSHOT_MODELS
    }
    rows["memberships"] = list(get_user_model().groups.through.objects.order_by("pk").values())
    rows["grants"] = list(
        apps.get_model("auth.Group").permissions.through.objects.order_by("pk").values()
    )
    return rows


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_creates_one_user_per_role_with_the_documented_password():
    seed()
    for demo_user in DEMO_USERS:
        request = RequestFactory().post("/accounts/login/")
        user = authenticate(request, username=demo_user.username, password=demo_user.password)
        assert user is not None, demo_user.username
        assert user_roles(user) == [demo_user.role]


def test_seed_demo_creates_assays_and_an_instrument_with_a_printed_token():
    output = seed()
    assert Assay.objects.count() >= 3
    instrument = Instrument.objects.get(name=DEMO_INSTRUMENT_NAME)
    assert instrument.assays.exists()
    token = output.split("stored hashed):")[1].split()[0]
    stored = AuthToken.objects.get(user=instrument.service_user)
    assert stored.token_key == token[: len(stored.token_key)]
    assert token not in stored.digest  # only a hash is kept
    assert not instrument.service_user.has_usable_password()


def test_running_seed_demo_twice_changes_nothing_the_second_time():
    seed()
    before = snapshot()
    output = seed()
    assert snapshot() == before
    assert "nothing changed" in output
    assert "API token" not in output  # a token is shown once, when it is made


def test_seed_demo_leaves_a_changed_password_alone():
    seed()
    user = get_user_model().objects.get(username=DEMO_USERS[0].username)
    user.set_password("changed by the lab")
    user.save()
    seed()
    user.refresh_from_db()
    assert user.check_password("changed by the lab")


def test_seed_demo_fills_the_lab_with_samples_in_every_state():
    seed()
    from samples.models import Sample

    states = set(Sample.objects.values_list("state", flat=True))
    assert states == {
        "registered",
        "rejected",
        "expired",
        "received",
        "awaiting_batch",
        "in_batch",
        "resulted",
        "retest_pending",
        "reported",
    }
    reported = Sample.objects.filter(state="reported").first()
    assert reported.reports.get().pdf
    assert reported.signatures.get().meaning == "reviewed and released"


def test_seed_demo_sets_up_control_lots_with_a_history_breaking_rules():
    from samples.models import ControlLot, ControlResult

    call_command("seed_demo", stdout=StringIO())
    assert set(ControlLot.objects.values_list("code", flat=True)) == {
        "QC-GLU-1", "QC-GLU-2", "QC-K-1", "QC-K-2",
    }  # fmt: skip
    assert ControlResult.objects.count() == 100
    broken = {
        rule for rules in ControlResult.objects.values_list("rules", flat=True) for rule in rules
    }
    assert {"1-2s", "2-2s", "4-1s", "R-4s"} <= broken
    assert ControlResult.objects.filter(verdict="rejected").exists()

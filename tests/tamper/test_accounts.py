"""An administrator cannot act as anyone without a trace: what an administrator does to
accounts (superuser flag, password, roles, tokens) is in the audit trail with the administrator
as actor; what a person does with a token someone else minted names the minter; a person is
never shown as an instrument; sign-ins, failures and lockouts are in the trail, its exports
and its check. Each attempt through the real admin, pages and API."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from samples.roles import Role
from samples.selectors.audit import AuditFilter, audit_entries
from samples.selectors.chains import audit_verify
from samples.services.setup import instrument_register
from samples.tracking import RoleEvent, SignInEvent, TokenEvent, UserEvent
from tests.cast import PASSWORD
from tests.samples.conftest import glucose, instrument, lab  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a new passphrase nobody else knows"


def entries(**chosen):
    return list(audit_entries(AuditFilter(**chosen)))


def said(**chosen) -> list[str]:
    """The trail's sentences, each with who, as the page shows them."""
    return [f"{e.who}: {e.what}" for e in entries(**chosen)]


def sign_in(username: str, password: str = PASSWORD, path: str = "/accounts/login/"):
    client = Client()
    response = client.post(path, {"username": username, "password": password})
    return client, response


def admin_change(user, **changed) -> dict[str, object]:
    """The admin's change form for ``user``, as it would be posted, with ``changed``."""
    fields = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "groups": [g.pk for g in user.groups.all()],
        "user_permissions": [],
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "last_login_0": "",
        "last_login_1": "",
        "_save": "Save",
    }
    if user.is_staff:
        fields["is_staff"] = "on"
    if user.is_superuser:
        fields["is_superuser"] = "on"
    fields.update(changed)
    return {k: v for k, v in fields.items() if v is not None}


def test_admin_setting_superuser_is_in_trail(administrator, compliance_officer):
    admin, _ = sign_in(administrator.username)
    response = admin.post(
        f"/admin/auth/user/{administrator.pk}/change/",
        admin_change(administrator, is_superuser="on"),
    )
    assert response.status_code == 302, response.content[:2000]
    administrator.refresh_from_db()
    assert administrator.is_superuser
    event = UserEvent.objects.filter(pgh_obj=administrator).latest("pgh_id")
    assert (event.pgh_label, event.is_superuser) == ("update", True)
    assert event.pgh_context.metadata["user"] == administrator.pk
    assert "alex: Account alex changed by alex: is superuser no → yes" in said(user="alex")
    reader, _ = sign_in(compliance_officer.username)
    page = reader.get("/audit/", {"user": "alex", "type": "user"}).content.decode()
    assert "Account alex changed by alex: is superuser no → yes" in page


def test_admin_password_reset_is_in_trail(administrator, technician):
    admin, _ = sign_in(administrator.username)
    response = admin.post(
        f"/admin/auth/user/{technician.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content[:2000]
    # The administrator now signs in as the technician: both acts are in the trail, in order.
    _, signed = sign_in(technician.username, NEW_PASSWORD)
    assert signed.status_code == 302
    event = UserEvent.objects.filter(pgh_obj=technician, pgh_label="user.password").get()
    assert event.pgh_context.metadata["user"] == administrator.pk
    with connection.cursor() as cursor:  # the event never holds the hash
        cursor.execute("SELECT to_jsonb(e)::text FROM samples_userevent AS e")
        rows = " ".join(row[0] for row in cursor.fetchall())
    stored = type(technician).objects.get(pk=technician.pk).password
    assert stored.split("$")[0] not in rows and stored not in rows and 'password":' not in rows
    tess = said(user="tess")
    assert "tess: Signed in: tess, from 127.0.0.1" in tess
    assert said(type="user.password") == ["alex: Password of tess changed by alex"]
    changed_at = entries(type="user.password")[0].at
    assert [e.at > changed_at for e in entries(type="signin.success", user="tess")] == [True]


def test_admin_role_change_is_in_trail(administrator, technician):
    admin, _ = sign_in(administrator.username)
    reviewers = Group.objects.get(name=Role.REVIEWER.value)
    groups = [*technician.groups.values_list("pk", flat=True), reviewers.pk]
    response = admin.post(
        f"/admin/auth/user/{technician.pk}/change/", admin_change(technician, groups=groups)
    )
    assert response.status_code == 302, response.content[:2000]
    added = RoleEvent.objects.get(pgh_label="role.add", group=reviewers)
    assert added.pgh_context.metadata["user"] == administrator.pk
    assert "alex: tess given the role reviewer by alex" in said(type="role.add")


def test_token_minted_for_someone_shows_minter_in_actions(
    lab,  # noqa: F811
    administrator,
):
    admin, _ = sign_in(administrator.username)
    response = admin.post("/tokens/new/", {"owner": "user:tess"})
    assert response.status_code == 302
    token = admin.session["new_api_token"]["token"]
    created = TokenEvent.objects.get(user=lab.technician, pgh_label="token.create")
    assert created.pgh_context.metadata["user"] == administrator.pk
    assert f"alex: API token {created.token_key} created for tess by alex" in said(type="token")

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    body = {
        "barcode": "S-000771",
        "specimen_type": "serum",
        "subject_ref": "SUBJ-771",
        "collected_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "assays": ["GLU"],
    }
    assert api.post("/api/v1/samples/", body, format="json").status_code == 201
    lab.env.run_until_idle()

    minted = "tess (API token minted by alex)"
    found = entries(sample="S-000771")
    registered = [e for e in found if e.type == "sample.insert"]
    assert [e.who for e in registered] == [minted]
    assert registered[0].what == f"Sample S-000771 registered by {minted}"
    started = [e for e in found if e.type == "run_started"]
    assert [e.who for e in started] == [minted]
    # The record's context and the lifecycle's actor keep it, as stored.
    history = api.get("/api/v1/samples/S-000771/history/").json()
    assert history[0]["actor"] == minted
    # Found under the person and under the minter (the engine's own steps name nobody).
    acted = {e.key for e in found if e.actor}
    assert {e.key for e in entries(user="tess", sample="S-000771")} == acted
    assert {e.key for e in entries(user="alex", sample="S-000771")} == acted
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.metadata->>'token_minted_by' FROM samples_sampleevent AS e "
            "JOIN pghistory_context AS c ON c.id = e.pgh_context_id WHERE e.barcode = %s",
            ["S-000771"],
        )
        assert {row for row in cursor.fetchall()} == {("alex",)}


def test_a_token_a_person_minted_for_themselves_names_only_them(lab, make_user):  # noqa: F811
    boss = make_user("bea", Role.ADMIN, Role.TECHNICIAN, is_staff=True)
    admin, _ = sign_in(boss.username)
    admin.post("/tokens/new/", {"owner": "user:bea"})
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {admin.session['new_api_token']['token']}")
    body = {
        "barcode": "S-000772",
        "specimen_type": "serum",
        "subject_ref": "SUBJ-772",
        "collected_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "assays": ["GLU"],
    }
    assert api.post("/api/v1/samples/", body, format="json").status_code == 201
    assert {e.who for e in entries(sample="S-000772")} == {"bea"}


def test_user_named_like_instrument_is_not_shown_as_instrument(
    lab,  # noqa: F811
    administrator,
    make_user,
):
    # An account named as the instrument, made before the rule (or written around it).
    person = make_user("Cobas-1", Role.TECHNICIAN)
    lab.register("S-000773")
    lab.receive("S-000773")
    lab.analyse("S-000773", "5.1")
    client, _ = sign_in(person.username)
    form = {
        "barcode": "S-000775",
        "specimen_type": "serum",
        "subject_ref": "SUBJ-775",
        "collected_at": (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "priority": "routine",
        "assays": ["GLU"],
    }
    assert client.post("/samples/new/", form).status_code == 302
    lab.env.run_until_idle()

    by_person = entries(sample="S-000775", user="Cobas-1")
    assert {"sample.insert", "run_started"} <= {e.type for e in by_person}
    assert {e.who for e in by_person} == {"Cobas-1"}
    assert "Sample S-000775 registered by Cobas-1" in [e.what for e in by_person]
    by_instrument = entries(sample="S-000773", user="Cobas-1")
    assert {"result.insert", "signal_received"} <= {e.type for e in by_instrument}
    assert {e.who for e in by_instrument} == {"instrument Cobas-1"}
    page = client.get("/samples/S-000773/").content.decode()
    assert "instrument Cobas-1" in page and "instrument-cobas-1" not in page

    # From now on neither name can be taken by the other.
    instrument_register(name="Architect-2", model="ci4100", serial="A-2", assay_codes=["GLU"])
    admin, _ = sign_in(administrator.username)
    refused = admin.post(
        "/admin/auth/user/add/",
        {
            "username": "ARCHITECT-2",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "usable_password": "true",
            "_save": "Save",
        },
    )
    assert refused.status_code == 200
    assert "is the name of an instrument" in refused.content.decode()
    assert not get_user_model().objects.filter(username="ARCHITECT-2").exists()
    renamed = admin.post(
        f"/admin/samples/instrument/{lab.instrument.pk}/change/",
        {
            "name": "TESS",
            "model": lab.instrument.model,
            "serial": lab.instrument.serial,
            "assays": [a.pk for a in lab.instrument.assays.all()],
            "service_user": lab.instrument.service_user_id,
            "is_active": "on",
            "_save": "Save",
        },
    )
    assert renamed.status_code == 200
    assert "is the username of an account" in renamed.content.decode()
    lab.instrument.refresh_from_db()
    assert lab.instrument.name == "Cobas-1"


def test_sign_in_failure_and_lockout_are_in_trail(technician, compliance_officer):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(5):
        sign_in(technician.username, "wrong")
    _, locked = sign_in(technician.username, PASSWORD)
    assert locked.status_code == 429
    sign_in("nobody", "guess")

    kinds = list(SignInEvent.objects.order_by("pgh_id").values_list("pgh_label", "reason"))
    assert kinds == [
        *[("signin.failure", "wrong password")] * 5,
        ("signin.lockout", "5 failed sign-ins"),
        ("signin.failure", "account locked"),
        ("signin.failure", "no such account"),
    ]
    assert all(e.user_id == technician.pk for e in SignInEvent.objects.exclude(username="nobody"))
    assert SignInEvent.objects.get(username="nobody").user is None
    tess = [e.what for e in entries(user="tess", type="signin")]
    assert tess == [
        *["Sign-in failed for tess (wrong password), from 127.0.0.1"] * 5,
        "tess locked out after 5 failed sign-ins, from 127.0.0.1",
        "Sign-in failed for tess (account locked), from 127.0.0.1",
    ]
    assert [e.what for e in entries(type="signin.lockout")] == [tess[5]]
    assert [e.what for e in entries(user="nobody")] == [
        "Sign-in failed for nobody (no such account), from 127.0.0.1"
    ]
    with connection.cursor() as cursor:  # never a password
        cursor.execute("SELECT to_jsonb(e)::text FROM samples_signinevent AS e")
        rows = " ".join(row[0] for row in cursor.fetchall())
    assert "wrong" not in rows.replace("wrong password", "") and PASSWORD not in rows

    reader, _ = sign_in(compliance_officer.username)
    page = reader.get("/audit/", {"type": "signin"}).content.decode()
    assert "tess locked out after 5 failed sign-ins" in page
    assert "Signed in: carmen, from 127.0.0.1" in page
    reader.post("/accounts/logout/")
    assert [e.what for e in entries(type="signin.signout")] == [
        "Signed out: carmen, from 127.0.0.1"
    ]


def test_a_wrong_signing_password_is_a_failure_of_its_own_kind(lab, signed_in):  # noqa: F811
    lab.register("S-000774")
    lab.receive("S-000774")
    lab.analyse("S-000774", "5.0")
    client = signed_in(lab.reviewer)
    response = client.post(
        "/review/sign/",
        {"barcode": ["S-000774"], "username": "ravi", "password": "not mine"},
        follow=True,
    )
    assert "Wrong user id or password" in response.content.decode()
    failure = SignInEvent.objects.get(pgh_label="signin.failure")
    assert (failure.username, failure.reason) == ("ravi", "wrong password when signing")


@pytest.mark.django_db(transaction=True)  # the rewrite is the owner's, on committed rows
def test_sign_ins_are_exported_and_checked(technician, compliance_officer, rewrite_around_triggers):
    sign_in(technician.username)
    sign_in(technician.username, "wrong")
    reader, _ = sign_in(compliance_officer.username)
    exported = b"".join(reader.get("/audit/export.csv").streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(exported.split("\r\n\r\n# manifest")[0])))
    whats = {row["what"] for row in rows if row["type"].startswith("signin.")}
    assert {
        "Signed in: tess, from 127.0.0.1",
        "Sign-in failed for tess (wrong password), from 127.0.0.1",
    } <= whats
    response = reader.get("/audit/export.json", {"type": "signin"})
    exported = json.loads(b"".join(response.streaming_content))
    assert {e["type"] for e in exported["entries"]} == {"signin.success", "signin.failure"}

    check = audit_verify()
    assert check.intact
    # A sign-in quietly rewritten (by a role that can switch the guards off) is found.
    rewrite_around_triggers(
        "samples_signinevent",
        "UPDATE samples_signinevent SET reason = 'wrong password', username = 'ravi' "
        "WHERE pgh_label = 'signin.failure'",
    )
    broken = audit_verify()
    assert [f.where.split(" row ")[0] for f in broken.findings] == ["samples_signinevent"]


def test_sign_in_events_are_append_only(technician):
    sign_in(technician.username)
    for statement in [
        "UPDATE samples_signinevent SET username = 'someone'",
        "DELETE FROM samples_signinevent",
    ]:
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert SignInEvent.objects.get().username == "tess"

"""Every change outside the workflows is audited by database triggers, whatever made it (a
page, the admin, a bulk update, raw SQL, a management command), with who and from where; the
events cannot be changed, and a change made around the triggers is found by ``audit verify``
(COMPLIANCE.md C1, C2, C4, C5)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from samples.models import Assay, AssayEvent
from samples.roles import Role
from samples.selectors.chains import audit_verify
from samples.tracking import RoleEvent, TokenEvent, UserEvent
from tests.cast import PASSWORD
from tests.samples.lab import make_assay

pytestmark = pytest.mark.django_db


def raw(sql, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def reference_highs(assay):
    events = AssayEvent.objects.filter(pgh_obj=assay).order_by("pgh_id")
    return [(e.pgh_label, e.reference_high) for e in events]


def test_a_change_by_any_path_is_an_event_with_the_old_and_new_value(glucose):
    glucose.reference_high = Decimal("6.0")
    glucose.save()  # a page or the admin
    Assay.objects.filter(pk=glucose.pk).update(reference_high=Decimal("6.1"))  # a bulk update
    raw("UPDATE samples_assay SET reference_high = 6.2 WHERE id = %s", glucose.pk)  # raw SQL
    assert reference_highs(glucose) == [
        ("insert", Decimal("5.6")),
        ("update", Decimal("6.0")),
        ("update", Decimal("6.1")),
        ("update", Decimal("6.2")),
    ]


def test_a_change_made_through_a_page_records_who_and_where(client, administrator, glucose):
    client.post("/accounts/login/", {"username": administrator.username, "password": PASSWORD})
    page = f"/admin/samples/assay/{glucose.pk}/change/"
    form = {
        field: getattr(glucose, field)
        for field in ["code", "name", "units", "reference_low", "critical_low", "critical_high"]
    }
    form |= {
        "reference_high": "7.0",
        "batch_capacity": 3,
        "batch_close_after": "02:00:00",
        "stability_hours": 24,
        "max_retests": 1,
        "is_active": "on",
    }
    response = client.post(page, form)
    assert response.status_code == 302, response.content[:2000]
    event = AssayEvent.objects.filter(pgh_obj=glucose).latest("pgh_id")
    assert event.reference_high == Decimal("7.0")
    assert event.pgh_context.metadata == {"user": administrator.pk, "url": page}


def test_roles_users_and_tokens_are_audited(make_user, instrument):
    user = make_user("una")
    technicians = Group.objects.get(name=Role.TECHNICIAN.value)
    user.groups.add(technicians)
    user.groups.remove(technicians)
    user.is_active = False
    user.save()
    call_command("api_tokens", "create", "--instrument", "Cobas-1")
    assert [e.pgh_label for e in RoleEvent.objects.filter(user=user).order_by("pgh_id")] == [
        "role.add",
        "role.remove",
    ]
    assert [e.is_active for e in UserEvent.objects.filter(pgh_obj=user).order_by("pgh_id")] == [
        True,
        False,
    ]
    tokens = TokenEvent.objects.filter(user=instrument.service_user).order_by("pgh_id")
    # registered with a token; a new one replaces it
    assert [t.pgh_label for t in tokens] == ["token.create", "token.revoke", "token.create"]
    assert not hasattr(tokens[0], "digest")  # the stored hash of the secret is not copied


@pytest.mark.parametrize(
    "sql",
    ["UPDATE samples_assayevent SET reference_high = 99", "DELETE FROM samples_assayevent"],
)
def test_raw_sql_cannot_update_or_delete_audit_events(glucose, sql):
    with pytest.raises(DatabaseError), transaction.atomic():
        raw(sql)
    assert reference_highs(glucose) == [("insert", Decimal("5.6"))]


@pytest.mark.django_db(transaction=True)
def test_an_event_changed_around_the_triggers_is_reported_by_audit_verify(
    glucose, rewrite_around_triggers
):
    make_assay("CREA", name="Creatinine", units="umol/L")
    glucose.reference_high = Decimal("6.0")
    glucose.save()
    assert audit_verify().intact
    first = AssayEvent.objects.filter(pgh_obj=glucose).earliest("pgh_id")
    rewrite_around_triggers(
        "samples_assayevent",
        "UPDATE samples_assayevent SET reference_high = 4.4 WHERE pgh_id = %s",
        first.pgh_id,
    )
    [finding] = audit_verify().findings
    assert finding.where == f"samples_assayevent row {first.pgh_id}"
    assert finding.problem == "its content does not match its hash"
    with pytest.raises(CommandError, match=r"1 of [0-9]+ chains are broken"):
        call_command("audit", "verify")


@pytest.mark.django_db(transaction=True)
def test_the_nightly_check_is_scheduled_kept_and_alerts_when_broken(
    glucose, settings, caplog, rewrite_around_triggers
):
    from samples.models import ChainCheck
    from samples.tasks import audit_check_nightly

    entry = settings.CELERY_BEAT_SCHEDULE["audit-check-nightly"]
    assert entry["task"] == audit_check_nightly.name
    assert audit_check_nightly.run() is True
    rewrite_around_triggers("samples_assayevent", "UPDATE samples_assayevent SET name = 'Sugar'")
    assert audit_check_nightly.run() is False
    broken, intact = ChainCheck.objects.order_by("-pk")[:2]
    assert (intact.intact, broken.intact, broken.trigger) == (True, False, "nightly")
    assert broken.findings[0]["where"].startswith("samples_assayevent row ")
    assert "hash chains are broken" in caplog.text
    with pytest.raises(DatabaseError), transaction.atomic():
        raw("DELETE FROM samples_chaincheck")  # the alert stays on record

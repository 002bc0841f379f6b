"""Setting up a qualitative assay where assays are set up (the admin site): its kind and its
answers, normal and abnormal apart, one a line; and the audit trail of assays and results with
the fields added for them, whose events written before keep their hashes."""

from __future__ import annotations

from django.db import connection

from samples.forms import AssayAdminForm
from samples.models import Assay, AssayEvent, ResultEvent
from samples.selectors.chains import audit_verify
from tests.samples.qualitative import make_qualitative, running

FORM = {
    "code": "HIV", "name": "HIV 1/2 antibodies", "kind": "qualitative", "units": "",
    "normal_answers": "Negative", "abnormal_answers": "Positive\r\n Indeterminate \r\n\r\n",
    "batch_capacity": "96", "batch_close_after": "02:00:00", "stability_hours": "24",
    "max_retests": "2", "is_active": "on",
}  # fmt: skip


def test_the_admin_form_takes_a_qualitative_assays_answers_one_a_line(db):
    form = AssayAdminForm(FORM)
    assert form.is_valid(), form.errors
    assay = form.save()
    assert assay.answers == [
        {"text": "Negative", "abnormal": False},
        {"text": "Positive", "abnormal": True},
        {"text": "Indeterminate", "abnormal": True},
    ]
    again = AssayAdminForm(instance=assay)
    assert again["abnormal_answers"].initial == "Positive\nIndeterminate"
    assert again["normal_answers"].initial == "Negative"


def test_the_admin_form_refuses_answers_that_cannot_be_told_apart_or_kept(db):
    for answers, says in [
        ({"normal_answers": "Negative", "abnormal_answers": ""}, "at least two answers"),
        ({"abnormal_answers": "positive\nPOSITIVE"}, "read the same"),
        ({"abnormal_answers": "P" * 65}, "longer than 64 characters"),
        ({"abnormal_answers": "Posi\x07tive"}, "control character"),
    ]:
        form = AssayAdminForm({**FORM, **answers})
        assert not form.is_valid() and says in str(form.errors["normal_answers"]), answers
    ranged = AssayAdminForm({**FORM, "reference_low": "1"})
    assert not ranged.is_valid() and "no ranges" in str(ranged.errors["reference_low"])
    assert not Assay.objects.exists()


def test_a_quantitative_assay_needs_units_and_takes_no_answers(db):
    quantitative = {**FORM, "kind": "quantitative", "units": "mmol/L"}
    answered = AssayAdminForm(quantitative)
    assert not answered.is_valid() and "Only a qualitative assay" in str(answered.errors["kind"])
    unitless = AssayAdminForm(
        {**quantitative, "units": "", "normal_answers": "", "abnormal_answers": ""}
    )
    assert not unitless.is_valid() and "needs its units" in str(unitless.errors["units"])
    plain = AssayAdminForm({**quantitative, "normal_answers": "", "abnormal_answers": ""})
    assert plain.is_valid(), plain.errors
    assert (plain.save().kind, Assay.objects.get().answers) == ("quantitative", [])


def test_the_admin_page_sets_up_a_qualitative_assay(db, administrator, signed_in):
    page = signed_in(administrator).post("/admin/samples/assay/add/", FORM)
    assert page.status_code == 302, page.content.decode()[:2000]
    assay = Assay.objects.get(code="HIV")
    assert assay.is_qualitative and len(assay.answers) == 3
    event = AssayEvent.objects.get(pgh_obj=assay)
    assert (event.kind, event.answers) == ("qualitative", assay.answers)


def test_events_without_the_added_fields_keep_their_hashes_and_the_trail_holds(lab, db):
    make_qualitative()
    running(lab, "S-000501")
    lab.post("S-000501", "positive", assay="HIV")
    lab.register("S-000502")
    lab.receive("S-000502")
    lab.analyse("S-000502", "4.2")
    assert audit_verify().intact
    # The events written before the fields were added hold null there (nothing filled in),
    # and a null field is left out of an event's hash: theirs stay as they were.
    for model, name in ((ResultEvent, "text"), (AssayEvent, "kind"), (AssayEvent, "answers")):
        field = model._meta.get_field(name)
        assert field.null and not field.has_default(), (model, name)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT audit_digest('{\"a\": 1, \"text\": null}', '') = audit_digest('{\"a\": 1}', '')"
        )
        assert cursor.fetchone() == (True,)
    numbers = ResultEvent.objects.filter(text__isnull=True)
    assert numbers.exists() and ResultEvent.objects.filter(text="Positive").exists()

"""Names print as written on every PDF LabTrack makes: the signed report, the chain-of-custody
dossier, the label sheet and the audit trail's export, in Polish, Greek or Chinese, as the
signer, the technician, the subject, and in a reason; none turns into "?"."""

from __future__ import annotations

import pytest

from samples import services
from samples.roles import Role
from tests.pdf import pdf_text
from tests.samples.jobs import job_download, job_followed

POLISH, GREEK, CHINESE = "Łukasz Wróblewski", "Αλέξανδρος Παπαδόπουλος", "王秀英"
REASON = f"analyser down, value read out by {POLISH} to {GREEK} for {CHINESE}"
EACH_SIGNS = pytest.mark.parametrize(
    "names",
    [(POLISH, GREEK, CHINESE), (GREEK, CHINESE, POLISH), (CHINESE, POLISH, GREEK)],
    ids=["polish-signer", "greek-signer", "chinese-signer"],
    indirect=True,
)


@pytest.fixture
def names(request) -> dict[str, str]:
    """Who signs, who enters the result, and whose sample it is."""
    signer, technician, subject = getattr(request, "param", (POLISH, GREEK, CHINESE))
    return {"signer": signer, "technician": technician, "subject": subject}


def person(make_user, name: str, role: Role):
    """A user whose username is the first word of ``name`` and whose full name is ``name``."""
    first, _, last = name.partition(" ")
    return make_user(first, role, first_name=first, last_name=last)


@pytest.fixture
def technician(make_user, names):
    return person(make_user, names["technician"], Role.TECHNICIAN)


@pytest.fixture
def reviewer(make_user, names):
    return person(make_user, names["signer"], Role.REVIEWER)


@pytest.fixture
def released(lab, names) -> str:
    """Registered for the subject, its result entered by hand by the technician with
    ``REASON``, verified and released by the signer."""
    lab.register("S-000951", subject_ref=names["subject"])
    lab.receive("S-000951")
    lab.to_batch("S-000951")
    lab.close_batches()
    lab.start_run()
    services.result_record(
        barcode="S-000951", assay_code="GLU", value="5.0", user=lab.technician, reason=REASON
    )
    lab.env.run_until_idle()
    lab.verify("S-000951")
    assert lab.state("S-000951") == "reported"
    return "S-000951"


def username(name: str) -> str:
    return name.partition(" ")[0]


@EACH_SIGNS
def test_the_signed_report_prints_signer_technician_and_subject_as_written(
    lab, released, names, signed_in
):
    response = signed_in(lab.reviewer).get(f"/samples/{released}/report.pdf")
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert f"Signed by: {names['signer']}" in text
    assert f"Subject reference: {names['subject']}" in text
    assert f"{username(names['technician'])} (by hand)" in text
    assert "?" not in text


@pytest.mark.parametrize("subject", [POLISH, GREEK, CHINESE])
def test_the_label_sheet_prints_the_subject_as_written(lab, subject, signed_in):
    lab.register("S-000951", subject_ref=subject)
    response = signed_in(lab.technician).get("/samples/labels.pdf?barcode=S-000951")
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert subject in text.splitlines() and "S-000951" in text.splitlines()
    assert "?" not in text


def test_the_dossier_prints_every_name_and_the_reason_as_written(lab, released, names, signed_in):
    response = signed_in(lab.reviewer).get(f"/samples/{released}/custody.pdf")
    assert response.status_code == 200
    text = pdf_text(response.content)
    technician = username(names["technician"])
    lines = text.replace("\n", " ")
    assert f"Result 5.0 mmol/L for GLU of S-000951 entered by {technician}  ({REASON})" in lines
    assert f"Sample S-000951 received by {technician} (condition acceptable)" in lines
    assert f"Results of S-000951 signed by {names['signer']} (reviewed and released)" in lines
    assert f"{names['signer']}, reviewed and released" in text  # the signature
    assert "?" not in text


def test_the_audit_trail_pdf_prints_every_name_and_the_reason_as_written(
    lab, released, names, signed_in, compliance_officer
):
    client = signed_in(compliance_officer)
    job, _ = job_followed(client, lab.env, client.post(f"/audit/export.pdf?sample={released}"))
    text = pdf_text(job_download(client, job))
    technician, signer = username(names["technician"]), username(names["signer"])
    entered = f"Result 5.0 mmol/L for GLU of {released} entered by {technician}"
    assert f"| {technician} | {entered} | {REASON}" in text
    signed = f"Results of {released} signed by {names['signer']} (reviewed and released)"
    assert f"| {signer} | {signed} |" in text
    assert "?" not in text

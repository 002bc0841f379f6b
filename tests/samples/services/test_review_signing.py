"""Several samples signed in one signing act: the password entered once, each sample its own
signature bound to its own content, each released by its own workflow (21 CFR 11.200(a)(1)(i))."""

from __future__ import annotations

from axes.models import AccessAttempt

from samples import services
from samples.models import Report, Sample, Signature
from samples.roles import Role
from samples.selectors.signatures import content_hash, signed_content
from tests.cast import PASSWORD

BARCODES = ["S-000801", "S-000802", "S-000803"]


def three_resulted(lab, values=("4.2", "5.0", "6.1")):
    for barcode in BARCODES:
        lab.register(barcode)
        lab.receive(barcode)
    lab.analyse_together(dict(zip(BARCODES, values, strict=True)))
    assert {lab.state(b) for b in BARCODES} == {"resulted"}


def test_one_password_signs_every_ticked_sample_each_with_its_own_signature(lab, signed_in):
    three_resulted(lab)
    client = signed_in(lab.reviewer)
    response = client.post(
        "/review/sign/",
        {"barcode": BARCODES, "username": "ravi", "password": PASSWORD},
        follow=True,
    )
    body = response.content.decode()
    assert "S-000801, S-000802, S-000803 reviewed and released by Ravi" in body
    signatures = {s.sample.barcode: s for s in Signature.objects.select_related("sample")}
    assert sorted(signatures) == BARCODES
    for barcode, signature in signatures.items():
        sample = Sample.objects.get(barcode=barcode)
        assert signature.signer == lab.reviewer
        assert signature.content == signed_content(sample)
        assert signature.content_sha256 == content_hash(signed_content(sample))
    assert len({s.content_sha256 for s in signatures.values()}) == 3  # one per content
    lab.env.run_until_idle()
    assert {lab.state(b) for b in BARCODES} == {"reported"}  # each through its own workflow
    assert Report.objects.filter(sample__barcode__in=BARCODES).count() == 3


def test_a_sample_that_moved_on_is_reported_and_the_others_are_signed(lab, signed_in, make_user):
    three_resulted(lab)
    colleague = make_user("rita", Role.REVIEWER)
    services.sample_send_to_retest(
        user=colleague, barcode="S-000802", assay_code="GLU", reason="delta check"
    )
    lab.env.run_until_idle()
    client = signed_in(lab.reviewer)
    response = client.post(
        "/review/sign/",
        {"barcode": BARCODES, "username": "ravi", "password": PASSWORD},
        follow=True,
    )
    body = response.content.decode()
    assert "S-000801, S-000803 reviewed and released by Ravi" in body
    assert "S-000802 not signed: S-000802 is retest pending" in body
    assert sorted(Signature.objects.values_list("sample__barcode", flat=True)) == [
        "S-000801",
        "S-000803",
    ]
    lab.env.run_until_idle()
    assert [lab.state(b) for b in BARCODES] == ["reported", "retest_pending", "reported"]


def test_a_wrong_password_signs_none_of_them_and_counts_once(lab, signed_in):
    three_resulted(lab)
    client = signed_in(lab.reviewer)
    response = client.post(
        "/review/sign/", {"barcode": BARCODES, "username": "ravi", "password": "nope"}, follow=True
    )
    assert "Wrong user id or password: the signature was not applied." in response.content.decode()
    assert not Signature.objects.exists()
    assert AccessAttempt.objects.get(username="ravi").failures_since_start == 1
    lab.env.run_until_idle()
    assert {lab.state(b) for b in BARCODES} == {"resulted"}


def test_signing_nothing_ticked_is_refused_without_counting_a_failure(lab, signed_in):
    three_resulted(lab)
    client = signed_in(lab.reviewer)
    response = client.post("/review/sign/", {"password": PASSWORD}, follow=True)
    assert "Select the samples to sign." in response.content.decode()
    assert not Signature.objects.exists() and not AccessAttempt.objects.exists()


def test_from_the_page_only_the_signed_cards_and_the_signing_bar_are_replaced(lab, signed_in):
    three_resulted(lab)
    client = signed_in(lab.reviewer)
    page = client.get("/review/").content.decode()
    for barcode in BARCODES:
        assert f'name="barcode" value="{barcode}" form="sign-form"' in page
    assert "Select all shown" in page
    answer = client.post(
        "/review/sign/",
        {"barcode": ["S-000801", "S-000803"], "username": "ravi", "password": PASSWORD},
        headers={"HX-Request": "true"},
    )
    body = answer.content.decode()
    assert answer.status_code == 200 and "<html" not in body  # a fragment: no jump to the top
    assert body.lstrip().startswith('<form id="sign-form"')
    assert 'id="review-S-000801" hx-swap-oob="outerHTML"' in body
    assert 'id="review-S-000803" hx-swap-oob="outerHTML"' in body
    assert "S-000802" not in body  # its card stays as it was
    assert "S-000801, S-000803 reviewed and released by Ravi" in body


def test_a_signed_sample_leaves_the_queue_before_its_workflow_has_moved_it(lab, signed_in):
    three_resulted(lab)
    client = signed_in(lab.reviewer)
    client.post(
        "/review/sign/", {"barcode": ["S-000801"], "username": "ravi", "password": PASSWORD}
    )
    assert lab.state("S-000801") == "resulted"  # the workflow has not run yet
    page = client.get("/review/").content.decode()
    assert 'id="review-S-000801"' not in page and 'id="review-S-000802"' in page

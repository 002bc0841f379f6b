"""Who may call what under ``/api/v1/``: every kind of caller against every endpoint, as
docs/api.md states it. No token, a malformed header, an unknown or revoked token, or a
deactivated user's token: 401. A token whose owner may not do this: 403, and nothing changes.
An active instrument's token posts results and reads batches; a user's token carries the user's
role. Then each endpoint's own errors, all JSON: 404, 400 for a bad filter, 405.

(413 and 415 are in test_api_errors.py, each endpoint's successes in its own module.)"""

from __future__ import annotations

import json

import pytest
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from samples.models import Instrument, Result, Sample
from samples.roles import Role
from samples.services.tokens import api_token_create, api_token_revoke

BARCODE = "S-000951"  # waiting for its GLU result in a running batch (see ``lab_stock``)
NEW_BARCODE = "S-000990"
HL7 = "x-application/hl7-v2+er7"
ORU = "\r".join(
    [
        "MSH|^~\\&|MW-CHEM|LAB|LABTRACK|LAB|20261125100500||ORU^R01^ORU_R01|MW-000300|P|2.5.1",
        f"OBR|1||{BARCODE}|CHEM",
        "OBX|1|NM|GLU||5.2|mmol/L",
        "",
    ]
)

# Each endpoint: its method and path ({batch} is the running batch's id).
ENDPOINTS = {
    "results": ("POST", "/api/v1/results/"),
    "hl7": ("POST", "/api/v1/hl7/"),
    "samples": ("GET", "/api/v1/samples/"),
    "register": ("POST", "/api/v1/samples/"),
    "sample": ("GET", f"/api/v1/samples/{BARCODE}/"),
    "history": ("GET", f"/api/v1/samples/{BARCODE}/history/"),
    "batches": ("GET", "/api/v1/batches/"),
    "batch": ("GET", "/api/v1/batches/{batch}/"),
    "inbox": ("GET", "/api/v1/inbox/"),
}
SUCCESS = {"results": 201, "hl7": 200, "register": 201}  # the others: 200


def allowed(*endpoints: str) -> dict[str, int]:
    """The row of a caller who may call ``endpoints`` and gets 403 from the others."""
    return {e: SUCCESS.get(e, 200) if e in endpoints else 403 for e in ENDPOINTS}


def refused(code: int) -> dict[str, int]:
    return {endpoint: code for endpoint in ENDPOINTS}


READS = ("samples", "sample", "history", "batches", "batch", "inbox")

# docs/api.md, "Tokens" and "Samples and batches".
EXPECTED = {
    "no token": refused(401),
    "malformed header": refused(401),
    "unknown token": refused(401),
    "revoked token": refused(401),
    "deactivated user": refused(401),
    "instrument": allowed("results", "hl7", "batches", "batch", "inbox"),
    "inactive instrument": refused(403),
    "technician": allowed("register", *READS),
    "reviewer": allowed(*READS),
    "compliance officer": allowed(*READS),
    "administrator": refused(403),  # configuration, no lab actions (COMPLIANCE.md C9)
    "no role": refused(403),
}

# The ``detail`` of each 401 (by caller) and 403 (by endpoint): what was wrong, in words.
UNAUTHENTICATED = {
    "no token": "Authentication credentials were not provided.",
    "malformed header": "Invalid token header. No credentials provided.",
    "unknown token": "Invalid token.",
    "revoked token": "Invalid token.",
    "deactivated user": "User inactive or deleted.",
}
STAFF_ONLY = "This needs the role technician or reviewer or compliance officer."
FORBIDDEN = {
    "results": "Only an active instrument's token may post results.",
    "hl7": "Only an active instrument's token may post results.",
    "samples": STAFF_ONLY,
    "register": "This needs the role technician.",
    "sample": STAFF_ONLY,
    "history": STAFF_ONLY,
    "batches": STAFF_ONLY[:-1] + ", or an active instrument's token.",
    "batch": STAFF_ONLY[:-1] + ", or an active instrument's token.",
    "inbox": STAFF_ONLY[:-1] + ", or an active instrument's token.",
}


def client_with(authorization: str | None) -> APIClient:
    client = APIClient()
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    return client


def token_header(user) -> str:
    return f"Token {api_token_create(owner=user)}"


def authorization(caller: str, lab, make_user) -> str | None:
    """The ``Authorization`` header each kind of caller sends, its token made (and then
    revoked, or its owner deactivated) the way an administrator would."""
    match caller:
        case "no token":
            return None
        case "malformed header":
            return "Token"
        case "unknown token":
            return "Token " + "0" * 64
        case "revoked token":
            header = token_header(lab.technician)
            api_token_revoke(token_key=AuthToken.objects.get(user=lab.technician).token_key)
            return header
        case "deactivated user":
            header = token_header(lab.technician)
            lab.technician.is_active = False
            lab.technician.save(update_fields=["is_active"])
            return header
        case "instrument":
            return token_header(lab.instrument.service_user)
        case "inactive instrument":
            header = token_header(lab.instrument.service_user)
            Instrument.objects.filter(pk=lab.instrument.pk).update(is_active=False)
            return header
        case "technician":
            return token_header(lab.technician)
        case "reviewer":
            return token_header(lab.reviewer)
        case "compliance officer":
            return token_header(make_user("carmen", Role.COMPLIANCE))
        case "administrator":
            return token_header(make_user("alex", Role.ADMIN, is_staff=True))
        case "no role":  # a token made while the user had a role, since taken away
            user = make_user("nora", Role.TECHNICIAN)
            header = token_header(user)
            user.groups.clear()
            return header
    raise AssertionError(caller)


def send(client: APIClient, endpoint: str, batch: int, method: str | None = None):
    """Call ``endpoint`` with a body it accepts (``method`` overrides the endpoint's own)."""
    own_method, path = ENDPOINTS[endpoint]
    path = path.format(batch=batch)
    if method is None and endpoint == "results":
        body = {"sample": BARCODE, "assay": "GLU", "value": "5.1", "run_id": "R-1"}
        return client.post(path, json.dumps(body), content_type="application/json")
    if method is None and endpoint == "hl7":
        return client.post(path, ORU, content_type=HL7)
    if method is None and endpoint == "register":
        body = {
            "barcode": NEW_BARCODE,
            "specimen_type": "serum",
            "subject_ref": "SUBJ-90",
            "collected_at": timezone.now().isoformat(),
            "assays": ["GLU"],
        }
        return client.post(path, json.dumps(body), content_type="application/json")
    return client.generic(method or own_method, path)


@pytest.fixture
def batch(lab) -> int:
    """The running GLU batch, with BARCODE waiting in it for its result."""
    lab.register(BARCODE)
    lab.receive(BARCODE)
    lab.to_batch(BARCODE)
    lab.close_batches()
    return lab.start_run().pk


def is_json_detail(answer, detail: str) -> bool:
    return answer["Content-Type"] == "application/json" and answer.json() == {"detail": detail}


@pytest.mark.parametrize("caller", EXPECTED)
def test_each_caller_gets_what_the_docs_promise_from_every_endpoint(caller, lab, batch, make_user):
    client = client_with(authorization(caller, lab, make_user))
    answers = {endpoint: send(client, endpoint, batch) for endpoint in ENDPOINTS}
    assert {e: answer.status_code for e, answer in answers.items()} == EXPECTED[caller]
    for endpoint, answer in answers.items():
        if answer.status_code == 401:
            assert is_json_detail(answer, UNAUTHENTICATED[caller]), (endpoint, answer.content)
            assert answer["WWW-Authenticate"] == "Token"
        elif answer.status_code == 403:
            assert is_json_detail(answer, FORBIDDEN[endpoint]), (endpoint, answer.content)
    # A refused caller changes nothing.
    assert Result.objects.exists() == (EXPECTED[caller]["results"] == 201)
    assert Sample.objects.filter(barcode=NEW_BARCODE).exists() == (
        EXPECTED[caller]["register"] == 201
    )


@pytest.mark.parametrize(
    "header",
    ["Token", "Token two words", "Bearer {token}", "Token {token}x", "{token}"],
)
def test_a_malformed_authorization_header_gets_401(lab, header):
    token = api_token_create(owner=lab.technician)
    answer = client_with(header.format(token=token)).get("/api/v1/samples/")
    assert answer.status_code == 401 and answer.json()["detail"]


def test_a_reviewer_is_refused_registration_before_the_body_is_read(lab):
    answer = client_with(token_header(lab.reviewer)).post("/api/v1/samples/", {}, format="json")
    assert answer.status_code == 403
    assert answer.json() == {"detail": FORBIDDEN["register"]}


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/api/v1/samples/S-404404/", "No sample has the barcode S-404404."),
        ("/api/v1/samples/S-404404/history/", "No sample has the barcode S-404404."),
        ("/api/v1/batches/404404/", "No batch has the id 404404."),
        ("/api/v1/samples/?cursor=stale", "Invalid cursor"),
        ("/api/v1/batches/?cursor=stale", "Invalid cursor"),
        ("/api/v1/inbox/?cursor=stale", "Invalid cursor"),
    ],
)
def test_an_unknown_sample_batch_or_page_gets_a_json_404_naming_it(lab, path, detail):
    answer = client_with(token_header(lab.technician)).get(path)
    assert answer.status_code == 404
    assert is_json_detail(answer, detail), answer.content


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"state": "lost"}, {"state": ["Not a state: 'lost'."]}),
        ({"received_after": "soon"}, {"received_after": ["Not an ISO 8601 date and time."]}),
        (
            {"received_before": "2026-13-01"},
            {"received_before": ["Not an ISO 8601 date and time."]},
        ),
    ],
)
def test_a_bad_filter_value_gets_400_naming_the_filter(lab, query, problem):
    answer = client_with(token_header(lab.reviewer)).get("/api/v1/samples/", query)
    assert answer.status_code == 400 and answer.json() == problem


@pytest.mark.parametrize(
    ("endpoint", "caller", "method"),
    [
        ("results", "instrument", "GET"),
        ("results", "instrument", "PUT"),
        ("hl7", "instrument", "GET"),
        ("samples", "technician", "DELETE"),
        ("sample", "technician", "PATCH"),
        ("sample", "technician", "DELETE"),
        ("history", "technician", "POST"),
        ("batches", "instrument", "POST"),
        ("batch", "instrument", "PUT"),
        ("inbox", "instrument", "POST"),
    ],
)
def test_a_wrong_method_gets_a_json_405_saying_which_are_allowed(
    lab, batch, make_user, endpoint, caller, method
):
    client = client_with(authorization(caller, lab, make_user))
    answer = send(client, endpoint, batch, method=method)
    assert answer.status_code == 405
    assert is_json_detail(answer, f'Method "{method}" not allowed.'), answer.content
    assert ENDPOINTS[endpoint][0] in answer["Allow"]

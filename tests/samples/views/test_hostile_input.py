"""Hostile bytes and structure get a clear 4xx and change nothing, on every route that takes
input: a NUL character (U+0000) in an address, a query string, a header, a form field, a JSON
string, an uploaded CSV or an HL7 message; JSON bodies in UTF-16 or UTF-32; JSON nested
deeper than 32 levels; cursors and page keys edited by hand; HL7 messages whose MSH-2 encoding
characters cannot be read. None of them may answer 500 (PostgreSQL text cannot hold a NUL,
Python's JSON decoder gives up near a thousand levels, a cursor names a place in a table)."""

from __future__ import annotations

import base64
import json
import re

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from samples.models import InstrumentMessage, Job, Sample
from samples.roles import Role
from samples.services.tokens import api_token_create

NUL_REFUSED = "holds a NUL character (U+0000), which is never accepted."
HL7 = "x-application/hl7-v2+er7"
GOOD_HL7 = (
    "MSH|^~\\&|MW|LAB|LABTRACK|LAB|20261125100500||ORU^R01|MW-1|P|2.5.1\r"
    "PID|1||SUBJ-S-000703\rOBR|1||S-000703\rOBX|1|NM|GLU||6.1|mmol/L|||||F\r"
)


def routes(resolver: URLResolver | None = None, prefix: str = "") -> list[str]:
    """Every route of the site except the admin's (Django's own), as written in the URLconf."""
    found: list[str] = []
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if not route.startswith("admin/"):
                found += routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            found.append(route)
    return found


def address(route: str, text: str = "S-000703") -> str:
    """The route with its parameters filled: numbers for numbers, ``text`` for the others."""
    return "/" + re.sub(r"<(\w+):?(\w*)>", lambda m: "1" if m[1] in ("int",) else text, route)


WITH_TEXT_PARAMETERS = [
    r for r in routes() if re.search(r"<(str|slug)?:?\w+>", r) and "<int" not in r
]


def stored() -> dict[str, int]:
    """How many rows each table of the lab and the workflow engine holds: each model's
    ``objects.count()``, all read in one statement (one round trip, not one per table). An
    instrument message refused (400 or more) is kept as received by design (and its event
    with it): not counted, it is what was sent, not something it changed."""
    models = [
        model for app in ("samples", "workflows") for model in apps.get_app_config(app).get_models()
    ]
    selects, params = [], []
    for model in models:
        rows = model.objects.order_by()
        if model in (InstrumentMessage, apps.get_model("samples", "InstrumentMessageEvent")):
            rows = rows.exclude(status_code__gte=400)
        sql, more = rows.values("pk").query.sql_with_params()
        selects.append(f"(SELECT count(*) FROM ({sql}) AS counted)")
        params += more
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(selects), params)
        counts = cursor.fetchone()
    return {model._meta.db_table: count for model, count in zip(models, counts, strict=True)}


@pytest.fixture(autouse=True)
def quick_password_hashing(settings):
    """Each case makes its cast and signs in: a fast hasher keeps that cheap. What is checked
    here is the answers and what they store, never how a password is hashed."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def stocked(lab):
    lab.register("S-000701")
    lab.register("S-000703")
    lab.receive("S-000703")
    lab.to_batch("S-000703")
    lab.close_batches()
    lab.start_run()
    return lab


@pytest.fixture
def everyone(make_user):
    """One person holding every role, so no route refuses the request for who sends it."""
    return make_user(
        "una", Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE, Role.ADMIN, is_staff=True
    )


@pytest.fixture
def browser(stocked, everyone, signed_in):
    client = signed_in(everyone)
    client.raise_request_exception = False
    return client


def api(user) -> APIClient:
    client = APIClient()
    client.raise_request_exception = False
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(owner=user)}")
    return client


# Most refusals come before anything is looked up: they need the cast, not a stocked lab.
@pytest.fixture
def instrument_api(instrument):
    return api(instrument.service_user)


@pytest.fixture
def technician_api(technician):
    return api(technician)


def refused_for_nul(response, where: str) -> bool:
    body = response.content.decode()
    if response["Content-Type"].startswith("application/json"):
        body = json.loads(body)["detail"]
    return response.status_code == 400 and body == f"The {where} {NUL_REFUSED}"


def test_a_nul_in_the_query_string_of_any_route_gets_400_naming_it(browser, technician_api):
    # browser: a lab holding samples, a batch and runs, so each route has something to show
    before = stored()
    wrong = {}
    for route in routes():
        url = address(route) + "?q=a%00b&before=1%00&state=%00&cursor=%00"
        client = technician_api if route.startswith("api/") else browser
        for answer in (client.get(url), client.post(url, {})):
            if not refused_for_nul(answer, "query string"):
                wrong[(answer.request["REQUEST_METHOD"], url)] = answer.status_code
    assert not wrong
    assert stored() == before


def test_a_nul_in_a_path_parameter_gets_400_naming_the_address(browser, technician_api):
    assert WITH_TEXT_PARAMETERS
    before = stored()
    wrong = {}
    for route in WITH_TEXT_PARAMETERS:
        url = address(route, "S-000%00703")
        client = technician_api if route.startswith("api/") else browser
        for answer in (client.get(url), client.post(url, {"reason": "x"})):
            if not refused_for_nul(answer, "address"):
                wrong[(answer.request["REQUEST_METHOD"], url)] = answer.status_code
        assert stored() == before, f"{url} stored something"
    assert not wrong


def test_a_nul_in_any_form_field_gets_400_naming_the_field_and_records_nothing(browser):
    before = stored()
    wrong = {}
    for route in routes():
        if route.startswith("api/"):
            continue
        url = address(route)
        for form in ({"barcode": "S-00\x000703"}, {"reason": "spilt\x00", "password": "x"}):
            answer = browser.post(url, form)
            field = next(iter(form))
            if not refused_for_nul(answer, f"form field {field!r}"):
                wrong[(url, field)] = answer.status_code
    assert not wrong
    assert stored() == before


def test_a_nul_in_a_header_or_a_cookie_gets_400_naming_the_header(instrument_api, browser):
    before = stored()
    body = json.dumps({"sample": "S-000703", "assay": "GLU", "value": "6.1"})
    answer = instrument_api.post(
        "/api/v1/results/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k\x00"
    )
    assert refused_for_nul(answer, "Idempotency-Key header")
    answer = browser.get("/samples/", HTTP_USER_AGENT="scanner\x00")
    assert refused_for_nul(answer, "User-Agent header")
    answer = browser.get("/samples/", HTTP_COOKIE="sessionid=" + "a" * 32 + "\x00")
    assert refused_for_nul(answer, "Cookie header")
    assert stored() == before


RESULT = {"sample": "S-000703", "assay": "GLU", "value": "6.1", "run_id": "LÄUF-1"}
SAMPLE = {"barcode": "S-000801", "specimen_type": "serum", "subject_ref": "MÜ", "assays": ["GLU"]}


@pytest.mark.parametrize(
    ("url", "changed", "field"),
    [
        ("/api/v1/results/", {"sample": "S-0\x00"}, "sample"),
        ("/api/v1/results/", {"flags": ["H", "L\x00"]}, "flags.1"),
        ("/api/v1/results/", {"run_id": "\x00"}, "run_id"),
        ("/api/v1/results/", {"no\x00te": "x"}, "no\\0te"),
        ("/api/v1/samples/", {"subject_ref": "M\x00"}, "subject_ref"),
        ("/api/v1/samples/", {"assays": ["GLU\x00"]}, "assays.0"),
        ("/api/v1/samples/", {"collected_at": "2026-01-01T00:00Z\x00"}, "collected_at"),
    ],
)
def test_a_nul_in_a_json_string_gets_400_naming_the_field(
    url, changed, field, instrument_api, technician_api
):
    before = stored()
    sender, body = (instrument_api, RESULT) if "results" in url else (technician_api, SAMPLE)
    answer = sender.post(url, json.dumps({**body, **changed}), content_type="application/json")
    assert answer.status_code == 400
    assert answer.json() == {field: ["Null characters are not allowed."]}
    assert stored() == before


def test_a_lone_surrogate_in_a_json_string_gets_400(instrument_api):
    before = stored()
    body = '{"sample": "S-000703", "assay": "GLU", "value": "1", "run_id": "R-\\ud800"}'
    answer = instrument_api.post("/api/v1/results/", body, content_type="application/json")
    assert answer.status_code == 400
    surrogate = "Not Unicode text: it holds a lone surrogate (\\ud800 to \\udfff)."
    assert answer.json() == {"run_id": [surrogate]}
    assert stored() == before


def test_a_csv_file_holding_a_nul_gets_400_and_starts_no_import(browser):
    text = "barcode,specimen_type,subject_ref,collected_at,assays\r\n"
    text += "S-000810,serum,MRN-1\x00,2026-01-01T08:00Z,GLU\r\n"
    for encoded in (text.encode(), text.encode("utf-16-le")):
        upload = SimpleUploadedFile("samples.csv", encoded, content_type="text/csv")
        answer = browser.post("/samples/import/", {"file": upload})
        assert answer.status_code == 400
        assert "holds a NUL byte: this is not a CSV text file." in answer.text
    assert not Job.objects.exists() and not Sample.objects.filter(barcode="S-000810").exists()


def test_a_nul_in_an_hl7_message_gets_an_ar_and_nothing_is_stored(instrument_api):
    before = stored()
    body = GOOD_HL7.replace("mmol/L", "mmol\x00L")
    answer = instrument_api.generic("POST", "/api/v1/hl7/", body.encode(), content_type=HL7)
    assert answer.status_code == 200
    # The AR echoes MSH-10 (read from the bytes) and names the segment holding the NUL.
    assert "MSA|AR|MW-1|The message holds a NUL (byte 0x00) in OBX" in answer.text
    assert stored() == before
    assert bytes(InstrumentMessage.objects.get().raw) == body.encode()


WIDE = "The body is not UTF-8 text (it looks like UTF-16 or UTF-32): send JSON as UTF-8."


@pytest.mark.parametrize("url", ["/api/v1/results/", "/api/v1/samples/"])
@pytest.mark.parametrize(
    ("encoding", "declared", "status", "problem"),
    [
        ("utf-16", "", 400, WIDE),
        ("utf-16-le", "", 400, WIDE),
        ("utf-32", "", 400, WIDE),
        ("utf-32-be", "", 400, WIDE),
        ("latin-1", "", 400, "The body is not UTF-8 text: send JSON as UTF-8."),
        (
            "utf-16",
            "; charset=utf-16",
            415,
            "JSON bodies are UTF-8, not utf-16: send the body as UTF-8.",
        ),
        (
            "utf-32",
            "; charset=UTF-32",
            415,
            "JSON bodies are UTF-8, not utf-32: send the body as UTF-8.",
        ),
        (
            "latin-1",
            "; charset=latin-1",
            415,
            "JSON bodies are UTF-8, not latin-1: send the body as UTF-8.",
        ),
    ],
)
def test_a_json_body_that_is_not_utf8_is_refused_with_a_clear_reason(
    url, encoding, declared, status, problem, instrument_api, technician_api
):
    before = stored()
    sender, body = (instrument_api, RESULT) if "results" in url else (technician_api, SAMPLE)
    text = json.dumps(body, ensure_ascii=False)
    answer = sender.generic(
        "POST", url, text.encode(encoding), content_type=f"application/json{declared}"
    )
    assert answer.status_code == status
    assert answer.json() == {"detail": problem}
    assert stored() == before


def nested(lists: int, inner: str = '"GLU"') -> str:
    return "[" * lists + inner + "]" * lists


@pytest.mark.parametrize("depth", [32, 33, 900, 5_000, 200_000])
def test_json_nested_deeper_than_32_levels_gets_400(depth, instrument_api, technician_api):
    """``depth`` objects and lists, one inside the other, in three places of a body."""
    before = stored()
    deep = nested(depth - 1)
    bodies = [
        (instrument_api, "/api/v1/results/", nested(depth - 1, json.dumps(RESULT))),
        (technician_api, "/api/v1/samples/", json.dumps({**SAMPLE, "assays": "@"})),
        (instrument_api, "/api/v1/results/", json.dumps({**RESULT, "flags": "@"})),
    ]
    for sender, url, text in bodies:
        text = text.replace('"@"', deep)
        answer = sender.post(url, text, content_type="application/json")
        assert answer.status_code == 400, (url, answer.content[:200])
        if depth > 32:
            assert answer.json() == {"detail": "The JSON is nested more than 32 levels deep."}
        else:  # read, then refused by the fields: a list where a text or number belongs
            assert "detail" not in answer.json()
    assert stored() == before


def cursor(**tokens: str) -> str:
    query = "&".join(f"{key}={value}" for key, value in tokens.items())
    return base64.b64encode(query.encode()).decode()


@pytest.mark.parametrize("url", ["/api/v1/samples/", "/api/v1/batches/"])
@pytest.mark.parametrize(
    "given",
    [
        cursor(p="abc"),
        cursor(p="%00"),
        cursor(p="9" * 40),
        cursor(p="2026-02-30T10:00:00Z"),
        cursor(p="1366-06-26T04:49:48+17:21"),
        cursor(p="9999-12-31T23:59:59-01:00"),
        cursor(o="9" * 40, p="2026-01-01T00:00:00Z"),
        cursor(r="9" * 40),
        "%FF%FE" + "A" * 10,
        "A" * 20_000,
    ],
)
def test_an_api_cursor_edited_by_hand_gets_404_invalid_cursor(url, given, technician_api):
    answer = technician_api.get(url, {"cursor": given})
    assert answer.status_code in (200, 404), answer.content[:300]
    if answer.status_code == 404:
        assert answer.json() == {"detail": "Invalid cursor"}


def test_a_cursor_of_our_own_still_pages(technician_api, stocked):
    newest = Sample.objects.get(barcode="S-000703")
    older = cursor(p=newest.registered_at.isoformat().replace("+", "%2B"))
    answer = technician_api.get("/api/v1/samples/", {"cursor": older})
    assert answer.status_code == 200
    assert [s["barcode"] for s in answer.json()["results"]] == ["S-000701"]


PAGE_KEYS = [
    "/workflows/runs/?before=" + "9" * 40 + "_x",
    "/workflows/runs/?before=99_not-a-run",
    "/workflows/runs/?before=²_00000000-0000-0000-0000-000000000000",
    "/workflows/runs/?before=" + "9" * 40 + "_00000000-0000-0000-0000-000000000000",
    "/audit/?before=" + "9" * 40 + "-1-1",
    "/audit/?after=1-" + "9" * 40 + "-1",
    "/audit/?before=1-1-" + "9" * 40,
    "/audit/?after=²-1-1",
    "/audit/?before=-1--1--1",
]


def test_a_page_key_edited_by_hand_shows_the_newest_page(browser):
    wrong = {}
    for url in PAGE_KEYS:
        answer = browser.get(url)
        if answer.status_code != 200:
            wrong[url] = (answer.status_code, answer.content[:300])
    assert not wrong


@pytest.mark.parametrize(
    "encoding",
    ["^^^^", "^~\\^", "~~~~", "", "^", "^~", "^~\\", "ab12", "^~\\&#xy", "^~ &", "^|\\&"],
)
def test_hl7_with_unusable_msh2_encoding_characters_gets_an_ar_and_nothing_is_stored(
    encoding, instrument_api
):
    before = stored()
    body = GOOD_HL7.replace("^~\\&", encoding, 1)
    answer = instrument_api.generic("POST", "/api/v1/hl7/", body.encode(), content_type=HL7)
    assert answer.status_code == 200
    assert "\rMSA|AR|" in answer.text and "MSH-2 (encoding characters) must be four" in answer.text
    assert "|MSH^1^2|102^Data type error^HL70357|E|" in answer.text
    assert stored() == before


@pytest.mark.parametrize("encoding", ["^~\\&", "^~\\&#", "!@$%"])
def test_hl7_with_other_usable_encoding_characters_is_read(encoding, stocked, instrument_api):
    body = GOOD_HL7.replace("^~\\&", encoding, 1).replace("ORU^R01", f"ORU{encoding[0]}R01")
    answer = instrument_api.generic("POST", "/api/v1/hl7/", body.encode(), content_type=HL7)
    assert answer.status_code == 200
    assert "\rMSA|AA|MW-1|" in answer.text

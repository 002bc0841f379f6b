"""The published OpenAPI schema and its browsable docs, served without a CDN."""

from __future__ import annotations

import re

import yaml


def test_the_schema_describes_the_results_endpoint_and_the_token_scheme(client, db):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    post = schema["paths"]["/api/v1/results/"]["post"]
    assert set(post["responses"]) == {"201", "202", "400", "401", "403", "409", "413", "415", "429"}
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    assert "apiToken" in schema["components"]["securitySchemes"]


def test_the_docs_page_loads_its_assets_from_this_server(client, db):
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assets = re.findall(r"""(?:src|href|url)\s*[=:]\s*["']([^"']+)["']""", page)
    assert assets and not [a for a in assets if "//" in a]  # nothing from another server


def test_the_schema_describes_the_inbox_its_filters_and_its_refusals(client, db):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    get = schema["paths"]["/api/v1/inbox/"]["get"]
    parameters = {p["name"]: p for p in get["parameters"]}
    assert set(parameters) == {"cursor", "status", "instrument", "since"}
    assert set(parameters["status"]["schema"]["enum"]) == {"open", "resolved", "all"}
    assert set(get["responses"]) == {"200", "400", "401", "403", "404", "429"}
    page = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    entry = schema["components"]["schemas"]["InboxEntry"]
    assert page.endswith("/PaginatedInboxEntryList")
    assert {"why", "message", "instrument", "received_at", "resolution"} <= set(entry["properties"])
    result = schema["components"]["schemas"]["ResultOut"]
    assert "time_flag" in result["properties"]

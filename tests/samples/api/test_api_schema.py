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

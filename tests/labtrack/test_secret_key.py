"""A deployment refuses to start on a key anyone can know: the placeholder from .env.example, a
short key or a repetitive one, each with a message that says what to do. DEBUG takes any key,
and a long random key starts. The settings are loaded in a fresh process, as a deployment does."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest

from tests.processes import REPO

READ = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"


def start(secret_key: str, debug: str = "false") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    env.update(DJANGO_SETTINGS_MODULE="labtrack.settings", SECRET_KEY=secret_key, DEBUG=debug)
    return subprocess.run(
        [sys.executable, "-c", READ],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def env_example_key() -> str:
    for line in (REPO / ".env.example").read_text().splitlines():
        if line.startswith("SECRET_KEY="):
            return line.partition("=")[2]
    raise AssertionError(".env.example sets no SECRET_KEY")


def test_the_key_from_env_example_refuses_to_start():
    result = start(env_example_key())
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY is the placeholder 'change-me'" in result.stderr


@pytest.mark.parametrize(
    "key",
    ["short-but-random-Zq81kP0", "ab" * 40, "django-insecure-" + "k3y" * 20],
    ids=["shorter-than-50", "two-distinct-characters", "django-insecure-prefix"],
)
def test_a_short_repetitive_or_insecure_key_refuses_to_start(key):
    result = start(key)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY is" in result.stderr
    assert "secrets.token_urlsafe(50)" in result.stderr  # says how to make a good one


def test_a_long_random_key_starts():
    result = start(secrets.token_urlsafe(50))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-1] == "False"


def test_debug_takes_the_placeholder_for_local_work():
    result = start("change-me", debug="true")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-1] == "True"

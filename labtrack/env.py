"""Typed readers for settings that come from the environment.

Each helper returns a value of one type or raises ``ImproperlyConfigured`` naming the variable
and what was wrong with it, so a typo in a deployment fails at start-up instead of half-working.
Nothing here reads Django settings: ``labtrack.settings`` is the only caller.
"""

from __future__ import annotations

import os
import zoneinfo
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

_MISSING = object()
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


def _raw(name: str, default: object) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        if default is _MISSING:
            raise ImproperlyConfigured(f"{name} must be set (see .env.example).")
        return None
    return value.strip()


def env_str(name: str, default: str | object = _MISSING) -> str:
    value = _raw(name, default)
    return value if value is not None else str(default)


def env_bool(name: str, default: bool | object = _MISSING) -> bool:
    value = _raw(name, default)
    if value is None:
        return bool(default)
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (or 1 or 0), not {value!r}.")


def env_int(name: str, default: int | object = _MISSING, *, minimum: int | None = None) -> int:
    value = _raw(name, default)
    if value is None:
        number = cast(int, default)
    else:
        try:
            number = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}.")
    return number


def env_list(name: str, default: list[str] | object = _MISSING) -> list[str]:
    value = _raw(name, default)
    if value is None:
        return list(cast(list[str], default))
    items = [item.strip() for item in value.split(",")]
    if any(item == "" for item in items):
        raise ImproperlyConfigured(
            f"{name} is a comma-separated list with an empty item: {value!r}."
        )
    return items


def env_choice(name: str, choices: list[str], default: str | object = _MISSING) -> str:
    """One of ``choices``, compared without regard to case and returned as spelled there."""
    value = env_str(name, default)
    for choice in choices:
        if value.lower() == choice.lower():
            return choice
    raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}.")


def env_timezone(name: str, default: str | object = _MISSING) -> str:
    value = env_str(name, default)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"{name} must be an IANA time zone such as UTC or Europe/Berlin, not {value!r}."
        ) from None
    return value


@dataclass(frozen=True)
class PostgresURL:
    """The parts of a ``postgres://`` URL that Django's DATABASES entry needs."""

    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""
    options: dict[str, str] = field(default_factory=dict)

    def as_django(self) -> dict[str, object]:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": self.name,
            "USER": self.user,
            "PASSWORD": self.password,
            "HOST": self.host,
            "PORT": self.port,
            "OPTIONS": dict(self.options),
        }


def parse_postgres_url(name: str, url: str) -> PostgresURL:
    """Parse ``postgres://user:pass@host:port/db?opt=v``; ``?host=/dir`` selects a Unix socket."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured(
            f"{name} must be a postgres:// or postgresql:// URL (LabTrack runs on PostgreSQL "
            f"only), not {parts.scheme or url!r}."
        )
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise ImproperlyConfigured(f"{name} must name a database, as in postgres://host/labtrack.")
    options = dict(parse_qsl(parts.query))
    host = options.pop("host", None) or unquote(parts.hostname or "")
    try:
        port = str(parts.port or "")
    except ValueError:
        raise ImproperlyConfigured(f"{name} has an invalid port: {url!r}.") from None
    return PostgresURL(
        name=database,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        host=host,
        port=port,
        options=options,
    )


def env_postgres(name: str, default: str | object = _MISSING) -> PostgresURL:
    return parse_postgres_url(name, env_str(name, default))


def env_database_owner(
    name: str, database: PostgresURL, default: str = ""
) -> dict[str, str] | None:
    """The credentials of ``name`` (the owner's URL), which must reach the same server and
    database as ``database`` (the application's): None when unset or the same role."""
    value = env_str(name, default)
    if not value:
        return None
    owner = parse_postgres_url(name, value)
    where = ("host", "port", "name")
    if any(getattr(owner, part) != getattr(database, part) for part in where):
        raise ImproperlyConfigured(
            f"{name} must name the same server and database as DATABASE_URL, with the owner "
            "role's user name (and password)."
        )
    if owner.user == database.user:
        return None
    return {"USER": owner.user, "PASSWORD": owner.password}


def env_redis_url(name: str, default: str | object = _MISSING) -> str:
    """A ``redis://``, ``rediss://`` or ``unix://`` URL, returned unchanged once checked."""
    value = env_str(name, default)
    parts = urlsplit(value)
    if parts.scheme not in {"redis", "rediss", "unix"}:
        raise ImproperlyConfigured(
            f"{name} must be a redis://, rediss:// or unix:// URL, not {value!r}."
        )
    if parts.scheme == "unix" and not parts.path:
        raise ImproperlyConfigured(
            f"{name} must give the socket path, as in unix:///run/redis.sock."
        )
    if parts.scheme != "unix" and not parts.hostname:
        raise ImproperlyConfigured(f"{name} must name a host, as in redis://127.0.0.1:6379/0.")
    return value


# A Redis server has databases 0 to 15 unless configured otherwise.
_REDIS_LAST_DATABASE = 15


def redis_cache_url(name: str, redis_url: str) -> str:
    """The cache's URL: the same Redis server as ``redis_url``, in the next database.

    The broker keeps the database ``redis_url`` names (0 when it names none), so queued tasks
    never share a database with cache keys. ``unix://`` URLs name it with ``?db=``.
    """
    parts = urlsplit(redis_url)
    query = dict(parse_qsl(parts.query))
    if parts.scheme == "unix":
        number = query.get("db", "0")
    else:
        number = query.pop("db", "") or parts.path.strip("/") or "0"
    try:
        database = int(number)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must name its Redis database by a whole number, not {number!r}."
        ) from None
    if not 0 <= database < _REDIS_LAST_DATABASE:
        raise ImproperlyConfigured(
            f"{name} names Redis database {database}; the cache uses the next one, so use "
            f"database 0 to {_REDIS_LAST_DATABASE - 1}."
        )
    if parts.scheme == "unix":
        query["db"] = str(database + 1)
        return f"unix://{parts.netloc}{parts.path}?{urlencode(query)}"
    return urlunsplit(parts._replace(path=f"/{database + 1}", query=urlencode(query)))


def celery_broker_url(redis_url: str) -> str:
    """Celery spells a Unix-socket Redis URL ``redis+socket://`` and reads its database number
    from ``virtual_host`` (it ignores ``db`` there); TCP URLs pass through."""
    parts = urlsplit(redis_url)
    if parts.scheme != "unix":
        return redis_url
    query = dict(parse_qsl(parts.query))
    query["virtual_host"] = query.pop("db", "0")
    return f"redis+socket://{parts.path}?{urlencode(query)}"


def redis_url_of_broker(broker_url: str) -> str:
    """The redis-py URL of a Celery broker URL: the reverse of ``celery_broker_url``."""
    parts = urlsplit(broker_url)
    if parts.scheme != "redis+socket":
        return broker_url
    query = dict(parse_qsl(parts.query))
    query["db"] = query.pop("virtual_host", "0")
    return f"unix://{parts.path}?{urlencode(query)}"


# What .env.example and older examples put there: a key anyone can read is no secret.
PLACEHOLDER_SECRET_KEYS = frozenset({"change-me", "changeme", "secret", "insecure-debug-only-key"})
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_DISTINCT = 5


def env_secret_key(name: str, *, debug: bool) -> str:
    """The key that signs sessions and CSRF tokens. With DEBUG off it must be set, long and
    random-looking: a placeholder (``change-me`` from .env.example), a key shorter than 50
    characters or one made of fewer than 5 distinct characters refuses to start. With DEBUG on
    any key is taken, and none is needed."""
    if debug:
        return env_str(name, "insecure-debug-only-key")
    key = env_str(name)
    how = 'python -c "import secrets; print(secrets.token_urlsafe(50))"'
    if key.lower() in PLACEHOLDER_SECRET_KEYS or key.startswith("django-insecure"):
        raise ImproperlyConfigured(
            f"{name} is the placeholder {key!r}, which anyone can read: set a random key "
            f"of your own ({how})."
        )
    if len(key) < SECRET_KEY_MIN_LENGTH or len(set(key)) < SECRET_KEY_MIN_DISTINCT:
        raise ImproperlyConfigured(
            f"{name} is too weak: it needs at least {SECRET_KEY_MIN_LENGTH} characters and "
            f"{SECRET_KEY_MIN_DISTINCT} different ones ({how})."
        )
    return key

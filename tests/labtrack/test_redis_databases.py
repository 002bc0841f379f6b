"""The Celery broker and the cache live in separate databases of one Redis, derived from REDIS_URL:
the broker in the database the URL names, the cache in the next one. Queued work never shares a
database with cache keys (a cache flush or an eviction policy must not touch the queue)."""

import os

import pytest
from django.core.exceptions import ImproperlyConfigured
from redis import ConnectionPool

from labtrack import env


@pytest.mark.parametrize(
    ("redis_url", "cache_url"),
    [
        ("redis://redis:6379/0", "redis://redis:6379/1"),
        ("redis://:secret@127.0.0.1:6380/4", "redis://:secret@127.0.0.1:6380/5"),
        ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379/1"),
        ("rediss://cache.example:6380/2?ssl_cert_reqs=required",
         "rediss://cache.example:6380/3?ssl_cert_reqs=required"),
        ("unix:///run/redis/redis.sock?db=0", "unix:///run/redis/redis.sock?db=1"),
        ("unix:///run/redis/redis.sock", "unix:///run/redis/redis.sock?db=1"),
    ],
)  # fmt: skip
def test_the_cache_uses_the_database_after_the_brokers(redis_url, cache_url):
    assert env.redis_cache_url("REDIS_URL", redis_url) == cache_url


def test_the_last_database_of_a_default_redis_leaves_none_for_the_cache():
    with pytest.raises(ImproperlyConfigured, match=r"REDIS_URL .* database 0 to 14"):
        env.redis_cache_url("REDIS_URL", "redis://redis:6379/15")


def test_a_database_that_is_not_a_number_is_refused():
    with pytest.raises(ImproperlyConfigured, match=r"REDIS_URL .* whole number"):
        env.redis_cache_url("REDIS_URL", "redis://redis:6379/queue")


def _database(url: str) -> tuple[object, int]:
    kwargs = ConnectionPool.from_url(url).connection_kwargs
    return kwargs.get("path") or (kwargs.get("host"), kwargs.get("port")), kwargs["db"]


def test_the_running_settings_put_broker_and_cache_in_separate_databases_of_one_redis(settings):
    if os.environ.get("CELERY_BROKER_URL"):
        pytest.skip("CELERY_BROKER_URL names a broker of its own")
    broker_server, broker_db = _database(env.redis_url_of_broker(settings.CELERY_BROKER_URL))
    cache_server, cache_db = _database(settings.CACHES["default"]["LOCATION"])
    assert broker_server == cache_server
    assert cache_db == broker_db + 1

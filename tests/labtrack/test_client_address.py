"""The client's address that the lockout counts against: the connection's own without a proxy;
behind TRUSTED_PROXY_COUNT proxies, the one the outermost proxy saw, whatever the client wrote
into X-Forwarded-For itself."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from labtrack.client_address import client_address


def request(remote: str, forwarded: str | None = None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)


def test_without_a_proxy_the_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request("10.0.1.20", "198.51.100.1")) == "10.0.1.20"


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "client"),
    [
        (1, "10.0.0.2", "203.0.113.7", "203.0.113.7"),
        (1, "10.0.0.2", "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # forged part ignored
        (2, "10.0.0.3", "198.51.100.1, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (1, "10.0.0.2", "", "10.0.0.2"),  # nothing forwarded: the peer
        (1, "10.0.0.2", "not-an-address", "10.0.0.2"),
        (1, "10.0.0.2", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_behind_proxies_the_address_the_outermost_proxy_saw(
    settings, proxies, remote, forwarded, client
):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_address(request(remote, forwarded)) == client

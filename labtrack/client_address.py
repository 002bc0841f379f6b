"""The address of the person at the other end, as the lockout (and the log lines) see it.

Without a proxy in front, it is the connection's own address (``REMOTE_ADDR``). Behind
``TRUSTED_PROXY_COUNT`` proxies, each of which appends the address it received the request from
to ``X-Forwarded-For``, the client is the address the outermost proxy saw: counted from the
right, past the proxies themselves. Whatever a client writes into the header itself stays to the
left of that and is never believed, so nobody can choose the address their failures count
against. The web server's port must then be reachable only through those proxies
(docs/deployment.md).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    peer = request.META.get("REMOTE_ADDR") or None
    hops = settings.TRUSTED_PROXY_COUNT
    if not hops:
        return peer
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    chain = [a for a in forwarded if a] + ([peer] if peer else [])
    if len(chain) <= hops:  # fewer addresses than proxies: not through them all; the peer
        return peer
    candidate = chain[-(hops + 1)]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:  # not an address (a proxy that writes something else): the peer
        return peer

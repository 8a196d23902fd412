"""A ``requests.Session`` that checks every URL, pins the checked address, follows no redirect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool

from .urls import CheckedURL, URLRefused, check_url

Checker = Callable[[str], CheckedURL]

# The checked URL rides on the prepared request from ``send`` to the pool lookup, so the
# connection goes to exactly the address that was checked (no second DNS lookup).
_CHECKED = "_tandem_checked_url"


class PinnedAdapter(HTTPAdapter):
    """Checks each request's URL and connects to the address the check resolved.

    The pool is keyed by the address and the host name: TLS sends the host name as SNI
    and checks the certificate against it, and ``Host`` carries it, as if the name had
    been resolved by the connection itself.
    """

    def __init__(self, checker: Checker, **kwargs: Any) -> None:
        self.checker = checker
        super().__init__(**kwargs)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        checked = self.checker(request.url or "")
        if checked.addresses:
            setattr(request, _CHECKED, checked)
            request.headers["Host"] = checked.host_header
        return super().send(request, *args, **kwargs)

    def get_connection_with_tls_context(
        self,
        request: requests.PreparedRequest,
        verify: Any,
        proxies: Any = None,
        cert: Any = None,
    ) -> HTTPConnectionPool:
        checked: CheckedURL | None = getattr(request, _CHECKED, None)
        if checked is None:
            return super().get_connection_with_tls_context(request, verify, proxies, cert)
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(request, verify, cert)
        host_params["host"] = checked.addresses[0]
        if checked.scheme == "https":
            pool_kwargs["server_hostname"] = checked.host
        return self.poolmanager.connection_from_host(**host_params, pool_kwargs=pool_kwargs)


class OutboundSession(requests.Session):
    """A session whose every request is checked by :func:`outbound.check_url`.

    Redirects are never followed: a 3xx answer raises :class:`URLRefused` naming where it
    pointed, so a checked URL cannot hand the request on to an unchecked one.
    """

    def __init__(self, checker: Checker) -> None:
        super().__init__()
        # Proxies from the environment would connect by name, around the pinned address;
        # .netrc credentials must not reach a host a platform named.
        self.trust_env = False
        adapter = PinnedAdapter(checker)
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> Any:
        kwargs["allow_redirects"] = False
        response = super().send(request, **kwargs)
        if response.is_redirect:
            target = response.headers.get("Location", "")
            response.close()
            raise URLRefused(
                f"{response.url} answered a redirect (HTTP {response.status_code}) to "
                f"{target!r}; Tandem follows no redirects"
            )
        return response


def outbound_session(
    *, allow_insecure: bool | None = None, checker: Checker | None = None
) -> OutboundSession:
    """A :class:`OutboundSession` checking URLs with :func:`check_url`.

    Args:
        allow_insecure: the development switch; ``None`` reads ``TANDEM_ALLOW_INSECURE_URLS``
            at each request.
        checker: replaces :func:`check_url` (tests pin a name to a loopback server).
    """
    if checker is None:

        def checker(url: str) -> CheckedURL:
            return check_url(url, allow_insecure=allow_insecure)

    return OutboundSession(checker)

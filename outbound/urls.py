"""The URL check: scheme, user-info, host, port, and where the host's name resolves to."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

INSECURE_SWITCH = "TANDEM_ALLOW_INSECURE_URLS"
_TRUE = ("1", "true", "yes", "on")
DEFAULT_PORTS = {"https": 443, "http": 80}

Resolver = Callable[[str, int], Sequence[str]]


class URLRefused(requests.exceptions.InvalidURL):
    """A URL Tandem will not fetch; the message says why (never fetched, nothing sent).

    A ``requests`` exception, so that a caller's ``except requests.RequestException``
    never lets one through as a crash; callers catch it first to show the reason.
    """


@dataclass(frozen=True)
class CheckedURL:
    """A URL that passed :func:`check_url`.

    Attributes:
        url: the URL as given.
        scheme, host, port: its parts (``host`` lower-case, without brackets; ``port``
            explicit or the scheme's default).
        addresses: the addresses ``host`` resolved to, all checked; the request connects
            to the first. Empty under the development switch (the name is not resolved).
    """

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]

    @property
    def origin(self) -> str:
        """``scheme://host:port`` with the port always written (for comparisons)."""
        return f"{self.scheme}://{_bracketed(self.host)}:{self.port}"

    @property
    def host_header(self) -> str:
        """The ``Host`` header value: the host, and the port when it is not the default."""
        host = _bracketed(self.host)
        return host if DEFAULT_PORTS[self.scheme] == self.port else f"{host}:{self.port}"


def insecure_urls_allowed(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the development switch ``TANDEM_ALLOW_INSECURE_URLS`` is on."""
    environ = os.environ if environ is None else environ
    return environ.get(INSECURE_SWITCH, "").strip().lower() in _TRUE


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to for TCP (an address literal is itself).

    Raises:
        URLRefused: the name does not resolve.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise URLRefused(f"the host {host!r} does not resolve") from exc
    # getaddrinfo may answer an IPv6 address with a scope ("fe80::1%eth0"): drop it, the
    # address itself is what is checked.
    return list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _refusal(address: str) -> str | None:
    """Why an address may not be fetched from, or ``None`` when it is public."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved or ip.is_unspecified or not ip.is_global:
        return "a reserved address"
    return None


def check_url(
    url: str,
    *,
    allow_insecure: bool | None = None,
    resolver: Resolver | None = None,
) -> CheckedURL:
    """Check a URL before anything is sent to it.

    Args:
        url: the URL a platform, portal, connector or operator handed over.
        allow_insecure: the development switch; ``None`` reads ``TANDEM_ALLOW_INSECURE_URLS``.
            When on, plain http and any address are allowed and the name is not resolved.
        resolver: ``(host, port) -> addresses``; :func:`resolve` unless a test says else.

    Raises:
        URLRefused: with one line saying what is wrong.
    """
    if allow_insecure is None:
        allow_insecure = insecure_urls_allowed()
    if not isinstance(url, str) or not url:
        raise URLRefused("the URL is empty")
    if any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in url):
        raise URLRefused(f"{url!r} holds spaces, control characters or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise URLRefused(f"{url!r} is not a URL ({exc})") from exc
    scheme = parts.scheme.lower()
    allowed = ("https", "http") if allow_insecure else ("https",)
    if scheme not in allowed:
        raise URLRefused(
            f"{url!r} is not an https:// URL"
            + ("" if allow_insecure else f" (plain http only with {INSECURE_SWITCH})")
        )
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise URLRefused(f"{url!r} carries a user name or password before its host")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise URLRefused(f"{url!r} has no host")
    port = port or DEFAULT_PORTS[scheme]
    if allow_insecure:
        return CheckedURL(url, scheme, host, port, ())
    addresses = (resolver or resolve)(host, port)
    if not addresses:
        raise URLRefused(f"the host {host!r} does not resolve")
    for address in addresses:
        why = _refusal(address)
        if why is not None:
            raise URLRefused(
                f"{url!r} leads to {why} ({address}); Tandem fetches only public addresses"
            )
    return CheckedURL(url, scheme, host, port, tuple(addresses))


def origin_of(url: str) -> str | None:
    """``scheme://host:port`` of a URL (port always written), or ``None`` if it has none."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return f"{scheme}://{_bracketed(parts.hostname.rstrip('.'))}:{port or DEFAULT_PORTS[scheme]}"


def same_origin(url: str, other: str) -> bool:
    """Whether two URLs share scheme, host and port (a next-page link must stay home)."""
    origin = origin_of(url)
    return origin is not None and origin == origin_of(other)

"""Outbound URLs: the one check every URL a platform, portal or connector hands Tandem passes.

A leaf package (it imports nothing of Tandem's), so that ``platforms``, ``portals``,
``connectors`` and ``checkins`` can all call it. Two things live here:

* :func:`check_url`: https only, no user-info, a plain host and port, and a host whose
  every address is public (not private, loopback, link-local, reserved, shared or
  multicast). It answers a :class:`CheckedURL` carrying the addresses it checked.
* :func:`outbound_session`: a ``requests.Session`` that checks every request's URL
  with :func:`check_url`, connects to the checked address (so DNS cannot change between
  the check and the connection), keeps the host name for TLS (SNI and the certificate
  check) and for ``Host``, never follows a redirect, and ignores proxy settings from the
  environment (a proxy would connect to the host by name).

The development switch ``TANDEM_ALLOW_INSECURE_URLS`` (``tandem demo`` and the test
suite set it) allows plain http and any address, and leaves names unresolved.
See ``docs/outbound-urls.md``.
"""

from .session import OutboundSession, outbound_session
from .urls import (
    INSECURE_SWITCH,
    CheckedURL,
    URLRefused,
    check_url,
    insecure_urls_allowed,
    origin_of,
    same_origin,
)

__all__ = [
    "INSECURE_SWITCH",
    "CheckedURL",
    "OutboundSession",
    "URLRefused",
    "check_url",
    "insecure_urls_allowed",
    "origin_of",
    "outbound_session",
    "same_origin",
]

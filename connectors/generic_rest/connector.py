"""A REST member directory described by a config file, not code.

Config (JSON; ``preset`` merges one of :data:`presets.PRESETS` underneath)::

    {"preset": "scim", "source": "directory", "lookback_minutes": 10,
     "auth": {"type": "none|api_key|basic|bearer|oauth2_client_credentials", ...},
     "members": {"path": "/Users", "params": {}, "records": "Resources",
                 "pagination": {"type": "none|page|offset|cursor|link_header|next_url|"
                                        "async_result", ...},
                 "fields": {"external_id": "id", "email": "emails[0].value", ...},
                 "updated_since": {"param": "filter", "template": "...{since}...",
                                   "format": "%Y-%m-%dT%H:%M:%SZ"},
                 "deletions": {"type": "flag|endpoint|reconcile", ...}}}

Pagination styles are in :mod:`.paging`, field paths in :mod:`.paths`. The token given
to ``connector add`` is the API key, password, bearer token or client
secret, as ``auth.type`` needs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

import requests

from members import PersonRecord

from ..base import CourseItem, LearningItem, MemberItem, RecordProblem
from ..errors import AuthenticationError, ConfigError, MalformedResponse
from ..http import Requester
from .paging import iter_pages
from .paths import get_path
from .presets import PRESETS

PERSON_FIELDS = (
    "external_id",
    "given_name",
    "family_name",
    "display_name",
    "email",
    "picture_url",
    "member_number",
    "time_zone",
    "active",
)


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class _OAuth2Requester(Requester):
    """Client-credentials OAuth2: fetch a token, refresh it before it expires or on 401.

    A token can die before its ``expires_in`` (revoked, server restarted, clock skew):
    a 401 gets exactly one fresh token and one retry; a second 401 is a real refusal.
    """

    def __init__(self, base_url: str, auth: Mapping[str, Any], secret: str, **kwargs: Any):
        super().__init__(base_url, **kwargs)
        self._auth, self._secret = auth, secret
        self._expires = 0.0
        self.tokens_fetched = 0

    def before_request(self) -> None:
        if time.monotonic() < self._expires - 30:
            return
        response = self.session.post(
            self._auth["token_url"],
            data={
                "grant_type": "client_credentials",
                **({"scope": self._auth["scope"]} if self._auth.get("scope") else {}),
            },
            auth=(self._auth.get("client_id", ""), self._secret),
            timeout=self.timeout,
        )
        if response.status_code >= 400:
            raise AuthenticationError(
                f"the token endpoint refused the client credentials (HTTP {response.status_code})"
            )
        try:
            token = response.json()
            access_token = token["access_token"]
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedResponse("the token endpoint did not answer an access_token") from exc
        self.tokens_fetched += 1
        self.session.headers["Authorization"] = f"Bearer {access_token}"
        self._expires = time.monotonic() + float(token.get("expires_in", 3600))

    def send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = super().send(method, path, **kwargs)
        if response.status_code == 401:
            self._expires = 0.0  # forces before_request to fetch a new token
            response = super().send(method, path, **kwargs)
        return response


class RestConnector:
    """Members from a configured REST directory (members only: no courses)."""

    def __init__(
        self, base_url: str, secret: str | None, settings: Mapping[str, Any], **http: Any
    ) -> None:
        config = dict(settings)
        preset = config.pop("preset", None)
        if preset is not None:
            if preset not in PRESETS:
                raise ConfigError(f"unknown preset {preset!r}; have {', '.join(PRESETS)}")
            config = merge(PRESETS[preset], config)
        self.config = config
        self.source: str = config.get("source", "directory")
        self.lookback = timedelta(minutes=float(config.get("lookback_minutes", 10)))
        members = config.get("members")
        if not isinstance(members, Mapping) or not members.get("path"):
            raise ConfigError('needs "members": {"path": ..., "fields": {...}}')
        fields = members.get("fields") or {}
        if "external_id" not in fields:
            raise ConfigError('"members.fields" must map "external_id"')
        unknown = set(fields) - set(PERSON_FIELDS)
        if unknown:
            raise ConfigError(f"unknown member fields {sorted(unknown)}; known: {PERSON_FIELDS}")
        self.members = members
        self.variables = {k: str(v) for k, v in (config.get("variables") or {}).items()}
        http.setdefault("timeout", float(config.get("timeout", 30)))
        http.setdefault("max_retries", int(config.get("max_retries", 4)))
        self.client = self._requester(
            base_url, config.get("auth") or {"type": "none"}, secret, http
        )

    def _requester(
        self, base_url: str, auth: Mapping[str, Any], secret: str | None, http: dict[str, Any]
    ) -> Requester:
        kind = auth.get("type", "none")
        if kind != "none" and not secret:
            raise ConfigError(f"auth type {kind!r} needs --token")
        if kind == "none":
            return Requester(base_url, **http)
        if kind == "bearer":
            return Requester(base_url, headers={"Authorization": f"Bearer {secret}"}, **http)
        if kind == "basic":
            return Requester(base_url, auth=(auth.get("username", ""), secret), **http)
        if kind == "api_key":
            name = auth.get("name", "X-API-Key")
            if auth.get("in", "header") == "query":
                requester = Requester(base_url, **http)
                requester.session.params = {name: secret}  # type: ignore[assignment]
                return requester
            return Requester(base_url, headers={name: str(secret)}, **http)
        if kind == "oauth2_client_credentials":
            if not auth.get("token_url"):
                raise ConfigError("oauth2_client_credentials needs auth.token_url")
            return _OAuth2Requester(base_url, auth, str(secret), **http)
        raise ConfigError(f"unknown auth type {kind!r}")

    def person(self, row: Mapping[str, Any]) -> PersonRecord | RecordProblem:
        fields = self.members["fields"]
        values = {name: get_path(row, path) for name, path in fields.items()}
        external_id = values.pop("external_id")
        if external_id in (None, ""):
            return RecordProblem(f"{self.source}:?", f"no {fields['external_id']!r} in a record")
        active = values.pop("active", True)
        deletions = self.members.get("deletions") or {}
        if deletions.get("type") == "flag" and "field" in deletions:
            active = get_path(row, deletions["field"]) != deletions.get("deleted_when", True)
        clean = {k: (str(v).strip() or None) if v is not None else None for k, v in values.items()}
        return PersonRecord(
            source=self.source, external_id=str(external_id), active=bool(active), **clean
        )

    def _pages(self, path: str, params: dict[str, Any], records_path: str | None) -> Iterator[list]:
        paging = self.members.get("pagination") or {"type": "none"}
        return iter_pages(self.client, paging, path.format(**self.variables), params, records_path)

    def iter_members(self, since: datetime | None = None) -> Iterator[MemberItem]:
        params = dict(self.members.get("params") or {})
        incremental = self.members.get("updated_since")
        if since is not None and incremental:
            stamp = since.strftime(incremental.get("format", "%Y-%m-%dT%H:%M:%SZ"))
            params[incremental["param"]] = incremental.get("template", "{since}").format(
                since=stamp
            )
        for rows in self._pages(self.members["path"], params, self.members.get("records")):
            for row in rows:
                yield (
                    self.person(row)
                    if isinstance(row, Mapping)
                    else RecordProblem(f"{self.source}:?", "a record that is not an object")
                )
        deletions = self.members.get("deletions") or {}
        if deletions.get("type") == "endpoint":
            for rows in self._pages(deletions["path"], {}, deletions.get("records")):
                for row in rows:
                    external_id = get_path(row, deletions.get("id_field", "id"))
                    if external_id is not None:
                        yield PersonRecord(
                            source=self.source, external_id=str(external_id), active=False
                        )

    def iter_courses(self) -> Iterator[CourseItem]:
        return iter(())

    def iter_learning_records(self, since: datetime | None) -> Iterator[LearningItem]:
        return iter(())

    def check(self) -> list[str]:
        rows = next(
            self._pages(
                self.members["path"],
                dict(self.members.get("params") or {}),
                self.members.get("records"),
            ),
            [],
        )
        return [f"members readable ({len(rows)} on the first page)"]

    def close(self) -> None:
        self.client.close()


__all__ = ["RestConnector", "get_path"]

"""The generic REST connector with the SCIM preset: 1-based startIndex, short pages,
active:false as a deletion, updated-since filter on re-runs."""

from __future__ import annotations

import pytest
import responses

from connectors import ConfigError, sync
from connectors.generic_rest import RestConnector, get_path
from records import Database
from tests.support.remote import fixture

from .conftest import add_source, members

URL = "https://dir.example.org/scim/v2"


def test_get_path_reads_nested_and_negates() -> None:
    row = {"emails": [{"value": "a@x"}], "Archived": False}
    assert get_path(row, "emails[0].value") == "a@x"
    assert get_path(row, "!Archived") is True and get_path(row, "nope.x") is None


def test_bad_config_is_refused_with_its_reason() -> None:
    with pytest.raises(ConfigError, match="unknown preset"):
        RestConnector(URL, "t", {"preset": "ldap"})
    with pytest.raises(ConfigError, match='must map "external_id"'):
        RestConnector(URL, "t", {"members": {"path": "/u", "fields": {"email": "mail"}}})


@responses.activate
def test_scim_sync_pages_deactivates_and_filters_on_rerun(database: Database) -> None:
    page_size = {"preset": "scim", "members": {"pagination": {"size": 2}}}
    responses.add(
        responses.GET,
        f"{URL}/Users",
        json=fixture("scim", "users.page1"),
        match=[responses.matchers.query_param_matcher({"startIndex": "1", "count": "2"})],
    )
    responses.add(
        responses.GET,
        f"{URL}/Users",
        json=fixture("scim", "users.page2"),
        match=[responses.matchers.query_param_matcher({"startIndex": "3", "count": "2"})],
    )
    source = add_source(database, "rest", page_size)
    result = sync(
        database,
        source.tenant_id,
        source.connector_id,
        RestConnector(URL, "tok", page_size),
        phases=("members",),
    )
    assert result.status == "succeeded"
    people = members(database)
    assert set(people) == {"ada@example.org", "hal@example.org"}  # Gil is inactive: not added
    assert people["ada@example.org"].member_number == "M-100"

    responses.reset()
    gone = fixture("scim", "users.page1")
    gone["totalResults"] = 1
    gone["Resources"] = [dict(gone["Resources"][0], active=False)]
    responses.add(responses.GET, f"{URL}/Users", json=gone)
    again = sync(
        database,
        source.tenant_id,
        source.connector_id,
        RestConnector(URL, "tok", page_size),
        phases=("members",),
    )
    assert again.deactivated == 1 and not members(database)["ada@example.org"].active
    from urllib.parse import parse_qs, urlsplit

    sent = parse_qs(urlsplit(responses.calls[0].request.url).query)
    assert sent["filter"][0].startswith('meta.lastModified gt "')

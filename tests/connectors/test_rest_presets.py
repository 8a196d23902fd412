"""The generic REST connector's presets and options, on fixtures served by ``responses``.

Wild Apricot's submit-then-poll contacts, Salesforce SOQL paging, OAuth2 client
credentials refreshed once on a 401, an API key in the query (never printed), a cursor
at a JSON path and a deleted-list endpoint.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from responses import matchers

from connectors import (
    AsyncResultFailed,
    AuthenticationError,
    NotFound,
    SyncFailed,
    sync,
)
from connectors.generic_rest import RestConnector, get_path
from records import Database, Member
from tests.support.remote import fixture

from .conftest import add_source, count, cursor, members

WA = "https://api.wildapricot.org/v2.2"
WA_TOKEN = "https://oauth.wildapricot.org/auth/token"
CONTACTS = f"{WA}/accounts/42/contacts"
WA_SETTINGS = {
    "preset": "wildapricot",
    "variables": {"account_id": 42},
    "members": {"pagination": {"size": 2, "max_polls": 3}},
}


def query_of(request) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(request.url).query).items()}


def wild_apricot(states: list[str]):
    """A contacts endpoint: submit answers a ResultId; polls walk through ``states``,
    a Complete poll answers the page its $skip asks for."""
    polls: list[dict[str, str]] = []

    def callback(request):
        query = query_of(request)
        assert request.headers["Authorization"] == "Bearer wa-access-1"
        if "resultId" not in query:
            assert query["$async"] == "true"
            return 200, {}, json.dumps(fixture("wildapricot", "contacts.submit"))
        polls.append(query)
        state = states.pop(0) if states else "Complete"
        if state == "Failed":
            return 200, {}, json.dumps(fixture("wildapricot", "contacts.failed"))
        if state != "Complete":
            return (
                200,
                {},
                json.dumps({**fixture("wildapricot", "contacts.processing"), "State": state}),
            )
        page = "page1" if query["$skip"] == "0" else "page2"
        return 200, {}, json.dumps(fixture("wildapricot", f"contacts.{page}"))

    return callback, polls


def wa_connector(delays: list[float]) -> RestConnector:
    return RestConnector(WA, "wa-api-key", WA_SETTINGS, sleep=delays.append)


@responses.activate
def test_wild_apricot_submits_polls_with_backoff_then_pages_the_result(
    database: Database, delays: list[float]
) -> None:
    token = responses.post(WA_TOKEN, json=fixture("wildapricot", "token"))
    callback, polls = wild_apricot(["Waiting", "Processing"])
    responses.add_callback(responses.GET, CONTACTS, callback=callback)
    source = add_source(database, "rest", WA_SETTINGS)
    result = sync(
        database, source.tenant_id, source.connector_id, wa_connector(delays), phases=("members",)
    )
    assert result.status == "succeeded", result.message
    # Ada and Hal; Gil is archived: a member who left is never added.
    assert set(members(database)) == {"ada@example.org", "hal@example.org"}
    assert delays == [1.0, 2.0, 4.0]  # before each of the three polls until Complete
    assert [(p["resultId"], p["$skip"], p["$top"]) for p in polls] == [
        ("8f1c0ffee", "0", "2"),
        ("8f1c0ffee", "0", "2"),
        ("8f1c0ffee", "0", "2"),
        ("8f1c0ffee", "2", "2"),
    ]
    # The API key is the client secret of client id APIKEY, sent once for one token.
    sent = token.calls[0].request
    assert (
        sent.headers["Authorization"] == "Basic " + base64.b64encode(b"APIKEY:wa-api-key").decode()
    )
    assert parse_qs(sent.body)["grant_type"] == ["client_credentials"] and token.call_count == 1


@responses.activate
def test_wild_apricot_archiving_deactivates_an_existing_member(
    database: Database, delays: list[float]
) -> None:
    responses.post(WA_TOKEN, json=fixture("wildapricot", "token"))
    callback, _polls = wild_apricot([])
    responses.add_callback(responses.GET, CONTACTS, callback=callback)
    source = add_source(database, "rest", WA_SETTINGS)
    with database.transaction() as session:
        session.add(Member(tenant_id=source.tenant_id, display_name="Gil", email="Gil@Example.org"))
    result = sync(
        database, source.tenant_id, source.connector_id, wa_connector(delays), phases=("members",)
    )
    assert result.deactivated == 1 and not members(database)["gil@example.org"].active


@pytest.mark.parametrize(
    ("states", "message", "waits"),
    [
        (["Processing", "Failed"], "reported State 'Failed' for result 8f1c0ffee", [1.0, 2.0]),
        (
            ["Waiting", "Processing", "Processing", "Processing"],
            "result 8f1c0ffee of /accounts/42/contacts was still 'Processing' after 3 polls (7 s)",
            [1.0, 2.0, 4.0],
        ),
    ],
)
@responses.activate
def test_wild_apricot_result_that_fails_or_never_completes_is_a_clear_error(
    database: Database, delays: list[float], states: list[str], message: str, waits: list[float]
) -> None:
    responses.post(WA_TOKEN, json=fixture("wildapricot", "token"))
    callback, _polls = wild_apricot(list(states))  # parametrize shares the list
    responses.add_callback(responses.GET, CONTACTS, callback=callback)
    source = add_source(database, "rest", WA_SETTINGS)
    with pytest.raises(SyncFailed) as failure:
        sync(
            database,
            source.tenant_id,
            source.connector_id,
            wa_connector(delays),
            phases=("members",),
        )
    assert isinstance(failure.value.__cause__, AsyncResultFailed)
    assert message in str(failure.value)
    assert delays == waits
    assert count(database, Member) == 0 and cursor(database, source.connector_id) == {}


SF = "https://acme.my.salesforce.com"
QUERY = f"{SF}/services/data/v59.0/query"


@responses.activate
def test_salesforce_follows_next_records_url_and_filters_on_rerun(database: Database) -> None:
    responses.get(QUERY, json=fixture("salesforce", "query.page1"))
    responses.get(f"{QUERY}/01gD0000002HU6KIAW-2000", json=fixture("salesforce", "query.page2"))
    settings = {"preset": "salesforce"}
    source = add_source(database, "rest", settings)
    first = sync(
        database,
        source.tenant_id,
        source.connector_id,
        RestConnector(SF, "sf-token", settings),
        phases=("members",),
    )
    assert first.kinds["members"] == [3, 0]
    people = members(database)
    assert people["ada@example.org"].member_number == "M-100"
    assert people["bo@example.org"].member_number is None
    assert responses.calls[0].request.headers["Authorization"] == "Bearer sf-token"

    responses.reset()
    responses.get(QUERY, json={"totalSize": 0, "done": True, "records": []})
    again = sync(
        database,
        source.tenant_id,
        source.connector_id,
        RestConnector(SF, "sf-token", settings),
        phases=("members",),
    )
    assert again.added == again.updated == 0
    soql = query_of(responses.calls[0].request)["q"]
    assert soql.startswith("SELECT Id, Member_Number__c") and "WHERE LastModifiedDate > " in soql


OAUTH = {
    "preset": "salesforce",
    "auth": {
        "type": "oauth2_client_credentials",
        "token_url": f"{SF}/services/oauth2/token",
        "client_id": "3MVG9-consumer-key",
    },
}


@responses.activate
def test_oauth2_token_rejected_early_is_refreshed_once_and_the_request_retried() -> None:
    token = responses.post(
        f"{SF}/services/oauth2/token", json={"access_token": "tok-1", "expires_in": 7200}
    )
    responses.post(
        f"{SF}/services/oauth2/token", json={"access_token": "tok-2", "expires_in": 7200}
    )

    def api(request):
        if request.headers["Authorization"] == "Bearer tok-1":  # revoked before it expired
            return 401, {}, json.dumps(fixture("salesforce", "invalid_session"))
        return 200, {}, json.dumps(fixture("salesforce", "query.page2"))

    responses.add_callback(responses.GET, QUERY, callback=api)
    connector = RestConnector(SF, "consumer-secret", OAUTH, sleep=lambda s: None)
    people = list(connector.iter_members())
    assert [p.external_id for p in people] == ["003D000000QZ1cCIAT"]
    assert connector.client.tokens_fetched == 2 and token.call_count == 1
    assert len([c for c in responses.calls if c.request.url.startswith(QUERY)]) == 2


@responses.activate
def test_oauth2_second_401_is_a_refusal_not_a_loop() -> None:
    responses.post(f"{SF}/services/oauth2/token", json={"access_token": "tok", "expires_in": 60})
    responses.get(QUERY, status=401, json=fixture("salesforce", "invalid_session"))
    connector = RestConnector(SF, "consumer-secret", OAUTH, sleep=lambda s: None)
    with pytest.raises(AuthenticationError, match="refused the credentials"):
        list(connector.iter_members())
    assert connector.client.tokens_fetched == 2


DIRECTORY = "https://members.example.org/api"


@responses.activate
def test_api_key_in_query_is_sent_and_never_printed() -> None:
    settings = {
        "auth": {"type": "api_key", "in": "query", "name": "api_key"},
        "members": {"path": "/people", "records": "data", "fields": {"external_id": "id"}},
    }
    responses.get(
        f"{DIRECTORY}/people",
        json={"data": [{"id": 1}]},
        match=[matchers.query_param_matcher({"api_key": "k-s3cret"})],
    )
    assert [
        p.external_id for p in RestConnector(DIRECTORY, "k-s3cret", settings).iter_members()
    ] == ["1"]
    wrong = {**settings, "members": {**settings["members"], "path": "/persons"}}
    responses.get(f"{DIRECTORY}/persons", status=404, json={"message": "no such route"})
    with pytest.raises(NotFound) as failure:
        list(RestConnector(DIRECTORY, "k-s3cret", wrong).iter_members())
    assert "k-s3cret" not in str(failure.value) and "api_key=***" in str(failure.value)


@responses.activate
def test_cursor_at_a_json_path_is_sent_back_until_it_runs_out() -> None:
    settings = {
        "auth": {"type": "bearer"},
        "members": {
            "path": "/people",
            "records": "data.items",
            "pagination": {"type": "cursor", "cursor_path": "data.paging.next", "param": "after"},
            "fields": {"external_id": "id", "email": "contact.email"},
        },
    }

    def pages(request):
        after = query_of(request).get("after")
        body = {
            None: {"data": {"items": [{"id": "a"}, {"id": "b"}], "paging": {"next": "c2"}}},
            "c2": {"data": {"items": [{"id": "c", "contact": {"email": "c@x.org"}}], "paging": {}}},
        }[after]
        return 200, {}, json.dumps(body)

    responses.add_callback(responses.GET, f"{DIRECTORY}/people", callback=pages)
    people = list(RestConnector(DIRECTORY, "t", settings).iter_members())
    assert [(p.external_id, p.email) for p in people] == [
        ("a", None),
        ("b", None),
        ("c", "c@x.org"),
    ]
    assert len(responses.calls) == 2


@responses.activate
def test_deleted_list_endpoint_deactivates_who_it_names(database: Database) -> None:
    settings = {
        "auth": {"type": "bearer"},
        "members": {
            "path": "/people",
            "records": "data",
            "fields": {"external_id": "id", "email": "email"},
            "deletions": {
                "type": "endpoint",
                "path": "/people/deleted",
                "records": "data",
                "id_field": "person_id",
            },
        },
    }
    responses.get(
        f"{DIRECTORY}/people",
        json={"data": [{"id": "p1", "email": "p1@x.org"}, {"id": "p2", "email": "p2@x.org"}]},
    )
    responses.get(f"{DIRECTORY}/people/deleted", json={"data": []})
    source = add_source(database, "rest", settings)

    def run():
        return sync(
            database,
            source.tenant_id,
            source.connector_id,
            RestConnector(DIRECTORY, "t", settings),
            phases=("members",),
        )

    assert run().kinds["members"] == [2, 0]
    responses.reset()
    responses.get(f"{DIRECTORY}/people", json={"data": []})
    responses.get(
        f"{DIRECTORY}/people/deleted",
        json={"data": [{"person_id": "p2", "deleted_at": "2024-06-01"}, {"person_id": "zz"}]},
    )
    gone = run()
    assert gone.deactivated == 1 and gone.failed == 0
    assert not members(database)["p2@x.org"].active and members(database)["p1@x.org"].active


def test_get_path_selects_list_items_by_key() -> None:
    contact = fixture("wildapricot", "contacts.page1")["Contacts"][1]
    assert get_path(contact, "FieldValues[SystemCode=IsArchived].Value") is True
    assert get_path(contact, "!FieldValues[SystemCode=IsArchived].Value") is False
    assert get_path(contact, "FieldValues[SystemCode=MemberId].Value") == 50102
    assert get_path(contact, "FieldValues[SystemCode=Nope].Value") is None

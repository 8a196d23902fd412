"""Ready-made configurations for common directories; a config file names one with
``"preset"`` and overrides any key."""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    # SCIM 2.0 (RFC 7644): 1-based startIndex, short pages allowed, active:false = gone.
    "scim": {
        "auth": {"type": "bearer"},
        "members": {
            "path": "/Users",
            "records": "Resources",
            "pagination": {
                "type": "offset",
                "offset_param": "startIndex",
                "limit_param": "count",
                "start": 1,
                "size": 100,
                "total_path": "totalResults",
            },
            "fields": {
                "external_id": "id",
                "member_number": "externalId",
                "email": "emails[0].value",
                "given_name": "name.givenName",
                "family_name": "name.familyName",
                "display_name": "displayName",
                "time_zone": "timezone",
                "active": "active",
            },
            "updated_since": {
                "param": "filter",
                "template": 'meta.lastModified gt "{since}"',
                "format": "%Y-%m-%dT%H:%M:%SZ",
            },
            "deletions": {"type": "flag", "field": "active", "deleted_when": False},
        },
    },
    # Wild Apricot (API v2.2): OAuth2 client credentials (client id "APIKEY", the API key
    # as the secret). Contacts are built asynchronously: the first GET answers a
    # ResultId and ResultUrl, polled until State is Complete, then read with $top/$skip.
    # Archived contacts are included unless filtered: they are members who left.
    "wildapricot": {
        "auth": {
            "type": "oauth2_client_credentials",
            "token_url": "https://oauth.wildapricot.org/auth/token",
            "client_id": "APIKEY",
            "scope": "auto",
        },
        "members": {
            "path": "/accounts/{account_id}/contacts",
            "params": {"$async": "true"},
            "records": "Contacts",
            "pagination": {
                "type": "async_result",
                "result_id_path": "ResultId",
                "result_url_path": "ResultUrl",
                "state_path": "State",
                "result_param": "resultId",
                "offset_param": "$skip",
                "limit_param": "$top",
                "size": 100,
                "max_polls": 30,
                "poll_interval": 1,
                "max_poll_interval": 30,
            },
            "fields": {
                "external_id": "Id",
                "email": "Email",
                "given_name": "FirstName",
                "family_name": "LastName",
                "display_name": "DisplayName",
            },
            "updated_since": {
                "param": "$filter",
                "template": "'Profile last updated' ge {since}",
                "format": "%Y-%m-%dT%H:%M:%S",
            },
            "deletions": {
                "type": "flag",
                "field": "FieldValues[SystemCode=IsArchived].Value",
                "deleted_when": True,
            },
        },
    },
    # Salesforce SOQL: {totalSize, done, nextRecordsUrl, records}.
    "salesforce": {
        "auth": {"type": "bearer"},
        "members": {
            "path": "/services/data/v59.0/query",
            "params": {
                "q": "SELECT Id, Member_Number__c, Email, FirstName, LastName, Name, "
                "IsDeleted FROM Contact"
            },
            "records": "records",
            "pagination": {"type": "next_url", "next_path": "nextRecordsUrl"},
            "fields": {
                "external_id": "Id",
                "member_number": "Member_Number__c",
                "email": "Email",
                "given_name": "FirstName",
                "family_name": "LastName",
                "display_name": "Name",
                "active": "!IsDeleted",
            },
            "updated_since": {
                "param": "q",
                "template": "SELECT Id, Member_Number__c, Email, FirstName, LastName, Name, "
                "IsDeleted FROM Contact WHERE LastModifiedDate > {since}",
                "format": "%Y-%m-%dT%H:%M:%SZ",
            },
            "deletions": {"type": "reconcile"},
        },
    },
}

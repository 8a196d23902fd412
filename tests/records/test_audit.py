"""records.record_event: audit rows never hold private text or a token (issue 12, 11)."""

from __future__ import annotations

import json

import pytest

from records import record_event


@pytest.mark.parametrize(
    "key", ["token", "id_token", "access_token", "registration_token", "csrf_token",
            "client_secret", "password", "client_assertion", "code", "state", "nonce"],
)  # fmt: skip
def test_record_event_refuses_secret_keys(session, key: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="may not carry"):
        record_event(session, None, "x", detail={key: "anything"})


def test_record_event_strips_tokens_from_values(session) -> None:  # type: ignore[no-untyped-def]
    token = "sEx0QNZM5OWZKPw0vYU5HpV-Mk5stqUCohAlytg8Kbg"
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlMTIzNDU2Nzg5"
    event = record_event(session, None, "x", detail={
        "path": f"/portal/acme/link/{token}",
        "error": f"refused {jwt} for https://lms.example.edu/mod/lti/token.php",
        "client_id": "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b",
        "deployment_id": "12345678901234567890123",
        "message": "This sign-in link has expired or was already used.",
    })  # fmt: skip
    assert event.detail["path"] == "/portal/acme/link/[redacted]"
    assert token not in json.dumps(event.detail) and "eyJzdWIi" not in json.dumps(event.detail)
    assert "https://lms.example.edu/mod/lti/token.php" in event.detail["error"]
    assert event.detail["client_id"] == "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b"
    assert event.detail["deployment_id"] == "12345678901234567890123"
    assert event.detail["message"] == "This sign-in link has expired or was already used."

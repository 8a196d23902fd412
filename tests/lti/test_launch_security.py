"""Every bad launch: a 4xx plain page, one audit row, and no other write."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from tests.support.lti_platform import LTI, Auth, Person, TestPlatform, public_jwk, rsa_key

from .conftest import audit_actions, row_counts

ADA = Person("user-1", "Ada", "Lovelace", "ada@example.edu")


def assert_refused(  # type: ignore[no-untyped-def]
    app, response, *, status: int, reason: str, before: dict[str, int],
    action: str = "lti.launch_refused",
) -> dict:  # fmt: skip
    assert response.status_code == status, response.get_data(as_text=True)
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and ".py" not in text and "platforms/" not in text
    assert "<h1>" in text
    after = row_counts(app)
    assert after["audit_events"] == before["audit_events"] + 1
    assert {k: v for k, v in after.items() if k != "audit_events"} == {
        k: v for k, v in before.items() if k != "audit_events"
    }
    last, detail = audit_actions(app)[-1]
    assert (last, detail["reason"]) == (action, reason)
    return detail


def refuse(
    app, client, platform: TestPlatform, token_for: Callable[[Auth], str], **expect: Any
) -> None:  # type: ignore[no-untyped-def]
    auth = platform.login(client)
    before = row_counts(app)
    response = platform.post_launch(client, token_for(auth), auth.state)
    assert_refused(app, response, before=before, **expect)


def claims_with(platform: TestPlatform, auth: Auth, **changes: Any) -> dict[str, Any]:
    claims = platform.claims(auth.nonce, ADA)
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def test_bad_signature(app, client, platform) -> None:
    impostor = rsa_key("impostor")
    refuse(app, client, platform,
           lambda a: platform.sign(platform.claims(a.nonce, ADA), key=impostor),
           status=403, reason="bad_signature")  # fmt: skip


def test_alg_none(app, client, platform) -> None:
    def token(auth: Auth) -> str:
        return jwt.encode(
            platform.claims(auth.nonce, ADA), None, algorithm="none",
            headers={"kid": platform.kid},
        )  # fmt: skip

    refuse(app, client, platform, token, status=403, reason="bad_algorithm")


def test_hs256_signed_with_the_platforms_public_key(app, client, platform) -> None:
    refuse(app, client, platform,
           lambda a: platform.sign_hs256_with_public_key(platform.claims(a.nonce, ADA)),
           status=403, reason="bad_algorithm")  # fmt: skip


def test_expired(app, client, platform) -> None:
    now = int(time.time())
    refuse(app, client, platform,
           lambda a: platform.sign(claims_with(platform, a, iat=now - 600, exp=now - 60)),
           status=403, reason="expired")  # fmt: skip


def test_issued_in_the_future(app, client, platform) -> None:
    now = int(time.time())
    refuse(app, client, platform,
           lambda a: platform.sign(claims_with(platform, a, iat=now + 120, exp=now + 600)),
           status=403, reason="issued_in_future")  # fmt: skip


def test_small_clock_skew_is_tolerated(client, platform) -> None:
    auth = platform.login(client)
    now = int(time.time())
    token = platform.sign(claims_with(platform, auth, iat=now + 5))
    assert platform.post_launch(client, token, auth.state).status_code == 303


def test_replayed_id_token_with_its_state(app, client, platform) -> None:
    auth = platform.login(client)
    token = platform.sign(platform.claims(auth.nonce, ADA))
    assert platform.post_launch(client, token, auth.state).status_code == 303
    # The attacker replays the exact form post, cookie included.
    client.set_cookie(f"lti_state_{auth.state}", auth.state, path="/lti/launch")
    before = row_counts(app)
    response = platform.post_launch(client, token, auth.state)
    assert_refused(app, response, status=403, reason="replayed_or_expired", before=before)


def test_replayed_id_token_with_a_fresh_state(app, client, platform) -> None:
    first = platform.login(client)
    token = platform.sign(platform.claims(first.nonce, ADA))
    assert platform.post_launch(client, token, first.state).status_code == 303
    second = platform.login(client)
    before = row_counts(app)
    response = platform.post_launch(client, token, second.state)
    assert_refused(app, response, status=403, reason="nonce_mismatch", before=before)


def test_state_mismatch(app, client, platform) -> None:
    auth = platform.login(client)
    token = platform.sign(platform.claims(auth.nonce, ADA))
    before = row_counts(app)
    response = platform.post_launch(client, token, "a-state-this-browser-never-saw")
    assert_refused(app, response, status=403, reason="state_mismatch", before=before)


def test_state_cookie_missing(app, client, platform) -> None:
    auth = platform.login(client)
    client.delete_cookie(f"lti_state_{auth.state}", path="/lti/launch")
    token = platform.sign(platform.claims(auth.nonce, ADA))
    before = row_counts(app)
    response = platform.post_launch(client, token, auth.state)
    assert_refused(app, response, status=403, reason="state_mismatch", before=before)


def test_state_of_another_platform(app, client, platform, mock_http) -> None:
    from .conftest import make_platform

    other = make_platform(app, client, mock_http, issuer="https://other.example.org",
                          key_name="other")  # fmt: skip
    auth = other.login(client)  # the login went to the other platform
    token = platform.sign(platform.claims(auth.nonce, ADA))
    before = row_counts(app)
    response = platform.post_launch(client, token, auth.state)
    assert_refused(app, response, status=403, reason="state_mismatch", before=before)


def test_unknown_issuer(app, client, platform) -> None:
    refuse(app, client, platform,
           lambda a: platform.sign(claims_with(platform, a, iss="https://evil.example.net")),
           status=403, reason="unknown_issuer")  # fmt: skip


def test_unknown_client_id(app, client, platform) -> None:
    refuse(app, client, platform,
           lambda a: platform.sign(claims_with(platform, a, aud="someone-else")),
           status=403, reason="unknown_client_id")  # fmt: skip


def test_list_aud_without_azp(app, client, platform) -> None:
    refuse(app, client, platform,
           lambda a: platform.sign(claims_with(platform, a, aud=[platform.client_id, "x"])),
           status=403, reason="bad_azp")  # fmt: skip


def test_list_aud_with_azp_not_in_aud(app, client, platform) -> None:
    refuse(app, client, platform,
           lambda a: platform.sign(
               claims_with(platform, a, aud=[platform.client_id, "x"], azp="wrong")
           ),
           status=403, reason="bad_azp")  # fmt: skip


def test_list_aud_with_azp_of_another_client(app, client, platform) -> None:
    refuse(app, client, platform,
           lambda a: platform.sign(
               claims_with(platform, a, aud=[platform.client_id, "x"], azp="x")
           ),
           status=403, reason="unknown_client_id")  # fmt: skip


def test_list_aud_with_the_right_azp_is_accepted(client, platform) -> None:
    auth = platform.login(client)
    claims = claims_with(platform, auth, aud=[platform.client_id, "x"], azp=platform.client_id)
    assert platform.post_launch(client, platform.sign(claims), auth.state).status_code == 303


def test_unknown_deployment(app, client, platform) -> None:
    refuse(app, client, platform,
           lambda a: platform.sign(claims_with(platform, a, **{LTI + "deployment_id": "nope"})),
           status=403, reason="unknown_deployment")  # fmt: skip


def test_version_other_than_1_3_0(app, client, platform) -> None:
    refuse(app, client, platform,
           lambda a: platform.sign(claims_with(platform, a, **{LTI + "version": "1.1"})),
           status=400, reason="bad_version")  # fmt: skip


def test_unknown_message_type(app, client, platform) -> None:
    changes = {LTI + "message_type": "LtiSubmissionReviewRequest"}
    refuse(app, client, platform,
           lambda a: platform.sign(claims_with(platform, a, **changes)),
           status=400, reason="unknown_message_type")  # fmt: skip


def test_missing_sub(app, client, platform) -> None:
    refuse(app, client, platform,
           lambda a: platform.sign(claims_with(platform, a, sub=None)),
           status=400, reason="missing_sub")  # fmt: skip


def test_missing_resource_link(app, client, platform) -> None:
    refuse(app, client, platform,
           lambda a: platform.sign(claims_with(platform, a, **{LTI + "resource_link": None})),
           status=400, reason="missing_resource_link")  # fmt: skip


def test_missing_nonce(app, client, platform) -> None:
    refuse(app, client, platform,
           lambda a: platform.sign(claims_with(platform, a, nonce=None)),
           status=400, reason="missing_claim")  # fmt: skip


def test_kid_not_in_key_set_is_refetched_once_then_refused(app, client, platform) -> None:
    platform.launch(client, ADA)  # the key set is now cached
    fetched = platform.key_set_requests
    refuse(app, client, platform,
           lambda a: platform.sign(platform.claims(a.nonce, ADA), kid="unheard-of"),
           status=403, reason="unknown_kid")  # fmt: skip
    assert platform.key_set_requests == fetched + 1


def test_rotated_platform_key_is_fetched_and_accepted(client, platform) -> None:
    platform.launch(client, ADA)
    fetched = platform.key_set_requests
    rotated = rsa_key("platform-rotated")
    platform.extra_keys.append(public_jwk(rotated, "rotated-kid"))
    auth = platform.login(client)
    token = platform.sign(platform.claims(auth.nonce, ADA), key=rotated, kid="rotated-kid")
    assert platform.post_launch(client, token, auth.state).status_code == 303
    assert platform.key_set_requests == fetched + 1
    # ...and cached from then on.
    auth = platform.login(client)
    token = platform.sign(platform.claims(auth.nonce, ADA), key=rotated, kid="rotated-kid")
    assert platform.post_launch(client, token, auth.state).status_code == 303
    assert platform.key_set_requests == fetched + 1


def test_malformed_token(app, client, platform) -> None:
    refuse(app, client, platform, lambda a: "not-a-jwt", status=400, reason="malformed_token")


def test_missing_id_token(app, client, platform) -> None:
    before = row_counts(app)
    response = client.post("/lti/launch", data={"state": "x"})
    assert_refused(app, response, status=400, reason="missing_parameter", before=before)


def test_refusal_page_may_be_framed_by_the_claimed_platform(app, client, platform) -> None:
    auth = platform.login(client)
    response = platform.post_launch(
        client, platform.sign(claims_with(platform, auth, sub=None)), auth.state
    )
    assert response.status_code == 400
    csp = response.headers["Content-Security-Policy"]
    assert csp.startswith("frame-ancestors 'self'") and "https://moodle.example.edu" in csp


@pytest.mark.parametrize(
    "query",
    [
        "iss=https://evil.example.net&login_hint=h&target_link_uri=http://localhost/",
        "login_hint=h&target_link_uri=http://localhost/",
    ],
)
def test_bad_login_is_refused_and_audited(app, client, platform, query) -> None:
    before = row_counts(app)
    response = client.get("/lti/login?" + query)
    assert response.status_code == 400
    after = row_counts(app)
    assert after["audit_events"] == before["audit_events"] + 1
    assert after["expiring_values"] == before["expiring_values"]
    assert audit_actions(app)[-1][0] == "lti.login_refused"


def test_anonymous_pages_list_every_registered_platform(app, client, platform, mock_http):
    from .conftest import make_platform

    make_platform(app, client, mock_http, issuer="https://canvas.example.com", key_name="c2",
                  client_id="c-2")  # fmt: skip
    from lti_tool.security import forget_platform_origins

    forget_platform_origins(app)
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "https://moodle.example.edu" in csp and "https://canvas.example.com" in csp


def test_platform_storage_cannot_stand_in_for_a_cookie_login(app, client, platform) -> None:
    """Login CSRF: an attacker's own login (cookie kept in the attacker's browser) must not
    be completed in a victim's browser by posting the state as if read from platform
    storage. Only a login that asked for platform storage may skip the state cookie."""
    attacker = app.test_client()
    auth = platform.login(attacker)  # no lti_storage_target: the state is in a cookie
    token = platform.sign(platform.claims(auth.nonce, ADA))
    victim = client
    before = row_counts(app)
    response = platform.post_launch(
        victim, token, auth.state, lti_storage_target="_parent", lti_storage_state=auth.state
    )
    assert_refused(app, response, status=403, reason="storage_not_used", before=before)
    with victim.session_transaction() as cookie:
        assert "member_id" not in cookie
    # The attacker's own browser, with its cookie, still completes its own login.
    assert platform.post_launch(attacker, token, auth.state).status_code == 303

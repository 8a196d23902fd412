"""Full launches: login redirect, a signed id_token, the landing page, the session."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

import records
from records import Course, Enrolment, ExpiringValue, Identity, Member
from tests.support.lti_platform import (
    INSTITUTION_ADMIN,
    INSTRUCTOR,
    LEARNER,
    TEACHING_ASSISTANT,
    Person,
    TestPlatform,
)

from .conftest import make_platform

ADA = Person("user-1", "Ada", "Lovelace", "ada@example.edu", sourcedid="M-001")


def test_login_redirects_to_the_platform_with_state_and_nonce(client, platform) -> None:
    auth = platform.login(client)
    assert auth.params["response_type"] == "id_token"
    assert auth.params["response_mode"] == "form_post"
    assert auth.params["scope"] == "openid"
    assert auth.params["prompt"] == "none"
    assert auth.params["client_id"] == platform.client_id
    assert auth.params["login_hint"] == "hint-1"
    assert auth.params["lti_message_hint"] == "message-hint-1"
    assert auth.params["redirect_uri"] == "http://localhost/lti/launch"
    assert len(auth.state) > 30 and len(auth.nonce) > 30


def test_login_by_post_and_without_client_id(client, platform) -> None:
    auth = platform.login(client, method="POST")
    assert auth.params["client_id"] == platform.client_id
    response = client.get(
        "/lti/login?iss=" + platform.issuer + "&login_hint=x&target_link_uri=http://localhost/"
    )
    assert response.status_code == 302


def test_learner_launch_lands_on_their_own_page(app, client, platform) -> None:
    response = platform.launch(client, ADA)
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/me"
    page = client.get("/me")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Ada Lovelace" in text and "Mentoring Circle 101" in text and "Member" in text
    assert (
        "frame-ancestors 'self' https://moodle.example.edu"
        in page.headers["Content-Security-Policy"]
    )
    assert client.get("/coordinator").status_code == 403


def test_launch_creates_member_identities_course_and_enrolment(app, client, platform) -> None:
    platform.launch(client, ADA)
    with app.app_context(), records.get_database(app).transaction() as session:
        member = session.scalars(select(Member)).one()
        assert (member.given_name, member.family_name, member.email, member.member_number) == (
            "Ada", "Lovelace", "ada@example.edu", "M-001",
        )  # fmt: skip
        pairs = {(i.source, i.external_id) for i in session.scalars(select(Identity))}
        assert pairs == {("lti", "user-1"), ("moodle", "user-1")}
        course = session.scalars(select(Course)).one()
        # Moodle's context id is its course id: the course takes the connector's key.
        assert (course.source, course.external_id, course.title, course.lti_context_id) == (
            "moodle", "course-101", "Mentoring Circle 101", "course-101",
        )  # fmt: skip
        enrolment = session.scalars(select(Enrolment)).one()
        assert (enrolment.member_id, enrolment.role) == (member.id, "member")
        assert enrolment.last_access_at is not None


def test_second_launch_links_the_same_member(app, client, platform) -> None:
    platform.launch(client, ADA)
    platform.launch(client, ADA)
    with app.app_context(), records.get_database(app).transaction() as session:
        assert len(session.scalars(select(Member)).all()) == 1
        assert len(session.scalars(select(Enrolment)).all()) == 1


def test_a_launch_again_reactivates_the_enrolment_and_moves_last_access_on(
    app, client, platform
) -> None:
    platform.launch(client, ADA)
    earlier = datetime(2026, 1, 1, tzinfo=UTC)
    with app.app_context(), records.get_database(app).transaction() as session:
        enrolment = session.scalars(select(Enrolment)).one()
        # A sync saw the member leave the course a while ago.
        enrolment.status, enrolment.last_access_at = "inactive", earlier
        enrolment.updated_at = earlier
    platform.launch(client, ADA)
    with app.app_context(), records.get_database(app).transaction() as session:
        enrolment = session.scalars(select(Enrolment)).one()
        assert enrolment.status == "active"
        assert enrolment.last_access_at > earlier
        assert enrolment.updated_at > earlier


def test_canvas_launch_links_canvas_user_id(app, client, mock_http) -> None:
    canvas = make_platform(
        app, client, mock_http, issuer="https://canvas.instructure.com", client_id="10000000001",
        product="canvas",
    )  # fmt: skip
    auth = canvas.login(client)
    claims = canvas.claims(auth.nonce, ADA, custom={"canvas_user_id": "4242"})
    response = canvas.post_launch(client, canvas.sign(claims), auth.state)
    assert response.status_code == 303
    with app.app_context(), records.get_database(app).transaction() as session:
        pairs = {(i.source, i.external_id) for i in session.scalars(select(Identity))}
        assert pairs == {("lti", "user-1"), ("canvas", "4242")}


def test_unsubstituted_canvas_variable_is_ignored(app, client, platform) -> None:
    auth = platform.login(client)
    claims = platform.claims(auth.nonce, ADA, custom={"canvas_user_id": "$Canvas.user.id"})
    platform.post_launch(client, platform.sign(claims), auth.state)
    with app.app_context(), records.get_database(app).transaction() as session:
        sources = {i.source for i in session.scalars(select(Identity))}
        assert "canvas" not in sources


def test_coordinator_roles_land_on_the_coordinator_page(app, client, platform) -> None:
    for roles in ([INSTRUCTOR], [TEACHING_ASSISTANT], [INSTITUTION_ADMIN, LEARNER],
                  ["ContentDeveloper"]):  # fmt: skip
        person = Person("teacher-1", "Grace", "Hopper", "grace@example.edu", roles=roles)
        response = platform.launch(client, person)
        assert urlsplit(response.headers["Location"]).path == "/coordinator", roles
        page = client.get("/coordinator")
        assert page.status_code == 200
        assert "Grace Hopper" in page.get_data(as_text=True)


def test_system_administrator_alone_is_a_member(client, platform) -> None:
    system_admin = "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"
    person = Person("root-1", "Site", "Admin", "root@example.edu", roles=[system_admin])
    response = platform.launch(client, person)
    assert urlsplit(response.headers["Location"]).path == "/me"


def test_state_lives_in_the_database_and_is_consumed(app, client, platform) -> None:
    auth = platform.login(client)
    with app.app_context(), records.get_database(app).transaction() as session:
        keys = session.scalars(
            select(ExpiringValue.key).where(ExpiringValue.namespace == "lti.state")
        ).all()
        assert keys == [auth.state]
    platform.post_launch(client, platform.sign(platform.claims(auth.nonce, ADA)), auth.state)
    with app.app_context(), records.get_database(app).transaction() as session:
        assert not session.scalars(
            select(ExpiringValue).where(ExpiringValue.namespace == "lti.state")
        ).all()


def test_launch_finishes_on_another_worker(app_config, app, client, platform) -> None:
    """A login begun on one app (worker) is finished by another sharing the database."""
    from lti_tool.app import create_app

    auth = platform.login(client)
    other = create_app(app_config)
    other_client = other.test_client()
    cookie = client.get_cookie(f"lti_state_{auth.state}", path="/lti/launch")
    other_client.set_cookie(cookie.key, cookie.value, path="/lti/launch")
    response = platform.post_launch(
        other_client, platform.sign(platform.claims(auth.nonce, ADA)), auth.state
    )
    assert response.status_code == 303
    assert other_client.get("/me").status_code == 200
    other.extensions["tandem.database"].dispose()


def test_pages_need_a_session(client, platform) -> None:
    assert client.get("/me").status_code == 401
    assert client.get("/coordinator").status_code == 401


def test_a_new_launch_replaces_the_session_of_another_tenant(app, client, platform, mock_http):
    other = make_platform(app, client, mock_http, issuer="https://other.example.org",
                          key_name="other")  # fmt: skip
    platform.launch(client, ADA)
    other.launch(client, Person("x-9", "Alan", "Turing", "alan@example.org"))
    text = client.get("/me").get_data(as_text=True)
    assert "Alan Turing" in text and "Ada" not in text


def test_state_cookie_is_samesite_none_secure_over_https(app, client, platform) -> None:
    from lti_tool.config import apply_base_url

    apply_base_url(app.config, "https://tandem.example.org")
    response = client.get(
        "/lti/login?"
        + "&".join(
            f"{k}={v}"
            for k, v in {
                "iss": platform.issuer, "login_hint": "h", "client_id": platform.client_id,
                "target_link_uri": "https://tandem.example.org/lti/launch",
            }.items()
        )
    )  # fmt: skip
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "SameSite=None" in cookie and "HttpOnly" in cookie
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["redirect_uri"] == ["https://tandem.example.org/lti/launch"]


def test_https_app_session_cookie_is_samesite_none(app_config) -> None:
    from lti_tool.app import create_app

    app = create_app({**app_config, "TANDEM_BASE_URL": "https://tandem.example.org"})
    assert app.config["SESSION_COOKIE_SAMESITE"] == "None"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    app.extensions["tandem.database"].dispose()


def test_login_in_a_frame_checks_cookies_first(client, platform) -> None:
    response = client.get(
        f"/lti/login?iss={platform.issuer}&login_hint=h&target_link_uri=http://localhost/",
        headers={"Sec-Fetch-Dest": "iframe"},
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Open Tandem in a new window" in text and 'target="_blank"' in text
    assert platform.auth_login_url in text


def test_platform_storage_keeps_state_without_cookies(app, client, platform) -> None:
    response = client.get(
        f"/lti/login?iss={platform.issuer}&login_hint=h&target_link_uri=http://localhost/"
        "&lti_storage_target=_parent"
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "lti.put_data" in text
    state = text.split('"state_" + "')[1].split('"')[0]
    with app.app_context(), records.get_database(app).transaction() as session:
        nonce = session.get(ExpiringValue, ("lti.state", state)).value["nonce"]
    client.delete_cookie(f"lti_state_{state}", path="/lti/launch")
    token = platform.sign(platform.claims(nonce, ADA))
    form = {"lti_storage_target": "_parent"}
    first = platform.post_launch(client, token, state, **form)
    assert first.status_code == 200
    assert "lti.get_data" in first.get_data(as_text=True)
    second = platform.post_launch(client, token, state, **form, lti_storage_state=state)
    assert second.status_code == 303
    assert client.get("/me").status_code == 200


def test_jwks_creates_the_first_key_on_demand(client) -> None:
    key_set = client.get("/lti/jwks").get_json()
    assert len(key_set["keys"]) == 1
    key = key_set["keys"][0]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["kid"]
    assert "d" not in key  # never the private part
    assert client.get("/lti/jwks").get_json() == key_set


def test_unused_platform_class_is_not_collected() -> None:
    assert TestPlatform.__test__ is False


def test_institution_administrator_sees_every_programme_of_the_tenant(
    app, client, platform
) -> None:
    from records import Programme, Tenant

    with app.app_context(), records.get_database(app).transaction() as session:
        tenant = session.scalars(select(Tenant).where(Tenant.issuer == platform.issuer)).one()
        other_course = Course(tenant_id=tenant.id, source="lti", external_id="elsewhere")
        session.add(other_course)
        session.flush()
        session.add(
            Programme(tenant_id=tenant.id, name="Other course cohort", course_id=other_course.id)
        )
    instructor = Person("teacher-1", "Grace", "Hopper", "grace@example.edu", roles=[INSTRUCTOR])
    platform.launch(client, instructor)
    assert "Other course cohort" not in client.get("/programmes").get_data(as_text=True)
    admin = Person("admin-1", "Ida", "Admin", "ida@example.edu", roles=[INSTITUTION_ADMIN])
    platform.launch(client, admin)
    assert "Other course cohort" in client.get("/programmes").get_data(as_text=True)

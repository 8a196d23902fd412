"""LTI Advantage: deep linking, NRPS roster import with paging, AGS scores."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import jwt
import pytest
from sqlalchemy import select

import records
from platforms import next_page_url, post_progress
from records import Enrolment, Identity, Member, Programme
from tests.support.jobs import run_jobs
from tests.support.lti_platform import INSTRUCTOR, LEARNER, LTI, Person

GRACE = Person("teacher-1", "Grace", "Hopper", "grace@example.edu", roles=[INSTRUCTOR])
ADA = Person("user-1", "Ada", "Lovelace", "ada@example.edu", sourcedid="M-001")
DL_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"


def picker(client, platform, ags: bool = True):  # type: ignore[no-untyped-def]
    response = platform.launch(client, GRACE, message_type="LtiDeepLinkingRequest", ags=ags)
    assert urlsplit(response.headers["Location"]).path == "/lti/deep-link"
    page = client.get("/lti/deep-link")
    assert page.status_code == 200
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    return page, csrf


def deep_link_jwt(response, platform) -> dict:  # type: ignore[no-untyped-def]
    text = response.get_data(as_text=True)
    assert f'action="{platform.issuer}/deep_link_return"' in text
    token = re.search(r'name="JWT" value="([^"]+)"', text).group(1)
    tool_keys = {k["kid"]: k for k in platform.tool_key_set["keys"]}
    kid = jwt.get_unverified_header(token)["kid"]
    return jwt.decode(
        token, jwt.PyJWK(tool_keys[kid]).key, algorithms=["RS256"], audience=platform.issuer,
        issuer=platform.client_id,
    )  # fmt: skip


def test_deep_linking_creates_and_places_a_programme_with_a_line_item(app, client, platform):
    _, csrf = picker(client, platform)
    response = client.post(
        "/lti/deep-link",
        data={"csrf_token": csrf, "template": "peer", "name": "Peer circle"},
    )
    assert response.status_code == 200
    claims = deep_link_jwt(response, platform)
    assert claims[LTI + "message_type"] == "LtiDeepLinkingResponse"
    assert claims[LTI + "version"] == "1.3.0"
    assert claims[LTI + "deployment_id"] == platform.deployment_id
    assert claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "opaque-platform-data"
    [item] = claims[DL_ITEMS]
    assert item["type"] == "ltiResourceLink" and item["title"] == "Peer circle"
    assert item["url"] == "http://localhost/lti/launch"
    assert item["lineItem"]["scoreMaximum"] == 100
    with app.app_context(), records.get_database(app).transaction() as session:
        programme = session.scalars(select(Programme)).one()
        assert programme.name == "Peer circle" and programme.lti_context_id == "course-101"
        assert item["custom"] == {"tandem_programme_id": str(programme.id)}


def test_deep_linking_places_an_existing_programme_without_ags(app, client, platform):
    with app.app_context(), records.get_database(app).transaction() as session:
        programme = Programme(tenant_id=platform.tenant_id, name="Existing one")
        session.add(programme)
        session.flush()
        programme_id = programme.id
    page, csrf = picker(client, platform, ags=False)
    assert "Existing one" in page.get_data(as_text=True)
    response = client.post(
        "/lti/deep-link", data={"csrf_token": csrf, "programme_id": str(programme_id)}
    )
    [item] = deep_link_jwt(response, platform)[DL_ITEMS]
    assert item["custom"] == {"tandem_programme_id": str(programme_id)}
    assert "lineItem" not in item


def test_deep_linking_refuses_another_tenants_programme_and_bad_csrf(app, client, platform):
    from records import Tenant

    with app.app_context(), records.get_database(app).transaction() as session:
        other = Tenant(slug="other", name="Other")
        session.add(other)
        session.flush()
        foreign = Programme(tenant_id=other.id, name="Not yours")
        session.add(foreign)
        session.flush()
        foreign_id = foreign.id
    page, csrf = picker(client, platform)
    assert "Not yours" not in page.get_data(as_text=True)
    refused = client.post(
        "/lti/deep-link", data={"csrf_token": csrf, "programme_id": str(foreign_id)}
    )
    assert refused.status_code == 400
    assert client.post("/lti/deep-link", data={"new_name": "x"}).status_code == 400


def test_deep_linking_is_for_coordinators_only(client, platform) -> None:
    learner = Person("user-2", "Bo", "Learner", "bo@example.edu", roles=[LEARNER])
    platform.launch(client, learner, message_type="LtiDeepLinkingRequest")
    assert client.get("/lti/deep-link").status_code == 403


def test_launch_from_a_placed_link_opens_the_programme_and_keeps_the_line_item(
    app, client, platform
):
    with app.app_context(), records.get_database(app).transaction() as session:
        programme = Programme(tenant_id=platform.tenant_id, name="Placed programme")
        session.add(programme)
        session.flush()
        programme_id = programme.id
    lineitem = f"{platform.lineitems_url}/7"
    # The course's coordinator links the programme and records its line item ...
    platform.launch(client, GRACE, custom={"tandem_programme_id": str(programme_id)}, ags=True,
                    lineitem=lineitem)  # fmt: skip
    with app.app_context(), records.get_database(app).transaction() as session:
        programme = session.get(Programme, programme_id)
        assert programme.lineitem_url == lineitem
        assert programme.course_id is not None
    # ... and a learner's launch from the same link opens it.
    platform.launch(client, ADA, custom={"tandem_programme_id": str(programme_id)}, ags=True,
                    lineitem=lineitem)  # fmt: skip
    assert "Placed programme" in client.get("/me").get_data(as_text=True)


def _programme_row(app, programme_id: int) -> tuple:  # type: ignore[no-untyped-def]
    with app.app_context(), records.get_database(app).transaction() as session:
        p = session.get(Programme, programme_id)
        return (p.course_id, p.lti_context_id, p.lineitem_url, dict(p.settings))


def test_a_learners_launch_never_re_points_the_programmes_line_item(app, client, platform):
    """Issue 12, finding 12: a learner's launch carrying ``custom tandem_programme_id``
    (and a line item of their choosing) links nothing and re-points nothing."""
    programme_id = _placed_programme(app, platform)
    before = _programme_row(app, programme_id)
    platform.launch(client, ADA, custom={"tandem_programme_id": str(programme_id)}, ags=True,
                    lineitem=f"{platform.lineitems_url}/attacker")  # fmt: skip
    assert _programme_row(app, programme_id) == before


def test_another_courses_launch_cannot_take_a_linked_programme(app, client, platform):
    """A coordinator (or learner) of course B launching with the id of course A's
    programme neither re-points its line item nor opens it."""
    programme_id = _placed_programme(app, platform)
    lineitem = f"{platform.lineitems_url}/7"
    platform.launch(client, GRACE, custom={"tandem_programme_id": str(programme_id)}, ags=True,
                    lineitem=lineitem)  # fmt: skip
    linked = _programme_row(app, programme_id)
    platform.context = {**platform.context, "id": "course-other", "title": "Other course"}
    for person in (GRACE, ADA):
        platform.launch(client, person, custom={"tandem_programme_id": str(programme_id)},
                        ags=True, lineitem=f"{platform.lineitems_url}/elsewhere")  # fmt: skip
        assert _programme_row(app, programme_id) == linked
        assert "Scored programme" not in client.get("/me").get_data(as_text=True)


@pytest.mark.parametrize(
    ("header_name", "style"),
    [("Link", 'rel="next"'), ("link", "rel=next"), ("LINK", 'REL="Next"')],
)
def test_coordinator_launch_imports_the_roster_through_every_page(
    app, client, platform, header_name, style
) -> None:
    platform.link_header_name, platform.link_style = header_name, style
    platform.roster = [
        GRACE,
        ADA,
        Person("user-2", "Bo", "Chen", "bo@example.edu"),
        Person("user-3", "Cy", "Diaz", "cy@example.edu", status="Inactive"),
        Person("user-4", "Di", "Eze", "DI@example.edu", sourcedid="M-004"),
    ]
    platform.launch(client, GRACE, nrps=True)
    run_jobs(app)
    with app.app_context(), records.get_database(app).transaction() as session:
        members = session.scalars(select(Member)).all()
        assert len(members) == 5
        subs = set(session.scalars(select(Identity.external_id).where(Identity.source == "lti")))
        assert subs == {"teacher-1", "user-1", "user-2", "user-3", "user-4"}
        statuses = {(e.role, e.status) for e in session.scalars(select(Enrolment))}
        assert ("member", "inactive") in statuses and ("coordinator", "active") in statuses
    # Idempotent: a later launch (after the refresh window) links, never duplicates.
    with app.app_context(), records.get_database(app).transaction() as session:
        from sqlalchemy import delete

        from records import ExpiringValue

        session.execute(delete(ExpiringValue).where(ExpiringValue.namespace == "lti.nrps_synced"))
    platform.launch(client, GRACE, nrps=True)
    run_jobs(app)
    with app.app_context(), records.get_database(app).transaction() as session:
        assert len(session.scalars(select(Member)).all()) == 5
        assert len(session.scalars(select(Enrolment)).all()) == 5


def test_a_roster_member_who_launches_later_is_the_same_member(app, client, platform) -> None:
    platform.roster = [GRACE, ADA]
    platform.launch(client, GRACE, nrps=True)
    run_jobs(app)
    platform.launch(client, ADA)
    with app.app_context(), records.get_database(app).transaction() as session:
        assert len(session.scalars(select(Member)).all()) == 2


def test_roster_failure_does_not_block_the_coordinator(app, client, platform) -> None:
    platform.tool_key_set = {"keys": []}  # the platform will refuse the tool's assertion
    platform.roster = [GRACE, ADA]
    response = platform.launch(client, GRACE, nrps=True)
    assert urlsplit(response.headers["Location"]).path == "/coordinator"
    run_jobs(app)
    from .conftest import audit_actions

    assert "lti.nrps_failed" in [action for action, _ in audit_actions(app)]


def test_next_page_url_parsing() -> None:
    assert next_page_url('<https://a/b?p=2>; rel="next"') == "https://a/b?p=2"
    assert next_page_url("<https://a/b?p=2>; rel=next") == "https://a/b?p=2"
    assert next_page_url('<https://a/1>; rel="first", <https://a/3>; REL="Next"') == "https://a/3"
    assert next_page_url('<https://a/3>; rel="prev next"') == "https://a/3"
    assert next_page_url('<https://a/1>; rel="first"') is None
    assert next_page_url(None) is None


def _placed_programme(app, platform) -> int:  # type: ignore[no-untyped-def]
    with app.app_context(), records.get_database(app).transaction() as session:
        programme = Programme(tenant_id=platform.tenant_id, name="Scored programme")
        session.add(programme)
        session.flush()
        return programme.id


def _member_id(app, sub: str) -> int:  # type: ignore[no-untyped-def]
    with app.app_context(), records.get_database(app).transaction() as session:
        return session.scalars(
            select(Identity.member_id).where(Identity.external_id == sub, Identity.source == "lti")
        ).one()


def test_post_progress_creates_the_line_item_then_posts_scores_with_one_token(
    app, client, platform
) -> None:
    programme_id = _placed_programme(app, platform)
    # The coordinator's launch records the platform's line-items URL for the programme.
    platform.launch(client, GRACE, custom={"tandem_programme_id": str(programme_id)}, ags=True)
    platform.launch(client, ADA, custom={"tandem_programme_id": str(programme_id)}, ags=True)
    member_id = _member_id(app, "user-1")
    with app.app_context(), records.get_database(app).transaction() as session:
        post_progress(session, platform.tenant_id, programme_id, member_id, 3, 10,
                      "InProgress", "Pending")  # fmt: skip
        post_progress(session, platform.tenant_id, programme_id, member_id, 10, 10,
                      "Completed", "FullyGraded")  # fmt: skip
    [lineitem] = platform.lineitems.values()
    assert lineitem["resourceId"] == f"programme-{programme_id}"
    assert [(s["userId"], s["scoreGiven"], s["activityProgress"]) for s in platform.scores] == [
        ("user-1", 3, "InProgress"), ("user-1", 10, "Completed"),
    ]  # fmt: skip
    assert all(s["lineitem"] == lineitem["id"] for s in platform.scores)
    # One token per scope set, cached in the database.
    assert platform.token_requests == 2
    with app.app_context(), records.get_database(app).transaction() as session:
        post_progress(session, platform.tenant_id, programme_id, member_id, 5, 10,
                      box=app.extensions["tandem.secrets"])  # fmt: skip
    assert platform.token_requests == 2
    with app.app_context(), records.get_database(app).transaction() as session:
        assert session.get(Programme, programme_id).lineitem_url == lineitem["id"]


def test_post_progress_validates_its_arguments(app, platform) -> None:
    with app.app_context(), records.get_database(app).transaction() as session:
        with pytest.raises(ValueError, match="outside"):
            post_progress(session, platform.tenant_id, 1, 1, 11, 10)
        with pytest.raises(ValueError, match="activity_progress"):
            post_progress(session, platform.tenant_id, 1, 1, 1, 10, "Done")


def test_post_progress_without_a_line_item_says_so(app, client, platform) -> None:
    from platforms import ServiceError

    programme_id = _placed_programme(app, platform)
    platform.launch(client, ADA, custom={"tandem_programme_id": str(programme_id)})
    member_id = _member_id(app, "user-1")
    with (
        app.app_context(),
        records.get_database(app).transaction() as session,
        pytest.raises(ServiceError, match="no line item"),
    ):
        post_progress(session, platform.tenant_id, programme_id, member_id, 1, 10)

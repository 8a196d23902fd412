"""Identity linking: the same person from a launch, a sync and a directory is one member."""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from members import PersonRecord, link_member
from records import Identity, Member, Tenant


def _tenant(session: Session, slug: str = "t1") -> Tenant:
    tenant = Tenant(slug=slug, name=slug)
    session.add(tenant)
    session.flush()
    return tenant


def test_same_identity_links_to_same_member_and_is_idempotent(session: Session) -> None:
    tenant = _tenant(session)
    record = PersonRecord(source="lti", external_id="42", given_name="Ada", email="ada@x.org")
    first = link_member(session, tenant.id, record)
    second = link_member(session, tenant.id, record)
    assert first.created and not second.created
    assert second.member.id == first.member.id
    assert second.new_identities == 0 and not second.updated
    count = session.scalar(select(func.count()).select_from(Identity))
    assert count == 1


def test_moodle_launch_sub_links_to_synced_moodle_user(session: Session) -> None:
    tenant = _tenant(session)
    synced = link_member(
        session, tenant.id, PersonRecord(source="moodle", external_id="7", given_name="Bo")
    )
    launch = PersonRecord(source="lti", external_id="7", also_known_as=(("moodle", "7"),))
    linked = link_member(session, tenant.id, launch)
    assert linked.member.id == synced.member.id and linked.new_identities == 1


def test_member_number_beats_email_and_email_is_case_insensitive(session: Session) -> None:
    tenant = _tenant(session)
    by_number = link_member(
        session,
        tenant.id,
        PersonRecord(source="directory", external_id="d1", member_number="M-1", email="a@x.org"),
    )
    other = link_member(
        session, tenant.id, PersonRecord(source="csv", external_id="c9", email="b@x.org")
    )
    canvas = link_member(
        session,
        tenant.id,
        PersonRecord(source="canvas", external_id="55", member_number="M-1"),
    )
    assert canvas.member.id == by_number.member.id != other.member.id
    by_email = link_member(
        session, tenant.id, PersonRecord(source="lti", external_id="s", email=" B@x.ORG ")
    )
    assert by_email.member.id == other.member.id
    off = link_member(
        session,
        tenant.id,
        PersonRecord(source="lti", external_id="s2", email="b@x.org"),
        match_email=False,
    )
    assert off.created


def test_linking_never_crosses_tenants(session: Session) -> None:
    one, two = _tenant(session, "one"), _tenant(session, "two")
    record = PersonRecord(source="lti", external_id="1", email="same@x.org", member_number="9")
    a = link_member(session, one.id, record)
    b = link_member(session, two.id, record)
    assert a.member.id != b.member.id
    assert {a.member.tenant_id, b.member.tenant_id} == {one.id, two.id}
    assert session.scalar(select(func.count()).select_from(Member)) == 2


def test_empty_fields_never_erase_what_another_source_said(session: Session) -> None:
    tenant = _tenant(session)
    link_member(session, tenant.id, PersonRecord(source="moodle", external_id="3", email="k@x"))
    result = link_member(session, tenant.id, PersonRecord(source="moodle", external_id="3"))
    assert result.member.email == "k@x" and not result.updated


def test_new_member_from_a_partial_record_gets_a_clean_display_name(session: Session) -> None:
    tenant = _tenant(session)
    only_given = link_member(
        session, tenant.id, PersonRecord(source="lti", external_id="g", given_name="Ada")
    )
    nothing = link_member(session, tenant.id, PersonRecord(source="lti", external_id="n"))
    assert only_given.member.display_name == "Ada"
    assert "None" not in nothing.member.display_name


def _link_in_its_own_transaction(database, tenant_id: int, record: PersonRecord) -> int:  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        return link_member(session, tenant_id, record).member.id


def _two_links_at_once(database, tenant_id: int, record: PersonRecord) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """The first link holds its transaction open while a second one links the same
    record, then commits: both answers, and no error (it was a 500 under load)."""
    first = database.sessionmaker()
    first.begin()
    made = link_member(first, tenant_id, record).member.id
    found: list[int] = []
    second = threading.Thread(
        target=lambda: found.append(_link_in_its_own_transaction(database, tenant_id, record))
    )
    second.start()
    second.join(0.5)  # it now waits on the first one's insert (or the database's lock)
    first.commit()
    first.close()
    second.join(10)
    assert len(found) == 1, "the second link failed"
    return made, found[0]


def test_a_known_member_launching_twice_at_once_gains_one_identity(database) -> None:  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        tenant_id = _tenant(session).id
        synced = link_member(session, tenant_id, PersonRecord(source="moodle", external_id="7"))
        synced_id = synced.member.id
    # The first Moodle launch of a synced member adds the ("lti", "7") identity.
    launch = PersonRecord(source="lti", external_id="7", also_known_as=(("moodle", "7"),))
    assert _two_links_at_once(database, tenant_id, launch) == (synced_id, synced_id)
    with database.transaction() as session:
        identities = session.execute(select(Identity.source, Identity.member_id)).all()
        assert sorted(identities) == [("lti", synced_id), ("moodle", synced_id)]


def test_a_new_person_linked_twice_at_once_is_one_member(database) -> None:  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        tenant_id = _tenant(session).id
    record = PersonRecord(source="lti", external_id="42", given_name="Ada")
    made, found = _two_links_at_once(database, tenant_id, record)
    assert made == found
    with database.transaction() as session:
        assert session.scalars(select(Member.id)).all() == [made]

"""The normalised person record that every source (launch, NRPS, connector, portal) hands in."""

from __future__ import annotations

from dataclasses import dataclass, field

# Accounts that are never members: they belong to the platform, not to a person who mentors.
SYSTEM_USERNAMES = frozenset({"guest", "admin"})


@dataclass(frozen=True)
class PersonRecord:
    """One person as one source knows them.

    Attributes:
        source: where the record came from: ``lti``, ``moodle``, ``canvas``, ``directory``,
            ``csv``, ``portal:NAME``.
        external_id: the person's id in that source (LTI ``sub``, Moodle user id, ...).
        also_known_as: other ``(source, external_id)`` pairs the same source vouches for,
            e.g. a Moodle launch's ``sub`` is also the ``moodle`` user id, and a Canvas
            launch carries ``canvas_user_id``.
        member_number: an organisation-wide member number (Moodle ``idnumber``, Canvas
            ``sis_user_id``, SCIM ``externalId``, LTI ``lis.person_sourcedid``).
        active: ``False`` when the source says the person left (SCIM ``active: false``).
    """

    source: str
    external_id: str
    given_name: str | None = None
    family_name: str | None = None
    display_name: str | None = None
    email: str | None = None
    picture_url: str | None = None
    member_number: str | None = None
    time_zone: str | None = None
    active: bool = True
    also_known_as: tuple[tuple[str, str], ...] = field(default=())

    def identities(self) -> list[tuple[str, str]]:
        """Every ``(source, external_id)`` this record vouches for, its own first."""
        seen: list[tuple[str, str]] = [(self.source, self.external_id)]
        for pair in self.also_known_as:
            if pair not in seen:
                seen.append(pair)
        return seen

"""The programme's evaluation as CSV: one row per survey answer, anonymised by default.

Cells that a spreadsheet would run as formulas are neutralised (:func:`records.csv_text`).
Anonymised means no names, no emails, no free text (comments may name people) and pairs
as stable codes (``P001``). Private notes are never part of an export, anonymised or not.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from records import CheckIn, Match, Member, Participant, SurveyResponse, csv_text

from .closing import end_outcome
from .pairs import get_programme

COLUMNS = (
    "pair", "role", "survey", "answered_on", "satisfaction", "usefulness", "confidence",
    "goal_progress", "pair_status", "pair_outcome", "pair_meetings", "pair_hours",
)  # fmt: skip
NAMED_COLUMNS = ("name", "email", "comment")


def evaluation_csv(
    session: Session, tenant_id: int, programme_id: int, *, anonymise: bool = True
) -> str:
    """The evaluation of ``programme_id`` as CSV text.

    Raises:
        NotFound: the programme is not this tenant's.
    """
    programme = get_programme(session, tenant_id, programme_id)
    pair_codes: dict[int, str] = {}
    for number, match_id in enumerate(
        session.scalars(
            select(Match.id)
            .where(Match.tenant_id == tenant_id, Match.programme_id == programme.id)
            .order_by(Match.id)
        ),
        start=1,
    ):
        pair_codes[match_id] = f"P{number:03d}"
    meetings = {
        match_id: (count, minutes)
        for match_id, count, minutes in session.execute(
            select(CheckIn.match_id, func.count(CheckIn.id), func.sum(CheckIn.duration_minutes))
            .join(Match, Match.id == CheckIn.match_id)
            .where(CheckIn.tenant_id == tenant_id, Match.programme_id == programme.id)
            .group_by(CheckIn.match_id)
        ).all()
    }
    match = aliased(Match)
    rows = session.execute(
        select(SurveyResponse, Participant.role, Member, match.status, match.end_reason)
        .join(Participant, Participant.id == SurveyResponse.participant_id)
        .join(Member, Member.id == Participant.member_id)
        .outerjoin(match, match.id == SurveyResponse.match_id)
        .where(SurveyResponse.tenant_id == tenant_id, Participant.programme_id == programme.id)
        .order_by(SurveyResponse.match_id, Participant.role, SurveyResponse.answered_at)
    ).all()
    lines: list[list] = [list(COLUMNS if anonymise else (*COLUMNS, *NAMED_COLUMNS))]
    for response, role, member, status, end_reason in rows:
        count, minutes = meetings.get(response.match_id, (0, 0))
        line = [
            pair_codes.get(response.match_id, "") if response.match_id else "",
            role,
            response.survey,
            response.answered_at.date().isoformat(),
            response.satisfaction,
            response.usefulness,
            response.confidence,
            response.goal_progress,
            status or "",
            end_outcome(end_reason=end_reason) or "",
            count,
            round((minutes or 0) / 60, 1),
        ]
        if not anonymise:
            line += [member.name, member.email or "", response.comment]
        lines.append(line)
    # The one CSV writer: survey comments and names from LMS claims are people's text,
    # and a cell starting "=" would run as a formula in the coordinator's spreadsheet.
    return csv_text(lines)

"""The questionnaire editor: a coordinator adds, changes, orders and removes questions
and the rules they feed, sees the members' form as they edit, and saves.

The definition is checked whole by :func:`~.questionnaire.check_definition`; who may
edit is :func:`~.access.coordinated_programme`; when is
:func:`~.setup.questionnaire_lock`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from records import Participant, Programme, record_event

from .access import Actor, coordinated_programme
from .enrolment import roles_for
from .errors import InvalidInputError
from .questionnaire import check_definition, questions_for
from .setup import questionnaire_lock, require_questionnaire_open


@dataclass(frozen=True)
class QuestionnaireEditor:
    """What the editor shows.

    Attributes:
        programme: The programme.
        definition: The saved questionnaire, or the coordinator's draft.
        forms: For each role members take, the questions they are asked (the preview);
            empty when the draft is not valid.
        problem: What is wrong with the draft, or None.
        locked: Why the questionnaire can no longer change, or None.
        enrolled: Members who have enrolled (and answered the questions as they were).
    """

    programme: Programme
    definition: Mapping[str, Any]
    forms: dict[str, list[dict[str, Any]]]
    problem: str | None
    locked: str | None
    enrolled: int


def questionnaire_editor(
    session: Session,
    actor: Actor,
    programme_id: int,
    draft: Mapping[str, Any] | None = None,
) -> QuestionnaireEditor:
    """The editor for a coordinator of the programme, with the saved questionnaire or,
    given ``draft``, that draft checked and previewed. Writes nothing.

    Raises:
        NotFoundError, PermissionDeniedError: not a coordinator of this programme.
    """
    programme = coordinated_programme(session, actor, programme_id)
    definition: Mapping[str, Any] = programme.questionnaire
    problem = None
    if draft is not None:
        definition = draft
        try:
            definition = check_definition(draft)
        except InvalidInputError as exc:
            problem = str(exc)
    forms = (
        {}
        if problem
        else {role: questions_for(definition, role) for role in roles_for(programme.kind)}
    )
    return QuestionnaireEditor(
        programme=programme,
        definition=definition,
        forms=forms,
        problem=problem,
        locked=questionnaire_lock(session, programme),
        enrolled=session.scalar(
            select(func.count())
            .select_from(Participant)
            .where(
                Participant.tenant_id == programme.tenant_id,
                Participant.programme_id == programme.id,
            )
        )
        or 0,
    )


def edit_questionnaire(
    session: Session, actor: Actor, programme_id: int, definition: Mapping[str, Any]
) -> Programme:
    """Replace the programme's questionnaire (a coordinator's action), audited.

    Raises:
        ConflictError: matching has run for the programme.
        InvalidInputError: the definition is not valid (nothing is written).
    """
    programme = coordinated_programme(session, actor, programme_id)
    require_questionnaire_open(session, programme)
    checked = check_definition(definition)
    if checked == programme.questionnaire:
        return programme
    programme.questionnaire = checked
    record_event(
        session,
        actor.tenant_id,
        "programme.questionnaire",
        actor_member_id=actor.member_id,
        subject=programme,
        detail={"questions": len(checked["questions"]), "rules": len(checked["rules"])},
    )
    return programme

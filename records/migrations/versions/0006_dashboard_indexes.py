"""check-ins: covering indexes for the dashboard; one enrolment answer per participant

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 10:00:00

The enrolment survey has no match, and NULLs are distinct in the unique key
(participant_id, survey, match_id): a partial unique index holds it to one answer. A
database that already took a second answer (the race this closes) keeps the first.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_checkins_tenant_match_met_on", "checkins", ["tenant_id", "match_id", "met_on"]
    )
    op.create_index(
        "ix_matches_tenant_programme_status", "matches", ["tenant_id", "programme_id", "status"]
    )
    op.create_index(
        "ix_survey_responses_tenant_match_survey",
        "survey_responses",
        ["tenant_id", "match_id", "survey", "satisfaction"],
    )
    op.create_index(
        "ix_survey_responses_tenant_participant_survey",
        "survey_responses",
        ["tenant_id", "participant_id", "survey", "confidence", "satisfaction"],
    )
    op.execute(
        "DELETE FROM survey_responses WHERE match_id IS NULL AND id NOT IN ("
        " SELECT min(id) FROM survey_responses WHERE match_id IS NULL"
        " GROUP BY participant_id, survey)"
    )
    op.create_index(
        "uq_survey_responses_enrolment_once",
        "survey_responses",
        ["participant_id", "survey"],
        unique=True,
        sqlite_where=sa.text("match_id IS NULL"),
        postgresql_where=sa.text("match_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_survey_responses_enrolment_once", table_name="survey_responses")
    op.drop_index("ix_survey_responses_tenant_participant_survey", table_name="survey_responses")
    op.drop_index("ix_survey_responses_tenant_match_survey", table_name="survey_responses")
    op.drop_index("ix_matches_tenant_programme_status", table_name="matches")
    op.drop_index("ix_checkins_tenant_match_met_on", table_name="checkins")

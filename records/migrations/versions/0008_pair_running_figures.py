"""check-ins: running figures for the dashboard (per pair, per day, per survey), backfilled

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 09:40:00

The dashboard reads one row per pair instead of every check-in and answer: the count,
minutes and last day of the pair's check-ins, the lowest pulse satisfaction, and how
many answers each pair survey has. Two small tables hold the rest of the page:
``checkin_days`` (check-ins per programme and day, for the chart) and ``survey_tallies``
(per programme and survey: sums and counts of satisfaction, confidence and confidence
change from the enrolment baseline). The services that log check-ins and answer surveys
keep them in step from now on; here they are counted once from the rows already there.

SQLite cannot add a constraint to an existing table, and rebuilding ``matches`` (batch
mode) would drop the table its check-ins, answers and agreements cascade from, so each
column comes with its check inline; PostgreSQL adds the same named checks afterwards.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = (
    "checkin_count",
    "checkin_minutes",
    "day30_answers",
    "midpoint_answers",
    "close_answers",
    "end_answers",
)
# name, type, SQL type, nullable, check
COLUMNS = [
    *((name, sa.Integer(), "INTEGER", False, f"{name} >= 0") for name in COUNTS),
    ("last_checkin_on", sa.Date(), "DATE", True, None),
    (
        "min_satisfaction",
        sa.Integer(),
        "INTEGER",
        True,
        "min_satisfaction IS NULL OR min_satisfaction BETWEEN 1 AND 5",
    ),
]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name, type_, sql_type, nullable, check in COLUMNS:
        default = None if nullable else "0"
        if sqlite:
            clauses = [f"ALTER TABLE matches ADD COLUMN {name} {sql_type}"]
            if not nullable:
                clauses.append("DEFAULT 0 NOT NULL")
            if check:
                clauses.append(f"CONSTRAINT ck_matches_{name} CHECK ({check})")
            op.execute(" ".join(clauses))
            continue
        op.add_column("matches", sa.Column(name, type_, nullable=nullable, server_default=default))
        if check:
            op.create_check_constraint(op.f(f"ck_matches_{name}"), "matches", check)

    op.create_table(
        "checkin_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("met_on", sa.Date(), nullable=False),
        sa.Column("checkins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("checkins >= 0", name=op.f("ck_checkin_days_checkins")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "programme_id"],
            ["programmes.tenant_id", "programmes.id"],
            name="fk_programme_id_same_tenant_programmes",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_checkin_days_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_days")),
        sa.UniqueConstraint(
            "programme_id", "met_on", name=op.f("uq_checkin_days_programme_id_met_on")
        ),
    )
    op.create_index(op.f("ix_checkin_days_tenant_id"), "checkin_days", ["tenant_id"])
    tallies = ("answers", "satisfaction_sum", "satisfaction_count", "confidence_sum",
               "confidence_count", "change_sum", "change_count")  # fmt: skip
    op.create_table(
        "survey_tallies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("survey", sa.String(length=16), nullable=False),
        *(sa.Column(name, sa.Integer(), server_default="0", nullable=False) for name in tallies),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "survey IN ('enrolment', 'day30', 'midpoint', 'close', 'end')",
            name=op.f("ck_survey_tallies_survey"),
        ),
        sa.CheckConstraint(
            "answers >= 0 AND satisfaction_count >= 0 AND confidence_count >= 0"
            " AND change_count >= 0",
            name=op.f("ck_survey_tallies_counts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "programme_id"],
            ["programmes.tenant_id", "programmes.id"],
            name="fk_programme_id_same_tenant_programmes",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_survey_tallies_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_tallies")),
        sa.UniqueConstraint(
            "programme_id", "survey", name=op.f("uq_survey_tallies_programme_id_survey")
        ),
    )
    op.create_index(op.f("ix_survey_tallies_tenant_id"), "survey_tallies", ["tenant_id"])

    op.execute(
        "INSERT INTO checkin_days (tenant_id, programme_id, met_on, checkins)"
        " SELECT m.tenant_id, m.programme_id, c.met_on, count(*)"
        " FROM checkins c JOIN matches m ON m.id = c.match_id"
        " GROUP BY m.tenant_id, m.programme_id, c.met_on"
    )
    # Each answer with the person's enrolment confidence beside it (the baseline).
    op.execute(
        "INSERT INTO survey_tallies (tenant_id, programme_id, survey, answers,"
        " satisfaction_sum, satisfaction_count, confidence_sum, confidence_count,"
        " change_sum, change_count)"
        " SELECT p.tenant_id, p.programme_id, a.survey, count(*),"
        " coalesce(sum(a.satisfaction), 0), count(a.satisfaction),"
        " coalesce(sum(a.confidence), 0), count(a.confidence),"
        " coalesce(sum(CASE WHEN a.survey <> 'enrolment' THEN a.confidence - b.confidence END), 0),"
        " count(CASE WHEN a.survey <> 'enrolment' THEN a.confidence - b.confidence END)"
        " FROM survey_responses a JOIN participants p ON p.id = a.participant_id"
        " LEFT JOIN survey_responses b ON b.participant_id = a.participant_id"
        " AND b.survey = 'enrolment' AND b.match_id IS NULL"
        " GROUP BY p.tenant_id, p.programme_id, a.survey"
    )

    pulses = "('day30', 'midpoint', 'close')"

    def checkins(aggregate: str) -> str:
        return f"(SELECT {aggregate} FROM checkins c WHERE c.match_id = matches.id)"

    def answers(aggregate: str, where: str) -> str:
        return (
            f"(SELECT {aggregate} FROM survey_responses s"
            f" WHERE s.match_id = matches.id AND {where})"
        )

    op.execute(
        "UPDATE matches SET"
        f" checkin_count = {checkins('count(*)')},"
        f" checkin_minutes = {checkins('coalesce(sum(c.duration_minutes), 0)')},"
        f" last_checkin_on = {checkins('max(c.met_on)')},"
        f" min_satisfaction = {answers('min(s.satisfaction)', f's.survey IN {pulses}')},"
        + ",".join(
            f" {survey}_answers = {answers('count(*)', 's.survey = ' + repr(survey))}"
            for survey in ("day30", "midpoint", "close", "end")
        )
        + " WHERE id IN (SELECT match_id FROM checkins)"
        " OR id IN (SELECT match_id FROM survey_responses WHERE match_id IS NOT NULL)"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_survey_tallies_tenant_id"), table_name="survey_tallies")
    op.drop_table("survey_tallies")
    op.drop_index(op.f("ix_checkin_days_tenant_id"), table_name="checkin_days")
    op.drop_table("checkin_days")
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name, _, _, _, check in reversed(COLUMNS):
        if sqlite:
            # The inline check goes with its column (no rebuild, as above).
            op.execute(f"ALTER TABLE matches DROP COLUMN {name}")
            continue
        if check:
            op.drop_constraint(op.f(f"ck_matches_{name}"), "matches", type_="check")
        op.drop_column("matches", name)

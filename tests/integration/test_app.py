"""The app factory, the health check and the home page."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

import records
from lti_tool.app import create_app
from programmes import seed_demo
from records import ConfigurationError, Member
from tests.conftest import TEST_ENCRYPTION_KEY, TEST_SECRET_KEY


def test_healthz_reports_the_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    app = create_app(
        {
            "TESTING": True,
            "TANDEM_DATABASE_URL": f"sqlite:///{tmp_path / 'missing-dir' / 'x.sqlite3'}",
            "SECRET_KEY": TEST_SECRET_KEY,
            "TANDEM_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unreachable"}


def test_demo_home_names_the_programme_and_its_members(app_config: dict) -> None:
    app = create_app({**app_config, "TANDEM_DEMO": True})
    with app.app_context():
        session = records.get_session()
        seed_demo(session)
        session.commit()
        n_members = session.scalar(select(func.count()).select_from(Member))
    page = app.test_client().get("/").get_data(as_text=True)
    assert n_members == 40
    assert "Early-career mentoring 2027" in page
    assert "Amara Okafor" in page and "Nora Kelly" in page
    records.get_database(app).dispose()


def test_home_outside_demo_lists_no_members(app_config: dict) -> None:
    app = create_app(app_config)
    with app.app_context():
        seed_demo(records.get_session())
        records.get_session().commit()
    page = app.test_client().get("/").get_data(as_text=True)
    assert "Tandem mentoring" in page
    assert "Amara Okafor" not in page
    records.get_database(app).dispose()


def test_unknown_page_gets_a_plain_404(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Not Found" in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"SECRET_KEY": ""}, "TANDEM_SECRET_KEY is not set"),
        ({"TANDEM_ENCRYPTION_KEY": ""}, "TANDEM_ENCRYPTION_KEY is not set"),
        ({"TANDEM_ENCRYPTION_KEY": "nope"}, "not a Fernet key"),
        ({"TANDEM_DATABASE_URL": "not a url"}, "TANDEM_DATABASE_URL is not a database URL"),
        ({"TANDEM_DATABASE_URL": "mysql://u@h/db"}, "runs on sqlite or postgresql"),
    ],
)
def test_missing_or_malformed_configuration_is_refused(
    app_config: dict, override: dict, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        create_app({**app_config, **override})


def test_production_refuses_a_short_or_demo_secret_key(app_config: dict) -> None:
    config = {**app_config, "TESTING": False}
    with pytest.raises(ConfigurationError, match="at least 32"):
        create_app({**config, "SECRET_KEY": "short"})
    with pytest.raises(ConfigurationError, match="not a demo value"):
        create_app({**config, "SECRET_KEY": "demo-only-" + "x" * 40})

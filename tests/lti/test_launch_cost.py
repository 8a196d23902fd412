"""What one launch costs the database (issue 18, the load target).

At fifty launches a second on two cores, each round trip counts: these budgets hold the
launch path to the statements and connection checkouts (each a transaction, with its
ping, BEGIN and COMMIT) it needs. A launch of a learner Tandem already knows: login,
id_token post, landing page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import event

import records
from tests.support.lti_platform import Person

ADA = Person("user-1", "Ada", "Lovelace", "ada@example.edu")


@dataclass
class Cost:
    statements: int = 0
    checkouts: int = 0


@contextmanager
def counted(app: Flask) -> Iterator[Cost]:
    engine = records.get_database(app).engine
    cost = Cost()

    def statement(*args: object) -> None:
        cost.statements += 1

    def checkout(*args: object) -> None:
        cost.checkouts += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "checkout", checkout)
    try:
        yield cost
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "checkout", checkout)


def test_a_known_learners_launch_keeps_to_its_budget(app, client, platform) -> None:
    assert platform.launch(client, ADA).status_code == 303  # the first one creates them
    client = app.test_client()  # a new browser
    with counted(app) as login:
        auth = platform.login(client)
    token = platform.sign(platform.claims(auth.nonce, ADA))
    with counted(app) as launch:
        posted = platform.post_launch(client, token, auth.state)
    assert posted.status_code == 303
    with counted(app) as landing:
        assert client.get(posted.headers["Location"]).status_code == 200
    # login: the rate-limit counter (its own transaction, so a refused login still
    # counts), the registration, the state.
    assert (login.statements, login.checkouts) == (3, 2)
    # launch: one transaction for every check and record, the session included.
    assert launch.checkouts == 1
    assert launch.statements <= 9
    # landing, the member home: the session check shares the page's transaction; then
    # member, tenant and course in one, what is next (their participations, the
    # programmes open to them). The member and the course are read once: the home and
    # the navigation's course name find them in the request's identity map.
    assert landing.checkouts == 1
    assert landing.statements <= 4


def test_a_member_page_is_one_transaction(app, client, platform) -> None:
    assert platform.launch(client, ADA).status_code == 303
    for _ in range(3):
        with counted(app) as page:
            assert client.get("/me").status_code == 200
        assert page.checkouts == 1

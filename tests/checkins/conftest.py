"""Fixtures of the check-in tests: a tenant with a running programme and pairs."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.support.checkins_factory import World, make_world


@pytest.fixture
def world(session: Session) -> World:
    w = make_world(session, n_pairs=2)
    session.commit()
    return w

"""Rate-limit counters (``records.expiring.count_in_window``): one upsert per hit.

Fixed windows that start with the first hit and are not extended by later ones; every
hit counts, also when several workers hit one counter at once.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

import records.expiring
from records import Database, ExpiringValue, utcnow
from records.expiring import count_in_window

WINDOW = timedelta(minutes=1)


def hit(database: Database, key: str = "192.0.2.1", amount: int = 1) -> int:
    with database.transaction() as session:
        return count_in_window(session, "ratelimit", key, WINDOW, amount)


def expiry(database: Database, key: str = "192.0.2.1"):  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        return session.get(ExpiringValue, ("ratelimit", key)).expires_at


def test_hits_count_up_within_a_window_that_later_hits_do_not_extend(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = utcnow()
    monkeypatch.setattr(records.expiring, "utcnow", lambda: start)
    assert hit(database) == 1
    monkeypatch.setattr(records.expiring, "utcnow", lambda: start + timedelta(seconds=30))
    assert [hit(database), hit(database, amount=2)] == [2, 4]
    assert expiry(database) == start + WINDOW
    assert hit(database, "192.0.2.2") == 1  # another client, another counter


def test_a_hit_after_the_window_starts_a_new_one(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = utcnow()
    monkeypatch.setattr(records.expiring, "utcnow", lambda: start)
    assert [hit(database), hit(database)] == [1, 2]
    later = start + WINDOW + timedelta(seconds=1)
    monkeypatch.setattr(records.expiring, "utcnow", lambda: later)
    assert hit(database) == 1
    assert expiry(database) == later + WINDOW


def test_concurrent_hits_from_several_workers_all_count(database_url: str) -> None:
    workers = [Database(database_url) for _ in range(4)]
    counts: list[int] = []
    barrier = threading.Barrier(len(workers))

    def work(database: Database) -> None:
        barrier.wait()
        for _ in range(10):
            counts.append(hit(database))

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for worker in workers:
        worker.dispose()
    assert sorted(counts) == list(range(1, 41))

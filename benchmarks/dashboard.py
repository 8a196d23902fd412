"""Programme dashboard: response time and query count for a large programme.

Seeds a programme (and its previous cohort, same size) with N participants and M
check-ins (bulk inserts, then ``recount_pairs`` fills the pairs' running figures as the
services would have) on SQLite and, when a PostgreSQL URL is given, on a throwaway PostgreSQL
database; then times ``programme_dashboard`` over repeated calls. Prints one line per
backend and size: participants, checkins, p50_ms, p95_ms, queries.

    .venv/bin/python benchmarks/dashboard.py --sizes 1000:5000,10000:50000
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from timeit import default_timer

from sqlalchemy import event, insert, text
from sqlalchemy.engine import make_url

from checkins.dashboard import programme_dashboard
from checkins.pairstats import recount_pairs
from records import (
    CheckIn,
    Database,
    Match,
    Member,
    Participant,
    Programme,
    SurveyResponse,
    Tenant,
    make_engine,
    migrate,
)

TODAY = date(2026, 6, 15)


def seed_programme(session, tenant_id: int, name: str, n_participants: int, n_checkins: int,
                   rng: random.Random, copied_from_id: int | None = None) -> int:  # fmt: skip
    starts_on = TODAY - timedelta(days=150)
    programme = Programme(tenant_id=tenant_id, name=name, status="running", starts_on=starts_on,
                          ends_on=starts_on + timedelta(days=182), cadence_days=28,
                          copied_from_id=copied_from_id)  # fmt: skip
    session.add(programme)
    session.flush()
    n_pairs = n_participants // 2
    first_member = session.execute(
        insert(Member).returning(Member.id),
        [{"tenant_id": tenant_id, "display_name": f"Member {i}", "profile": {}}
         for i in range(n_participants)],
    ).scalars().all()  # fmt: skip
    enrolled = datetime.combine(starts_on - timedelta(days=20), datetime.min.time(), tzinfo=UTC)
    participant_ids = session.execute(
        insert(Participant).returning(Participant.id),
        [{"tenant_id": tenant_id, "programme_id": programme.id, "member_id": member_id,
          "role": "mentor" if i < n_pairs else "mentee", "status": "matched", "answers": {},
          "enrolled_at": enrolled, "capacity": 1 if i < n_pairs else None,
          "slots_taken": 1 if i < n_pairs else 0}
         for i, member_id in enumerate(first_member)],
    ).scalars().all()  # fmt: skip
    statuses = rng.choices(["active", "accepted", "closed"], weights=[80, 10, 10], k=n_pairs)
    match_rows = []
    for i in range(n_pairs):
        accepted = enrolled + timedelta(days=rng.randint(3, 25))
        closed = statuses[i] == "closed"
        match_rows.append({
            "tenant_id": tenant_id, "programme_id": programme.id,
            "mentor_participant_id": participant_ids[i],
            "mentee_participant_id": participant_ids[n_pairs + i], "score": 70.0,
            "explanation": [], "status": statuses[i], "made_by": "engine", "locked": False,
            "mentor_response": "accepted", "mentee_response": "accepted",
            "accepted_at": accepted, "started_at": accepted + timedelta(days=2),
            "ended_at": accepted + timedelta(days=100) if closed else None,
            "end_reason": rng.choice(["completed", "early: moved"]) if closed else None,
        })  # fmt: skip
    match_ids = session.execute(insert(Match).returning(Match.id), match_rows).scalars().all()
    checkins = []
    for _ in range(n_checkins):
        i = rng.randrange(n_pairs)
        checkins.append({
            "tenant_id": tenant_id, "match_id": match_ids[i],
            "logged_by_participant_id": participant_ids[i],
            "met_on": starts_on + timedelta(days=rng.randint(0, 149)),
            "duration_minutes": rng.choice([30, 45, 60, 90]), "format": "video", "topics": [],
            "summary": "", "private_notes": "private",
        })  # fmt: skip
    for start in range(0, len(checkins), 10_000):
        session.execute(insert(CheckIn), checkins[start : start + 10_000])
    responses = []
    for i in range(n_pairs):
        for side in (i, n_pairs + i):
            responses.append({"tenant_id": tenant_id, "participant_id": participant_ids[side],
                              "match_id": None, "survey": "enrolment",
                              "confidence": rng.randint(1, 4), "comment": "",
                              "answered_at": enrolled})  # fmt: skip
            for survey in ("day30", "midpoint"):
                if rng.random() < 0.8:
                    responses.append({
                        "tenant_id": tenant_id, "participant_id": participant_ids[side],
                        "match_id": match_ids[i], "survey": survey,
                        "satisfaction": rng.randint(1, 5), "usefulness": rng.randint(1, 5),
                        "confidence": rng.randint(2, 5), "comment": "", "answered_at": enrolled,
                    })  # fmt: skip
    for start in range(0, len(responses), 10_000):
        session.execute(insert(SurveyResponse), responses[start : start + 10_000])
    # The bulk equivalent of logging each check-in and answer through the services:
    # count every pair's running figures from the rows just written.
    recount_pairs(session, tenant_id, programme.id)
    session.flush()
    return programme.id


def run(url: str, n_participants: int, n_checkins: int, repeat: int, seed: int) -> str:
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    database = Database(url)
    rng = random.Random(seed)
    with database.transaction() as session:
        tenant = Tenant(slug=f"bench-{uuid.uuid4().hex[:8]}", name="Bench")
        session.add(tenant)
        session.flush()
        previous = seed_programme(session, tenant.id, "2025", n_participants, n_checkins, rng)
        current = seed_programme(session, tenant.id, "2026", n_participants, n_checkins, rng,
                                 copied_from_id=previous)  # fmt: skip
        tenant_id = tenant.id
    if database.engine.dialect.name == "postgresql":
        with database.engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
    queries: list[int] = []

    def count(*_args) -> None:
        queries[-1] += 1

    event.listen(database.engine, "before_cursor_execute", count)
    timings = []
    for _ in range(repeat + 2):
        queries.append(0)
        with database.sessionmaker() as session:
            started = default_timer()
            board = programme_dashboard(session, tenant_id, current, TODAY)
            timings.append(default_timer() - started)
    assert board.previous is not None
    timings, queries = timings[2:], queries[2:]  # the first calls warm caches
    p50 = statistics.median(timings) * 1000
    p95 = statistics.quantiles(timings, n=20)[-1] * 1000
    database.dispose()
    # The 1-minute load average: on a shared machine the figures mean little without it.
    return (f"{database.engine.dialect.name}, participants={n_participants}, "
            f"checkins={n_checkins}, p50_ms={p50:.1f}, p95_ms={p95:.1f}, "
            f"queries={max(queries)} (min {min(queries)}), "
            f"load={os.getloadavg()[0]:.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sizes", default="1000:5000,10000:50000",
                        help="participants:checkins per run, comma-separated")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--postgres-url", default=os.environ.get("TANDEM_TEST_POSTGRES_URL"),
                        help="server database to create a throwaway database in")  # fmt: skip
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    sizes = [tuple(int(x) for x in size.split(":")) for size in args.sizes.split(",")]
    for n_participants, n_checkins in sizes:
        if not args.skip_sqlite:
            with tempfile.TemporaryDirectory() as folder:
                url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
                print(run(url, n_participants, n_checkins, args.repeat, args.seed), flush=True)
        if args.postgres_url:
            admin_url = make_url(args.postgres_url).set(drivername="postgresql+psycopg")
            admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
            name = f"tandem_bench_{uuid.uuid4().hex[:10]}"
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = admin_url.set(database=name).render_as_string(hide_password=False)
                print(run(url, n_participants, n_checkins, args.repeat, args.seed), flush=True)
            finally:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()

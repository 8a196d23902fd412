"""Match day, end to end: seconds from "Run matching" to the draft shown.

Builds a programme from the one-to-one template with N members (a third mentors with
capacity 1-3, the rest mentees, answers drawn like the demo's), then, through the real
app and a coordinator's session, times the POST that runs matching (scoring, solving,
explaining and writing every draft pair) and the GET that renders the match-day board.
Each size and backend runs in its own subprocess; peak memory is that process's
``ru_maxrss``.

    .venv/bin/python benchmarks/matchday.py --sizes 40,5000
    TANDEM_TEST_POSTGRES_URL=postgresql+psycopg://... .venv/bin/python benchmarks/matchday.py
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

import records
from lti_tool.app import create_app
from members import start_session
from programmes import Actor, create_from_template
from programmes.demo_data import _answers
from records import Member, Participant, Tenant, migrate


def seed(app, n_members: int, seed_value: int) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    rng = random.Random(seed_value)
    with app.app_context():
        session = records.get_session()
        tenant = Tenant(slug="bench", name="Benchmark Association")
        session.add(tenant)
        session.flush()
        coordinator = Member(tenant_id=tenant.id, display_name="Coordinator")
        session.add(coordinator)
        session.flush()
        actor = Actor(tenant_id=tenant.id, member_id=coordinator.id, coordinator=True)
        programme = create_from_template(session, actor, "one_to_one", name="Generated cohort")
        n_mentors = max(1, n_members // 3)
        members = [
            Member(tenant_id=tenant.id, given_name=f"Given{i}", family_name=f"Family{i}")
            for i in range(n_members)
        ]
        session.add_all(members)
        session.flush()
        session.add_all(
            Participant(
                tenant_id=tenant.id,
                programme_id=programme.id,
                member_id=member.id,
                role="mentor" if i < n_mentors else "mentee",
                answers=_answers(rng, "mentor" if i < n_mentors else "mentee", "Member"),
                capacity=rng.choice([1, 2, 2, 3]) if i < n_mentors else None,
            )
            for i, member in enumerate(members)
        )
        session.commit()
        return tenant.id, coordinator.id, programme.id


def run_one(url: str, n_members: int, seed_value: int) -> dict:
    engine = records.make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    app = create_app(
        {
            "TESTING": True,
            "TANDEM_DATABASE_URL": url,
            "SECRET_KEY": "benchmark-secret-key-0123456789abcdef",
            "TANDEM_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "TANDEM_BASE_URL": "http://localhost",
            "TANDEM_ALLOW_INSECURE_URLS": True,
        }
    )
    tenant_id, coordinator_id, programme_id = seed(app, n_members, seed_value)
    client = app.test_client()
    # The session a launch opens: its server-side record and the cookie naming it.
    with app.app_context(), records.get_database(app).transaction() as db:
        sid = start_session(db, tenant_id, coordinator_id)
    with client.session_transaction() as s:
        s.update(
            sid=sid,
            tenant_id=tenant_id,
            member_id=coordinator_id,
            role="coordinator",
            course_id=None,
            programme_id=None,
            launch_id=None,
            origins=[],
            csrf="bench",
        )
    started = time.perf_counter()
    ran = client.post(f"/programmes/{programme_id}/match/run", data={"csrf_token": "bench"})
    run_seconds = time.perf_counter() - started
    assert ran.status_code == 303, ran.status_code
    shown = time.perf_counter()
    board = client.get(f"/programmes/{programme_id}/match")
    board_seconds = time.perf_counter() - shown
    html = board.get_data(as_text=True)
    assert "Draft ready" in html, "the run did not produce a draft"
    return {
        "members": n_members,
        "run_s": run_seconds,
        "board_s": board_seconds,
        "total_s": run_seconds + board_seconds,
        "board_kib": len(html.encode()) / 1024,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def database_url(backend: str, workdir: Path, postgres: str | None) -> tuple[str, object]:
    if backend == "sqlite":
        return f"sqlite:///{workdir / f'{uuid.uuid4().hex}.sqlite3'}", None
    assert postgres, "set TANDEM_TEST_POSTGRES_URL or --postgres-url for postgresql"
    name = f"tandem_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(
        postgres.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    return url, (admin, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="40,5000", help="comma-separated member counts")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=os.environ.get("TANDEM_TEST_POSTGRES_URL"))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        url, n = args.one.rsplit("|", 1)
        print(json.dumps(run_one(url, int(n), args.seed)))
        return
    print("backend, members, run_s, board_s, total_s, board_KiB, peak_MiB")
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            if backend == "postgresql" and not args.postgres_url:
                print("postgresql: skipped (no --postgres-url or TANDEM_TEST_POSTGRES_URL)")
                continue
            for size in (int(s) for s in args.sizes.split(",")):
                url, cleanup = database_url(backend, Path(tmp), args.postgres_url)
                out = subprocess.run(
                    [sys.executable, __file__, "--seed", str(args.seed), "--one", f"{url}|{size}"],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                r = json.loads(out.stdout.strip().splitlines()[-1])
                print(
                    f"{backend}, {r['members']}, {r['run_s']:.2f}, {r['board_s']:.2f}, "
                    f"{r['total_s']:.2f}, {r['board_kib']:.0f}, {r['peak_mib']:.0f}"
                )
                if cleanup is not None:
                    admin, name = cleanup
                    with admin.connect() as conn:
                        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                    admin.dispose()


if __name__ == "__main__":
    main()

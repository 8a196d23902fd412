"""Directory sync, end to end: members per second, peak memory, and no-change re-syncs.

A SCIM 2.0 server runs on 127.0.0.1 in its own subprocess (``/Users`` as a ListResponse:
1-based ``startIndex``, ``count`` capped at the server's ``itemsPerPage``, each user with
``meta.lastModified``, and ``filter=meta.lastModified gt "..."``). Users are generated
from ``--seed`` and their index, so the server holds no list. Another subprocess per
(backend, size) creates a throwaway database at the newest schema, adds a tenant and a
``rest`` connector with the ``scim`` preset, and times, through the real generic REST
connector and ``connectors.sync``:

* the first sync (full: the cursor is empty) -> members per second;
* a second sync with no changes (incremental: the cursor's ``since`` becomes the filter);
* a second ``full`` sync with no changes (every page fetched again, nothing written but
  the ``last_seen_at`` stamps that the reconcile needs).

Peak memory is ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` of the sync subprocess (the
server's memory is not in it), so it includes the interpreter, SQLAlchemy and the
driver; ``base_MiB`` is the same figure taken just before the first sync, so
``peak - base`` is what syncing cost.

    .venv/bin/python benchmarks/sync.py --sizes 10000,50000,100000
    .venv/bin/python benchmarks/sync.py --backends sqlite --sizes 2000 --profile

``--source canvas`` runs the same first sync against a Canvas stand-in instead (account
users with bookmark ``Link`` paging, one course per 50 users with 40 students and 2
teachers each, enrolments with ``grades``, ``bulk_user_progress`` and per-student
progress, ``X-Request-Cost`` / ``X-Rate-Limit-Remaining`` from a leaky bucket that
charges each request in flight up front, as Canvas does) through the real Canvas
connector, all phases. It prints members/s and requests/s, and the source's bound: the
answers/s the same stand-in gives one sequential client making the same requests (the
connector with one worker, reading every stream, writing nothing), and the sync's
requests/s as a share of it. ``--canvas-bulk off`` answers ``bulk_user_progress`` with
404 (a Canvas without it: one progress request per student); ``--canvas-workers 1`` sends
one request at a time (with both: the requests the connector made before issue 16).
The last column is the 1-minute load average before and after the run: on a shared
machine, compare shares at similar loads; ``--repeat 5`` runs each size five times and
prints the median share.

    .venv/bin/python benchmarks/sync.py --source canvas --backends sqlite --sizes 2000,20000
    .venv/bin/python benchmarks/sync.py --source canvas --sizes 20000 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

SCIM_LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SCIM_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
MAX_PAGE = 200  # the server's cap on ``count``: a client asking for more gets short pages
FILTER = re.compile(r'^\s*meta\.lastModified\s+gt\s+"([^"]+)"\s*$')
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def serve_until_stdin_closes(handler: type[BaseHTTPRequestHandler]) -> None:
    """Serve on 127.0.0.1, print the port, stop when the parent closes our stdin."""
    import threading

    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()  # the parent closes our stdin when it is done
    server.shutdown()


# -- the SCIM server (its own subprocess) ----------------------------------------------


def user(index: int, seed: int) -> dict[str, Any]:
    """User number ``index`` (0-based), the same for the same seed."""
    rng = random.Random(seed * 1_000_003 + index)
    given = rng.choice(["Ada", "Bo", "Cy", "Dee", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun"])
    family = rng.choice(["Ng", "Okafor", "Silva", "Kowalski", "Haddad", "Berg", "Rossi", "Li"])
    modified = EPOCH + timedelta(minutes=rng.randrange(0, 500_000))
    return {
        "schemas": [SCIM_USER],
        "id": f"u{index:08d}",
        "externalId": f"M-{index:07d}",
        "userName": f"user{index}",
        "name": {"givenName": given, "familyName": f"{family}{index}"},
        "displayName": f"{given} {family}{index}",
        "emails": [{"value": f"user{index}@bench.example.org", "primary": True}],
        "active": True,
        "meta": {"resourceType": "User", "lastModified": modified.strftime("%Y-%m-%dT%H:%M:%SZ")},
    }


def serve(size: int, seed: int) -> None:
    """Serve ``size`` users on 127.0.0.1 until stdin closes; print the port first."""
    modified = [user(i, seed)["meta"]["lastModified"] for i in range(size)]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the client's session reuses one socket
        # Headers and body go out in two writes; with Nagle on, the body waits for the
        # client's delayed ACK (~40 ms a page), which would time the loopback, not the sync.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            if parts.path != "/scim/v2/Users":
                return self.answer(404, {"schemas": [SCIM_ERROR], "status": "404"})
            matching: range | list[int] = range(size)
            if "filter" in query:
                found = FILTER.match(query["filter"])
                if not found:
                    return self.answer(
                        400, {"schemas": [SCIM_ERROR], "status": "400", "scimType": "invalidFilter"}
                    )
                # ISO-8601 UTC strings of one format compare as they sort.
                since = found.group(1)
                matching = [i for i in range(size) if modified[i] > since]
            start = max(1, int(query.get("startIndex", 1)))
            count = min(MAX_PAGE, max(0, int(query.get("count", 100))))
            chosen = matching[start - 1 : start - 1 + count]
            self.answer(
                200,
                {
                    "schemas": [SCIM_LIST],
                    "totalResults": len(matching),
                    "startIndex": start,
                    "itemsPerPage": len(chosen),
                    "Resources": [user(i, seed) for i in chosen],
                },
            )

        def answer(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/scim+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    serve_until_stdin_closes(Handler)


# -- the Canvas stand-in (its own subprocess) ------------------------------------------

CANVAS_PAGE = 100
USERS_PER_COURSE = 50
STUDENTS, TEACHERS = 40, 2
BUCKET_HIGH_WATER, BUCKET_LEAK, UP_FRONT, REQUEST_COST = 700.0, 10.0, 50.0, 0.005


def canvas_course_members(course: int, size: int, seed: int) -> list[tuple[int, str]]:
    """(user index, role) of a course's enrolments, the same for the same seed."""
    rng = random.Random(seed * 7_919 + course)
    chosen = rng.sample(range(size), min(size, STUDENTS + TEACHERS))
    return [(u, "StudentEnrollment" if n < STUDENTS else "TeacherEnrollment")
            for n, u in enumerate(chosen)]  # fmt: skip


def serve_canvas(size: int, seed: int, bulk: bool) -> None:
    """Serve a Canvas account of ``size`` users on 127.0.0.1 until stdin closes."""
    import threading

    courses = max(1, size // USERS_PER_COURSE)
    lock = threading.Lock()
    bucket = {"level": 0.0, "at": time.monotonic()}

    def charge(amount: float) -> float:
        # Canvas's leaky bucket: each request pays an up-front cost while in flight.
        with lock:
            now = time.monotonic()
            level = max(0.0, bucket["level"] - (now - bucket["at"]) * BUCKET_LEAK) + amount
            bucket["level"], bucket["at"] = level, now
            return BUCKET_HIGH_WATER - level

    def canvas_user(index: int) -> dict[str, Any]:
        rng = random.Random(seed * 1_000_003 + index)
        given = rng.choice(["Ada", "Bo", "Cy", "Dee", "Eli", "Fay", "Gus", "Hana", "Ivo"])
        family = f"{rng.choice(['Ng', 'Okafor', 'Silva', 'Berg', 'Rossi', 'Li'])}{index}"
        return {
            "id": 1000 + index, "name": f"{given} {family}", "sortable_name": f"{family}, {given}",
            "short_name": given, "sis_user_id": f"M-{index:07d}", "login_id": f"user{index}",
            "email": f"user{index}@bench.example.org",
        }  # fmt: skip

    def enrolment(course: int, index: int, kind: str) -> dict[str, Any]:
        score = (index * 37 + course) % 100
        return {
            "id": course * 100_000 + index, "course_id": course, "enrollment_state": "active",
            "type": kind, "role": kind, "user_id": 1000 + index,
            "updated_at": "2025-01-01T00:00:00Z", "last_activity_at": "2025-01-02T00:00:00Z",
            "grades": {"current_score": score, "final_score": score * 0.8,
                       "current_grade": None, "final_grade": None},
            "user": canvas_user(index),
        }  # fmt: skip

    def progress(course: int, index: int) -> dict[str, Any]:
        return {"requirement_count": 8, "requirement_completed_count": (index + course) % 9,
                "next_requirement_url": None, "completed_at": None}  # fmt: skip

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            charge(UP_FRONT)
            try:
                self.route()
            finally:
                charge(REQUEST_COST - UP_FRONT)

        def route(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            page = int(query.get("page", 1))
            path = parts.path.rstrip("/").split("/")[3:]  # after /api/v1
            if path in (["accounts", "site_admin", "admins"], ["accounts", "1", "admins"]):
                return self.answer(200, [])
            if path == ["users", "self"]:
                return self.answer(200, {"id": 1, "name": "Account Admin"})
            if path == ["accounts", "1", "users"]:
                # A range, made into users only for the page asked: the stand-in must not
                # be the bottleneck it measures.
                items = range(size)
            elif path == ["accounts", "1", "courses"]:
                items = [
                    {
                        "id": c,
                        "name": f"Course {c}",
                        "course_code": f"C{c}",
                        "workflow_state": "open",
                    }
                    for c in range(1, courses + 1)
                ]
            elif len(path) == 3 and path[0] == "courses" and path[2] == "enrollments":
                course = int(path[1])
                items = [enrolment(course, u, k)
                         for u, k in canvas_course_members(course, size, seed)]  # fmt: skip
            elif len(path) == 3 and path[0] == "courses" and path[2] == "bulk_user_progress":
                if not bulk:
                    return self.answer(
                        404, {"errors": [{"message": "The specified resource does not exist."}]}
                    )
                course = int(path[1])
                items = [{"id": 1000 + u, "display_name": canvas_user(u)["name"],
                          "progress": progress(course, u)}
                         for u, k in canvas_course_members(course, size, seed)
                         if k == "StudentEnrollment"]  # fmt: skip
            elif len(path) == 5 and path[0] == "courses" and path[4] == "progress":
                return self.answer(200, progress(int(path[1]), int(path[3]) - 1000))
            else:
                return self.answer(404, {"errors": [{"message": "not found"}]})
            chosen = items[(page - 1) * CANVAS_PAGE : page * CANVAS_PAGE]
            if isinstance(chosen, range):
                chosen = [canvas_user(i) for i in chosen]
            link = None
            if page * CANVAS_PAGE < len(items):
                host = self.headers["Host"]
                query = f"page={page + 1}&per_page={CANVAS_PAGE}"
                link = f'<http://{host}{parts.path}?{query}>; rel="next"'
            self.answer(200, chosen, link)

        def answer(self, status: int, payload: Any, link: str | None = None) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Request-Cost", f"{REQUEST_COST:.4f}")
            self.send_header("X-Rate-Limit-Remaining", f"{charge(0.0):.1f}")
            if link:
                self.send_header("Link", link)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    serve_until_stdin_closes(Handler)


def run_canvas(database_url: str, base_url: str, size: int, workers: int) -> dict[str, Any]:
    """The source's bound (one sequential client), then a first full Canvas sync."""
    from connectors import sync
    from connectors.canvas import CanvasConnector
    from records import ConnectorConfig, Database, Tenant, make_engine, migrate

    settings = {"account_id": 1}
    # The bound: the same requests, one at a time, nothing written.
    reader = CanvasConnector(base_url, "tok", {**settings, "workers": 1})
    started = time.perf_counter()
    for stream in (
        reader.iter_members(),
        reader.iter_courses(),
        reader.iter_learning_records(None),
    ):
        for _ in stream:
            pass
    bound_s = time.perf_counter() - started
    bound_requests = reader.client.requests_sent
    reader.close()

    engine = make_engine(database_url)
    migrate.upgrade(engine)
    engine.dispose()
    database = Database(database_url)
    with database.transaction() as session:
        tenant = Tenant(slug="bench", name="Benchmark Canvas")
        session.add(tenant)
        session.flush()
        config = ConnectorConfig(
            tenant_id=tenant.id, name="canvas", kind="canvas", base_url=base_url, settings=settings
        )
        session.add(config)
        session.flush()
        tenant_id, connector_id = tenant.id, config.id
    connector = CanvasConnector(base_url, "tok", {**settings, "workers": workers})
    started = time.perf_counter()
    result = sync(database, tenant_id, connector_id, connector)
    seconds = time.perf_counter() - started
    assert result.status == "succeeded", result.summary()
    database.dispose()
    members = result.kinds["members"][0]
    return {
        "members": members,
        "seconds": seconds,
        "requests": connector.client.requests_sent,
        "bound_requests": bound_requests,
        "bound_per_s": bound_requests / bound_s,
        "learning_records": result.kinds["learning_records"][0],
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


# -- one (backend, size) run (its own subprocess) --------------------------------------


def run_one(
    database_url: str, base_url: str, size: int, profile: str | None, email_index: bool
) -> dict[str, Any]:
    from connectors import sync
    from connectors.generic_rest import RestConnector
    from records import ConnectorConfig, Database, Tenant, make_engine, migrate

    engine = make_engine(database_url)
    migrate.upgrade(engine)
    if email_index:
        from sqlalchemy import text

        # Not in the schema: shows what an index on the expression linking by email
        # queries (lower(email) IN ...) would change.
        with engine.begin() as connection:
            connection.execute(
                text(
                    "CREATE INDEX ix_bench_members_lower_email ON members (tenant_id, lower(email))"
                )
            )
    engine.dispose()
    database = Database(database_url)
    settings = {"preset": "scim", "auth": {"type": "none"}}
    with database.transaction() as session:
        tenant = Tenant(slug="bench", name="Benchmark Association")
        session.add(tenant)
        session.flush()
        config = ConnectorConfig(
            tenant_id=tenant.id, name="scim", kind="rest", base_url=base_url, settings=settings
        )
        session.add(config)
        session.flush()
        tenant_id, connector_id = tenant.id, config.id

    def timed(full: bool, label: str) -> tuple[float, Any]:
        connector = RestConnector(base_url, None, settings)
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        started = time.perf_counter()
        result = sync(database, tenant_id, connector_id, connector, full=full, phases=("members",))
        seconds = time.perf_counter() - started
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(f"{profile}.{label}")
        return seconds, result

    base_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    first_s, first = timed(full=False, label="first")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert first.kinds["members"][0] == size, first.summary()
    again_s, again = timed(full=False, label="incremental")
    assert not again.full and again.added == again.updated == 0, again.summary()
    full_s, full = timed(full=True, label="full")
    assert full.added == full.updated == full.deactivated == 0, full.summary()
    database.dispose()
    return {
        "members": size,
        "first_s": first_s,
        "per_s": size / first_s,
        "base_mib": base_mib,
        "peak_mib": max(peak_mib, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "first_peak_mib": peak_mib,
        "incremental_s": again_s,
        "full_again_s": full_s,
    }


# -- the driver ------------------------------------------------------------------------


def throwaway_database(backend: str, workdir: Path, postgres: str | None) -> tuple[str, Any]:
    """A new empty database URL, and what to pass to :func:`drop_database`."""
    if backend == "sqlite":
        return f"sqlite:///{workdir / f'{uuid.uuid4().hex}.sqlite3'}", None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if not postgres:
        raise SystemExit("postgresql needs --postgres-url or TANDEM_TEST_POSTGRES_URL")
    admin = create_engine(
        make_url(postgres).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    name = f"tandem_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    return admin.url.set(database=name).render_as_string(hide_password=False), (admin, name)


def drop_database(handle: Any) -> None:
    if handle is None:
        return
    from sqlalchemy import text

    admin, name = handle
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    # The stand-ins are plain http on loopback: the development switch lets Tandem reach
    # them (a production source must be https).
    os.environ.setdefault("TANDEM_ALLOW_INSECURE_URLS", "1")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sizes", default="10000,50000,100000", help="comma-separated counts")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=os.environ.get("TANDEM_TEST_POSTGRES_URL"))
    parser.add_argument(
        "--profile", help="write cProfile stats of each sync to DIR (timings include its overhead)"
    )
    parser.add_argument(
        "--email-index",
        action="store_true",
        help="experiment: add an index on (tenant_id, lower(email)), which the schema lacks",
    )
    parser.add_argument("--source", choices=("scim", "canvas"), default="scim")
    parser.add_argument("--canvas-bulk", choices=("on", "off"), default="on")
    parser.add_argument("--canvas-workers", type=int, default=4, help="the sync's pool size")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per (backend, size); Canvas: prints the median"
    )
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        if args.source == "canvas":
            serve_canvas(args.serve, args.seed, args.canvas_bulk == "on")
        else:
            serve(args.serve, args.seed)
        return
    if args.one:
        database_url, base_url, size, profile = json.loads(args.one)
        if args.source == "canvas":
            print(json.dumps(run_canvas(database_url, base_url, size, args.canvas_workers)))
        else:
            print(json.dumps(run_one(database_url, base_url, size, profile, args.email_index)))
        return
    if args.source == "canvas":
        print(
            "backend, users, members, seconds, members_per_s, requests, requests_per_s, "
            "bound_requests_per_s, share_of_bound, peak_MiB, load"
        )

    else:
        print(
            "backend, members, first_full_s, members_per_s, peak_MiB (base_MiB), "
            "incremental_no_change_s, full_no_change_s"
        )
    source_args = ["--source", args.source, "--canvas-bulk", args.canvas_bulk]
    source_args += ["--canvas-workers", str(args.canvas_workers)]
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            if backend == "postgresql" and not args.postgres_url:
                print("postgresql: skipped (no --postgres-url or TANDEM_TEST_POSTGRES_URL)")
                continue
            for size in (int(s) for s in args.sizes.split(",")):
                shares: list[float] = []
                for _ in range(args.repeat):
                    share = measure(args, backend, size, source_args, Path(tmp))
                    if share is not None:
                        shares.append(share)
                if args.source == "canvas" and len(shares) > 1:
                    print(
                        f"{backend}, {size}: median share_of_bound "
                        f"{100 * statistics.median(shares):.0f}% of {len(shares)} runs "
                        f"({', '.join(f'{100 * x:.0f}%' for x in shares)})",
                        flush=True,
                    )


def measure(
    args: argparse.Namespace, backend: str, size: int, source_args: list[str], tmp: Path
) -> float | None:
    """One (backend, size) run in its own subprocess; print its row, return the Canvas
    share of the bound. ``load`` is the 1-minute load average around it (the machine
    may be shared: the share is only comparable between runs at a similar load)."""
    load_before = os.getloadavg()[0]
    server = subprocess.Popen(
        [
            sys.executable,
            __file__,
            *source_args,
            "--seed",
            str(args.seed),
            "--serve",
            str(size),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stdin is not None
    port = server.stdout.readline().strip()
    path = "" if args.source == "canvas" else "/scim/v2"
    base_url = f"http://127.0.0.1:{port}{path}"
    database_url, handle = throwaway_database(backend, tmp, args.postgres_url)
    profile = str(Path(args.profile) / f"sync-{backend}-{size}.prof") if args.profile else None
    try:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                *source_args,
                *(["--email-index"] if args.email_index else []),
                "--one",
                json.dumps([database_url, base_url, size, profile]),
            ],
            capture_output=True,
            text=True,
        )
    finally:
        server.stdin.close()
        server.wait(timeout=30)
        drop_database(handle)
    if out.returncode != 0:
        print(f"{backend}, {size}: failed\n{out.stderr}", file=sys.stderr)
        return None
    r = json.loads(out.stdout.strip().splitlines()[-1])
    if args.source == "canvas":
        per_s = r["requests"] / r["seconds"]
        share = per_s / r["bound_per_s"]
        print(
            f"{backend}, {size}, {r['members']}, {r['seconds']:.2f}, "
            f"{r['members'] / r['seconds']:.0f}, {r['requests']}, {per_s:.0f}, "
            f"{r['bound_per_s']:.0f}, {100 * share:.0f}%, "
            f"{r['peak_mib']:.0f}, {load_before:.1f}-{os.getloadavg()[0]:.1f}",
            flush=True,
        )
        return share
    print(
        f"{backend}, {r['members']}, {r['first_s']:.2f}, {r['per_s']:.0f}, "
        f"{r['peak_mib']:.0f} ({r['base_mib']:.0f}), {r['incremental_s']:.3f}, "
        f"{r['full_again_s']:.2f}",
        flush=True,
    )
    return None


if __name__ == "__main__":
    main()

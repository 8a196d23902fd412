"""Load on `tandem serve --workers 4` over PostgreSQL, as real HTTP from loopback clients.

Three parts (``--part``), each against a throwaway database on the PostgreSQL server
``--postgres-url`` (default ``TANDEM_TEST_POSTGRES_URL``) and a real `tandem serve`:

- ``mix``: members of several tenants (a programme of pairs each, ``--members`` in all)
  doing learner launches (login, signed id_token post, landing page), member page views,
  check-in posts and coordinator dashboard views, at increasing numbers of concurrent
  clients (``--levels``) for ``--seconds`` each. One line per level: requests/s,
  launches/s, p50/p95/p99 ms, errors. Stops after the level whose p95 passes 250 ms.
- ``roster``: coordinator launches of courses with a ``--roster``-member NRPS roster served
  by a loopback platform; a `tandem worker` imports. Prints the launch page p95 and how
  long each import took after its launch.
- ``email``: ``/portal/NAME/email`` with known and unknown addresses, alternating; prints
  both p50s and their difference.

The client runs on the same 2-core machine as the server and the database: its own CPU
use lowers what the server can do. Platform work (signing id_tokens) is not timed.

    .venv/bin/python benchmarks/load.py --part mix --levels 2,4,8,16 --seconds 10
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from timeit import default_timer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import requests
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dashboard import seed_programme
from launch import _jwk

import records
from lti_tool.app import create_app
from platforms import PlatformSettings, add_platform, rotate_key
from portals import PortalSettings, add_portal
from records import Identity, Member, Tenant, make_engine, migrate

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
CUSTOM = LTI + "custom"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
ROOT = Path(__file__).resolve().parent.parent
TANDEM = str(ROOT / ".venv" / "bin" / "tandem")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def throwaway_database(server_url: str) -> Iterator[str]:
    admin_url = make_url(server_url).set(drivername="postgresql+psycopg")
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"tandem_load_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Site:
    """The settings shared by the seeding app, `tandem serve` and `tandem worker`."""

    def __init__(self, url: str, folder: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "TANDEM_DATABASE_URL": url,
            "TANDEM_SECRET_KEY": secrets.token_urlsafe(48),
            "TANDEM_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "TANDEM_INSTANCE_PATH": str(folder),
            "TANDEM_BASE_URL": self.base,
        }
        self.app = create_app(
            {
                "TANDEM_DATABASE_URL": url,
                "SECRET_KEY": self.env["TANDEM_SECRET_KEY"],
                "TANDEM_ENCRYPTION_KEY": self.env["TANDEM_ENCRYPTION_KEY"],
                "INSTANCE_PATH": str(folder),
            }
        )

    @contextmanager
    def serving(self, workers: int = 4) -> Iterator[None]:
        server = subprocess.Popen(
            [TANDEM, "serve", "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("tandem serve did not start")
                time.sleep(0.2)
            yield
        finally:
            server.terminate()
            server.wait(30)

    @contextmanager
    def worker(self) -> Iterator[None]:
        log = Path(self.env["TANDEM_INSTANCE_PATH"]) / "worker.log"
        with log.open("w") as out:
            process = subprocess.Popen([TANDEM, "worker"], env=self.env, stdout=out, stderr=out)
            try:
                yield
            finally:
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)
                if os.environ.get("TANDEM_BENCH_SHOW_WORKER_LOG"):
                    print(log.read_text()[-3000:], file=sys.stderr)


def register(site: Site, n_tenants: int, key: rsa.RSAPrivateKey, token_base: str) -> list[dict]:
    tenants = []
    with site.app.app_context(), records.get_database(site.app).transaction() as session:
        rotate_key(session, site.app.extensions["tandem.secrets"])
        for number in range(n_tenants):
            issuer = f"https://lms{number}.example.edu"
            tenant = add_platform(
                session,
                PlatformSettings(
                    issuer=issuer,
                    client_id=f"client-{number}",
                    auth_login_url=f"{issuer}/auth",
                    auth_token_url=f"{token_base}/token",
                    key_set_url=f"{issuer}/jwks",
                    deployment_ids=(f"deployment-{number}",),
                    product="moodle",
                ),
            )
            session.get(Tenant, tenant.id).key_set = {"keys": [_jwk(key, f"kid-{number}")]}
            tenants.append(
                {"number": number, "issuer": issuer, "tenant_id": tenant.id, "key": key,
                 "kid": f"kid-{number}"})  # fmt: skip
    return tenants


def id_token(site: Site, tenant: dict, nonce: str, sub: str, **extra: object) -> str:
    now = int(time.time())
    n = tenant["number"]
    claims = {
        "iss": tenant["issuer"], "aud": f"client-{n}", "sub": sub, "iat": now,
        "exp": now + 300, "nonce": nonce, "given_name": sub, "family_name": f"T{n}",
        "email": f"{sub}@lms{n}.example.edu",
        LTI + "message_type": "LtiResourceLinkRequest", LTI + "version": "1.3.0",
        LTI + "deployment_id": f"deployment-{n}",
        LTI + "target_link_uri": f"{site.base}/lti/launch",
        LTI + "resource_link": {"id": "link-1"}, LTI + "roles": [LEARNER],
        LTI + "context": {"id": "course-1", "title": "Mentoring"},
        LTI + "tool_platform": {"product_family_code": "moodle"},
    }  # fmt: skip
    claims.update(extra)
    return jwt.encode(claims, tenant["key"], algorithm="RS256", headers={"kid": tenant["kid"]})


def launch(site: Site, http: requests.Session, tenant: dict, sub: str, **extra: object) -> float:
    """One browser launch; returns the seconds the tool took (platform signing untimed)."""
    query = urlencode(
        {"iss": tenant["issuer"], "client_id": f"client-{tenant['number']}", "login_hint": sub,
         "target_link_uri": f"{site.base}/lti/launch"})  # fmt: skip
    started = default_timer()
    login = http.get(f"{site.base}/lti/login?{query}", allow_redirects=False, timeout=30)
    took = default_timer() - started
    params = parse_qs(urlsplit(login.headers["Location"]).query)
    token = id_token(site, tenant, params["nonce"][0], sub, **extra)
    started = default_timer()
    posted = http.post(f"{site.base}/lti/launch", data={"id_token": token,
                       "state": params["state"][0]}, allow_redirects=False, timeout=30)  # fmt: skip
    landing = http.get(site.base + posted.headers["Location"], timeout=30)
    took += default_timer() - started
    if landing.status_code != 200:
        raise RuntimeError(f"launch: {posted.status_code} then {landing.status_code}")
    return took


# ---- mix -----------------------------------------------------------------------------


def seed_mix(site: Site, tenants: list[dict], n_members: int, rng: random.Random) -> list[dict]:
    """A running programme of pairs per tenant; each member launchable as ``m<member id>``."""
    people = []
    per_tenant = n_members // len(tenants)
    with site.app.app_context(), records.get_database(site.app).transaction() as session:
        for tenant in tenants:
            programme_id = seed_programme(session, tenant["tenant_id"], "Load", per_tenant,
                                          per_tenant * 2, rng)  # fmt: skip
            tenant["programme_id"] = programme_id
            ids = session.scalars(select(Member.id).where(
                Member.tenant_id == tenant["tenant_id"])).all()  # fmt: skip
            session.add_all(Identity(tenant_id=tenant["tenant_id"], member_id=i, source="lti",
                                     external_id=f"m{i}") for i in ids)  # fmt: skip
            people += [{"tenant": tenant, "sub": f"m{i}"} for i in ids]
    return people


class Client(threading.Thread):
    """One simulated member (or coordinator) working through the mix until told to stop."""

    WEIGHTS = {"launch": 40, "member_page": 30, "checkin": 15, "dashboard": 15}

    def __init__(self, site: Site, people: list[dict], tenants: list[dict], seed: int,
                 stop: threading.Event) -> None:  # fmt: skip
        super().__init__(daemon=True)
        self.site, self.people, self.tenants, self.stop = site, people, tenants, stop
        self.rng = random.Random(seed)
        self.timings: list[tuple[str, float]] = []
        self.errors = 0

    def run(self) -> None:
        ops, weights = zip(*self.WEIGHTS.items(), strict=True)
        while not self.stop.is_set():
            op = self.rng.choices(ops, weights)[0]
            try:
                self.timings.append((op, getattr(self, op)()))
            except Exception:
                self.errors += 1

    def _member_session(self) -> tuple[requests.Session, dict]:
        person = self.rng.choice(self.people)
        http = requests.Session()
        launch(self.site, http, person["tenant"], person["sub"])
        return http, person

    def launch(self) -> float:
        person = self.rng.choice(self.people)
        with requests.Session() as http:
            return launch(self.site, http, person["tenant"], person["sub"])

    def member_page(self) -> float:
        if not hasattr(self, "member"):
            self.member = self._member_session()
        started = default_timer()
        page = self.member[0].get(f"{self.site.base}/me", timeout=30)
        took = default_timer() - started
        page.raise_for_status()
        return took

    def checkin(self) -> float:
        for _ in range(5):  # a member of a running pair (some pairs have closed)
            if hasattr(self, "poster"):
                break
            http, _person = self._member_session()
            page = http.get(f"{self.site.base}/checkins/", timeout=30).text
            match = re.search(r'action="/checkins/matches/(\d+)/checkins"', page)
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
            if match and csrf:
                self.poster = (http, match.group(1), csrf.group(1))
        if not hasattr(self, "poster"):
            raise RuntimeError("no running pair to log a check-in for")
        http, match_id, csrf = self.poster
        started = default_timer()
        posted = http.post(f"{self.site.base}/checkins/matches/{match_id}/checkins", timeout=30,
                           allow_redirects=False,
                           data={"csrf_token": csrf, "met_on": time.strftime("%Y-%m-%d"),
                                 "duration_minutes": "45", "format": "video",
                                 "summary": "load"})  # fmt: skip
        took = default_timer() - started
        if posted.status_code != 303:
            raise RuntimeError(f"check-in: {posted.status_code}")
        return took

    def dashboard(self) -> float:
        if not hasattr(self, "coordinator"):
            tenant = self.rng.choice(self.tenants)
            http = requests.Session()
            launch(self.site, http, tenant, f"coordinator-{self.rng.randrange(10**6)}",
                   **{LTI + "roles": [INSTRUCTOR],
                      CUSTOM: {"tandem_programme_id": str(tenant["programme_id"])}})  # fmt: skip
            self.coordinator = (http, tenant["programme_id"])
        http, programme_id = self.coordinator
        started = default_timer()
        page = http.get(f"{self.site.base}/dashboard/{programme_id}", timeout=30)
        took = default_timer() - started
        page.raise_for_status()
        return took


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(q * len(ordered)) - 1)] * 1000 if ordered else float("nan")


def run_mix(site: Site, args: argparse.Namespace, key: rsa.RSAPrivateKey) -> None:
    tenants = register(site, args.tenants, key, "http://127.0.0.1:9")
    people = seed_mix(site, tenants, args.members, random.Random(args.seed))
    with site.serving():
        for level in [int(x) for x in args.levels.split(",")]:
            stop = threading.Event()
            clients = [Client(site, people, tenants, args.seed * 1000 + n, stop)
                       for n in range(level)]  # fmt: skip
            for client in clients:
                client.start()
            time.sleep(args.seconds)
            stop.set()
            for client in clients:
                client.join(60)
            timings = [t for c in clients for t in c.timings]
            errors = sum(c.errors for c in clients)
            all_s = [t for _, t in timings]
            launches = [t for op, t in timings if op == "launch"]
            by_op = {op: percentile([t for o, t in timings if o == op], 0.95)
                     for op in Client.WEIGHTS}  # fmt: skip
            print(
                f"clients={level} seconds={args.seconds} requests_per_s="
                f"{len(all_s) / args.seconds:.1f} "
                f"launches_per_s={len(launches) / args.seconds:.1f} "
                f"p50_ms={percentile(all_s, 0.5):.1f} p95_ms={percentile(all_s, 0.95):.1f} "
                f"p99_ms={percentile(all_s, 0.99):.1f} launch_p95_ms={by_op['launch']:.1f} "
                f"member_p95_ms={by_op['member_page']:.1f} checkin_p95_ms={by_op['checkin']:.1f} "
                f"dashboard_p95_ms={by_op['dashboard']:.1f} errors={errors}",
                flush=True,
            )
            if percentile(all_s, 0.95) > 250:
                break


# ---- roster --------------------------------------------------------------------------


def roster_platform(n_members: int, page_size: int) -> tuple[ThreadingHTTPServer, str]:
    """A loopback platform: an OAuth token endpoint and paged NRPS memberships."""
    members = [{"user_id": f"r{i}", "given_name": f"R{i}", "family_name": "Roster",
                "email": f"r{i}@example.edu", "status": "Active", "roles": [LEARNER]}
               for i in range(n_members)]  # fmt: skip

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _json(self, body: dict, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._json({"access_token": "t", "token_type": "Bearer", "expires_in": 3600})

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            page = int(parse_qs(parts.query).get("page", ["0"])[0])
            chunk = members[page * page_size : (page + 1) * page_size]
            headers = {}
            if (page + 1) * page_size < len(members):
                headers["Link"] = f'<{base}{parts.path}?page={page + 1}>; rel="next"'
            self._json({"id": "x", "context": {"id": "c"}, "members": chunk}, headers)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, base


def run_roster(site: Site, args: argparse.Namespace, key: rsa.RSAPrivateKey) -> None:
    server, base = roster_platform(args.roster, 500)
    [tenant] = register(site, 1, key, base)
    launch_times, import_times = [], []
    with site.serving(), site.worker():
        for course in range(args.courses):
            http = requests.Session()
            launch_times.append(launch(
                site, http, tenant, f"teacher-{course}",
                **{LTI + "roles": [INSTRUCTOR],
                   LTI + "context": {"id": f"course-{course}", "title": f"Course {course}"},
                   NRPS: {"context_memberships_url": f"{base}/memberships/{course}",
                          "service_versions": ["2.0"]}}))  # fmt: skip
            answered = default_timer()
            while "Importing the course roster" in http.get(f"{site.base}/coordinator").text:
                if default_timer() - answered > 300:
                    raise RuntimeError("the import did not finish in 5 minutes")
                time.sleep(0.1)
            import_times.append(default_timer() - answered)
            for _ in range(args.relaunches):  # later launches: the import is done
                launch_times.append(launch(site, requests.Session(), tenant, f"teacher-{course}",
                                           **{LTI + "roles": [INSTRUCTOR]}))  # fmt: skip
    server.shutdown()
    print(f"roster={args.roster} courses={args.courses} launches={len(launch_times)} "
          f"launch_p50_ms={percentile(launch_times, 0.5):.1f} "
          f"launch_p95_ms={percentile(launch_times, 0.95):.1f} "
          f"import_s={','.join(f'{t:.1f}' for t in import_times)}")  # fmt: skip


# ---- email ---------------------------------------------------------------------------


def run_email(site: Site, args: argparse.Namespace, key: rsa.RSAPrivateKey) -> None:
    with site.app.app_context(), records.get_database(site.app).transaction() as session:
        session.add(Tenant(slug="assoc", name="Association"))
        session.flush()
        tenant_id = session.scalars(select(Tenant.id).where(Tenant.slug == "assoc")).one()
        session.add_all(Member(tenant_id=tenant_id, display_name=f"Known {i}",
                               email=f"known{i}@example.org", profile={})
                        for i in range(args.requests))  # fmt: skip
        settings = PortalSettings(name="assoc", kind="email_link", tenant_slug="assoc")
        add_portal(session, site.app.extensions["tandem.secrets"], settings)
    known, unknown = [], []
    with site.serving(), requests.Session() as http:
        url = f"{site.base}/portal/assoc/email"
        for i in range(args.warmup + args.requests):
            for address, into in ((f"known{i % args.requests}@example.org", known),
                                  (f"nobody{i}@example.org", unknown)):  # fmt: skip
                started = default_timer()
                answer = http.post(url, data={"email": address}, timeout=30)
                took = default_timer() - started
                answer.raise_for_status()
                if i >= args.warmup:
                    into.append(took)
    k50, u50 = statistics.median(known) * 1000, statistics.median(unknown) * 1000
    print(f"email requests={len(known)}+{len(unknown)} known_p50_ms={k50:.2f} "
          f"unknown_p50_ms={u50:.2f} difference_ms={k50 - u50:+.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["mix", "roster", "email"], default="mix")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tenants", type=int, default=4)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--levels", default="2,4,8,16")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--roster", type=int, default=5000)
    parser.add_argument("--courses", type=int, default=2)
    parser.add_argument("--relaunches", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--postgres-url", default=os.environ.get("TANDEM_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    if not args.postgres_url:
        parser.error("needs --postgres-url or TANDEM_TEST_POSTGRES_URL (a PostgreSQL server)")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with tempfile.TemporaryDirectory() as folder, throwaway_database(args.postgres_url) as url:
        site = Site(url, Path(folder))
        try:
            {"mix": run_mix, "roster": run_roster, "email": run_email}[args.part](site, args, key)
        finally:
            records.get_database(site.app).dispose()


if __name__ == "__main__":
    main()

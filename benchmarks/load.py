"""Load on `tandem serve --workers 4` over PostgreSQL, as real HTTP from loopback clients.

Four parts (``--part``), each against a throwaway database on the PostgreSQL server
``--postgres-url`` (default ``TANDEM_TEST_POSTGRES_URL``) and a real `tandem serve`:

- ``mix``: members of several tenants (a programme of pairs each, ``--members`` in all)
  doing learner launches (login, signed id_token post, landing page), member page views,
  check-in posts and coordinator dashboard views, at increasing numbers of concurrent
  clients (``--levels``) for ``--seconds`` each, ``--repeat`` times. One line per window:
  requests/s, launches/s, p50/p95/p99 ms, p95 per kind, errors, and the CPU milliseconds
  per request spent by the server's workers, by PostgreSQL (when its server runs on this
  machine) and by this client; then the median line of the level. Stops after the level
  whose median p95 passes 250 ms.
- ``launch``: the same, with learner launches only (a launch counts its three requests).
- ``roster``: coordinator launches of courses with a ``--roster``-member NRPS roster served
  by a loopback platform; a `tandem worker` imports. Prints the launch page p95 and how
  long each import took after its launch.
- ``email``: ``/portal/NAME/email`` with known and unknown addresses, alternating; prints
  both p50s and their difference.

The client runs on the same 2-core machine as the server and the database: its own CPU
use lowers what the server can do, so it is printed. Platform work (signing id_tokens:
each carries the nonce the tool chose at login, so it cannot be signed in advance) is
not timed, but its CPU is in the client's figure. Each simulated member comes from an
address of its own (``X-Forwarded-For`` through one trusted proxy, as behind a load
balancer), so the default per-client rate limits stay in force and are counted.

    .venv/bin/python benchmarks/load.py --part mix --levels 2,4,8,16 --seconds 10
    .venv/bin/python benchmarks/load.py --part launch --levels 4,8,16 --repeat 3
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from timeit import default_timer
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dashboard import seed_programme
from lti_platforms import (
    CUSTOM,
    INSTRUCTOR,
    LEARNER,
    LTI,
    NRPS,
    Platform,
    id_token,
    postgres_database,
    register_platforms,
)

import records
from lti_tool.app import create_app
from portals import PortalSettings, add_portal
from records import Identity, Member, Tenant, make_engine, migrate

ROOT = Path(__file__).resolve().parent.parent
TANDEM = str(ROOT / ".venv" / "bin" / "tandem")
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def throwaway_database(server_url: str) -> Iterator[str]:
    with postgres_database(server_url) as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url


def process_tree_cpu(pid: int) -> float:
    """CPU seconds used so far by the live processes of ``pid``'s tree (Linux /proc)."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / TICKS
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return total
    return total + sum(process_tree_cpu(int(child)) for child in children)


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def postgres_pid(url: str) -> int | None:
    """The postmaster's pid when the PostgreSQL server runs on this machine and says where."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            folder = connection.execute(text("SELECT current_setting('data_directory')")).scalar()
        return int(Path(folder, "postmaster.pid").read_text().split()[0])
    except Exception:  # not local, not readable, not allowed: the figure is left out
        return None
    finally:
        engine.dispose()


def stop(process: subprocess.Popen) -> None:
    """Stop a server or worker; on a busy machine a graceful stop may take too long."""
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


class Site:
    """The settings shared by the seeding app, `tandem serve` and `tandem worker`."""

    def __init__(self, url: str, folder: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.server_pid: int | None = None
        self.postgres_pid = postgres_pid(url)
        self.env = {
            **os.environ,
            "TANDEM_DATABASE_URL": url,
            "TANDEM_SECRET_KEY": secrets.token_urlsafe(48),
            "TANDEM_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "TANDEM_INSTANCE_PATH": str(folder),
            "TANDEM_BASE_URL": self.base,
            # Plain http on loopback: the development switch.
            "TANDEM_ALLOW_INSECURE_URLS": "1",
            # As behind a load balancer: each simulated member's address comes in
            # X-Forwarded-For, so per-client rate limits apply per member.
            "TANDEM_PROXY_COUNT": "1",
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
        log = (Path(self.env["TANDEM_INSTANCE_PATH"]) / "server.log").open("w")
        server = subprocess.Popen(
            [TANDEM, "serve", "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers)],
            env=self.env,
            stdout=log,
            stderr=log,
        )
        self.server_pid = server.pid
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
            stop(server)
            log.close()
            errors = [line for line in Path(log.name).read_text().splitlines()
                      if re.match(r"[\w.]*(Error|Exception)\b", line)]  # fmt: skip
            for line in sorted(set(errors))[:10]:
                print(f"  server: {line}", file=sys.stderr)

    @contextmanager
    def worker(self) -> Iterator[None]:
        log = Path(self.env["TANDEM_INSTANCE_PATH"]) / "worker.log"
        with log.open("w") as out:
            process = subprocess.Popen([TANDEM, "worker"], env=self.env, stdout=out, stderr=out)
            try:
                yield
            finally:
                stop(process)
                if os.environ.get("TANDEM_BENCH_SHOW_WORKER_LOG"):
                    print(log.read_text()[-3000:], file=sys.stderr)

    def cpu(self) -> tuple[float, float | None]:
        """CPU seconds so far of the server's workers and of PostgreSQL (``None``: unknown)."""
        server = process_tree_cpu(self.server_pid) if self.server_pid else 0.0
        database = process_tree_cpu(self.postgres_pid) if self.postgres_pid else None
        return server, database


class Answer:
    """What a :class:`LightHttp` request got back (the few parts of ``requests.Response``
    the load needs)."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status_code, self.headers, self.content = status, headers, body

    @property
    def text(self) -> str:
        return self.content.decode()

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code}")


class LightHttp:
    """A browser's HTTP for one loopback site, on ``http.client``.

    ``requests`` costs the client about 3.5 ms of CPU per request, which on this
    2-core machine is taken from the server it measures; a browser's own HTTP stack runs
    on the member's computer. This one keeps cookies by name and path, sends
    ``X-Forwarded-For``, never follows redirects, and reconnects when the server closes
    (gunicorn's sync workers close after each answer).
    """

    def __init__(self, address: str) -> None:
        self.address = address
        self.cookies: dict[str, tuple[str, str]] = {}  # name -> (value, path)
        self.connection: http.client.HTTPConnection | None = None

    def clear(self, address: str) -> None:
        self.cookies.clear()
        self.address = address

    def get(self, url: str, **_: object) -> Answer:
        return self._send("GET", url, None)

    def post(self, url: str, data: dict[str, str], **_: object) -> Answer:
        return self._send("POST", url, urlencode(data).encode())

    def _send(self, method: str, url: str, body: bytes | None) -> Answer:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {"X-Forwarded-For": self.address}
        cookies = "; ".join(f"{name}={value}" for name, (value, where) in self.cookies.items()
                            if parts.path.startswith(where))  # fmt: skip
        if cookies:
            headers["Cookie"] = cookies
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(parts.netloc, timeout=30)
            try:
                self.connection.request(method, path, body=body, headers=headers)
                answer = self.connection.getresponse()
                content = answer.read()
                break
            except (ConnectionError, http.client.HTTPException):
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    raise
        if answer.getheader("Connection", "").lower() == "close":
            self.connection.close()
            self.connection = None
        for line in answer.headers.get_all("Set-Cookie") or []:
            self._keep(line)
        return Answer(answer.status, dict(answer.headers.items()), content)

    def _keep(self, line: str) -> None:
        pair, *attributes = [part.strip() for part in line.split(";")]
        name, _, value = pair.partition("=")
        flags = {k.lower(): v for k, _, v in (a.partition("=") for a in attributes)}
        if flags.get("max-age") == "0" or flags.get("expires", "").startswith("Thu, 01 Jan 1970"):
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = (value, flags.get("path") or "/")


class Browser:
    """One simulated person's browser: their own address and cookies, over a kept-alive
    connection (a fresh browser per person would only add client work)."""

    def __init__(self, address: str) -> None:
        self.http = LightHttp(address)

    def become(self, address: str) -> LightHttp:
        """Start afresh as another person: no cookies, their address."""
        self.http.clear(address)
        return self.http


def address_of(number: int) -> str:
    return f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"


def launch(
    site: Site, http: LightHttp | requests.Session, platform: Platform, sub: str, **extra: object
) -> tuple[float, float]:
    """One browser launch; returns the seconds the tool took (platform signing untimed) and
    the seconds spent signing."""
    query = urlencode(
        {"iss": platform.issuer, "client_id": platform.client_id, "login_hint": sub,
         "target_link_uri": f"{site.base}/lti/launch"})  # fmt: skip
    started = default_timer()
    login = http.get(f"{site.base}/lti/login?{query}", allow_redirects=False, timeout=30)
    took = default_timer() - started
    if login.status_code != 302:
        raise RuntimeError(f"login: {login.status_code}")
    params = parse_qs(urlsplit(login.headers["Location"]).query)
    signing = default_timer()
    token = id_token(platform, params["nonce"][0], sub, f"{site.base}/lti/launch", **extra)
    signing = default_timer() - signing
    started = default_timer()
    posted = http.post(f"{site.base}/lti/launch", data={"id_token": token,
                       "state": params["state"][0]}, allow_redirects=False, timeout=30)  # fmt: skip
    if posted.status_code != 303:
        raise RuntimeError(f"launch: {posted.status_code}")
    landing = http.get(site.base + posted.headers["Location"], timeout=30)
    took += default_timer() - started
    if landing.status_code != 200:
        raise RuntimeError(f"landing: {landing.status_code}")
    return took, signing


# ---- mix -----------------------------------------------------------------------------


def seed_mix(
    site: Site, platforms: list[Platform], n_members: int, rng: random.Random
) -> tuple[list[dict], dict[int, int]]:
    """A running programme of pairs per tenant; each member launchable as ``m<member id>``.

    Returns the people and each tenant's programme id.
    """
    people, programmes = [], {}
    per_tenant = n_members // len(platforms)
    with site.app.app_context(), records.get_database(site.app).transaction() as session:
        for platform in platforms:
            tenant_id = platform.tenant_id
            programmes[tenant_id] = seed_programme(session, tenant_id, "Load", per_tenant,
                                                   per_tenant * 2, rng)  # fmt: skip
            ids = session.scalars(select(Member.id).where(Member.tenant_id == tenant_id)).all()
            session.add_all(Identity(tenant_id=tenant_id, member_id=i, source="lti",
                                     external_id=f"m{i}") for i in ids)  # fmt: skip
            people += [{"platform": platform, "sub": f"m{i}", "address": address_of(i)}
                       for i in ids]  # fmt: skip
    return people, programmes


class Client(threading.Thread):
    """One simulated browser working through the mix until told to stop."""

    MIX = {"launch": 40, "member_page": 30, "checkin": 15, "dashboard": 15}

    def __init__(self, site: Site, people: list[dict], programmes: dict[int, int],
                 weights: dict[str, int], seed: int, stop: threading.Event) -> None:  # fmt: skip
        super().__init__(daemon=True)
        self.site, self.people, self.programmes, self.stop = site, people, programmes, stop
        self.weights = weights
        self.rng = random.Random(seed)
        self.timings: list[tuple[str, float]] = []
        self.signing = 0.0
        self.errors: list[str] = []
        self.browser = Browser(address_of(seed))
        self.member: LightHttp | None = None
        self.poster: tuple[LightHttp, str, str] | None = None
        self.coordinator: tuple[LightHttp, int] | None = None

    def run(self) -> None:
        ops, weights = zip(*self.weights.items(), strict=True)
        while not self.stop.is_set():
            op = self.rng.choices(ops, weights)[0]
            try:
                self.timings.append((op, getattr(self, op)()))
            except Exception as exc:
                self.errors.append(f"{op}: {exc}")

    def _launched(self, person: dict) -> LightHttp:
        """A browser of its own, signed in as ``person`` (set up once, untimed)."""
        browser = Browser(person["address"])
        self.signing += launch(self.site, browser.http, person["platform"], person["sub"])[1]
        return browser.http

    def launch(self) -> float:
        person = self.rng.choice(self.people)
        http = self.browser.become(person["address"])
        took, signing = launch(self.site, http, person["platform"], person["sub"])
        self.signing += signing
        return took

    def member_page(self) -> float:
        if self.member is None:
            self.member = self._launched(self.rng.choice(self.people))
        started = default_timer()
        page = self.member.get(f"{self.site.base}/me", timeout=30)
        took = default_timer() - started
        page.raise_for_status()
        return took

    def checkin(self) -> float:
        for _ in range(5):  # a member of a running pair (some pairs have closed)
            if self.poster is not None:
                break
            http = self._launched(self.rng.choice(self.people))
            page = http.get(f"{self.site.base}/checkins/", timeout=30).text
            match = re.search(r'action="/checkins/matches/(\d+)/checkins"', page)
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
            if match and csrf:
                self.poster = (http, match.group(1), csrf.group(1))
        if self.poster is None:
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
        if self.coordinator is None:
            platform = self.rng.choice(self.people)["platform"]
            programme_id = self.programmes[platform.tenant_id]
            browser = Browser(address_of(10**6 + self.rng.randrange(10**6)))
            self.signing += launch(
                self.site, browser.http, platform, f"coordinator-{self.rng.randrange(10**6)}",
                **{LTI + "roles": [INSTRUCTOR],
                   CUSTOM: {"tandem_programme_id": str(programme_id)}})[1]  # fmt: skip
            self.coordinator = (browser.http, programme_id)
        http, programme_id = self.coordinator
        started = default_timer()
        page = http.get(f"{self.site.base}/dashboard/{programme_id}", timeout=30)
        took = default_timer() - started
        page.raise_for_status()
        return took


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(q * len(ordered)) - 1)] * 1000 if ordered else float("nan")


# A launch is three requests (login, id_token post, landing page); the other kinds one.
REQUESTS_PER = {"launch": 3, "member_page": 1, "checkin": 1, "dashboard": 1}


def measure(site: Site, people: list[dict], programmes: dict[int, int], weights: dict[str, int],
            level: int, seconds: float, seed: int) -> dict[str, float]:  # fmt: skip
    """One window of ``seconds`` with ``level`` clients; the figures of that window."""
    stop = threading.Event()
    clients = [Client(site, people, programmes, weights, seed + n, stop) for n in range(level)]
    for client in clients:  # sessions for page views, check-ins, dashboards: untimed
        client.start()
    time.sleep(min(2.0, seconds / 5))  # warm up
    for client in clients:
        client.timings.clear()
        client.errors.clear()
        client.signing = 0.0
    server_0, database_0 = site.cpu()
    client_0, started = client_cpu(), default_timer()
    time.sleep(seconds)
    stop.set()
    elapsed = default_timer() - started
    server_1, database_1 = site.cpu()
    client_1 = client_cpu()
    for client in clients:
        client.join(60)
    timings = [t for c in clients for t in c.timings]
    errors = [e for c in clients for e in c.errors]
    for error in sorted(set(errors))[:5]:
        print(f"  error: {error}", file=sys.stderr)
    n_requests = sum(REQUESTS_PER[op] for op, _ in timings) or 1
    all_s = [t for _, t in timings]
    figures = {
        "requests_per_s": n_requests / elapsed,
        "launches_per_s": sum(op == "launch" for op, _ in timings) / elapsed,
        "p50_ms": percentile(all_s, 0.5),
        "p95_ms": percentile(all_s, 0.95),
        "p99_ms": percentile(all_s, 0.99),
        **{f"{op}_p95_ms": percentile([t for o, t in timings if o == op], 0.95) for op in weights},
        "errors": len(errors),
        "server_cpu_ms_per_request": (server_1 - server_0) / n_requests * 1000,
        "postgres_cpu_ms_per_request": (database_1 - database_0) / n_requests * 1000
        if database_0 is not None and database_1 is not None
        else float("nan"),
        "client_cpu_ms_per_request": (client_1 - client_0) / n_requests * 1000,
        "client_signing_ms_per_request": sum(c.signing for c in clients) / n_requests * 1000,
        "load_1min": os.getloadavg()[0],
    }
    return figures


def _line(level: int, label: str, figures: dict[str, float]) -> str:
    cells = " ".join(f"{k}={v:.0f}" if k == "errors" else f"{k}={v:.1f}"
                     for k, v in figures.items())  # fmt: skip
    return f"clients={level} {label} {cells}"


def run_mix(site: Site, args: argparse.Namespace, key: rsa.RSAPrivateKey) -> None:
    platforms = register_platforms(site.app, args.tenants, [key])
    people, programmes = seed_mix(site, platforms, args.members, random.Random(args.seed))
    weights = Client.MIX if args.part == "mix" else {"launch": 1}
    print(f"part={args.part} tenants={args.tenants} members={len(people)} "
          f"workers={args.workers} cpus={os.cpu_count()} seconds={args.seconds} "
          f"repeat={args.repeat}", flush=True)  # fmt: skip
    with site.serving(args.workers):
        for level in [int(x) for x in args.levels.split(",")]:
            windows = []
            for run in range(args.repeat):
                windows.append(measure(site, people, programmes, weights, level, args.seconds,
                                       args.seed * 10_000 + level * 100 + run * 10))  # fmt: skip
                print(_line(level, f"run={run + 1}", windows[-1]), flush=True)
            median = {k: statistics.median(w[k] for w in windows) for k in windows[0]}
            print(_line(level, "median", median), flush=True)
            if median["p95_ms"] > 250:
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
    [platform] = register_platforms(site.app, 1, [key], token_url=f"{base}/token")
    launch_times, import_times = [], []
    with site.serving(), site.worker():
        for course in range(args.courses):
            http = requests.Session()
            launch_times.append(launch(
                site, http, platform, f"teacher-{course}",
                **{LTI + "roles": [INSTRUCTOR],
                   LTI + "context": {"id": f"course-{course}", "title": f"Course {course}"},
                   NRPS: {"context_memberships_url": f"{base}/memberships/{course}",
                          "service_versions": ["2.0"]}})[0])  # fmt: skip
            answered = default_timer()
            while "Importing the course roster" in http.get(f"{site.base}/coordinator").text:
                if default_timer() - answered > 300:
                    raise RuntimeError("the import did not finish in 5 minutes")
                time.sleep(0.1)
            import_times.append(default_timer() - answered)
            for _ in range(args.relaunches):  # later launches: the import is done
                launch_times.append(launch(site, requests.Session(), platform,
                                           f"teacher-{course}",
                                           **{LTI + "roles": [INSTRUCTOR]})[0])  # fmt: skip
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
                # Each request from an address of its own, as different people's
                # browsers behind the load balancer: the per-client limit (10 a
                # minute) stays in force and costs both kinds the same.
                client = {"X-Forwarded-For": address_of(2 * i + len(into))}
                started = default_timer()
                answer = http.post(url, data={"email": address}, headers=client, timeout=30)
                took = default_timer() - started
                answer.raise_for_status()
                if i >= args.warmup:
                    into.append(took)
    k50, u50 = statistics.median(known) * 1000, statistics.median(unknown) * 1000
    print(f"email requests={len(known)}+{len(unknown)} known_p50_ms={k50:.2f} "
          f"unknown_p50_ms={u50:.2f} difference_ms={k50 - u50:+.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["mix", "launch", "roster", "email"], default="mix")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tenants", type=int, default=4)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--levels", default="2,4,8,16")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--repeat", type=int, default=1, help="windows per level (median)")
    parser.add_argument("--workers", type=int, default=4, help="tandem serve --workers")
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
            parts = {"mix": run_mix, "launch": run_mix, "roster": run_roster, "email": run_email}
            parts[args.part](site, args, key)
        finally:
            records.get_database(site.app).dispose()


if __name__ == "__main__":
    main()

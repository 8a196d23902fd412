"""Full learner launch latency with many registered platforms, on SQLite and PostgreSQL.

One launch is what a browser does: GET /lti/login (redirect to the platform), POST the
platform's signed id_token to /lti/launch (redirect), GET the landing page. The
platform's own work (signing the id_token) is not timed: it happens in the LMS.
Platform key sets are cached on their tenants, as they are after a platform's first
launch, so no HTTP leaves the process.

    python benchmarks/launch.py --platforms 1000 --launches 500
    TANDEM_TEST_POSTGRES_URL=postgresql://... python benchmarks/launch.py

Prints one line per backend: backend, platforms, launches, p50 and p95 milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from timeit import default_timer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import text
from sqlalchemy.engine import make_url

import records
from lti_tool.app import create_app
from platforms import PlatformSettings, add_platform, rotate_key
from records import Tenant, make_engine, migrate

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
N_PLATFORM_KEYS = 4  # RSA key generation is slow; platforms share a few keys, each own kid
LEARNERS_PER_PLATFORM = 30
WARMUP = 20


def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict:
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return jwk


def _register(app, n_platforms: int, keys: list[rsa.RSAPrivateKey]) -> list[dict]:  # type: ignore[no-untyped-def]
    platforms = []
    with app.app_context(), records.get_database(app).transaction() as session:
        rotate_key(session, app.extensions["tandem.secrets"])
        for number in range(n_platforms):
            issuer = f"https://lms{number}.example.edu"
            tenant = add_platform(
                session,
                PlatformSettings(
                    issuer=issuer,
                    client_id=f"client-{number}",
                    auth_login_url=f"{issuer}/auth",
                    auth_token_url=f"{issuer}/token",
                    key_set_url=f"{issuer}/jwks",
                    deployment_ids=(f"deployment-{number}",),
                    product="moodle" if number % 2 else "canvas",
                ),
            )
            kid = f"kid-{number}"
            key = keys[number % len(keys)]
            session.get(Tenant, tenant.id).key_set = {"keys": [_jwk(key, kid)]}
            platforms.append({"number": number, "issuer": issuer, "key": key, "kid": kid})
    return platforms


def _id_token(platform: dict, nonce: str, learner: int) -> str:
    now = int(time.time())
    number = platform["number"]
    claims = {
        "iss": platform["issuer"],
        "aud": f"client-{number}",
        "sub": f"user-{learner}",
        "iat": now,
        "exp": now + 300,
        "nonce": nonce,
        "given_name": f"Learner{learner}",
        "family_name": f"Platform{number}",
        "email": f"learner{learner}@lms{number}.example.edu",
        LTI + "message_type": "LtiResourceLinkRequest",
        LTI + "version": "1.3.0",
        LTI + "deployment_id": f"deployment-{number}",
        LTI + "target_link_uri": "http://localhost/lti/launch",
        LTI + "resource_link": {"id": "link-1"},
        LTI + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
        LTI + "context": {"id": "course-1", "title": "Mentoring 101"},
        LTI + "tool_platform": {"product_family_code": "moodle"},
    }
    return jwt.encode(claims, platform["key"], algorithm="RS256", headers={"kid": platform["kid"]})


def _one_launch(client, platform: dict, learner: int) -> float:  # type: ignore[no-untyped-def]
    query = urlencode(
        {
            "iss": platform["issuer"],
            "client_id": f"client-{platform['number']}",
            "login_hint": f"user-{learner}",
            "target_link_uri": "http://localhost/lti/launch",
        }
    )
    started = default_timer()
    login = client.get(f"/lti/login?{query}")
    elapsed = default_timer() - started
    params = parse_qs(urlsplit(login.headers["Location"]).query)
    token = _id_token(platform, params["nonce"][0], learner)  # the platform's work: untimed
    started = default_timer()
    launch = client.post("/lti/launch", data={"id_token": token, "state": params["state"][0]})
    landing = client.get(launch.headers["Location"])
    elapsed += default_timer() - started
    if landing.status_code != 200:
        raise RuntimeError(f"launch failed: {launch.status_code} {landing.status_code}")
    return elapsed


def run(
    url: str, args: argparse.Namespace, keys: list[rsa.RSAPrivateKey], folder: Path
) -> list[float]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    app = create_app(
        {
            "TANDEM_DATABASE_URL": url,
            "SECRET_KEY": "benchmark-secret-key-0123456789abcdefghij",
            "TANDEM_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "INSTANCE_PATH": str(folder),
            "TANDEM_BASE_URL": "http://localhost",
            "TANDEM_ALLOW_INSECURE_URLS": True,
            # One client makes every login here: lift its limit (still counted, so the
            # limiter's cost is in the figure).
            "TANDEM_RATE_LIMITS": {"lti.login": "1000000 per minute"},
        }
    )
    platforms = _register(app, args.platforms, keys)
    rng = random.Random(args.seed)
    client = app.test_client()
    timings = []
    for number in range(WARMUP + args.launches):
        platform = rng.choice(platforms)
        elapsed = _one_launch(client, platform, rng.randrange(LEARNERS_PER_PLATFORM))
        if number >= WARMUP:
            timings.append(elapsed)
    records.get_database(app).dispose()
    return timings


def _postgres_database(server_url: str) -> tuple[str, object]:
    admin_url = make_url(server_url).set(drivername="postgresql+psycopg")
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"tandem_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    return admin_url.set(database=name).render_as_string(hide_password=False), (admin, name)


def _drop(admin_and_name: object) -> None:
    admin, name = admin_and_name  # type: ignore[misc]
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--platforms", type=int, default=1000)
    parser.add_argument("--launches", type=int, default=500)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TANDEM_TEST_POSTGRES_URL"),
        help="a PostgreSQL server to create a throwaway database in (default: "
        "TANDEM_TEST_POSTGRES_URL); without one only SQLite runs",
    )
    args = parser.parse_args()
    keys = [rsa.generate_private_key(public_exponent=65537, key_size=2048)
            for _ in range(N_PLATFORM_KEYS)]  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        backends = [("sqlite", f"sqlite:///{folder}/bench.sqlite3", None)]
        if args.postgres_url:
            url, cleanup = _postgres_database(args.postgres_url)
            backends.append(("postgresql", url, cleanup))
        for backend, url, cleanup in backends:
            try:
                timings = run(url, args, keys, Path(folder))
            finally:
                if cleanup is not None:
                    _drop(cleanup)
            timings_ms = sorted(t * 1000 for t in timings)
            p95 = timings_ms[max(0, round(0.95 * len(timings_ms)) - 1)]
            print(
                f"backend={backend} platforms={args.platforms} launches={len(timings_ms)} "
                f"p50_ms={statistics.median(timings_ms):.1f} p95_ms={p95:.1f}"
            )


if __name__ == "__main__":
    main()

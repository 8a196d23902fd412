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
import os
import random
import statistics
import tempfile
from contextlib import ExitStack
from pathlib import Path
from timeit import default_timer
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric import rsa
from lti_platforms import Platform, id_token, postgres_database, register_platforms

import records
from lti_tool.app import create_app
from records import make_engine, migrate

N_PLATFORM_KEYS = 4  # RSA key generation is slow; platforms share a few keys, each own kid
LEARNERS_PER_PLATFORM = 30
WARMUP = 20


def _one_launch(client, platform: Platform, learner: int) -> float:  # type: ignore[no-untyped-def]
    query = urlencode(
        {
            "iss": platform.issuer,
            "client_id": platform.client_id,
            "login_hint": f"user-{learner}",
            "target_link_uri": "http://localhost/lti/launch",
        }
    )
    started = default_timer()
    login = client.get(f"/lti/login?{query}")
    elapsed = default_timer() - started
    params = parse_qs(urlsplit(login.headers["Location"]).query)
    token = id_token(platform, params["nonce"][0], f"user-{learner}", "http://localhost/lti/launch")
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
    platforms = register_platforms(app, args.platforms, keys)
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
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        backends = [("sqlite", f"sqlite:///{folder}/bench.sqlite3")]
        if args.postgres_url:
            backends.append(
                ("postgresql", stack.enter_context(postgres_database(args.postgres_url)))
            )
        for backend, url in backends:
            timings = run(url, args, keys, Path(folder))
            timings_ms = sorted(t * 1000 for t in timings)
            p95 = timings_ms[max(0, round(0.95 * len(timings_ms)) - 1)]
            print(
                f"backend={backend} platforms={args.platforms} launches={len(timings_ms)} "
                f"p50_ms={statistics.median(timings_ms):.1f} p95_ms={p95:.1f}"
            )


if __name__ == "__main__":
    main()

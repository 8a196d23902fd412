"""Benchmark matching on structured questionnaire instances.

Instances: tag answers from skewed (Zipf-like) distributions, learn/offer skills,
seniority, weekly availability grids in a handful of time zones, about 5%
forbidden pairs (a hash of the pair, so no 200M-entry mask is stored) and
capacity 2 per mentor. Scoring is chunked: the full matrix never exists.

Each (size, mode) runs in its own subprocess; peak memory is that process's
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (whole process: instance,
scoring chunks and solver). Timing is ``time.perf_counter`` around the solve
(scoring included, since it happens inside); the blocking-pair check is timed
separately and scans every allowed pair.

The script is not called ``matching.py``: Python puts a script's folder first on
``sys.path``, and ``import matching`` would then import the script itself. The
comparison with the PyPI ``matching`` package (a different package of the same
name) was removed so the two never share an environment; its last figures are in
the README.

    .venv/bin/python benchmarks/matching_solvers.py --sizes 1000x500,5000x2500,20000x10000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

from matching import Scorer, blocking_pairs
from matching.api import solve_source
from matching.candidates import ScoreSource

VALUES = [f"value{t}" for t in range(12)]
SKILLS = [f"skill{t}" for t in range(16)]
QUESTIONNAIRE = {
    "questions": [
        {"id": "values", "kind": "tags", "options": VALUES},
        {"id": "learn", "kind": "tags", "options": SKILLS},
        {"id": "offer", "kind": "tags", "options": SKILLS},
        {"id": "seniority", "kind": "scale", "min": 1, "max": 5},
        {"id": "when", "kind": "availability"},
    ],
    "rules": [
        {"question": "values", "rule": "same", "weight": 6},
        {"question": "learn", "against": "offer", "rule": "complement", "weight": 8},
        {"question": "seniority", "rule": "at_least", "weight": 3},
        {"question": "when", "rule": "overlap", "hours": 3, "weight": 5},
        {"question": "when", "rule": "timezone", "hours": 3, "weight": 2},
    ],
}
ZONES = np.array([-8, -5, 0, 1, 2, 5.5, 8, 10])


def people(n: int, rng: np.random.Generator, mentor: bool) -> list[dict]:
    """Answers with skewed tag popularity and block-shaped availability."""
    zipf_v = 1.0 / np.arange(1, len(VALUES) + 1) ** 1.1
    zipf_s = 1.0 / np.arange(1, len(SKILLS) + 1) ** 1.3
    out = []
    for _ in range(n):
        tz = float(rng.choice(ZONES, p=[0.15, 0.2, 0.2, 0.15, 0.1, 0.1, 0.05, 0.05]))
        days = rng.choice(7, size=rng.integers(1, 4), replace=False)
        start = int(rng.integers(7, 19))
        slots = [[int(d), h] for d in days for h in range(start, min(24, start + 3))]
        skills = list(
            rng.choice(SKILLS, size=rng.integers(1, 4), replace=False, p=zipf_s / zipf_s.sum())
        )
        ans = {
            "values": list(rng.choice(VALUES, size=3, replace=False, p=zipf_v / zipf_v.sum())),
            "seniority": int(rng.integers(3, 6) if mentor else rng.integers(1, 4)),
            "when": {"utc_offset": tz, "slots": slots},
        }
        ans["offer" if mentor else "learn"] = skills
        out.append(ans)
    return out


class Forbidden(ScoreSource):
    """A scorer with ~5% of pairs forbidden: ``(r_i + c_j) mod 2**16 < 5%`` for random r, c."""

    def __init__(self, scorer: Scorer, seed: int):
        self.scorer = scorer
        self.n, self.m = scorer.n, scorer.m
        rng = np.random.default_rng(seed + 1)
        self.r = rng.integers(0, 2**16, self.n).astype(np.uint16)
        self.c = rng.integers(0, 2**16, self.m).astype(np.uint16)

    def rows(self, idx: np.ndarray) -> np.ndarray:
        block = self.scorer.rows(idx)
        block[(self.r[idx][:, None] + self.c[None, :]) < np.uint16(3277)] = -np.inf
        return block


def worker(n: int, m: int, mode: str, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    mentees, mentors = people(n, rng, False), people(m, rng, True)
    caps = np.full(m, 2)
    t0 = time.perf_counter()
    scorer = Scorer(QUESTIONNAIRE).fit(mentees, mentors)
    source = Forbidden(scorer, seed)
    objective = "max_score" if mode == "stable" else mode.split(":")[1]
    res = solve_source(source, caps, mode=mode.split(":")[0], objective=objective)
    seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    rows, cols, _ = res.arrays()
    blocking = len(blocking_pairs(source, caps, rows, cols))
    check = time.perf_counter() - t1
    return {
        "size": f"{n}x{m}",
        "mode": mode,
        "seconds": round(seconds, 2),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "matched": len(res.pairs),
        "total": round(res.total, 1),
        "bound": None if res.bound is None else round(res.bound, 1),
        "gap_pct": None if res.gap is None else round(100 * res.gap, 4),
        "lowest": None if res.lowest is None else round(res.lowest, 2),
        "blocking": blocking,
        "check_s": round(check, 1),
        "stats": {k: v for k, v in res.stats.items() if k != "seconds"},
    }


MODES = ["assigned:max_score", "assigned:max_participation", "assigned:fair", "stable"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sizes", default="1000x500,5000x2500,20000x10000")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        size, mode = args.worker.split("/")
        n, m = map(int, size.split("x"))
        print(json.dumps(worker(n, m, mode, args.seed)))
        return
    print(
        "size         mode                        seconds  peak MB  matched  total        bound"
        "        gap %    lowest  blocking"
    )
    for size in args.sizes.split(","):
        for mode in args.modes.split(","):
            cmd = [sys.executable, __file__, "--seed", str(args.seed), "--worker", f"{size}/{mode}"]
            try:
                done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=True)
            except subprocess.TimeoutExpired:
                print(f"{size:12} {mode:27} did not finish in 600 s")
                continue
            except subprocess.CalledProcessError as exc:
                print(f"{size:12} {mode:27} failed: {exc.stderr.strip().splitlines()[-1]}")
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"{r['size']:12} {r['mode']:27} {r['seconds']:7.2f}  {r['peak_mb']:7}  "
                f"{r.get('matched', '-')!s:7}  {r['total']!s:11}  {r.get('bound')!s:11}  "
                f"{r.get('gap_pct')!s:7}  {r.get('lowest')!s:6}  {r.get('blocking', '-')!s:4}"
                f"  {r.get('stats', '')}",
                flush=True,
            )


if __name__ == "__main__":
    main()

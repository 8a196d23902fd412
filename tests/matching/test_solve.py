"""Raw-matrix solver: optimality against brute force, constraints, bound, errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from matching import InfeasibleError, MatchingError, blocking_pairs, solve, solve_peer
from matching.candidates import DenseSource

FAST = settings(max_examples=60, derandomize=True, deadline=None)


@st.composite
def instances(draw, max_n=4, max_m=3):
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(1, max_m))
    # Half-point scores are exact in the solver's thousandths, so ties are real ties.
    scores = np.array(draw(st.lists(st.integers(0, 200), min_size=n * m, max_size=n * m)))
    scores = scores.reshape(n, m) / 2.0
    caps = np.array(draw(st.lists(st.integers(0, 2), min_size=m, max_size=m)))
    forbidden = np.array(draw(st.lists(st.booleans(), min_size=n * m, max_size=n * m)))
    forbidden = forbidden.reshape(n, m) & (np.arange(n * m).reshape(n, m) % 3 == 0)
    return scores, caps, forbidden


def all_matchings(scores, caps, forbidden):
    """Every feasible assignment: each mentee picks a mentor or -1."""
    n, m = scores.shape
    for choice in itertools.product(range(-1, m), repeat=n):
        ok = all(c < 0 or not forbidden[i, c] for i, c in enumerate(choice))
        loads = np.bincount([c for c in choice if c >= 0], minlength=m)
        if ok and (loads <= caps).all():
            vals = [scores[i, c] for i, c in enumerate(choice) if c >= 0]
            yield choice, vals


def brute(scores, caps, forbidden, objective):
    best = None
    for _, vals in all_matchings(scores, caps, forbidden):
        total = sum(vals)
        if objective == "max_score":
            key = (total,)
        elif objective == "max_participation":
            key = (len(vals), total)
        else:
            key = (len(vals), min(vals) if vals else 0.0, total)
        best = key if best is None or key > best else best
    return best


def check_feasible(res, scores, caps, forbidden):
    r, c, s = res.arrays()
    assert len(set(r.tolist())) == len(r), "a mentee matched twice"
    assert (np.bincount(c, minlength=len(caps)) <= caps).all(), "capacity exceeded"
    assert not forbidden[r, c].any(), "forbidden pair matched"
    assert np.allclose(scores[r, c], s)
    assert set(r.tolist()) | {u.mentee for u in res.unmatched} == set(range(scores.shape[0]))


@FAST
@given(instances(), st.sampled_from(["max_score", "max_participation", "fair"]))
def test_assigned_matches_brute_force(inst, objective):
    scores, caps, forbidden = inst
    res = solve(scores, caps, objective=objective, forbidden=forbidden, tol=0)
    check_feasible(res, scores, caps, forbidden)
    best = brute(scores, caps, forbidden, objective)
    r, _, s = res.arrays()
    if objective == "max_score":
        got = (s.sum(),)
    elif objective == "max_participation":
        got = (len(r), s.sum())
    else:
        got = (len(r), s.min() if len(s) else 0.0, s.sum())
    assert np.allclose(got, best), (got, best)
    # The bound is an upper bound on the optimum and on what we achieved.
    assert res.bound >= best[-1] - 1e-6
    assert res.bound >= res.total - 1e-6


@FAST
@given(instances(max_n=5, max_m=3), st.booleans())
def test_stable_has_no_blocking_pair(inst, own_prefs):
    scores, caps, forbidden = inst
    rng = np.random.default_rng(int(scores.sum() * 2))
    prefs = np.round(rng.uniform(0, 100, scores.shape)) if own_prefs else None
    res = solve(scores, caps, mode="stable", forbidden=forbidden, preferences=prefs)
    check_feasible(res, scores, caps, forbidden)
    p = scores if prefs is None else prefs
    r, c, _ = res.arrays()
    partner = {int(a): int(b) for a, b in zip(r, c, strict=True)}
    held = {j: [i for i in partner if partner[i] == j] for j in range(scores.shape[1])}

    def mentee_prefers(i, j):
        if i not in partner:
            return True
        k = partner[i]
        return (p[i, j], -j) > (p[i, k], -k)

    def mentor_prefers(j, i):
        if len(held[j]) < caps[j]:
            return True
        return any((scores[i, j], -i) > (scores[x, j], -x) for x in held[j])

    for i, j in itertools.product(range(scores.shape[0]), range(scores.shape[1])):
        if forbidden[i, j] or partner.get(i) == j:
            continue
        assert not (mentee_prefers(i, j) and mentor_prefers(j, i)), f"blocking pair {(i, j)}"
    src = DenseSource(scores, forbidden)
    psrc = None if prefs is None else DenseSource(prefs, forbidden)
    assert len(blocking_pairs(src, caps, r, c, psrc)) == 0


def test_blocking_pairs_detects_an_unstable_matching():
    scores = np.array([[90.0, 10.0], [80.0, 20.0]])
    caps = np.array([1, 1])
    # Mentee 0 and mentor 0 both prefer each other to the partners given here.
    found = blocking_pairs(DenseSource(scores), caps, np.array([0, 1]), np.array([1, 0]))
    assert [tuple(x) for x in found] == [(0, 0)]


@FAST
@given(instances(max_n=6, max_m=4), st.integers(1, 3))
def test_shortlist_respects_lengths_caps_and_spread(inst, k):
    scores, caps, forbidden = inst
    res = solve(scores, caps, mode="shortlist", k=k, forbidden=forbidden, spread=1.0)
    n = scores.shape[0]
    assert len(res.shortlists) == n
    r, c, _ = res.arrays()
    assert not forbidden[r, c].any()
    total = caps.sum()
    share = np.ceil(caps * k * n / total) if total else np.zeros_like(caps)
    limit = np.minimum(np.maximum(share, np.minimum(caps, n)), n)
    assert (np.bincount(c, minlength=len(caps)) <= limit).all()
    for lst in res.shortlists:
        assert len(lst) <= k
        assert len({p.mentor for p in lst}) == len(lst)
        assert [p.score for p in lst] == sorted((p.score for p in lst), reverse=True)


def test_shortlist_spreads_a_popular_mentor():
    # Everyone likes mentor 0 best, but it has one place: it should not be on all lists.
    scores = np.tile(np.array([99.0, 50.0, 49.0, 48.0, 47.0]), (8, 1))
    res = solve(scores, np.array([1, 2, 2, 2, 2]), mode="shortlist", k=2, spread=1.0)
    appearances = np.bincount(res.arrays()[1], minlength=5)
    assert appearances[0] <= 2
    assert all(len(lst) == 2 for lst in res.shortlists)


def test_same_input_same_output():
    rng = np.random.default_rng(3)
    scores = np.round(rng.uniform(0, 100, (60, 25)))  # many ties
    caps = np.full(25, 2)
    for mode in ("assigned", "stable", "shortlist"):
        a = solve(scores, caps, mode=mode, candidates=4)
        b = solve(scores, caps, mode=mode, candidates=4)
        assert a.pairs == b.pairs and a.unmatched == b.unmatched


@pytest.mark.parametrize("objective", ["max_score", "max_participation"])
def test_pruned_candidates_still_reach_the_optimum_and_a_valid_bound(objective):
    rng = np.random.default_rng(7)
    n, m = 300, 120
    # Popular mentors: everyone's top few are the same, so top-3 pruning is not enough.
    scores = np.clip(rng.normal(50, 10, (n, m)) + np.linspace(40, 0, m)[None, :], 0, 100)
    caps = np.full(m, 2)
    res = solve(scores, caps, objective=objective, candidates=3, tol=0)
    rows, cols = linear_sum_assignment(np.repeat(scores, 2, axis=1), maximize=True)
    opt = np.repeat(scores, 2, axis=1)[rows, cols].sum()
    assert res.stats["priced_rows"] > 0  # the pruning mattered and pricing ran
    assert res.total == pytest.approx(opt, abs=0.0005 * n)
    assert res.bound >= opt - 1e-6
    assert res.gap < 1e-4
    # A looser tolerance stops earlier, but the bound stays a true bound and the
    # gap it proves is within the tolerance.
    for tol in (1e-4, 1e-2):
        loose = solve(scores, caps, objective=objective, candidates=3, tol=tol)
        assert loose.bound >= opt - 1e-6
        assert loose.total <= opt + 1e-6
        assert loose.gap <= tol
        assert loose.stats["rounds"] <= res.stats["rounds"]
        assert len(loose.pairs) == len(res.pairs)


def test_sparse_input_treats_missing_entries_as_not_candidates():
    dense = np.array([[0.0, 80.0], [70.0, 0.0]])
    res = solve(sp.csr_array(dense), [1, 1], objective="max_participation")
    assert {(p.mentee, p.mentor) for p in res.pairs} == {(0, 1), (1, 0)}
    explicit = sp.csr_array(([0.0, 80.0], ([0, 0], [0, 1])), shape=(2, 2))
    res = solve(explicit, [1, 1], objective="max_participation")
    assert {(p.mentee, p.mentor) for p in res.pairs} == {(0, 1)}
    assert [u.mentee for u in res.unmatched] == [1]


def test_rematch_holds_fixed_pairs_and_uses_their_capacity():
    scores = np.array([[90.0, 10.0], [95.0, 20.0], [50.0, 40.0]])
    res = solve(
        scores,
        [1, 2],
        fixed=[(0, 0)],
        forbidden=np.array([[False, False], [False, True], [False, False]]),
    )
    pairs = {(p.mentee, p.mentor): p.fixed for p in res.pairs}
    assert pairs[(0, 0)] is True
    assert (1, 0) not in pairs  # mentor 0's only place is held by the fixed pair
    assert pairs[(2, 1)] is False
    assert res.bound >= res.total
    only = solve(scores, [1, 2], fixed=[(0, 0)], rows=[2])
    assert [u.reason for u in only.unmatched] == ["not part of this re-match"]
    with pytest.raises(InfeasibleError, match="capacity"):
        solve(scores, [1, 2], fixed=[(0, 0), (1, 0)])


def test_many_fixed_pairs_get_their_scores(monkeypatch):
    import matching.candidates as cmod

    monkeypatch.setattr(cmod, "CHUNK_ELEMENTS", 30 * 4)  # several chunks
    rng = np.random.default_rng(8)
    scores = rng.uniform(0, 100, (200, 30))
    fixed = np.stack([rng.permutation(200)[:50], np.repeat(np.arange(25), 2)], axis=1)
    res = solve(scores, np.full(30, 3), fixed=fixed)
    held = {(p.mentee, p.mentor): p.score for p in res.pairs if p.fixed}
    assert held == {(int(i), int(j)): scores[i, j] for i, j in fixed}
    assert res.bound >= res.total


def test_min_group_size_leaves_no_small_groups():
    rng = np.random.default_rng(5)
    scores = rng.uniform(0, 100, (10, 6))
    res = solve(scores, np.full(6, 4), min_group_size=3)
    loads = np.bincount(res.arrays()[1], minlength=6)
    assert ((loads == 0) | (loads >= 3)).all()
    plain = solve(scores, np.full(6, 4))
    assert res.bound >= plain.total - 1e-6


def brute_general(w):
    n = w.shape[0]

    def best(free):
        if len(free) < 2:
            return 0.0
        i, rest = free[0], free[1:]
        out = best(rest)
        for t, j in enumerate(rest):
            if w[i, j] > 0:
                out = max(out, w[i, j] + best(rest[:t] + rest[t + 1 :]))
        return out

    return best(tuple(range(n)))


@settings(max_examples=30, derandomize=True, deadline=None)
@given(st.integers(2, 7), st.integers(0, 10_000))
def test_peer_pairs_match_brute_force(n, seed):
    rng = np.random.default_rng(seed)
    scores = np.round(rng.uniform(0, 100, (n, n)))
    res = solve_peer(scores)
    sym = (scores + scores.T) / 2
    np.fill_diagonal(sym, 0)
    assert res.total == pytest.approx(brute_general(sym))
    people = [p.mentee for p in res.pairs] + [p.mentor for p in res.pairs]
    assert len(people) == len(set(people))
    assert res.bound >= res.total - 1e-6


def test_peer_groups_cover_the_pool():
    rng = np.random.default_rng(1)
    res = solve_peer(rng.uniform(0, 100, (10, 10)), group_size=3)
    members = sorted(x for g in res.groups for x in g)
    assert members == list(range(10))
    assert all(len(g) in (3, 4) for g in res.groups)


@pytest.mark.parametrize(
    ("scores", "caps", "kwargs", "message"),
    [
        (np.zeros((3, 0)), [], {}, r"shape \(3, 0\); need one column per mentor"),
        (np.zeros(3), [1], {}, "2-D"),
        (np.array([[np.nan, 1.0]]), [1, 1], {}, "NaN"),
        (np.array([[101.0, 1.0]]), [1, 1], {}, "0-100"),
        (np.array([[-1.0, 1.0]]), [1, 1], {}, "0-100"),
        (np.ones((2, 2)), [1, -1], {}, r"capacities\[1\] is -1"),
        (np.ones((2, 2)), [1, 1, 1], {}, "one entry per mentor"),
        (np.ones((2, 2)), [1.5, 1], {}, "integers"),
        (np.ones((2, 2)), [1, 1], {"forbidden": np.zeros((2, 3), bool)}, "forbidden has shape"),
        (np.ones((2, 2)), [1, 1], {"forbidden": np.zeros((2, 2))}, "boolean"),
        (np.ones((2, 2)), [1, 1], {"mode": "lottery"}, "mode"),
        (np.ones((2, 2)), [1, 1], {"objective": "max_happiness"}, "objective"),
        (np.ones((2, 2)), [1, 1], {"mode": "shortlist", "k": 0}, "k is 0"),
        (np.ones((2, 2)), [1, 1], {"fixed": [(5, 0)]}, "fixed has a mentee index"),
        (np.ones((2, 2)), [1, 1], {"tol": -0.1}, "tol is -0.1"),
        (np.ones((2, 2)), [1, 1], {"tol": 1.0}, "tol is 1.0"),
    ],
)
def test_bad_input_gets_a_clear_value_error(scores, caps, kwargs, message):
    with pytest.raises(ValueError, match=message) as info:
        solve(scores, caps, **kwargs)
    assert isinstance(info.value, MatchingError)


@settings(max_examples=40, derandomize=True, deadline=None)
@given(st.integers(1, 12), st.integers(1, 15), st.integers(1, 16), st.integers(0, 10_000))
def test_top_k_follows_score_then_index_order(n, m, k, seed):
    from matching.candidates import top_k

    rng = np.random.default_rng(seed)
    block = rng.integers(0, 4, (n, m)).astype(np.float32)  # heavy ties
    block[rng.random((n, m)) < 0.2] = -np.inf
    rr, cc, vals, outside = top_k(block, k)
    for i in range(n):
        ok = np.nonzero(np.isfinite(block[i]))[0]
        order = ok[np.lexsort((ok, -block[i, ok]))]
        assert cc[rr == i].tolist() == order[:k].tolist()
        assert vals[rr == i].tolist() == block[i, order[:k]].tolist()
        assert outside[i] == (block[i, order[k]] if len(order) > k else -np.inf)


@pytest.mark.parametrize("sequential_below", [0, 48, 10**9])
def test_stable_rounds_and_sequential_tail_agree(monkeypatch, sequential_below):
    import matching.api as api
    import matching.stable as stable

    monkeypatch.setattr(api, "STABLE_LIST", 3)
    rng = np.random.default_rng(4)
    n, m = 400, 150
    scores = np.round(rng.uniform(0, 20, (n, m))) + np.linspace(30, 0, m)[None, :]  # ties
    forbidden = rng.random((n, m)) < 0.1
    prefs = np.round(rng.uniform(0, 100, (n, m)))
    caps = rng.integers(0, 4, m)
    monkeypatch.setattr(stable, "SEQUENTIAL_BELOW", 10**9)
    ref = [
        solve(scores, caps, mode="stable", forbidden=forbidden, preferences=p, candidates=3)
        for p in (None, prefs)
    ]
    monkeypatch.setattr(stable, "SEQUENTIAL_BELOW", sequential_below)
    for p, want in zip((None, prefs), ref, strict=True):
        res = solve(scores, caps, mode="stable", forbidden=forbidden, preferences=p, candidates=3)
        assert res.pairs == want.pairs
        assert res.stats["fetched_rows"] > 0  # lists were extended
        r, c, _ = res.arrays()
        psrc = None if p is None else DenseSource(p, forbidden)
        assert len(blocking_pairs(DenseSource(scores, forbidden), caps, r, c, psrc)) == 0


def test_fair_threshold_on_pruned_candidates_matches_the_full_graph():
    certified = 0
    for seed in range(12):
        rng = np.random.default_rng(seed)
        n, m = 40, 20
        scores = np.round(rng.uniform(0, 100, (n, m)))
        forbidden = rng.random((n, m)) < 0.5
        caps = rng.integers(1, 3, m)
        full = solve(scores, caps, objective="fair", forbidden=forbidden, candidates=None, tol=0)
        pruned = solve(scores, caps, objective="fair", forbidden=forbidden, candidates=1, tol=0)
        assert len(pruned.pairs) == len(full.pairs)
        assert pruned.lowest == full.lowest
        assert pruned.total == pytest.approx(full.total, abs=1e-6)
        assert pruned.bound >= full.total - 1e-6
        certified += pruned.stats["threshold_added_edges"] > 0
    assert certified  # the minimum-cut check had to bring in left-out pairs


def test_chunk_threads_give_the_same_candidates_cache_and_result(monkeypatch):
    import threadpoolctl

    import matching.candidates as cmod

    rng = np.random.default_rng(11)
    scores = np.round(rng.uniform(0, 100, (90, 40)))  # ties
    forbidden = rng.random((90, 40)) < 0.1
    monkeypatch.setattr(cmod, "CHUNK_ELEMENTS", 40 * 7)  # 13 chunks of 7 rows
    before = [i["num_threads"] for i in threadpoolctl.threadpool_info()]
    got = []
    for threads in (1, 2):
        monkeypatch.setattr(cmod, "THREADS", threads)
        src = DenseSource(scores, forbidden)
        cache = np.zeros((90, 40), np.float32)
        cand = cmod.build_candidates(src, 5, cache=cache)
        res = solve(scores, np.full(40, 2), forbidden=forbidden, candidates=3, tol=0)
        st = solve(scores, np.full(40, 2), forbidden=forbidden, mode="stable", candidates=3)
        chunks = [(idx.copy(), block.copy()) for idx, block in src.chunks(np.arange(0, 90, 2))]
        got.append((cand, cache, res.pairs, res.bound, st.pairs, chunks))
    (c1, k1, p1, b1, s1, ch1), (c2, k2, p2, b2, s2, ch2) = got
    for name in ("rows", "cols", "score", "outside"):
        assert np.array_equal(getattr(c1, name), getattr(c2, name))
    assert np.array_equal(k1, k2) and p1 == p2 and b1 == b2 and s1 == s2
    assert len(ch1) == len(ch2) == 7
    assert all(
        np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
        for a, b in zip(ch1, ch2, strict=True)
    )
    # BLAS is held at one thread only while a pool runs, also when a consumer
    # stops early.
    gen = DenseSource(scores, forbidden).chunks()
    next(gen)
    gen.close()
    assert [i["num_threads"] for i in threadpoolctl.threadpool_info()] == before

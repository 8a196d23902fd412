"""Questionnaire parsing, answer validation, scoring, explanations and programme kinds."""

from __future__ import annotations

import json

import numpy as np
import pytest

from matching import AnswerError, Matcher, Questionnaire, QuestionnaireError, Scorer

SKILLS = ["negotiation", "python", "leadership", "public speaking"]
DEFINITION = {
    "questions": [
        {
            "id": "values",
            "kind": "tags",
            "label": "values",
            "options": ["work-life balance", "family", "impact", "money"],
        },
        {"id": "learn", "kind": "tags", "options": SKILLS},
        {"id": "offer", "kind": "tags", "options": SKILLS},
        {"id": "track", "kind": "choice", "options": ["engineering", "design"]},
        {"id": "seniority", "kind": "scale", "min": 1, "max": 5},
        {"id": "when", "kind": "availability"},
        {"id": "langs", "kind": "languages"},
        {"id": "bio", "kind": "text"},
    ],
    "rules": [
        {
            "question": "values",
            "rule": "overlap",
            "weight": 6,
            "text": {"raised": "you both value {items}"},
        },
        {"question": "learn", "against": "offer", "rule": "complement", "weight": 8},
        {"question": "track", "rule": "same", "weight": 2},
        {"question": "seniority", "rule": "at_least", "weight": 10},
        {"question": "when", "rule": "timezone", "hours": 3, "weight": 4},
        {"question": "when", "rule": "overlap", "hours": 2, "weight": 5},
        {"question": "langs", "rule": "overlap", "weight": 10},
    ],
}


def person(rng: np.random.Generator, mentor: bool) -> dict:
    pick = lambda opts, k: list(rng.choice(opts, size=k, replace=False))  # noqa: E731
    ans = {
        "values": pick(DEFINITION["questions"][0]["options"], int(rng.integers(1, 3))),
        "track": str(rng.choice(["engineering", "design"])),
        "seniority": int(rng.integers(1, 6)),
        "when": {
            "utc_offset": float(rng.choice([-5, 0, 1, 8])),
            "slots": [[int(rng.integers(0, 3)), int(h)] for h in rng.integers(8, 12, 3)],
        },
        "langs": pick(["en", "es", "fr"], int(rng.integers(1, 3))),
        "bio": "hello",
    }
    ans["offer" if mentor else "learn"] = pick(SKILLS, int(rng.integers(1, 3)))
    return ans


@pytest.fixture
def pool():
    rng = np.random.default_rng(11)
    return [person(rng, False) for _ in range(30)], [person(rng, True) for _ in range(12)]


def test_definition_round_trips_through_json():
    q = Questionnaire.from_dict(DEFINITION)
    again = Questionnaire.from_dict(json.loads(json.dumps(q.to_dict())))
    assert again == q
    assert q.question("learn").options == tuple(SKILLS)
    assert [r.hard for r in q.rules] == [False, False, False, True, False, False, True]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["rules"].append({"question": "salary", "rule": "same", "weight": 3}),
            "unknown question 'salary'",
        ),
        (
            lambda d: d["rules"].append(
                {"question": "learn", "against": "teach", "rule": "complement", "weight": 3}
            ),
            "unknown question 'teach'",
        ),
        (
            lambda d: d["rules"].append({"question": "bio", "rule": "same", "weight": 3}),
            "cannot score question 'bio'",
        ),
        (
            lambda d: d["rules"].append({"question": "values", "rule": "same", "weight": 11}),
            "weight 11",
        ),
        (
            lambda d: d["rules"].append({"question": "when", "rule": "timezone", "weight": 1}),
            "needs 'hours'",
        ),
        (
            lambda d: d["questions"].append({"id": "values", "kind": "tags", "options": ["a"]}),
            "used more than once",
        ),
        (lambda d: d["questions"].append({"id": "x", "kind": "slider"}), "kind 'slider'"),
    ],
)
def test_bad_definitions_name_the_problem(change, message):
    d = json.loads(json.dumps(DEFINITION))
    change(d)
    with pytest.raises(QuestionnaireError, match=message):
        Questionnaire.from_dict(d)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"values": "family"}, "question 'values': need a list"),
        ({"values": ["yachts"]}, "'yachts' is not one of the options"),
        ({"track": "sales"}, "question 'track': need one of"),
        ({"seniority": "high"}, "question 'seniority': need a number 1-5"),
        ({"seniority": 9}, "need a number 1-5"),
        ({"when": {"utc_offset": 1, "slots": [[7, 9]]}}, "need \\[day 0-6, hour 0-23\\]"),
        ({"bio": 42}, "question 'bio': need text"),
        ({"shoe_size": 42}, "unknown question"),
    ],
)
def test_answers_of_the_wrong_type_get_a_clear_error(pool, answer, message):
    mentees, mentors = pool
    with pytest.raises(AnswerError, match=message) as info:
        Scorer(DEFINITION).fit([*mentees, answer], mentors)
    assert isinstance(info.value, ValueError)
    assert f"mentee {len(mentees)}" in str(info.value)


def test_scores_agree_with_explanations_and_hard_rules(pool):
    mentees, mentors = pool
    scorer = Scorer(DEFINITION).fit(mentees, mentors)
    block = scorer.score_block(np.arange(scorer.n))
    assert block.shape == (30, 12)
    for i in range(scorer.n):
        for j in range(scorer.m):
            e = scorer_explain(scorer, i, j)
            senior_ok = mentors[j]["seniority"] >= mentees[i]["seniority"]
            lang_ok = bool(set(mentors[j]["langs"]) & set(mentees[i]["langs"]))
            if senior_ok and lang_ok:
                assert e.score == pytest.approx(block[i, j], abs=1e-3)
                assert sum(f.points for f in e.factors) == pytest.approx(block[i, j], abs=0.01)
            else:
                assert block[i, j] == -np.inf and e.score is None
                assert any(f.hard and not f.passed for f in e.factors)


def scorer_explain(scorer, i, j):
    from matching import explain

    return explain(scorer, i, j)


def test_explanation_words():
    mentee = {
        "values": ["work-life balance", "family"],
        "learn": ["negotiation"],
        "seniority": 2,
        "when": {"utc_offset": 1, "slots": [[0, 9], [0, 10], [1, 9]]},
        "langs": ["en"],
        "track": "design",
        "bio": "I like maps",
    }
    mentor = {
        "values": ["work-life balance"],
        "offer": ["negotiation", "python"],
        "seniority": 4,
        "when": {"utc_offset": 0, "slots": [[0, 8], [0, 9], [1, 8]]},
        "langs": ["en", "fr"],
        "track": "engineering",
        "bio": "ex-cartographer",
    }
    m = Matcher(DEFINITION).fit([mentee], [mentor])
    e = m.explain(0, 0)
    texts = {f.question + "/" + f.rule: f.text for f in e.factors}
    assert texts["values/overlap"] == "you both value work-life balance"
    assert texts["learn/complement"] == "offers negotiation, which you want to learn"
    assert texts["when/overlap"] == "3 hours of shared availability a week"
    assert texts["track/same"] == "different track: design, engineering"
    assert {f.direction for f in e.factors if f.question == "track"} == {"lowered"}
    assert e.texts == {"bio": ("I like maps", "ex-cartographer")}
    assert m.result_.pairs[0].score == pytest.approx(e.score)


def test_matcher_respects_hard_rules_exclusions_and_capacity(pool):
    mentees, mentors = pool
    caps = [3] * 12
    excluded = [(i, (i * 5) % 12) for i in range(30)]
    for mode in ("assigned", "stable", "shortlist"):
        m = Matcher(DEFINITION, mode=mode, k=2).fit(
            mentees, mentors, capacities=caps, excluded=excluded
        )
        pairs = m.result_.pairs
        for p in pairs:
            assert mentors[p.mentor]["seniority"] >= mentees[p.mentee]["seniority"]
            assert set(mentors[p.mentor]["langs"]) & set(mentees[p.mentee]["langs"])
            assert (p.mentee, p.mentor) not in excluded
        if mode != "shortlist":
            assert max(np.bincount([p.mentor for p in pairs], minlength=12)) <= 3


def test_reverse_turns_the_seniority_rule_round(pool):
    mentees, mentors = pool
    m = Matcher(DEFINITION, kind="reverse").fit(mentees, mentors, capacities=3)
    assert m.result_.pairs
    for p in m.result_.pairs:
        assert mentees[p.mentee]["seniority"] >= mentors[p.mentor]["seniority"]


def test_flash_sessions_get_distinct_shared_hours(pool):
    mentees, mentors = pool
    m = Matcher(DEFINITION, kind="flash").fit(mentees, mentors, capacities=3)
    scorer = m.scorer_
    seen = set()
    for p in m.result_.pairs:
        assert scorer.mentees_.arrays["when"][p.mentee, p.slot]
        assert scorer.mentors_.arrays["when"][p.mentor, p.slot]
        assert (p.mentor, p.slot) not in seen
        seen.add((p.mentor, p.slot))


def test_rematch_keeps_fixed_pairs(pool):
    mentees, mentors = pool
    first = Matcher(DEFINITION).fit(mentees, mentors, capacities=3).result_
    keep = [(p.mentee, p.mentor) for p in first.pairs[:5]]
    ended = (first.pairs[5].mentee, first.pairs[5].mentor)
    again = (
        Matcher(DEFINITION)
        .fit(mentees, mentors, capacities=3, fixed=keep, excluded=[ended])
        .result_
    )
    got = {(p.mentee, p.mentor): p.fixed for p in again.pairs}
    assert all(got.get(k) is True for k in keep)
    assert ended not in got


def test_peer_and_group_programmes(pool):
    mentees, _ = pool
    peer_def = {
        "questions": DEFINITION["questions"],
        "rules": [r for r in DEFINITION["rules"] if r["rule"] not in ("at_least", "complement")],
    }
    res = Matcher(peer_def, kind="peer").fit(mentees).result_
    people = [p.mentee for p in res.pairs] + [p.mentor for p in res.pairs]
    assert len(people) == len(set(people)) and len(res.pairs) >= 10
    assert res.bound >= res.total
    groups = Matcher(peer_def, kind="peer", group_size=3).fit(mentees).result_.groups
    assert sorted(x for g in groups for x in g) == list(range(30))


def test_explain_pairs_gives_the_same_factors_as_explain(pool):
    from matching import explain, explain_pairs

    mentees, mentors = pool
    # Jaccard ("same" on tags) and both availability rules too.
    definition = json.loads(json.dumps(DEFINITION))
    definition["rules"][0]["rule"] = "same"
    for d in (DEFINITION, definition):
        scorer = Scorer(d).fit(mentees, mentors)
        rng = np.random.default_rng(2)
        rows, cols = rng.integers(0, 30, 200), rng.integers(0, 12, 200)
        batch = explain_pairs(scorer, rows, cols)
        assert len(batch) == 200
        for e, i, j in zip(batch, rows, cols, strict=True):
            one = explain(scorer, int(i), int(j))
            assert (e.mentee, e.mentor) == (i, j)
            assert e.factors == one.factors
            assert e.texts == one.texts
            if one.score is None:
                assert e.score is None
            else:
                assert e.score == pytest.approx(one.score, abs=1e-3)
    m = Matcher(DEFINITION).fit(mentees, mentors)
    got = m.explain_pairs(m.result_.pairs)
    assert [(e.mentee, e.mentor) for e in got] == [(p.mentee, p.mentor) for p in m.result_.pairs]
    assert [e.score for e in got] == pytest.approx([p.score for p in m.result_.pairs], abs=1e-3)
    with pytest.raises(IndexError):
        explain_pairs(scorer, [0, 30], [0, 0])


def test_one_shared_hour_is_singular():
    mentee = {"when": {"utc_offset": 0, "slots": [[0, 9], [0, 10]]}}
    mentor = {"when": {"utc_offset": 1, "slots": [[0, 10], [0, 12]]}}
    d = {
        "questions": [{"id": "when", "kind": "availability"}],
        "rules": [
            {"question": "when", "rule": "overlap", "hours": 2, "weight": 5},
            {"question": "when", "rule": "timezone", "hours": 0, "weight": 1},
        ],
    }
    e = Matcher(d).fit([mentee], [mentor]).explain(0, 0)
    texts = sorted(f.text for f in e.factors)
    assert texts == ["1 hour of shared availability a week", "time zones 1 hour apart"]


def test_a_pair_scores_the_same_whichever_rows_are_scored_with_it(monkeypatch):
    import matching.scoring as scoring

    rng = np.random.default_rng(2)
    mentees = [person(rng, False) for _ in range(40)]
    mentors = [person(rng, True) for _ in range(30)]
    scorer = Scorer(DEFINITION).fit(mentees, mentors)
    full = scorer.score_block(np.arange(40))
    monkeypatch.setattr(scoring, "SUB_ELEMENTS", 30 * 4)  # blocks of 4 rows, remainders of 1
    for rows in ([5], [7, 3], list(range(9)), list(range(13)), [39, 0, 17], list(range(40))):
        got = scorer.score_block(np.array(rows))
        assert np.array_equal(got, full[rows]), rows

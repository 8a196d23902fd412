"""Programme templates: good defaults a coordinator starts from.

Every template asks about values, goals, what the mentee wants to learn against what the
mentor offers, communication style and availability: deep-level fit, never job titles.
"""

from __future__ import annotations

import copy
from typing import Any

VALUES = [
    "work-life balance", "integrity", "curiosity", "community", "ambition",
    "inclusion", "craft and quality", "autonomy", "service to others", "creativity",
]  # fmt: skip
GOALS = [
    "moving into leadership", "building confidence", "professional certification",
    "growing a network", "changing career direction", "returning to work after a break",
    "starting a business",
]  # fmt: skip
SKILLS = [
    "negotiation", "public speaking", "project management", "data analysis",
    "people management", "strategic thinking", "writing for impact", "budgeting",
    "stakeholder management", "career planning",
]  # fmt: skip
DIGITAL_SKILLS = [
    "social media", "AI tools", "data visualisation", "remote collaboration tools",
    "online communities", "personal branding online", "automation",
]  # fmt: skip
STYLES = ["direct and structured", "reflective and exploratory", "informal and conversational"]
FORMATS = ["video call", "in person", "phone", "a mix"]
LANGUAGES = ["English", "French", "Welsh", "Spanish", "Polish", "Hindi", "German"]


def _q(qid: str, kind: str, prompt: str, label: str, audience: str = "both", **extra: Any):
    return {
        "id": qid,
        "kind": kind,
        "label": label,
        "prompt": prompt,
        "audience": audience,
        **extra,
    }


def _core_questions(learn: list[str], *, asymmetric: bool = True) -> list[dict[str, Any]]:
    """Questions every template shares; ``asymmetric`` splits learn/offer by role."""
    mentee, mentor = ("mentee", "mentor") if asymmetric else ("both", "both")
    return [
        _q("values", "tags", "Which values matter most to you at work? (up to three)",
           "values", options=VALUES, max_choices=3),
        _q("goals", "tags", "What do you want from this programme?", "goals",
           audience=mentee, options=GOALS),
        _q("supports_goals", "tags", "Which goals can you help someone towards?",
           "goals you can support", audience=mentor, options=GOALS),
        _q("want_to_learn", "tags", "What do you want to learn? (up to four)",
           "what you want to learn", audience=mentee, options=learn, max_choices=4),
        _q("can_offer", "tags", "What could you help someone learn?", "what you can offer",
           audience=mentor, options=learn),
        _q("style", "choice", "How do you like conversations to go?",
           "conversation style", options=STYLES),
        _q("format", "choice", "How would you rather meet?", "meeting format", options=FORMATS),
        _q("seniority", "scale", "Years in the profession (1: under 2 ... 5: over 15)",
           "experience", min=1, max=5),
        _q("availability", "availability", "When could you usually meet? (your local time)",
           "availability"),
        _q("languages", "languages", "Which languages could you meet in?", "languages",
           options=LANGUAGES),
        _q("about", "text", "A few words about you and what you hope for", "about you",
           required=False),
    ]  # fmt: skip


def _core_rules(*, seniority_weight: float = 5) -> list[dict[str, Any]]:
    return [
        {"question": "values", "rule": "overlap", "weight": 7,
         "text": {"raised": "you both value {items}"}},
        {"question": "goals", "against": "supports_goals", "rule": "complement", "weight": 6,
         "text": {"raised": "can support {items}, which you are working towards"}},
        {"question": "want_to_learn", "against": "can_offer", "rule": "complement",
         "weight": 8},
        {"question": "style", "rule": "same", "weight": 4},
        {"question": "format", "rule": "same", "weight": 2},
        {"question": "seniority", "rule": "at_least", "weight": seniority_weight},
        {"question": "availability", "rule": "overlap", "weight": 6, "hours": 2},
        {"question": "availability", "rule": "timezone", "weight": 4, "hours": 3},
        {"question": "languages", "rule": "overlap", "weight": 10},
    ]  # fmt: skip


TEMPLATES: dict[str, dict[str, Any]] = {
    "one_to_one": {
        "title": "One-to-one career mentoring, six months, check-in every four weeks",
        "name": "Career mentoring",
        "purpose": "Pair members early in their path with experienced members for six "
        "months, so that they grow in confidence, build a network and plan their next step.",
        "objectives": [
            "80% of mentees report higher confidence at close than at enrolment",
            "Every pair meets at least monthly for six months",
            "75% of pairs complete the programme",
        ],
        "kind": "one_to_one",
        "matching_mode": "assigned",
        "duration_days": 182,
        "cadence_days": 28,
        "default_capacity": 1,
        "questionnaire": {"questions": _core_questions(SKILLS), "rules": _core_rules()},
        "settings": {"response_days": 7, "shortlist_k": 3},
    },
    "group": {
        "title": "Group mentoring: one mentor, up to four mentees, six months",
        "name": "Group mentoring circles",
        "purpose": "Small circles of mentees learn from one experienced mentor and from "
        "each other.",
        "objectives": [
            "Every circle meets monthly",
            "70% of mentees report progress towards a goal at close",
        ],
        "kind": "group",
        "matching_mode": "assigned",
        "duration_days": 182,
        "cadence_days": 28,
        "default_capacity": 4,
        "questionnaire": {"questions": _core_questions(SKILLS), "rules": _core_rules()},
        "settings": {"response_days": 7, "min_group_size": 2},
    },
    "peer": {
        "title": "Peer mentoring: members at a similar stage support each other",
        "name": "Peer mentoring",
        "purpose": "Members at a similar stage pair up to share what each knows and keep "
        "each other going.",
        "objectives": ["Every pair meets at least monthly for four months"],
        "kind": "peer",
        "matching_mode": "assigned",
        "duration_days": 120,
        "cadence_days": 21,
        "default_capacity": 1,
        "questionnaire": {
            "questions": _core_questions(SKILLS, asymmetric=False),
            "rules": [r for r in _core_rules() if r["question"] != "seniority"],
        },
        "settings": {"group_size": 2},
    },
    "reverse": {
        "title": "Reverse mentoring: early-career members mentor senior leaders",
        "name": "Reverse mentoring",
        "purpose": "Early-career members share digital skills and fresh perspectives with "
        "senior leaders, and learn how leadership decisions are made.",
        "objectives": ["Every senior leader tries one new digital practice"],
        "kind": "reverse",
        "matching_mode": "assigned",
        "duration_days": 120,
        "cadence_days": 28,
        "default_capacity": 1,
        "questionnaire": {
            "questions": _core_questions(DIGITAL_SKILLS),
            "rules": _core_rules(seniority_weight=3),
        },
        "settings": {"response_days": 7},
    },
    "flash": {
        "title": "Flash mentoring: one-off conversations in a shared hour",
        "name": "Flash mentoring",
        "purpose": "One-off, one-hour conversations on a single question, booked in an hour "
        "both sides are free.",
        "objectives": ["Every mentee has one conversation within a month"],
        "kind": "flash",
        "matching_mode": "assigned",
        "duration_days": 30,
        "cadence_days": 30,
        "default_capacity": 3,
        "questionnaire": {"questions": _core_questions(SKILLS), "rules": _core_rules()},
        "settings": {},
    },
}


def template(name: str) -> dict[str, Any]:
    """A deep copy of a template, safe to change.

    Raises:
        KeyError: no template of that name.
    """
    return copy.deepcopy(TEMPLATES[name])

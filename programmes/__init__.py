"""Programme lifecycle: set-up, enrolment and questionnaires, match day, decisions.

Every function takes a SQLAlchemy session and an :class:`Actor` (tenant, member, role);
none commits. Errors are :class:`ProgrammeError` subclasses with plain messages.
"""

from .access import Actor, coordinated_programme, get_programme, operator_actor
from .choice import (
    MentorProfile,
    lapse_overdue_requests,
    open_shortlists,
    ranked_mentors,
    request_mentor,
)
from .decisions import respond
from .demo_data import DEMO_TENANT_SLUG, demo_overview, seed_demo
from .enrolment import enrol, roles_for, update_answers, withdraw
from .errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    ProgrammeError,
)
from .guides import (
    GuidePage,
    guide_page,
    guide_reads,
    mark_guide_read,
    render_markdown,
    set_guide,
)
from .matchday import (
    OBJECTIVES,
    RunSummary,
    assign_pair,
    publish,
    remove_pair,
    run_matching,
    set_locked,
    swap_mentors,
)
from .pages import DraftBoard, MemberProgramme, PairView, draft_board, member_programme
from .questionnaire import check_answers, parse_form, questions_for, time_zone_choices
from .readiness import (
    ReadinessFigures,
    ReadinessForm,
    ReadinessRule,
    Requirement,
    known_courses,
    missing_requirements,
    readiness_figures,
    readiness_form,
    require_ready,
    set_readiness,
)
from .setup import (
    ProgrammeInput,
    copy_programme,
    create_from_template,
    create_programme,
    list_programmes,
    set_status,
    update_programme,
)
from .templates import TEMPLATES

__all__ = [
    "DEMO_TENANT_SLUG",
    "OBJECTIVES",
    "TEMPLATES",
    "Actor",
    "ConflictError",
    "DraftBoard",
    "GuidePage",
    "InvalidInputError",
    "MemberProgramme",
    "MentorProfile",
    "NotFoundError",
    "PairView",
    "PermissionDeniedError",
    "ProgrammeError",
    "ProgrammeInput",
    "ReadinessFigures",
    "ReadinessForm",
    "ReadinessRule",
    "Requirement",
    "RunSummary",
    "assign_pair",
    "check_answers",
    "coordinated_programme",
    "copy_programme",
    "create_from_template",
    "create_programme",
    "demo_overview",
    "draft_board",
    "enrol",
    "get_programme",
    "guide_page",
    "guide_reads",
    "known_courses",
    "lapse_overdue_requests",
    "list_programmes",
    "mark_guide_read",
    "member_programme",
    "missing_requirements",
    "open_shortlists",
    "operator_actor",
    "parse_form",
    "publish",
    "questions_for",
    "ranked_mentors",
    "readiness_figures",
    "readiness_form",
    "remove_pair",
    "render_markdown",
    "request_mentor",
    "require_ready",
    "respond",
    "roles_for",
    "run_matching",
    "seed_demo",
    "set_guide",
    "set_locked",
    "set_readiness",
    "set_status",
    "swap_mentors",
    "time_zone_choices",
    "update_answers",
    "update_programme",
    "withdraw",
]

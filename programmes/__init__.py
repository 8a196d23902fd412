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
from .coordination import evaluation_csv, programme_dashboard, rematch_pair, resolve_alert
from .decisions import respond
from .demo_data import DEMO_TENANT_SLUG, demo_overview, seed_demo
from .enrolment import enrol, roles_for, update_answers, withdraw
from .erasure import (
    AlreadyErasedError,
    ErasureResult,
    PendingRequest,
    carry_out_request,
    erase_member,
    find_member_to_erase,
    note_request,
    pending_requests,
    request_erasure,
)
from .errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    OutOfScopeError,
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
from .mydata import SECTIONS, DataSection, member_data
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
    "SECTIONS",
    "TEMPLATES",
    "Actor",
    "AlreadyErasedError",
    "ConflictError",
    "DataSection",
    "DraftBoard",
    "ErasureResult",
    "GuidePage",
    "InvalidInputError",
    "MemberProgramme",
    "MentorProfile",
    "NotFoundError",
    "OutOfScopeError",
    "PairView",
    "PendingRequest",
    "PermissionDeniedError",
    "ProgrammeError",
    "ProgrammeInput",
    "ReadinessFigures",
    "ReadinessForm",
    "ReadinessRule",
    "Requirement",
    "RunSummary",
    "assign_pair",
    "carry_out_request",
    "check_answers",
    "coordinated_programme",
    "copy_programme",
    "create_from_template",
    "create_programme",
    "demo_overview",
    "draft_board",
    "enrol",
    "erase_member",
    "evaluation_csv",
    "find_member_to_erase",
    "get_programme",
    "guide_page",
    "guide_reads",
    "known_courses",
    "lapse_overdue_requests",
    "list_programmes",
    "mark_guide_read",
    "member_data",
    "member_programme",
    "missing_requirements",
    "note_request",
    "open_shortlists",
    "operator_actor",
    "parse_form",
    "pending_requests",
    "programme_dashboard",
    "publish",
    "questions_for",
    "ranked_mentors",
    "readiness_figures",
    "readiness_form",
    "rematch_pair",
    "remove_pair",
    "render_markdown",
    "request_erasure",
    "request_mentor",
    "require_ready",
    "resolve_alert",
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

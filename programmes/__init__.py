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
    "lapse_overdue_requests",
    "list_programmes",
    "member_data",
    "member_programme",
    "note_request",
    "open_shortlists",
    "operator_actor",
    "parse_form",
    "pending_requests",
    "programme_dashboard",
    "publish",
    "questions_for",
    "ranked_mentors",
    "rematch_pair",
    "remove_pair",
    "request_erasure",
    "request_mentor",
    "resolve_alert",
    "respond",
    "roles_for",
    "run_matching",
    "seed_demo",
    "set_locked",
    "set_status",
    "swap_mentors",
    "time_zone_choices",
    "update_answers",
    "update_programme",
    "withdraw",
]

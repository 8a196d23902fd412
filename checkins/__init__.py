"""The running relationship: agreements, check-ins, pulse surveys, alerts, reminders and
the programme dashboard.

Services take a Session and a tenant id and never commit: the view or command does.
"""

from .agreements import (
    AgreementDraft,
    get_agreement,
    is_signed,
    parse_boundaries,
    save_agreement,
    set_learning_history_consent,
    sign_agreement,
)
from .alerts import (
    excluded_pairs,
    flag_pair,
    open_alerts,
    raise_alerts,
    raise_alerts_everywhere,
    rematch_pair,
    resolve_alert,
)
from .checkins import (
    FORMATS,
    CheckinDraft,
    MentoringRecord,
    get_checkin,
    list_checkins,
    log_checkin,
    member_today,
    mentoring_record,
)
from .closing import OUTCOMES, close_pair, end_outcome
from .errors import (
    AgreementRequired,
    AlreadyAnswered,
    AlreadySigned,
    CheckinError,
    Conflict,
    InvalidInput,
    NotAllowed,
    NotFound,
    NotInProgramme,
    PairNotRunning,
    ReminderError,
)
from .health import PairState, pair_states
from .ics import meeting_invite
from .pairs import PairSide, get_programme, pair_side
from .pairstats import recount_pairs
from .progress import MAX_SCORE, ProgressPoster, progress_score
from .retention import apply_retention
from .settings import DEFAULT_THEMES, prompt_for, settings_of
from .surveys import (
    SURVEY_QUESTIONS,
    SURVEY_TITLES,
    OpenSurvey,
    SurveyAnswer,
    answer_survey,
    open_surveys,
)

__all__ = [
    "DEFAULT_THEMES",
    "FORMATS",
    "MAX_SCORE",
    "OUTCOMES",
    "SURVEY_QUESTIONS",
    "SURVEY_TITLES",
    "AgreementDraft",
    "AgreementRequired",
    "AlreadyAnswered",
    "AlreadySigned",
    "CheckinDraft",
    "CheckinError",
    "Conflict",
    "InvalidInput",
    "MentoringRecord",
    "NotAllowed",
    "NotFound",
    "NotInProgramme",
    "OpenSurvey",
    "PairNotRunning",
    "PairSide",
    "PairState",
    "ProgressPoster",
    "ReminderError",
    "SurveyAnswer",
    "answer_survey",
    "apply_retention",
    "close_pair",
    "end_outcome",
    "excluded_pairs",
    "flag_pair",
    "get_agreement",
    "get_checkin",
    "get_programme",
    "is_signed",
    "list_checkins",
    "log_checkin",
    "meeting_invite",
    "member_today",
    "mentoring_record",
    "open_alerts",
    "open_surveys",
    "pair_side",
    "pair_states",
    "parse_boundaries",
    "progress_score",
    "prompt_for",
    "raise_alerts",
    "raise_alerts_everywhere",
    "recount_pairs",
    "rematch_pair",
    "resolve_alert",
    "save_agreement",
    "set_learning_history_consent",
    "settings_of",
    "sign_agreement",
]

"""The data model of Tandem: SQLAlchemy 2.0 models, sessions, migrations and secrets.

No business rules live here beyond integrity: every tenant-owned row carries its tenant,
and the database refuses a row that points into another tenant.
"""

from .audit import record_event
from .base import Base, UTCDateTime, utcnow
from .db import Database, get_database, get_session, init_app, make_engine, parse_database_url
from .errors import ConfigurationError, DecryptionError, EncryptionKeyError, RecordsError
from .exports import csv_text, neutralise_cell
from .people import ERASED_NAME, Course, Enrolment, Identity, LearningRecord, Member
from .portals import Portal
from .programmes import Match, Participant, Programme
from .purge import AUDIT_RETENTION, purge_expired
from .recognition import Credential, GuideRead, Milestone
from .relationships import (
    Agreement,
    Alert,
    AuditEvent,
    CheckIn,
    CheckinDay,
    ErasureRequest,
    SurveyResponse,
    SurveyTally,
)
from .reminders import SentReminder
from .secrets import SecretBox, generate_key
from .sync_state import ConnectorConfig, SyncRun
from .tenancy import Deployment, ExpiringValue, Tenant, ToolKey
from .visits import HomeVisit

__all__ = [
    "AUDIT_RETENTION",
    "ERASED_NAME",
    "Agreement",
    "Alert",
    "AuditEvent",
    "Base",
    "CheckIn",
    "CheckinDay",
    "ConfigurationError",
    "ConnectorConfig",
    "Course",
    "Credential",
    "Database",
    "DecryptionError",
    "Deployment",
    "EncryptionKeyError",
    "Enrolment",
    "ErasureRequest",
    "ExpiringValue",
    "GuideRead",
    "HomeVisit",
    "Identity",
    "LearningRecord",
    "Match",
    "Member",
    "Milestone",
    "Participant",
    "Portal",
    "Programme",
    "RecordsError",
    "SecretBox",
    "SentReminder",
    "SurveyResponse",
    "SurveyTally",
    "SyncRun",
    "Tenant",
    "ToolKey",
    "UTCDateTime",
    "csv_text",
    "generate_key",
    "get_database",
    "get_session",
    "init_app",
    "make_engine",
    "neutralise_cell",
    "parse_database_url",
    "purge_expired",
    "record_event",
    "utcnow",
]

"""Connectors: turn Moodle, Canvas, REST directories and CSV files into normalised
records; ``sync`` writes them. Connectors never import Flask or ``lti_tool``."""

from .base import (
    Connector,
    CourseRecord,
    EnrolmentRecord,
    LearningFact,
    RecordProblem,
)
from .errors import (
    AsyncResultFailed,
    AuthenticationError,
    BadRequest,
    ConfigError,
    ConnectorError,
    FunctionNotAvailable,
    InvalidFile,
    InvalidRecord,
    MalformedResponse,
    NoData,
    NotFound,
    PermissionDenied,
    RateLimited,
    RefusedURL,
    ServerError,
    Unreachable,
)
from .registry import KINDS, build_connector, phases_for
from .sync import DEFAULT_BATCH_SIZE, SyncFailed, SyncResult, sync

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "KINDS",
    "AsyncResultFailed",
    "AuthenticationError",
    "BadRequest",
    "ConfigError",
    "Connector",
    "ConnectorError",
    "CourseRecord",
    "EnrolmentRecord",
    "FunctionNotAvailable",
    "InvalidFile",
    "InvalidRecord",
    "LearningFact",
    "MalformedResponse",
    "NoData",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "RecordProblem",
    "RefusedURL",
    "ServerError",
    "SyncFailed",
    "SyncResult",
    "Unreachable",
    "build_connector",
    "phases_for",
    "sync",
]

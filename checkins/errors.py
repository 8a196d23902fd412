"""Errors of the running relationship; ``lti_tool`` maps each to an HTTP status."""

from __future__ import annotations


class CheckinError(Exception):
    """Base of every error raised by ``checkins`` (HTTP 400 unless a subclass says)."""

    http_status = 400


class InvalidInput(CheckinError):
    """A value is missing or out of range; the message names it and what was expected."""

    http_status = 400


class NotFound(CheckinError):
    """The match, survey or programme is not one of this tenant's (or does not exist)."""

    http_status = 404


class NotInProgramme(NotFound):
    """The match, alert or check-in exists but belongs to another programme than the one
    in the request (a coordinator reaching past their programme); refusals are audited."""


class NotAllowed(CheckinError):
    """The member may not see or do this (not one of the pair, not the mentee, ...)."""

    http_status = 403


class Conflict(CheckinError):
    """The request clashes with what is already recorded."""

    http_status = 409


class AlreadySigned(Conflict):
    """This side of the pair has signed the agreement already."""


class AlreadyAnswered(Conflict):
    """This person has answered this survey already."""


class AgreementRequired(Conflict):
    """The programme asks for a signed agreement before check-ins."""


class PairNotRunning(Conflict):
    """The match is not accepted or active (not yet accepted, or closed)."""


class ReminderError(CheckinError):
    """Reminders cannot be sent: SMTP is not configured or refused."""

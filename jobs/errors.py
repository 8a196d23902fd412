"""What the job layer raises."""

from __future__ import annotations


class JobError(Exception):
    """A job cannot be declared, deferred, listed or retried; the message says why."""

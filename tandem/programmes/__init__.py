"""Programme lifecycle: set-up, enrolment and questionnaires, matching rounds, decisions."""

from .demo_data import DEMO_TENANT_SLUG, demo_overview, seed_demo

__all__ = ["DEMO_TENANT_SLUG", "demo_overview", "seed_demo"]

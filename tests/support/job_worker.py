"""A `tandem worker` process for the tests: ``python -m tests.support.job_worker``.

It runs the app's worker with the test job functions declared and short heartbeats,
configured by the same ``TANDEM_*`` variables as `tandem worker`.
"""

from __future__ import annotations

import jobs
import tests.support.job_tasks  # noqa: F401  (declares the test job functions)
from lti_tool.app import create_app

if __name__ == "__main__":
    app = create_app({"TESTING": True})
    jobs.run_worker(
        app.extensions["tandem.jobs"], concurrency=1, heartbeat=0.5, polling_interval=0.2
    )

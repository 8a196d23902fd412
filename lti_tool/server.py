"""Run the app under gunicorn with several workers (``tandem serve``)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

import jobs
import records


class TandemServer(BaseApplication):  # type: ignore[misc]
    """Gunicorn serving an app built (and checked) before the workers fork."""

    def __init__(self, app: Flask, options: dict[str, Any], *, with_worker: bool = False) -> None:
        self.application = app
        self.options = options
        self.with_worker = with_worker
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        # Connections opened in the master must not be shared by forked workers.
        self.cfg.set("post_fork", _after_fork_with_worker if self.with_worker else _dispose_pool)

    def load(self) -> Flask:
        return self.application


def _dispose_pool(server: Any, worker: Any) -> None:
    records.get_database(worker.app.application).engine.dispose(close=False)


def _after_fork_with_worker(server: Any, worker: Any) -> None:
    _dispose_pool(server, worker)
    runtime: jobs.Runtime = worker.app.application.extensions["tandem.jobs"]
    if runtime.on_postgresql:
        # A job worker thread in each web worker, for sites without `tandem worker`.
        jobs.start_in_thread(runtime, concurrency=1)

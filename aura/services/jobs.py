"""Scheduled work that must run once across every process sharing the database.

A job is claimed with one conditional UPDATE on its ``job_run`` row (only the process whose
update matched runs it), so two ``aura serve`` processes, a timer and a person at the command
line never run the same job twice at once or more often than it is due.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask

from aura.extensions import db
from aura.models import JobRun, utcnow
from aura.services import upserts

log = logging.getLogger(__name__)

# A claim older than this is a run that died: another process may take the job over.
STALE_CLAIM = timedelta(minutes=30)


def claim(name: str, every: timedelta, now: datetime | None = None) -> bool:
    """Take the job if it is due (its last start is older than ``every``). Commits."""
    now = now or utcnow()
    upserts.insert_new(JobRun, name=name)
    due = sa.or_(JobRun.started_at.is_(None), JobRun.started_at <= now - every)
    unfinished_dead = sa.and_(
        JobRun.finished_at.is_(None) | (JobRun.finished_at < JobRun.started_at),
        JobRun.started_at <= now - STALE_CLAIM,
    )
    claimed = db.session.execute(
        sa.update(JobRun)
        .where(JobRun.name == name, sa.or_(due, unfinished_dead))
        .values(started_at=now)
    )
    db.session.commit()
    return claimed.rowcount == 1


def finish(name: str, outcome: str, state: dict[str, Any] | None = None) -> None:
    """Record how a claimed run ended. Commits."""
    values: dict[str, Any] = {"finished_at": utcnow(), "outcome": outcome[:200]}
    if state is not None:
        values["state"] = state
    db.session.execute(sa.update(JobRun).where(JobRun.name == name).values(**values))
    db.session.commit()


def last_run(name: str) -> JobRun | None:
    return db.session.get(JobRun, name)


def run_if_due(name: str, every: timedelta, work: Callable[[], str]) -> bool:
    """Run ``work`` (which returns a one-line outcome) if this process claims the job."""
    if not claim(name, every):
        return False
    try:
        outcome = work()
    except Exception as error:
        db.session.rollback()
        log.exception("scheduled job %s failed", name)
        finish(name, f"failed: {type(error).__name__}")
        return True
    finish(name, outcome)
    return True


class Scheduler:
    """Runs the due jobs every ``interval`` seconds in a daemon thread of a serving process."""

    def __init__(
        self, app: Flask, jobs: list[tuple[str, timedelta, Callable[[], str]]], interval: float
    ) -> None:
        self.app = app
        self.jobs = jobs
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="aura-jobs", daemon=True)

    def start(self) -> Scheduler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def run_due(self) -> list[str]:
        """Run every due job once; the names of those this process ran."""
        ran = []
        with self.app.app_context():
            for name, every, work in self.jobs:
                try:
                    if run_if_due(name, every, work):
                        ran.append(name)
                except Exception:  # the database is away: try again next time
                    log.exception("could not run scheduled job %s", name)
                finally:
                    db.session.remove()
        return ran

    def _loop(self) -> None:
        while True:
            self.run_due()
            if self._stop.wait(self.interval):
                return

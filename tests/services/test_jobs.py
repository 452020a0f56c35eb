"""Scheduled jobs run once across every process sharing the database."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from aura.models import JobRun, utcnow
from aura.services import jobs


def test_a_job_is_claimed_once_until_it_is_due_again(db):
    now = utcnow()
    assert jobs.claim("sweep", timedelta(hours=1), now)
    assert not jobs.claim("sweep", timedelta(hours=1), now + timedelta(minutes=5))
    jobs.finish("sweep", "done")
    assert not jobs.claim("sweep", timedelta(hours=1), now + timedelta(minutes=59))
    assert jobs.claim("sweep", timedelta(hours=1), now + timedelta(minutes=61))


def test_a_run_that_died_is_taken_over(db):
    now = utcnow()
    assert jobs.claim("sweep", timedelta(days=1), now)
    # never finished: after the stale-claim time another process may run it
    assert not jobs.claim("sweep", timedelta(days=1), now + timedelta(minutes=10))
    assert jobs.claim("sweep", timedelta(days=1), now + jobs.STALE_CLAIM + timedelta(minutes=1))


def test_two_schedulers_run_each_due_job_once(app, db):
    ran: list[str] = []

    def work() -> str:
        ran.append("work")
        return "ok"

    table = [("work", timedelta(hours=1), work)]
    first, second = jobs.Scheduler(app, table, 300), jobs.Scheduler(app, table, 300)
    assert first.run_due() == ["work"]
    assert second.run_due() == []
    assert ran == ["work"]
    assert db.session.scalar(sa.select(JobRun.outcome).where(JobRun.name == "work")) == "ok"


@pytest.mark.server_error
def test_a_failing_job_is_recorded_and_does_not_stop_the_scheduler(app, db):
    def broken() -> str:
        raise RuntimeError("disk on fire")

    scheduler = jobs.Scheduler(app, [("broken", timedelta(hours=1), broken)], 300)
    assert scheduler.run_due() == ["broken"]
    run = jobs.last_run("broken")
    assert run.outcome == "failed: RuntimeError"

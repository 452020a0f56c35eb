"""The supervisor's backups page: the list, the age warning, and a backup started from it."""

from __future__ import annotations

import time

import sqlalchemy as sa

from aura.models import AuditEvent
from aura.services import backups
from tests.conftest import login_as
from tests.factories import make_supervisor


def test_no_backup_yet_is_a_warning(app, client, db, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "BACKUP_DIR", str(tmp_path / "backups"))
    login_as(client, make_supervisor())
    page = client.get("/supervisor/backups")
    assert page.status_code == 200 and "There is no backup yet" in page.text


def test_a_backup_started_from_the_page_is_made_checked_and_audited(
    app, client, db, tmp_path, monkeypatch, media_dir
):
    dest = tmp_path / "backups"
    monkeypatch.setitem(app.config, "BACKUP_DIR", str(dest))
    boss = make_supervisor()
    login_as(client, boss)
    started = client.post("/supervisor/backups")
    assert started.status_code == 303
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = [info for info in backups.list_backups(str(dest)) if info.verified is not None]
        if found and not backups.running(str(dest)):
            break
        time.sleep(0.2)
    (info,) = backups.list_backups(str(dest))
    assert info.complete and info.verified is True
    page = client.get("/supervisor/backups").text
    assert info.name in page and "Verified" in page and "There is no backup yet" not in page
    events = db.session.execute(
        sa.select(AuditEvent.action, AuditEvent.actor_id).where(AuditEvent.action.like("backup.%"))
    ).all()
    assert ("backup.start", boss.id) in events and ("backup.done", boss.id) in events


def test_an_old_newest_backup_is_a_warning(app, client, db, tmp_path, monkeypatch, media_dir):
    dest = tmp_path / "backups"
    monkeypatch.setitem(app.config, "BACKUP_DIR", str(dest))
    backups.create(str(dest))
    monkeypatch.setitem(app.config, "BACKUP_MAX_AGE_HOURS", 0)
    login_as(client, make_supervisor())
    page = client.get("/supervisor/backups").text
    assert "older than 0 hours" in page

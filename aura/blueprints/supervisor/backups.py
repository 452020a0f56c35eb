"""The supervisor's backups page: every backup with its age, size and verification, a warning
when the newest is too old, and a button that starts one (with verification) in the
background. Start and outcome go to the audit trail."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import Blueprint, Flask, Response, current_app, flash, url_for

from aura.errors import AuraError
from aura.extensions import db
from aura.htmx import hx_redirect, render
from aura.models import utcnow
from aura.services import backups
from aura.web import current_visitor

log = logging.getLogger(__name__)


def _dest() -> str:
    return current_app.config["BACKUP_DIR"]


def list_backups() -> Response:
    dest = _dest()
    found = backups.list_backups(dest)
    newest = next((info for info in found if info.complete), None)
    limit = timedelta(hours=current_app.config["BACKUP_MAX_AGE_HOURS"])
    age = newest.age(utcnow()) if newest else None
    return render(
        "supervisor/backups_list.html",
        "backup_status",
        dest=dest,
        backups=found,
        newest=newest,
        too_old=age is None or age > limit,
        limit_hours=current_app.config["BACKUP_MAX_AGE_HOURS"],
        running=backups.running(dest),
        now=utcnow(),
    )


def _make(app: Flask, dest: str, actor_id: int | None, client_ip: str | None) -> None:
    """In its own thread: make the backup, then verify it; both outcomes are audited."""
    with app.app_context():
        try:
            result = backups.create(dest, actor_id=actor_id, client_ip=client_ip)
            backups.verify(result.path)
        except AuraError as error:
            log.warning("backup from the supervisor page refused: %s", error.message)
        except Exception:
            log.exception("backup from the supervisor page failed")
        finally:
            db.session.remove()


def start_backup() -> Response:
    dest = _dest()
    if backups.running(dest):
        flash("A backup is already running.", "info")
        return hx_redirect(url_for("supervisor.list_backups"))
    visitor = current_visitor()
    app = current_app._get_current_object()
    worker = threading.Thread(
        target=_make, args=(app, dest, visitor.user_id, visitor.client_ip), name="aura-backup"
    )
    worker.start()
    flash("The backup has started. This page shows it when it is done and checked.", "success")
    return hx_redirect(url_for("supervisor.list_backups"))


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/backups", view_func=list_backups)
    bp.add_url_rule("/backups", view_func=start_backup, methods=["POST"], endpoint="start_backup")

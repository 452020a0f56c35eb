"""Signed-in browsers: one live session row per browser decides, and ending them signs out."""

from datetime import timedelta

import sqlalchemy as sa

from aura import sessions
from aura.models import AccessGrant, LoginSession, utcnow
from aura.services.visitors import Visitor
from tests.factories import make_user, make_video_row


def new_token(db, user, **visitor):
    token = sessions.new_session(user, Visitor(**visitor))
    db.session.commit()
    return token


def test_a_session_row_lives_until_it_is_revoked(app, db):
    user = make_user()
    token = new_token(db, user, client_ip="10.0.0.1", user_agent="Firefox")
    assert sessions.check(user.id, token)[0].id == user.id
    assert sessions.check(user.id + 1, token) is None  # another user's id
    assert sessions.check(user.id, token + "x") is None
    assert sessions.check(user.id, None) is None
    assert sessions.check(user.id, "x" * 10_000) is None
    sessions.revoke_all(user.id)
    db.session.commit()
    assert sessions.check(user.id, token) is None


def test_sessions_expire_after_idle_and_absolute_lifetimes(app, db):
    user, idle, absolute = make_user(), make_user(), make_user()
    token_idle, token_absolute, token_fresh = (
        new_token(db, idle),
        new_token(db, absolute),
        new_token(db, user),
    )
    now = utcnow()
    idle_minutes = app.config["SESSION_IDLE_MINUTES"]
    db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.user_id == idle.id)
        .values(last_seen_at=now - timedelta(minutes=idle_minutes + 1))
    )
    db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.user_id == absolute.id)
        .values(expires_at=now - timedelta(seconds=1))
    )
    db.session.commit()
    assert sessions.check(idle.id, token_idle) is None
    assert sessions.check(absolute.id, token_absolute) is None
    assert sessions.check(user.id, token_fresh) is not None
    row = db.session.scalar(sa.select(LoginSession).where(LoginSession.user_id == user.id))
    assert row.expires_at - row.created_at == app.config["PERMANENT_SESSION_LIFETIME"]


def test_a_switched_off_account_has_no_live_session(db):
    user = make_user()
    token = new_token(db, user)
    user.active = False
    db.session.commit()
    assert sessions.check(user.id, token) is None


def test_revoke_all_ends_every_session_and_the_users_grants(db):
    user, other = make_user(), make_user()
    tokens = [new_token(db, user) for _ in range(3)]
    others = new_token(db, other)
    video = make_video_row()
    for owner in (user, other):
        db.session.add(
            AccessGrant(
                token_hash=f"{owner.id:064d}",
                video_id=video.id,
                user_id=owner.id,
                session_id="b" * 64,
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
    db.session.commit()
    sessions.revoke_all(user.id)
    db.session.commit()
    assert not any(sessions.check(user.id, token) for token in tokens)
    assert sessions.check(other.id, others) is not None
    assert db.session.scalars(sa.select(AccessGrant.user_id)).all() == [other.id]
    assert sessions.live_sessions(user.id) == []
    assert len(sessions.live_sessions(other.id)) == 1


def test_only_the_token_kept_in_the_database_is_a_hash(db):
    token = new_token(db, make_user())
    stored = db.session.scalar(sa.select(LoginSession.token_hash))
    assert token not in stored and len(stored) == 64

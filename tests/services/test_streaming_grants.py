"""Access grants and play counting, at the service level."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from aura.errors import Throttled
from aura.models import AccessGrant, AuditEvent, Video, View, utcnow
from aura.services import grants, playback
from aura.services.visitors import Visitor
from tests.factories import BROWSER_UA, VIDEO_PASSWORD, make_user


@pytest.fixture
def here(app):
    with app.test_request_context():
        yield


def viewer(browser="browser-one-session-id", **kw) -> Visitor:
    return Visitor(
        browser=browser,
        client_ip=kw.pop("client_ip", "192.0.2.1"),
        user_agent=kw.pop("user_agent", BROWSER_UA),
        **kw,
    )


def test_a_token_opens_its_video_for_its_browser_only(db, make_video):
    first, second = make_video(), make_video()
    me = viewer()
    _video, token = grants.open_player(first.id, None, me)
    assert grants.check(first.id, token, me).video_id == first.id
    with pytest.raises(grants.AccessDenied):
        grants.check(second.id, token, me)
    with pytest.raises(grants.AccessDenied):
        grants.check(first.id, token, viewer("another-browser-session"))
    with pytest.raises(grants.AccessDenied):
        grants.check(first.id, token + "x", me)
    with pytest.raises(grants.AccessDenied):
        grants.check(first.id, None, me)


def test_a_signed_in_grant_is_bound_to_its_user(db, make_video):
    video = make_video()
    ann, bob = make_user(), make_user()
    _video, token = grants.open_player(video.id, None, viewer(user_id=ann.id))
    assert grants.check(video.id, token, viewer(user_id=ann.id))
    for stranger in (viewer(user_id=bob.id), viewer()):
        with pytest.raises(grants.AccessDenied):
            grants.check(video.id, token, stranger)


def test_reopening_the_player_replaces_the_grant(db, make_video):
    video = make_video()
    me = viewer()
    _video, first = grants.open_player(video.id, None, me)
    _video, second = grants.open_player(video.id, first, me)
    assert first != second
    with pytest.raises(grants.AccessDenied):
        grants.check(video.id, first, me)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessGrant)) == 1


def test_a_locked_grant_keeps_its_expiry_when_renewed(db, locked_video):
    me = viewer()
    token = grants.unlock(locked_video.id, VIDEO_PASSWORD, me)
    expires = db.session.scalar(sa.select(AccessGrant.expires_at))
    _video, renewed = grants.open_player(locked_video.id, token, me)
    db.session.expire_all()
    assert renewed != token
    assert db.session.scalar(sa.select(AccessGrant.expires_at)) == expires


def test_locked_video_without_grant_asks_for_the_password(db, locked_video):
    with pytest.raises(grants.PasswordRequired) as locked:
        grants.open_player(locked_video.id, None, viewer())
    assert not locked.value.expired


def test_expired_locked_grant_says_so(db, locked_video):
    me = viewer()
    token = grants.unlock(locked_video.id, VIDEO_PASSWORD, me)
    db.session.execute(sa.update(AccessGrant).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    with pytest.raises(grants.AccessExpired):
        grants.check(locked_video.id, token, me)
    with pytest.raises(grants.PasswordRequired) as locked:
        grants.open_player(locked_video.id, token, me)
    assert locked.value.expired


def test_use_extends_a_grant_but_not_past_its_lifetime(db, make_video, app):
    video = make_video()
    me = viewer()
    _video, token = grants.open_player(video.id, None, me)
    created = utcnow() - grants.MAX_LIFETIME + timedelta(minutes=10)
    db.session.execute(
        sa.update(AccessGrant).values(
            created_at=created, expires_at=utcnow() + timedelta(minutes=1), last_used_at=None
        )
    )
    db.session.commit()
    grants.authorize(video.id, token, me)
    db.session.expire_all()
    grant = db.session.scalar(sa.select(AccessGrant))
    assert grant.expires_at == created + grants.MAX_LIFETIME


def test_a_play_counts_once_per_grant(db, make_video):
    video = make_video()
    me = viewer()
    _video, token = grants.open_player(video.id, None, me)
    video_row, grant = grants.authorize(video.id, token, me)
    assert grants.count_play(grant, video_row, me) is True
    for _ in range(5):
        assert grants.count_play(grant, video_row, me) is False
    db.session.expire_all()
    assert db.session.get(Video, video.id).view_count == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(View)) == 1


def test_a_video_deleted_while_it_streams_counts_no_play(db, make_video):
    video = make_video()
    me = viewer()
    _video, token = grants.open_player(video.id, None, me)
    video_row, grant = grants.authorize(video.id, token, me)
    db.session.commit()  # the response is on its way; another request deletes the video
    with db.engine.begin() as other:
        other.execute(sa.delete(AccessGrant).where(AccessGrant.video_id == video.id))
        other.execute(sa.delete(Video).where(Video.id == video.id))
    assert grants.count_play(grant, video_row, me) is False
    assert db.session.scalar(sa.select(sa.func.count()).select_from(View)) == 0


def test_revoking_a_browser_session(db, make_video):
    video = make_video()
    mine, theirs = viewer("browser-one-session-id"), viewer("browser-two-session-id")
    _v, my_token = grants.open_player(video.id, None, mine)
    _v, their_token = grants.open_player(video.id, None, theirs)
    assert grants.revoke_browser(mine.browser) == 1
    db.session.commit()
    with pytest.raises(grants.AccessDenied):
        grants.check(video.id, my_token, mine)
    assert grants.check(video.id, their_token, theirs)


def test_guessing_from_many_addresses_locks_only_unknown_clients(db, locked_video, here):
    """105 wrong guesses from 21 addresses: unknown clients wait, with the true time; the
    signed-in viewer, a browser that unlocked before and the supervisor still get in."""
    for number in range(105):
        try:
            grants.unlock(locked_video.id, "guess", viewer(client_ip=f"198.51.{number % 21}.1"))
        except grants.WrongPassword:
            continue
        except Throttled:
            continue
    with pytest.raises(Throttled) as unknown:
        grants.unlock(locked_video.id, VIDEO_PASSWORD, viewer(client_ip="203.0.113.9"))
    assert 0 < unknown.value.retry_after <= 3600
    assert "Try again in about" in unknown.value.message
    member = make_user()
    assert grants.unlock(locked_video.id, VIDEO_PASSWORD, viewer(user_id=member.id))
    assert grants.unlock(
        locked_video.id, VIDEO_PASSWORD, viewer("known-browser"), known_browser=True
    )
    assert grants.unlock(locked_video.id, VIDEO_PASSWORD, viewer(supervisor=True))
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert actions.count("video.unlock_throttled") >= 1
    assert actions.count("video.unlock_throttled") < 10  # once per lockout, not per request


def test_wrong_passwords_throttle_per_address_across_videos(db, make_video, here):
    locked = [make_video(password=f"secret {n}!") for n in range(31)]
    for video in locked[:30]:
        with pytest.raises(grants.WrongPassword):
            grants.unlock(video.id, "guess", viewer())
    with pytest.raises(Throttled):
        grants.unlock(locked[30].id, "secret 30!", viewer())
    assert grants.unlock(locked[30].id, "secret 30!", viewer(client_ip="192.0.2.200"))


def test_a_signed_in_viewer_is_limited_per_account(db, locked_video, here):
    member = make_user()
    for number in range(10):
        with pytest.raises(grants.WrongPassword):
            grants.unlock(
                locked_video.id, "guess", viewer(user_id=member.id, client_ip=f"10.0.0.{number}")
            )
    with pytest.raises(Throttled):
        grants.unlock(locked_video.id, VIDEO_PASSWORD, viewer(user_id=member.id))
    # Their guesses held nobody else up.
    assert grants.unlock(locked_video.id, VIDEO_PASSWORD, viewer(client_ip="192.0.2.99"))


def test_progress_rules(db, make_video):
    video = make_video()
    user = make_user()
    me = viewer(user_id=user.id)
    _v, token = grants.open_player(video.id, None, me)
    assert playback.record(video.id, token, me, "2", "100") is None
    assert playback.resume_position(user.id, video.id) == 0
    playback.record(video.id, token, me, "40", "100")
    assert playback.resume_position(user.id, video.id) == 40
    items = playback.continue_watching(user.id)
    assert [item.video.id for item in items] == [video.id] and items[0].percent == 40
    playback.record(video.id, token, me, "2", "100")  # went back to the start: nothing to resume
    assert playback.resume_position(user.id, video.id) == 0
    assert playback.continue_watching(user.id) == []
    playback.record(video.id, token, me, "91", "100")
    progress = playback.record(video.id, token, me, "99", "100")
    assert progress.watched and playback.resume_position(user.id, video.id) == 0
    assert playback.continue_watching(user.id) == []
    playback.record(video.id, token, me, "200", "100")  # past the end is the end
    assert playback.resume_position(user.id, video.id) == 0

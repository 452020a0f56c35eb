"""Film views written behind the requests: counted as if written one by one, soon, and not
lost while the database is away."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from aura import create_app
from aura.models import DailyVisit, FilmHour, Movie, TrafficDay, TrafficHour, View, utcnow
from aura.services import analytics
from aura.services.analytics import Hit
from aura.services.visitors import Visitor
from tests.conftest import AuraClient, _test_settings
from tests.factories import BROWSER_UA, make_movie, make_user

ANNE = Visitor(client_ip="203.0.113.7", user_agent=BROWSER_UA)
BOB = Visitor(client_ip="203.0.113.8", user_agent=BROWSER_UA)


def deferred_app(app, seconds: float):
    """An app on the same database whose film views wait ``seconds`` for the writer."""
    made = create_app({**_test_settings(app.instance_path), "VIEW_FLUSH_SECONDS": seconds})
    made.test_client_class = AuraClient
    return made


def everything_counted(db) -> dict:
    """Every rollup and score the views moved, to compare two ways of writing them."""
    tables = {
        "traffic": sa.select(
            TrafficHour.hour, TrafficHour.views, TrafficHour.plays, TrafficHour.bots
        ),
        "days": sa.select(TrafficDay.day, TrafficDay.visitors),
        "films": sa.select(FilmHour.movie_id, FilmHour.views, FilmHour.visitors),
        "visits": sa.select(DailyVisit.subject, DailyVisit.visitor),
        "scores": sa.select(Movie.id, Movie.view_count, Movie.popular_score, Movie.trending_score),
        "views": sa.select(View.movie_id, View.visitor, View.bot, View.client_ip, View.user_id),
    }

    def same(value):  # sums in another order differ in the last bits of a float
        return float(f"{value:.9g}") if isinstance(value, float) else value

    return {
        name: sorted((tuple(map(same, row)) for row in db.session.execute(stmt)), key=repr)
        for name, stmt in tables.items()
    }


def _wipe_counts(db) -> None:
    for model in (View, TrafficHour, TrafficDay, FilmHour, DailyVisit):
        db.session.execute(sa.delete(model))
    db.session.execute(sa.update(Movie).values(view_count=0, popular_score=1.0, trending_score=0.0))
    db.session.commit()


def test_a_batch_counts_what_the_same_views_one_by_one_count(db):
    films = [make_movie(), make_movie()]
    user = make_user()
    now = utcnow()
    visitors = [ANNE] * 12 + [
        BOB,
        Visitor(user_id=user.id, client_ip="10.0.0.1", user_agent=BROWSER_UA),
    ]
    visitors += [Visitor(user_id=user.id, client_ip="10.9.9.9", user_agent=BROWSER_UA)]
    visitors += [Visitor(client_ip="192.0.2.1", user_agent="curl/8.5")]
    hits = [
        Hit("detail", now + timedelta(minutes=5 * n), visitor, movie_id=films[n % 2].id)
        for n, visitor in enumerate(visitors)
    ]
    for hit in hits:
        analytics.count([hit])
    db.session.commit()
    one_by_one = everything_counted(db)
    _wipe_counts(db)
    analytics.count(hits)
    db.session.commit()
    assert everything_counted(db) == one_by_one
    assert sum(row[1] for row in one_by_one["days"]) == 3  # Anne, Bob, the user


def test_a_film_page_is_counted_once_the_writer_has_written(app, db):
    film = make_movie()
    deferred = deferred_app(app, 60.0)
    client = deferred.test_client()
    for _ in range(3):
        assert client.get(f"/movies/{film.id}").status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(View)) == 0
    with deferred.app_context():
        assert len(analytics.pending_views(deferred)) == 3
        assert analytics.flush() == 3
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.sum(TrafficHour.views))) == 3
    assert db.session.scalar(sa.select(sa.func.sum(TrafficDay.visitors))) == 1


def test_the_writer_writes_on_its_own(app, db):
    film = make_movie()
    deferred = deferred_app(app, 0.05)
    deferred.test_client().get(f"/movies/{film.id}")
    written = threading.Event()
    for _ in range(200):  # a bound against a hang, not a speed requirement
        if db.session.scalar(sa.select(sa.func.count()).select_from(View)):
            written.set()
            break
        db.session.rollback()
        threading.Event().wait(0.05)
    assert written.is_set()


def test_views_of_a_film_deleted_meanwhile_are_dropped_and_the_rest_written(app, db):
    kept, gone = make_movie("Kept"), make_movie("Gone")
    deferred = deferred_app(app, 60.0)
    client = deferred.test_client()
    client.get(f"/movies/{kept.id}")
    client.get(f"/movies/{gone.id}")
    db.session.delete(gone)
    db.session.commit()
    with deferred.app_context():
        assert analytics.flush() == 1
    assert db.session.scalars(sa.select(View.movie_id)).all() == [kept.id]


@pytest.mark.server_error
def test_views_wait_while_the_database_is_away(app, db, monkeypatch):
    film = make_movie()
    deferred = deferred_app(app, 60.0)
    deferred.test_client().get(f"/movies/{film.id}")
    real_count = analytics.count

    def away(hits):
        raise sa.exc.OperationalError("INSERT", {}, Exception("the database is away"))

    monkeypatch.setattr(analytics, "count", away)
    with deferred.app_context():
        assert analytics.flush() == 0
        assert len(analytics.pending_views(deferred)) == 1
        monkeypatch.setattr(analytics, "count", real_count)
        assert analytics.flush() == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(View)) == 1


def test_the_flush_interval_setting(monkeypatch):
    from config import load_config

    monkeypatch.delenv("AURA_VIEW_FLUSH_SECONDS", raising=False)
    assert load_config("production").VIEW_FLUSH_SECONDS == 1.0
    assert load_config("testing").VIEW_FLUSH_SECONDS == 0.0
    monkeypatch.setenv("AURA_VIEW_FLUSH_SECONDS", "90")
    with pytest.raises(SystemExit, match="AURA_VIEW_FLUSH_SECONDS must be between"):
        load_config("development")

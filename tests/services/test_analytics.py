"""What the numbers mean: views, plays, visitors once a day, bots logged but not counted."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from aura.models import DailyVisit, FilmHour, Movie, TrafficDay, TrafficHour, Video, VideoHour, View
from aura.services import analytics, scores
from aura.services.visitors import Visitor
from tests.factories import BROWSER_UA, make_movie, make_user, make_video_row

ANNE = Visitor(client_ip="203.0.113.7", user_agent=BROWSER_UA)
BOB = Visitor(client_ip="203.0.113.8", user_agent=BROWSER_UA)


def total(db, column):
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(column), 0)))


def test_reloading_a_film_twelve_times_is_twelve_views_and_one_visitor(db):
    film = make_movie()
    for _ in range(12):
        analytics.film_viewed(film.id, ANNE)
    assert total(db, FilmHour.views) == 12 and total(db, TrafficHour.views) == 12
    assert total(db, FilmHour.visitors) == 1 and total(db, TrafficDay.visitors) == 1
    db.session.refresh(film)
    assert film.view_count == 1  # what Popular and Trending count
    assert db.session.scalar(sa.select(sa.func.count()).select_from(View)) == 12


def test_reloading_does_not_move_a_film_up_trending(db, client):
    reloaded, liked = make_movie("Reloaded"), make_movie("Liked")
    scores.recompute_trending()
    for _ in range(12):
        client.get(f"/movies/{reloaded.id}")  # one browser, twelve times
    for n in range(2):
        analytics.film_viewed(liked.id, Visitor(client_ip=f"198.51.100.{n}", user_agent=BROWSER_UA))
    db.session.expire_all()
    assert (
        db.session.get(Movie, liked.id).trending_score
        > db.session.get(Movie, reloaded.id).trending_score
    )
    row = client.get("/rows/trending").get_data(as_text=True)
    assert row.index("Liked") < row.index("Reloaded")


def test_a_signed_in_user_is_one_visitor_from_any_address(db):
    film, user = make_movie(), make_user()
    analytics.film_viewed(
        film.id, Visitor(user_id=user.id, client_ip="10.0.0.1", user_agent="x Firefox")
    )
    analytics.film_viewed(
        film.id, Visitor(user_id=user.id, client_ip="10.9.9.9", user_agent=BROWSER_UA)
    )
    analytics.film_viewed(film.id, BOB)
    assert total(db, TrafficDay.visitors) == 2
    assert set(db.session.scalars(sa.select(View.visitor))) >= {f"u{user.id}"}


@pytest.mark.parametrize(
    "agent",
    [
        "Googlebot/2.1 (+http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "curl/8.5.0",
        "python-requests/2.32",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/131.0 Safari/537.36",
        "",
        None,
    ],
)
def test_bots_are_logged_and_marked_but_counted_nowhere(db, agent):
    film = make_movie()
    analytics.film_viewed(film.id, Visitor(client_ip="192.0.2.1", user_agent=agent))
    view = db.session.scalar(sa.select(View))
    assert view.bot is True and view.visitor is None
    assert total(db, TrafficHour.bots) == 1
    assert total(db, TrafficHour.views) == 0 and total(db, FilmHour.views) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DailyVisit)) == 0
    db.session.refresh(film)
    assert film.trending_score == 0 and film.view_count == 0


def test_visitor_hashes_use_a_salt_that_changes_every_day(db):
    today, tomorrow = date(2026, 12, 1), date(2026, 12, 2)
    first, again, next_day = (
        analytics.visitor_key(ANNE, today),
        analytics.visitor_key(ANNE, today),
        analytics.visitor_key(ANNE, tomorrow),
    )
    assert first == again and first != next_day
    assert first.startswith("h") and "203.0.113.7" not in first
    assert analytics.visitor_key(BOB, today) != first


def test_a_play_counts_for_the_video_and_its_film(db):
    film = make_movie()
    video = make_video_row(movie=film)
    for _ in range(3):
        analytics.video_played(video.id, film.id, ANNE)
    db.session.commit()
    assert total(db, VideoHour.plays) == 3 and total(db, VideoHour.visitors) == 1
    assert total(db, FilmHour.plays) == 3 and total(db, FilmHour.visitors) == 1
    assert total(db, TrafficHour.plays) == 3
    db.session.expire_all()
    assert db.session.get(Video, video.id).view_count == 1
    assert db.session.get(Movie, film.id).view_count == 1


def test_rollups_are_per_hour(db, monkeypatch):
    film = make_movie()
    base = analytics.utcnow().replace(minute=10)
    for minutes in (0, 30, 70):
        monkeypatch.setattr(analytics, "utcnow", lambda m=minutes: base + timedelta(minutes=m))
        analytics.film_viewed(film.id, ANNE)
    hours = db.session.execute(
        sa.select(FilmHour.hour, FilmHour.views).order_by(FilmHour.hour)
    ).all()
    assert [views for _hour, views in hours] == [2, 1]
    assert all(hour.minute == 0 for hour, _views in hours)

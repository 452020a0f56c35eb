"""What each dashboard figure means, tested against its definition.

Views and plays are recorded the way the site records them (``analytics``); the dashboard
reads only the rollups, so its figures must survive the purge of raw views.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from aura.blueprints.supervisor import exports
from aura.errors import Invalid
from aura.extensions import cache
from aura.models import (
    AccessGrant,
    AuditEvent,
    PlaybackProgress,
    Rating,
    SyncRun,
    TrafficHour,
    View,
    utcnow,
)
from aura.services import analytics, audit, charts, dashboard, retention
from aura.services.backups import BackupInfo
from aura.services.dashboard import Counts
from aura.services.visitors import Visitor
from tests.factories import BROWSER_UA, make_movie, make_user, make_video_row

ANNE = Visitor(client_ip="203.0.113.7", user_agent=BROWSER_UA)
BOB = Visitor(client_ip="203.0.113.8", user_agent=BROWSER_UA)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.fixture
def at(monkeypatch):
    """Record views as if at a chosen moment: ``at(datetime)``."""

    def move(moment: datetime) -> None:
        monkeypatch.setattr(analytics, "utcnow", lambda: moment)

    return move


# -- visitors, views, bots ------------------------------------------------------------------------


def test_one_visitor_reloading_twelve_times_is_twelve_views_and_one_visitor(db):
    film = make_movie()
    for _ in range(12):
        analytics.film_viewed(film.id, ANNE)
    figures = dashboard.stats()
    assert figures.views == Counts(12, 12, 12)
    assert figures.visitors == Counts(1, 1, 1)
    assert figures.signed_in_today == 0


def test_a_signed_in_user_from_two_addresses_is_one_visitor(db):
    film, user = make_movie(), make_user()
    analytics.film_viewed(
        film.id, Visitor(user_id=user.id, client_ip="10.0.0.1", user_agent=FIREFOX)
    )
    analytics.film_viewed(
        film.id, Visitor(user_id=user.id, client_ip="198.51.100.4", user_agent=BROWSER_UA)
    )
    figures = dashboard.stats()
    assert figures.views.today == 2
    assert figures.visitors.today == 1 and figures.signed_in_today == 1


def test_two_anonymous_visitors_are_two(db):
    film = make_movie()
    analytics.film_viewed(film.id, ANNE)
    analytics.film_viewed(film.id, BOB)
    assert dashboard.stats().visitors.today == 2


def test_bots_are_logged_and_marked_but_not_counted(db):
    film = make_movie()
    for agent in ("Googlebot/2.1 (+http://www.google.com/bot.html)", "curl/8.5.0", None):
        analytics.film_viewed(film.id, Visitor(client_ip="192.0.2.1", user_agent=agent))
    figures = dashboard.stats()
    assert figures.bots == Counts(3, 3, 3)
    assert figures.views == Counts(0, 0, 0) and figures.visitors == Counts(0, 0, 0)
    assert dashboard.top_films(dashboard.window("30d")) == []
    logged = dashboard.view_log(dashboard.log_filters({})).page.items
    assert len(logged) == 3 and all(item.view.bot for item in logged)
    people = dashboard.view_log(dashboard.log_filters({"bots": "no"})).page.items
    assert people == []


def test_over_seven_and_thirty_days_visitors_are_visitor_days(db, at):
    film = make_movie()
    now = utcnow()
    for days_ago in (0, 3, 20, 40):
        at(now - timedelta(days=days_ago))
        analytics.film_viewed(film.id, ANNE)
    figures = dashboard.stats(now)
    # The same person on three days: nobody can be followed across days, so 3 visitor-days.
    assert figures.visitors == Counts(1, 2, 3)
    assert figures.views == Counts(1, 2, 3)


def test_the_30_day_figures_survive_a_purge_of_raw_views(app, db, at, monkeypatch):
    film = make_movie("Kept")
    video = make_video_row(movie=film)
    now = utcnow()
    at(now - timedelta(days=12))
    for visitor in (ANNE, BOB, ANNE):
        analytics.film_viewed(film.id, visitor)
    analytics.video_played(video.id, film.id, BOB)
    db.session.commit()
    span = dashboard.window("30d")
    before = (
        dashboard.stats(now),
        dashboard.site_days(now.date()),
        dashboard.top_films(span),
        dashboard.top_videos(span),
        dashboard.film_stats(film.id, span).days,
    )
    monkeypatch.setitem(app.config, "VIEW_RETENTION_DAYS", 7)
    assert retention.purge(now).views == 4
    assert db.session.scalar(sa.select(sa.func.count()).select_from(View)) == 0
    after = (
        dashboard.stats(now),
        dashboard.site_days(now.date()),
        dashboard.top_films(span),
        dashboard.top_videos(span),
        dashboard.film_stats(film.id, span).days,
    )
    assert after[0].views == before[0].views == Counts(0, 0, 3)
    assert after[0].visitors == before[0].visitors == Counts(0, 0, 2)
    assert after[0].plays == Counts(0, 0, 1)
    assert after[1:] == before[1:]
    assert [top.title for top in after[2]] == ["Kept"]


# -- watching now ---------------------------------------------------------------------------------


def _grant(video, *, used: datetime | None, browser: str, user=None) -> None:
    from aura.extensions import db

    db.session.add(
        AccessGrant(
            token_hash=uuid.uuid4().hex,
            video_id=video.id,
            user_id=user.id if user else None,
            session_id=browser,
            expires_at=utcnow() + timedelta(hours=1),
            last_used_at=used,
        )
    )
    db.session.commit()


def test_watching_now_is_browsers_whose_player_reported_in_five_minutes(db):
    first, second = make_video_row(title="One"), make_video_row(title="Two")
    ann, bea = make_user(), make_user()
    now = utcnow()
    _grant(first, used=now - timedelta(minutes=1), browser="b1")
    _grant(second, used=now - timedelta(minutes=2), browser="b1")  # the same browser, twice
    _grant(first, used=now - timedelta(minutes=4), browser="b2", user=ann)
    _grant(first, used=now - timedelta(minutes=6), browser="b3")  # stopped: too long ago
    _grant(first, used=None, browser="b4")  # opened the player, never streamed
    # Bea's position was saved a minute ago (her grant's touch is older than its minute).
    db.session.add(
        PlaybackProgress(
            user_id=bea.id,
            video_id=first.id,
            position_seconds=40,
            duration_seconds=100,
            updated_at=now - timedelta(minutes=1),
        )
    )
    db.session.add(
        PlaybackProgress(
            user_id=ann.id,
            video_id=second.id,
            position_seconds=40,
            duration_seconds=100,
            updated_at=now - timedelta(hours=1),
        )
    )
    db.session.commit()
    watching = dashboard.watching_now(now)
    assert (watching.browsers, watching.signed_in) == (3, 2)
    assert dashboard.watching_now(now + timedelta(minutes=10)) == dashboard.Watching(0, 0)


# -- the rest of the live block -------------------------------------------------------------------


def test_throttles_today_count_each_lockout_once(db):
    for action in ("login.throttled", "login.throttled", "video.unlock_throttled"):
        audit.record(action, target="x")
    for _ in range(5):
        audit.record("login.failure", target="x")
    yesterday = audit.record("login.throttled", target="x")
    yesterday.at = utcnow() - timedelta(days=1, hours=1)
    db.session.commit()
    figures = dashboard.stats()
    assert figures.throttled_sign_ins_today == 2
    assert figures.video_lockouts_today == 1


def test_users_hidden_titles_ratings_and_reviews_today(db):
    films = [make_movie(), make_movie(hidden=True), make_movie(hidden=True)]
    users = [make_user(), make_user(), make_user(role="supervisor")]
    db.session.add_all(
        [
            Rating(user_id=users[0].id, movie_id=films[0].id, score=7),
            Rating(user_id=users[1].id, movie_id=films[0].id, score=9, review="Loved it"),
            Rating(user_id=users[2].id, movie_id=films[0].id, score=3, review=""),
            Rating(
                user_id=users[0].id,
                movie_id=films[1].id,
                score=5,
                review="Old",
                created_at=utcnow() - timedelta(days=2),
            ),
        ]
    )
    db.session.commit()
    figures = dashboard.stats()
    assert (figures.users, figures.supervisors, figures.hidden_titles) == (3, 1, 2)
    assert (figures.ratings_today, figures.reviews_today) == (3, 1)


def test_the_last_tmdb_sync_or_that_tmdb_is_not_configured(app, db, monkeypatch):
    figures = dashboard.stats()
    assert figures.sync == dashboard.SyncStatus(configured=False, last=None)
    db.session.add(SyncRun(kind="full", status="partial", added=3, updated=4, failed=1))
    db.session.commit()
    monkeypatch.setitem(app.config, "TMDB_API_KEY", "a-key")
    figures = dashboard.stats()
    assert figures.sync.configured
    assert (figures.sync.last.status, figures.sync.last.added, figures.sync.last.failed) == (
        "partial",
        3,
        1,
    )


def _backup(name: str, created: datetime | None, complete: bool = True, verified=None):
    return BackupInfo(
        name=name,
        path=f"/backups/{name}",
        created_at=created,
        complete=complete,
        problem=None if complete else "unfinished",
        size=10,
        files=2,
        database_kind="sqlite",
        aura_version="0.1.0",
        verified=verified,
        verified_at=None,
        verify_reason=None,
    )


def test_no_backups_yet_is_a_warning(app, db, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "BACKUP_DIR", str(tmp_path / "none-here"))
    status = dashboard.stats().backup
    assert status.newest is None and status.warning == "No backups yet."


def test_a_real_backup_is_fresh_then_old_past_the_limit(app, db, tmp_path, monkeypatch, media_dir):
    from aura.services import backups

    monkeypatch.setitem(app.config, "BACKUP_DIR", str(tmp_path / "backups"))
    monkeypatch.setitem(app.config, "BACKUP_MAX_AGE_HOURS", 26)
    backups.create()
    now = utcnow()
    fresh = dashboard.backup_status(now)
    assert fresh.newest is not None and fresh.warning is None
    assert fresh.age < timedelta(minutes=5)
    late = dashboard.backup_status(now + timedelta(hours=27))
    assert late.warning == "The newest backup is older than 26 hours."
    assert late.age_words.startswith("1 day 3 hours")


def test_the_newest_finished_backup_counts_and_the_folder_is_read_once_a_minute(db, monkeypatch):
    now = datetime(2026, 11, 30, 12, 0, 30, tzinfo=UTC)
    reads = []

    def listed():
        reads.append(1)
        return [
            _backup("unfinished", now - timedelta(minutes=1), complete=False),
            _backup("yesterday", now - timedelta(hours=20), verified=False),
            _backup("older", now - timedelta(days=3), verified=True),
        ]

    monkeypatch.setattr(dashboard.backups, "list_backups", listed)
    status = dashboard.backup_status(now)
    assert status.newest.name == "yesterday" and status.age == timedelta(hours=20)
    assert status.warning == "The newest backup failed its verification."
    dashboard.backup_status(now + timedelta(seconds=20))
    assert len(reads) == 1  # the same minute
    dashboard.backup_status(now + timedelta(minutes=1))
    assert len(reads) == 2


def test_an_unreadable_backup_folder_is_a_warning_not_an_error(db, monkeypatch):
    def refused():
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(dashboard.backups, "list_backups", refused)
    assert "cannot be read" in dashboard.backup_status().warning


def test_the_live_block_is_shared_for_a_few_seconds(db):
    film = make_movie()
    first = dashboard.live_stats()
    analytics.film_viewed(film.id, ANNE)
    assert dashboard.live_stats() == first  # served from the cache
    cache.delete(dashboard.STATS_KEY)
    assert dashboard.live_stats().views.today == 1


# -- windows --------------------------------------------------------------------------------------

TODAY = date(2026, 11, 30)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, ("7d", date(2026, 11, 24), TODAY)),
        ({"kind": "today"}, ("today", TODAY, TODAY)),
        ({"kind": "30d"}, ("30d", date(2026, 11, 1), TODAY)),
        (
            {"kind": "custom", "start": "2026-01-01", "end": "2026-01-31"},
            ("custom", date(2026, 1, 1), date(2026, 1, 31)),
        ),
        ({"start": "2025-12-01", "end": "2026-11-30"}, ("custom", date(2025, 12, 1), TODAY)),
        ({"kind": "7d", "start": "junk"}, ("7d", date(2026, 11, 24), TODAY)),
    ],
)
def test_windows(args, expected):
    span = dashboard.window(args.get("kind"), args.get("start"), args.get("end"), now=TODAY)
    assert (span.kind, span.start, span.end) == expected
    assert span.end_at - span.start_at == timedelta(days=span.days)


@pytest.mark.parametrize(
    ("kind", "start", "end", "field", "words"),
    [
        ("custom", "2026-01-01", "2026-12-01", "end", "in the future"),
        ("custom", "2026-11-10", "2026-11-01", "start", "after the end date"),
        ("custom", "2024-01-01", "2026-11-30", "start", "at most 366 days"),
        ("custom", "1999-12-31", "2000-01-02", "start", "before the year 2000"),
        ("custom", "0001-01-01", "0001-01-02", "start", "before the year 2000"),
        ("custom", "2026-02-30", "2026-03-01", "start", "YYYY-MM-DD"),
        ("custom", "٢٠٢٦-٠١-٠١", "2026-01-02", "start", "YYYY-MM-DD"),
        ("custom", "2026-01-01T00:00", "2026-01-02", "start", "YYYY-MM-DD"),
        ("custom", "+2026-01-01", "2026-01-02", "start", "YYYY-MM-DD"),
        ("custom", "2026-1-1", "2026-01-02", "start", "YYYY-MM-DD"),
        ("custom", "x" * 5000, "2026-01-02", "start", "YYYY-MM-DD"),
        ("custom", "", "2026-01-02", "start", "start date"),
        ("custom", "2026-01-01", "", "end", "end date"),
        ("forever", None, None, "window", "Choose today"),
    ],
)
def test_bad_windows_say_what_is_wrong(kind, start, end, field, words):
    with pytest.raises(Invalid) as refused:
        dashboard.window(kind, start, end, now=TODAY)
    assert refused.value.status == 400
    assert field in refused.value.fields and words in refused.value.message


# -- pictures and top lists -----------------------------------------------------------------------


def test_days_and_the_heatmap_put_each_hour_in_its_place(db):
    from aura.extensions import db as database

    monday_2pm = datetime(2026, 11, 30, 14, tzinfo=UTC)
    database.session.add_all(
        [
            TrafficHour(hour=monday_2pm, views=5, plays=1, bots=9),
            TrafficHour(hour=monday_2pm - timedelta(days=2, hours=3), views=2, plays=0, bots=0),
            TrafficHour(hour=monday_2pm - timedelta(days=31), views=100, plays=0, bots=0),
        ]
    )
    database.session.commit()
    points, grid = dashboard.site_days(monday_2pm.date())
    assert len(points) == 30 and points[-1].day == monday_2pm.date()
    assert (points[-1].views, points[-1].plays, points[-1].bots) == (5, 1, 9)
    assert points[-3].views == 2
    assert sum(point.views for point in points) == 7  # the 31-days-old hour is outside
    assert grid[0][14] == 6  # Monday, 14:00: views and plays
    assert grid[5][11] == 2  # Saturday, 11:00
    heat = charts.heatmap(grid)
    levels = {(cell.x, cell.y): cell.level for cell in heat.cells}
    assert max(levels.values()) == charts.HEAT_LEVELS and min(levels.values()) == 0


def test_top_films_rank_by_visitor_days_so_reloads_do_not_push_a_film_up(db):
    reloaded, liked = make_movie("Reloaded"), make_movie("Liked")
    for _ in range(12):
        analytics.film_viewed(reloaded.id, ANNE)
    analytics.film_viewed(liked.id, ANNE)
    analytics.film_viewed(liked.id, BOB)
    top = dashboard.top_films(dashboard.window("today"))
    assert [(film.title, film.visitors, film.views) for film in top] == [
        ("Liked", 2, 2),
        ("Reloaded", 1, 12),
    ]


def test_top_videos_in_a_window(db, at):
    old, new = make_video_row(title="Old"), make_video_row(title="New")
    now = utcnow()
    at(now - timedelta(days=10))
    analytics.video_played(old.id, None, ANNE)
    analytics.video_played(old.id, None, BOB)
    at(now)
    analytics.video_played(new.id, None, ANNE)
    from aura.extensions import db as database

    database.session.commit()
    assert [v.title for v in dashboard.top_videos(dashboard.window("7d"))] == ["New"]
    assert [v.title for v in dashboard.top_videos(dashboard.window("30d"))] == ["Old", "New"]


def test_bar_charts_scale_to_a_round_axis():
    points = [(date(2026, 11, day), {"views": day, "plays": 0}) for day in range(1, 31)]
    chart = charts.day_bars(points, dashboard.DAY_SERIES)
    assert [tick.label for tick in chart.ticks] == ["0", "25", "50"]
    tallest = max(chart.bars, key=lambda bar: bar.height)
    assert tallest.y + tallest.height == pytest.approx(chart.plot_bottom, abs=0.1)
    assert all(bar.x + bar.width <= chart.width for bar in chart.bars)
    assert charts.day_bars(
        [(date(2026, 11, 1), {"views": 0, "plays": 0})], dashboard.DAY_SERIES
    ).empty


# -- the view log ---------------------------------------------------------------------------------


def test_the_log_pages_by_time_and_id_without_gaps_or_repeats(db):
    film = make_movie()
    for n in range(120):
        analytics.film_viewed(
            film.id, Visitor(client_ip=f"10.0.{n // 250}.{n % 250}", user_agent=FIREFOX)
        )
    filters = dashboard.log_filters({})
    seen, after = [], None
    while True:
        page = dashboard.view_log(filters, after).page
        seen += [item.view.id for item in page.items]
        if not page.next_cursor:
            break
        after = page.next_cursor
    everything = db.session.scalars(sa.select(View.id).order_by(View.at.desc(), View.id.desc()))
    assert seen == list(everything) and len(seen) == 120


def test_the_log_filters_by_film_video_user_and_kind(db):
    one, two = make_movie("One"), make_movie("Two")
    video = make_video_row(movie=two)
    ann = make_user()
    analytics.film_viewed(one.id, Visitor(user_id=ann.id, client_ip="10.0.0.1", user_agent=FIREFOX))
    analytics.film_viewed(two.id, ANNE)
    analytics.video_played(video.id, two.id, BOB)
    from aura.extensions import db as database

    database.session.commit()

    def titles(**args):
        page = dashboard.view_log(dashboard.log_filters(args)).page
        return sorted(
            (item.view.kind, (item.view.movie.title if item.view.movie else ""))
            for item in page.items
        )

    assert titles(film=str(one.id)) == [("detail", "One")]
    assert titles(film=f"#{two.id}") == [("detail", "Two"), ("play", "Two")]
    assert titles(video=str(video.id)) == [("play", "Two")]
    assert titles(video=video.id.hex) == [("play", "Two")]
    assert titles(user=str(ann.id)) == [("detail", "One")]
    assert titles(kind="play") == [("play", "Two")]
    assert titles(kind="detail", film=str(two.id)) == [("detail", "Two")]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"film": "12a"}, "film"),
        ({"film": "١٢"}, "film"),
        ({"film": "99999999999999999999"}, "film"),
        ({"film": "0"}, "film"),
        ({"user": "-1"}, "user"),
        ({"video": "not-a-uuid"}, "video"),
        ({"video": "{12345678-1234-1234-1234-123456789abc}"}, "video"),
        ({"kind": "everything"}, "kind"),
        ({"bots": "maybe"}, "bots"),
        ({"window": "custom", "start": "2026-01-01", "end": "2031-01-01"}, "end"),
    ],
)
def test_bad_log_filters_say_which_field(db, args, field):
    with pytest.raises(Invalid) as refused:
        dashboard.log_filters(args)
    assert refused.value.status == 400 and field in refused.value.fields


def test_a_logged_view_names_the_browser_and_only_the_referrers_host(db):
    film = make_movie()
    analytics.film_viewed(
        film.id,
        Visitor(
            client_ip="203.0.113.9",
            user_agent=FIREFOX,
            referrer="https://search.example/results?q=private+words#x",
        ),
    )
    item = dashboard.view_log(dashboard.log_filters({})).page.items[0]
    assert (item.browser, item.referrer_host, item.view.client_ip) == (
        "Firefox on Linux",
        "search.example",
        "203.0.113.9",
    )


@pytest.mark.parametrize(
    ("referrer", "host"),
    [
        ("https://www.example.com/a?b=c", "www.example.com"),
        ("http://EXAMPLE.org:8080/", "example.org"),
        ("android-app://com.google.android.gm/", "com.google.android.gm"),
        ("http://[::1", None),
        ("not a url", None),
        ("", None),
        (None, None),
    ],
)
def test_referrer_hosts(referrer, host):
    assert dashboard.referrer_host(referrer) == host


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        ("Plain title", "Plain title"),
        (None, ""),
        (12, "12"),
    ],
)
def test_csv_cells_that_look_like_formulas_stay_text(value, cell):
    assert exports.cell(value) == cell


# -- one film, one video --------------------------------------------------------------------------


def test_a_films_statistics(db, at):
    film = make_movie("Counted")
    video = make_video_row(movie=film)
    ann, bea, cid = make_user(display_name="Ann"), make_user(display_name="Bea"), make_user()
    now = utcnow()
    at(now - timedelta(days=2))
    for ip in ("10.0.0.1", "10.0.0.2"):  # Ann from two addresses: one visitor
        analytics.film_viewed(film.id, Visitor(user_id=ann.id, client_ip=ip, user_agent=FIREFOX))
    analytics.film_viewed(film.id, ANNE)
    at(now)
    analytics.film_viewed(
        film.id, Visitor(user_id=ann.id, client_ip="10.0.0.1", user_agent=FIREFOX)
    )
    analytics.video_played(video.id, film.id, BOB)
    analytics.film_viewed(film.id, Visitor(client_ip="192.0.2.1", user_agent="curl/8"))  # a bot
    from aura.extensions import db as database

    database.session.add_all(
        [
            PlaybackProgress(user_id=bea.id, video_id=video.id, watched=True, duration_seconds=60),
            PlaybackProgress(
                user_id=cid.id, video_id=video.id, position_seconds=30, duration_seconds=60
            ),
        ]
    )
    database.session.commit()
    stats = dashboard.film_stats(film.id, dashboard.window("30d"))
    assert (stats.views, stats.plays) == (4, 1)
    assert stats.visitor_days == 4  # Ann and Anne two days ago; Ann and Bob today
    assert stats.signed_in_users == 3  # Ann (views), Bea and Cid (their players)
    assert stats.completion == 75.0 and stats.completion_count == 2
    by_name = {watcher.display_name: watcher for watcher in stats.watchers}
    assert by_name["Bea"].watched and by_name["Bea"].percent == 100
    assert by_name[cid.display_name].percent == 50
    assert by_name["Ann"].percent is None
    assert sum(point.views for point in stats.days) == 4 and len(stats.days) == 30
    assert stats.videos == [video]
    today_only = dashboard.film_stats(film.id, dashboard.window("today"))
    assert (today_only.views, today_only.visitor_days) == (1, 2)


def test_a_videos_statistics(db):
    video = make_video_row(title="Reel")
    ann = make_user()
    for visitor in (ANNE, ANNE, Visitor(user_id=ann.id, client_ip="10.0.0.3", user_agent=FIREFOX)):
        analytics.video_played(video.id, None, visitor)
    from aura.extensions import db as database

    database.session.commit()
    stats = dashboard.video_stats(video.id, dashboard.window("7d"))
    assert (stats.kind, stats.plays, stats.visitor_days, stats.signed_in_users) == (
        "video",
        3,
        2,
        1,
    )
    assert stats.completion is None


def test_unknown_titles_are_not_found(db):
    from aura.errors import NotFound

    with pytest.raises(NotFound):
        dashboard.film_stats(123456, dashboard.window("7d"))
    with pytest.raises(NotFound):
        dashboard.video_stats(uuid.uuid4(), dashboard.window("7d"))


def test_exports_are_audited_before_a_row_is_read(db):
    analytics.film_viewed(make_movie().id, ANNE)
    exported = dashboard.export_views(
        dashboard.log_filters({}), actor_id=None, client_ip="10.0.0.1"
    )
    event = db.session.scalar(sa.select(AuditEvent))
    assert event.action == "views.exported" and event.detail == {"window": "30d"}
    rows = list(exported)
    assert len(rows) == 1 and len(rows[0]) == len(dashboard.CSV_HEADER)
    assert rows[0][1] == "detail" and rows[0][9] == "Chrome on Linux"

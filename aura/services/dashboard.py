"""The supervisor's analytics pages, each composed in one call: the dashboard (its live
figures, pictures, top films and videos, latest views), the view log and its CSV, and each
film's and video's statistics.

What the numbers mean (the pages say so too):

- a *view* is a film page opened; a *play* is a video started (once per access grant);
- a *visitor* is a signed-in user, or else a keyed hash of address and browser with a salt that
  changes every day (as Plausible does), counted once per day. Over 7 or 30 days the figure is
  the sum of the days: *visitor-days*, since nobody can be followed from one day to the next;
- requests from programs that say so in their user agent (bots) are logged and marked, and
  counted nowhere else;
- trending counts unique visitors per film per day, not requests.

Every figure but the latest views comes from the hourly and daily rollups that
``analytics`` keeps as views arrive, so the dashboard never scans raw ``View`` rows; the
latest views are a LIMIT on the ``ix_view_at`` index. Days are UTC days.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from aura.clients import tmdb as tmdb_client
from aura.errors import Invalid, NotFound
from aura.extensions import cache, db
from aura.models import (
    AccessGrant,
    AuditEvent,
    DailyVisit,
    FilmHour,
    Movie,
    PlaybackProgress,
    Rating,
    TrafficDay,
    TrafficHour,
    User,
    UTCDateTime,
    Video,
    VideoHour,
    View,
    utcnow,
)
from aura.services import audit, backups, charts, cursors, tmdb_sync, user_agents, values
from aura.services.backups import BackupInfo
from aura.services.cursors import Page
from aura.services.tmdb_sync import LastRun

WATCHING_WINDOW = timedelta(minutes=5)
# The live figures are shared for this long by every supervisor's tab (and, through Redis,
# every process): under the 5-second poll, so each poll still sees new numbers.
STATS_CACHE_SECONDS = 4
STATS_KEY = "dashboard:stats:v1"
LATEST_VIEWS = 15
LOG_PAGE = 50
TOP_LIMIT = 10
WATCHERS_SHOWN = 200
CSV_BATCH = 1000
THROTTLE_ACTIONS = ("login.throttled", "video.unlock_throttled")

# -- windows --------------------------------------------------------------------------------------

EARLIEST_DAY = date(2000, 1, 1)
MAX_WINDOW_DAYS = 366
WINDOWS = {"today": ("Today", 1), "7d": ("Last 7 days", 7), "30d": ("Last 30 days", 30)}
WINDOW_CHOICES = (*WINDOWS, "custom")


@dataclass(frozen=True)
class Window:
    """Whole UTC days from ``start`` to ``end``, both included."""

    kind: str  # today, 7d, 30d or custom
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def start_at(self) -> datetime:
        return datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC)

    @property
    def end_at(self) -> datetime:
        """The first moment after the window."""
        return self.start_at + timedelta(days=self.days)

    @property
    def label(self) -> str:
        if self.kind in WINDOWS:
            return WINDOWS[self.kind][0]
        if self.start == self.end:
            return f"{self.start:%-d %b %Y}"
        return f"{self.start:%-d %b %Y} to {self.end:%-d %b %Y}"

    def query(self) -> dict[str, str]:
        """The window as query arguments, for links that keep it."""
        if self.kind in WINDOWS:
            return {"window": self.kind}
        return {"window": "custom", "start": self.start.isoformat(), "end": self.end.isoformat()}


def _bad(field_name: str, message: str) -> Invalid:
    return Invalid(message, fields={field_name: message}, status=400)


def _day(raw: str, field_name: str, what: str) -> date:
    try:
        return values.calendar_date(
            raw,
            low=date.min,
            high=date.max,
            message=f"Write the {what} date as YYYY-MM-DD, for example 2026-11-30.",
            field=field_name,
        )
    except Invalid as invalid:
        raise _bad(field_name, invalid.message) from None


def today() -> date:
    return utcnow().date()


def window(
    kind: str | None,
    start: str | None = None,
    end: str | None = None,
    *,
    default: str = "7d",
    now: date | None = None,
) -> Window:
    """The window a request asks for: today, the last 7 or 30 days, or custom dates (both
    needed, from 2000 on, not in the future, start before end, at most 366 days). Bad input
    is Invalid with status 400 and a message for the field at fault."""
    current = now or today()
    kind = (kind or "").strip()
    start, end = (start or "").strip(), (end or "").strip()
    if not kind:
        kind = "custom" if (start or end) else default
    if kind in WINDOWS:
        days = WINDOWS[kind][1]
        return Window(kind, current - timedelta(days=days - 1), current)
    if kind != "custom":
        raise _bad("window", "Choose today, the last 7 days, the last 30 days or custom dates.")
    if not start:
        raise _bad("start", "Choose a start date for custom dates.")
    if not end:
        raise _bad("end", "Choose an end date for custom dates.")
    first, last = _day(start, "start", "start"), _day(end, "end", "end")
    for name, day in (("start", first), ("end", last)):
        if day < EARLIEST_DAY:
            raise _bad(name, "Aura has no figures before the year 2000: choose a later date.")
    if last > current:
        raise _bad("end", f"The end date is in the future: the latest is today, {current}.")
    if first > last:
        raise _bad("start", "The start date is after the end date.")
    if (last - first).days + 1 > MAX_WINDOW_DAYS:
        raise _bad("start", f"Choose at most {MAX_WINDOW_DAYS} days at a time.")
    return Window("custom", first, last)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# -- the live figures -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    today: int
    week: int  # the last 7 days, today included
    month: int  # the last 30 days, today included


@dataclass(frozen=True)
class Watching:
    browsers: int  # browsers whose player reported in the last 5 minutes
    signed_in: int  # signed-in viewers among them


@dataclass(frozen=True)
class SyncStatus:
    configured: bool
    last: LastRun | None


def in_words(delta: timedelta) -> str:
    """ "4 minutes", "3 hours 12 minutes", "2 days 5 hours": how long, to the minute."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)

    def unit(count: int, name: str) -> str:
        return f"{count:,} {name}{'' if count == 1 else 's'}"

    if days:
        return unit(days, "day") + (f" {unit(hours, 'hour')}" if hours else "")
    if hours:
        return unit(hours, "hour") + (f" {unit(minutes, 'minute')}" if minutes else "")
    return unit(minutes, "minute") if minutes else "less than a minute"


@dataclass(frozen=True)
class BackupStatus:
    newest: BackupInfo | None
    age: timedelta | None
    max_age_hours: int
    problem: str | None = None  # the backup folder could not be read

    @property
    def age_words(self) -> str | None:
        return in_words(self.age) if self.age is not None else None

    @property
    def warning(self) -> str | None:
        """Why the supervisor should look at backups now, or None."""
        if self.problem:
            return self.problem
        if self.newest is None or self.age is None:
            return "No backups yet."
        if self.age > timedelta(hours=self.max_age_hours):
            return f"The newest backup is older than {self.max_age_hours} hours."
        if self.newest.verified is False:
            return "The newest backup failed its verification."
        return None


@dataclass(frozen=True)
class Stats:
    """The dashboard's live block, refreshed every 5 seconds."""

    at: datetime
    views: Counts
    plays: Counts
    visitors: Counts  # today: visitors; 7 and 30 days: visitor-days
    bots: Counts
    signed_in_today: int
    watching: Watching
    users: int
    supervisors: int
    hidden_titles: int
    ratings_today: int
    reviews_today: int
    throttled_sign_ins_today: int
    video_lockouts_today: int
    sync: SyncStatus
    backup: BackupStatus


def _window_sums(time_column, counts: list, bound_type) -> sa.Select:
    """SUM of each count since today, 6 days ago and 29 days ago, in one pass over the last 30
    days. Built once with bound parameters, so each poll reuses the compiled statement."""
    since = {name: sa.bindparam(name, type_=bound_type) for name in ("today", "week", "month")}
    sums = [
        sa.func.coalesce(sa.func.sum(sa.case((time_column >= start, count), else_=0)), 0)
        for start in since.values()
        for count in counts
    ]
    return sa.select(*sums).where(time_column >= since["month"])


_TRAFFIC_SUMS = _window_sums(
    TrafficHour.hour, [TrafficHour.views, TrafficHour.plays, TrafficHour.bots], UTCDateTime()
)
_VISITOR_SUMS = _window_sums(TrafficDay.day, [TrafficDay.visitors], sa.Date())


def _since(day: date, at_midnight: bool) -> dict:
    starts = {"today": day, "week": day - timedelta(days=6), "month": day - timedelta(days=29)}
    return {key: _midnight(value) if at_midnight else value for key, value in starts.items()}


def _traffic_counts(day: date) -> tuple[Counts, Counts, Counts]:
    """Views, plays and bot requests: today, the last 7 days and the last 30 days."""
    numbers = [int(value) for value in db.session.execute(_TRAFFIC_SUMS, _since(day, True)).one()]
    # numbers: today (views, plays, bots), 7 days (…), 30 days (…)
    return tuple(Counts(numbers[k], numbers[3 + k], numbers[6 + k]) for k in range(3))


def _visitor_counts(day: date) -> Counts:
    row = db.session.execute(_VISITOR_SUMS, _since(day, False)).one()
    return Counts(*(int(value) for value in row))


def watching_now(now: datetime | None = None) -> Watching:
    """Browsers whose player reported in the last 5 minutes: access grants used since then
    (a stream or progress request touches its grant at most once a minute), and signed-in
    viewers whose position was saved since then."""
    cutoff = (now or utcnow()) - WATCHING_WINDOW
    grants = db.session.execute(
        sa.select(AccessGrant.id, AccessGrant.session_id, AccessGrant.user_id).where(
            AccessGrant.last_used_at >= cutoff
        )
    ).all()
    browsers = {grant.session_id or f"grant:{grant.id}" for grant in grants}
    users = {grant.user_id for grant in grants if grant.user_id is not None}
    reporting = set(
        db.session.scalars(
            sa.select(PlaybackProgress.user_id).where(PlaybackProgress.updated_at >= cutoff)
        )
    )
    return Watching(
        browsers=len(browsers) + len(reporting - users), signed_in=len(users | reporting)
    )


def backup_status(now: datetime | None = None) -> BackupStatus:
    """The newest finished backup in ``AURA_BACKUP_DIR`` and its age. Read at most once a
    minute per cache (keyed by the minute): each read opens and hashes every manifest."""
    now = now or utcnow()
    key = f"dashboard:backups:{now:%Y%m%d%H%M}"
    found = cache.get(key)
    if found is None:
        found = _read_backups(now)
        cache.set(key, found, timeout=60)
    return found


def _read_backups(now: datetime) -> BackupStatus:
    limit = current_app.config["BACKUP_MAX_AGE_HOURS"]
    try:
        listed = backups.list_backups()
    except OSError as error:
        return BackupStatus(None, None, limit, f"The backup folder cannot be read ({error}).")
    newest = next((info for info in listed if info.complete), None)
    return BackupStatus(newest, newest.age(now) if newest else None, limit)


def stats(now: datetime | None = None) -> Stats:
    """The live figures, computed now (a handful of indexed queries on the rollups)."""
    now = now or utcnow()
    day = now.date()
    midnight = _midnight(day)
    views, plays, bots = _traffic_counts(day)
    users, supervisors = db.session.execute(
        sa.select(
            sa.func.count(User.id),
            sa.func.coalesce(sa.func.sum(sa.case((User.role == "supervisor", 1), else_=0)), 0),
        )
    ).one()
    ratings, reviews = db.session.execute(
        sa.select(
            sa.func.count(Rating.id),
            sa.func.count(sa.case((sa.func.length(Rating.review) > 0, 1))),
        ).where(Rating.created_at >= midnight)
    ).one()
    throttled = dict(
        db.session.execute(
            sa.select(AuditEvent.action, sa.func.count(AuditEvent.id))
            .where(AuditEvent.action.in_(THROTTLE_ACTIONS), AuditEvent.at >= midnight)
            .group_by(AuditEvent.action)
        ).all()
    )
    signed_in_today = db.session.scalar(
        sa.select(sa.func.count()).where(
            DailyVisit.subject == "site",
            DailyVisit.day == day,
            DailyVisit.visitor >= "u",
            DailyVisit.visitor < "v",
        )
    )
    return Stats(
        at=now,
        views=views,
        plays=plays,
        visitors=_visitor_counts(day),
        bots=bots,
        signed_in_today=int(signed_in_today or 0),
        watching=watching_now(now),
        users=int(users),
        supervisors=int(supervisors),
        hidden_titles=int(
            db.session.scalar(sa.select(sa.func.count(Movie.id)).where(Movie.hidden.is_(True))) or 0
        ),
        ratings_today=int(ratings),
        reviews_today=int(reviews),
        throttled_sign_ins_today=int(throttled.get("login.throttled", 0)),
        video_lockouts_today=int(throttled.get("video.unlock_throttled", 0)),
        sync=SyncStatus(tmdb_client.is_configured(), tmdb_sync.last_run()),
        backup=backup_status(now),
    )


def live_stats() -> Stats:
    """The live figures as the polled block shows them: shared for a few seconds (see
    ``STATS_CACHE_SECONDS``) so that many open dashboards cost one computation per poll."""
    found = cache.get(STATS_KEY)
    if isinstance(found, Stats):
        return found
    found = stats()
    cache.set(STATS_KEY, found, timeout=STATS_CACHE_SECONDS)
    return found


# -- what the pages say about how views are kept --------------------------------------------------


@dataclass(frozen=True)
class Recording:
    ip_mode: str  # full, truncated or hashed
    proxy_hops: int
    retention_days: int
    recording: bool
    flush_seconds: float  # film views wait this long for their process's writer


def recording() -> Recording:
    config = current_app.config
    return Recording(
        ip_mode=config["IP_MODE"],
        proxy_hops=config["TRUSTED_PROXY_HOPS"],
        retention_days=config["VIEW_RETENTION_DAYS"],
        recording=config["RECORD_VIEWS"],
        flush_seconds=float(config["VIEW_FLUSH_SECONDS"]),
    )


# -- pictures -------------------------------------------------------------------------------------

DAY_SERIES = (
    charts.Series("views", "Views", "bar-views"),
    charts.Series("plays", "Plays", "bar-plays"),
)


@dataclass(frozen=True)
class DayPoint:
    day: date
    views: int
    plays: int
    visitors: int
    bots: int = 0


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def site_days(last: date, count: int = 30) -> tuple[list[DayPoint], list[list[int]]]:
    """Views, plays, visitors and bots per day over ``count`` days to ``last``, and the
    day-of-week by hour grid of views and plays over the same days (UTC)."""
    first = last - timedelta(days=count - 1)
    totals: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])
    grid = [[0] * 24 for _ in range(7)]
    for hour, views, plays, bots in db.session.execute(
        sa.select(TrafficHour.hour, TrafficHour.views, TrafficHour.plays, TrafficHour.bots).where(
            TrafficHour.hour >= _midnight(first), TrafficHour.hour < _midnight(last + timedelta(1))
        )
    ):
        day_total = totals[hour.date()]
        day_total[0] += views
        day_total[1] += plays
        day_total[2] += bots
        grid[hour.weekday()][hour.hour] += views + plays
    visitors = dict(
        db.session.execute(
            sa.select(TrafficDay.day, TrafficDay.visitors).where(
                TrafficDay.day >= first, TrafficDay.day <= last
            )
        ).all()
    )
    points = [
        DayPoint(day, totals[day][0], totals[day][1], int(visitors.get(day, 0)), totals[day][2])
        for day in _days(first, last)
    ]
    return points, grid


def day_chart(points: list[DayPoint], series=DAY_SERIES) -> charts.BarChart:
    return charts.day_bars(
        [(point.day, {"views": point.views, "plays": point.plays}) for point in points], series
    )


@dataclass(frozen=True)
class TopFilm:
    movie_id: int
    title: str
    hidden: bool
    visitors: int  # visitor-days
    views: int
    plays: int


@dataclass(frozen=True)
class TopVideo:
    video_id: uuid.UUID
    title: str
    film_title: str | None
    visitors: int  # visitor-days
    plays: int


def top_films(span: Window, limit: int = TOP_LIMIT) -> list[TopFilm]:
    """The films most visited in the window: visitor-days, then views (reloads count once)."""
    visitors = sa.func.sum(FilmHour.visitors)
    views = sa.func.sum(FilmHour.views)
    ranked = (
        sa.select(
            FilmHour.movie_id,
            visitors.label("visitors"),
            views.label("views"),
            sa.func.sum(FilmHour.plays).label("plays"),
        )
        .where(FilmHour.hour >= span.start_at, FilmHour.hour < span.end_at)
        .group_by(FilmHour.movie_id)
        .order_by(visitors.desc(), views.desc(), FilmHour.movie_id)
        .limit(limit)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(ranked, Movie.title, Movie.hidden)
        .join(Movie, Movie.id == ranked.c.movie_id)
        .order_by(ranked.c.visitors.desc(), ranked.c.views.desc(), ranked.c.movie_id)
    ).all()
    return [
        TopFilm(
            row.movie_id, row.title, row.hidden, int(row.visitors), int(row.views), int(row.plays)
        )
        for row in rows
    ]


def top_videos(span: Window, limit: int = TOP_LIMIT) -> list[TopVideo]:
    """The videos most played in the window: visitor-days, then plays."""
    visitors = sa.func.sum(VideoHour.visitors)
    plays = sa.func.sum(VideoHour.plays)
    ranked = (
        sa.select(VideoHour.video_id, visitors.label("visitors"), plays.label("plays"))
        .where(VideoHour.hour >= span.start_at, VideoHour.hour < span.end_at)
        .group_by(VideoHour.video_id)
        .order_by(visitors.desc(), plays.desc(), VideoHour.video_id)
        .limit(limit)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(ranked, Video.title, Movie.title.label("film_title"))
        .join(Video, Video.id == ranked.c.video_id)
        .outerjoin(Movie, Movie.id == Video.movie_id)
        .order_by(ranked.c.visitors.desc(), ranked.c.plays.desc(), ranked.c.video_id)
    ).all()
    return [
        TopVideo(row.video_id, row.title, row.film_title, int(row.visitors), int(row.plays))
        for row in rows
    ]


# -- the view log ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoggedView:
    """One raw view as the log shows it."""

    view: View
    browser: str
    referrer_host: str | None


def referrer_host(referrer: str | None) -> str | None:
    """Only the host of where a visitor came from (the rest of the address stays private)."""
    try:
        host = urlsplit((referrer or "").strip()).hostname
    except ValueError:
        return None
    return host[:253] if host else None


def _logged(view: View) -> LoggedView:
    return LoggedView(view, user_agents.summary(view.user_agent), referrer_host(view.referrer))


KINDS = {"": None, "detail": "detail", "play": "play"}
BOT_CHOICES = ("yes", "no", "only")  # bots shown (marked), left out, or only bots
_UUID = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)


@dataclass(frozen=True)
class LogFilters:
    window: Window
    movie_id: int | None = None
    video_id: uuid.UUID | None = None
    user_id: int | None = None
    kind: str | None = None
    bots: str = "yes"

    def query(self) -> dict[str, str]:
        """The filters as query arguments, for links that keep them."""
        args = dict(self.window.query())
        if self.movie_id is not None:
            args["film"] = str(self.movie_id)
        if self.video_id is not None:
            args["video"] = str(self.video_id)
        if self.user_id is not None:
            args["user"] = str(self.user_id)
        if self.kind:
            args["kind"] = self.kind
        if self.bots != "yes":
            args["bots"] = self.bots
        return args


def _optional_id(raw: str | None, field_name: str, what: str) -> int | None:
    text = (raw or "").strip().lstrip("#")
    if not text:
        return None
    try:
        return values.whole_number(
            text, low=1, high=values.MAX_ID, message=f"The {what} must be a number such as 12."
        )
    except Invalid as invalid:
        raise _bad(field_name, invalid.message) from None


def log_filters(args: Mapping[str, str]) -> LogFilters:
    """The view log's filters from a request's arguments; bad ones are Invalid (400)."""
    video_text = (args.get("video") or "").strip()
    if video_text and not (len(video_text) <= 36 and _UUID.fullmatch(video_text)):
        raise _bad("video", "The video must be a video id such as 3f2b…-… (36 characters).")
    kind = (args.get("kind") or "").strip()
    if kind not in KINDS:
        raise _bad("kind", "Choose film pages, plays or both.")
    bots = (args.get("bots") or "yes").strip()
    if bots not in BOT_CHOICES:
        raise _bad("bots", "Choose whether to show bots, leave them out, or show only bots.")
    return LogFilters(
        window=window(args.get("window"), args.get("start"), args.get("end"), default="30d"),
        movie_id=_optional_id(args.get("film"), "film", "film"),
        video_id=uuid.UUID(video_text) if video_text else None,
        user_id=_optional_id(args.get("user"), "user", "user"),
        kind=KINDS[kind],
        bots=bots,
    )


def _log_conditions(filters: LogFilters) -> list:
    conditions = [View.at >= filters.window.start_at, View.at < filters.window.end_at]
    if filters.movie_id is not None:
        conditions.append(View.movie_id == filters.movie_id)
    if filters.video_id is not None:
        conditions.append(View.video_id == filters.video_id)
    if filters.user_id is not None:
        conditions.append(View.user_id == filters.user_id)
    if filters.kind:
        conditions.append(View.kind == filters.kind)
    if filters.bots == "no":
        conditions.append(View.bot.is_(False))
    elif filters.bots == "only":
        conditions.append(View.bot.is_(True))
    return conditions


def _views_page(conditions: list, after: str | None, limit: int) -> Page:
    stmt = (
        sa.select(View)
        .options(joinedload(View.movie), joinedload(View.video), joinedload(View.user))
        .where(*conditions)
    )
    page = cursors.paginate(stmt, View.at, View.id, "datetime", True, after, limit)
    return Page([_logged(view) for view in page.items], page.next_cursor)


@dataclass(frozen=True)
class ViewLogPage:
    filters: LogFilters
    page: Page  # of LoggedView, newest first
    movie: Movie | None  # the filters' film, video and user, named for the heading
    video: Video | None
    user: User | None
    retention_days: int


def view_log(filters: LogFilters, after: str | None = None) -> ViewLogPage:
    """One page of raw views matching ``filters``, newest first (keyset on at, id)."""
    return ViewLogPage(
        filters=filters,
        page=_views_page(_log_conditions(filters), after, LOG_PAGE),
        movie=db.session.get(Movie, filters.movie_id) if filters.movie_id else None,
        video=db.session.get(Video, filters.video_id) if filters.video_id else None,
        user=db.session.get(User, filters.user_id) if filters.user_id else None,
        retention_days=current_app.config["VIEW_RETENTION_DAYS"],
    )


CSV_HEADER = (
    "time (UTC)",
    "kind",
    "film id",
    "film",
    "video id",
    "video",
    "user id",
    "user",
    "ip",
    "browser",
    "user agent",
    "referrer host",
    "bot",
)


def csv_name(filters: LogFilters) -> str:
    return f"aura-views-{filters.window.start}-to-{filters.window.end}.csv"


def view_log_rows(filters: LogFilters) -> Iterator[tuple]:
    """The window's views as rows of ``CSV_HEADER``, newest first. Read in keyset batches, so
    a long export holds neither every row in memory nor one long transaction."""
    conditions = _log_conditions(filters)
    after = None
    while True:
        stmt = (
            sa.select(
                View.id,
                View.at,
                View.kind,
                View.movie_id,
                Movie.title.label("film"),
                View.video_id,
                Video.title.label("video"),
                View.user_id,
                User.display_name.label("user"),
                View.client_ip,
                View.user_agent,
                View.referrer,
                View.bot,
            )
            .outerjoin(Movie, Movie.id == View.movie_id)
            .outerjoin(Video, Video.id == View.video_id)
            .outerjoin(User, User.id == View.user_id)
            .where(*conditions)
        )
        condition = cursors.keyset_condition(View.at, View.id, "datetime", True, after)
        if condition is not None:
            stmt = stmt.where(condition)
        rows = db.session.execute(
            stmt.order_by(View.at.desc(), View.id.desc()).limit(CSV_BATCH)
        ).all()
        for row in rows:
            yield (
                row.at.strftime("%Y-%m-%d %H:%M:%S"),
                row.kind,
                row.movie_id,
                row.film,
                row.video_id,
                row.video,
                row.user_id,
                row.user,
                row.client_ip,
                user_agents.summary(row.user_agent),
                row.user_agent,
                referrer_host(row.referrer),
                "yes" if row.bot else "no",
            )
        if len(rows) < CSV_BATCH:
            return
        after = cursors.encode("datetime", rows[-1].at, rows[-1].id)


def export_views(filters: LogFilters, *, actor_id: int, client_ip: str | None) -> Iterator[tuple]:
    """The rows of ``view_log_rows``, once the export is in the audit trail (a view log holds
    addresses: who took a copy, of what, is recorded). Commits."""
    audit.record(
        "views.exported",
        actor_id=actor_id,
        target=csv_name(filters),
        detail=filters.query(),
        client_ip=client_ip,
    )
    db.session.commit()
    return view_log_rows(filters)


# -- the dashboard --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardPage:
    stats: Stats
    days: list[DayPoint]
    day_chart: charts.BarChart
    heatmap: charts.HeatMap
    window: Window
    top_films: list[TopFilm]
    top_videos: list[TopVideo]
    films_chart: charts.Ranking
    videos_chart: charts.Ranking
    latest: Page  # of LoggedView
    recording: Recording


def dashboard(span: Window) -> DashboardPage:
    """The whole dashboard: live figures, the last 30 days, the window's top films and videos,
    the latest views."""
    figures = live_stats()
    points, grid = site_days(figures.at.date())
    films, videos = top_films(span), top_videos(span)
    return DashboardPage(
        stats=figures,
        days=points,
        day_chart=day_chart(points),
        heatmap=charts.heatmap(grid),
        window=span,
        top_films=films,
        top_videos=videos,
        films_chart=charts.ranking([(film.title, film.visitors) for film in films]),
        videos_chart=charts.ranking([(video.title, video.visitors) for video in videos]),
        latest=_views_page([], None, LATEST_VIEWS),
        recording=recording(),
    )


# -- one film's or one video's statistics ---------------------------------------------------------


@dataclass(frozen=True)
class Watcher:
    user_id: int
    display_name: str
    last_at: datetime
    percent: int | None  # how far they got (100 once watched), when their player reported
    watched: bool


@dataclass(frozen=True)
class TitleStats:
    kind: str  # film or video
    movie: Movie | None
    video: Video | None
    window: Window
    days: list[DayPoint]
    chart: charts.BarChart
    views: int
    plays: int
    visitor_days: int
    signed_in_users: int
    completion: float | None  # average percent, over ``completion_count`` positions
    completion_count: int
    watchers: list[Watcher]
    videos: list[Video] = field(default_factory=list)  # a film's videos
    raw_since: date | None = None  # raw views (signed-in users) are kept from this day


def _per_day(rows, span: Window, keys: tuple[str, ...]) -> list[DayPoint]:
    totals: dict[date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(keys, 0))
    for row in rows:
        for key in keys:
            totals[row.hour.date()][key] += getattr(row, key)
    return [
        DayPoint(
            day,
            totals[day].get("views", 0),
            totals[day].get("plays", 0),
            totals[day].get("visitors", 0),
        )
        for day in _days(span.start, span.end)
    ]


def _percent(progress: PlaybackProgress) -> float | None:
    if progress.watched:
        return 100.0
    if not progress.duration_seconds:
        return None
    return max(0.0, min(100.0, 100.0 * progress.position_seconds / progress.duration_seconds))


def _watchers(
    span: Window, view_condition, video_ids: list[uuid.UUID]
) -> tuple[list[Watcher], int, float | None, int]:
    """Signed-in users who opened or played the title in the window, newest first; how many;
    and the average completion of the positions their players saved in the window."""
    last: dict[int, datetime] = {}
    for user_id, at in db.session.execute(
        sa.select(View.user_id, sa.func.max(View.at))
        .where(
            view_condition,
            View.user_id.is_not(None),
            View.bot.is_(False),
            View.at >= span.start_at,
            View.at < span.end_at,
        )
        .group_by(View.user_id)
    ):
        last[user_id] = at
    progress_of: dict[int, PlaybackProgress] = {}
    percents = []
    if video_ids:
        for progress in db.session.scalars(
            sa.select(PlaybackProgress).where(
                PlaybackProgress.video_id.in_(video_ids),
                PlaybackProgress.updated_at >= span.start_at,
                PlaybackProgress.updated_at < span.end_at,
            )
        ):
            percent = _percent(progress)
            if percent is not None:
                percents.append(percent)
            newest = progress_of.get(progress.user_id)
            if newest is None or progress.updated_at > newest.updated_at:
                progress_of[progress.user_id] = progress
            if progress.user_id not in last or progress.updated_at > last[progress.user_id]:
                last[progress.user_id] = progress.updated_at
    shown = sorted(last, key=lambda user_id: last[user_id], reverse=True)[:WATCHERS_SHOWN]
    names = dict(
        db.session.execute(sa.select(User.id, User.display_name).where(User.id.in_(shown))).all()
        if shown
        else []
    )
    watchers = []
    for user_id in shown:
        progress = progress_of.get(user_id)
        percent = _percent(progress) if progress else None
        watchers.append(
            Watcher(
                user_id=user_id,
                display_name=names.get(user_id, f"User {user_id}"),
                last_at=last[user_id],
                percent=None if percent is None else round(percent),
                watched=bool(progress and progress.watched),
            )
        )
    average = sum(percents) / len(percents) if percents else None
    return watchers, len(last), average, len(percents)


def _raw_since(span: Window) -> date | None:
    days = current_app.config["VIEW_RETENTION_DAYS"]
    if days <= 0:
        return None
    kept_from = today() - timedelta(days=days)
    return kept_from if kept_from > span.start else None


def film_stats(movie_id: int, span: Window) -> TitleStats:
    """A film's views and plays per day, visitors, completion and signed-in viewers."""
    movie = db.session.get(Movie, movie_id)
    if movie is None:
        raise NotFound("There is no film with that number.")
    rows = db.session.execute(
        sa.select(FilmHour.hour, FilmHour.views, FilmHour.plays, FilmHour.visitors).where(
            FilmHour.movie_id == movie_id,
            FilmHour.hour >= span.start_at,
            FilmHour.hour < span.end_at,
        )
    ).all()
    points = _per_day(rows, span, ("views", "plays", "visitors"))
    film_videos = list(
        db.session.scalars(
            sa.select(Video).where(Video.movie_id == movie_id).order_by(Video.uploaded_at)
        )
    )
    watchers, users, completion, counted = _watchers(
        span, View.movie_id == movie_id, [video.id for video in film_videos]
    )
    return TitleStats(
        kind="film",
        movie=movie,
        video=None,
        window=span,
        days=points,
        chart=day_chart(points),
        views=sum(point.views for point in points),
        plays=sum(point.plays for point in points),
        visitor_days=sum(point.visitors for point in points),
        signed_in_users=users,
        completion=completion,
        completion_count=counted,
        watchers=watchers,
        videos=film_videos,
        raw_since=_raw_since(span),
    )


def video_stats(video_id: uuid.UUID, span: Window) -> TitleStats:
    """A video's plays per day, visitors, completion and signed-in viewers."""
    video = db.session.scalar(
        sa.select(Video).options(joinedload(Video.movie)).where(Video.id == video_id)
    )
    if video is None:
        raise NotFound("There is no video with that id.")
    rows = db.session.execute(
        sa.select(VideoHour.hour, VideoHour.plays, VideoHour.visitors).where(
            VideoHour.video_id == video_id,
            VideoHour.hour >= span.start_at,
            VideoHour.hour < span.end_at,
        )
    ).all()
    points = _per_day(rows, span, ("plays", "visitors"))
    watchers, users, completion, counted = _watchers(span, View.video_id == video_id, [video_id])
    return TitleStats(
        kind="video",
        movie=video.movie,
        video=video,
        window=span,
        days=points,
        chart=day_chart(points, series=DAY_SERIES[1:]),
        views=0,
        plays=sum(point.plays for point in points),
        visitor_days=sum(point.visitors for point in points),
        signed_in_users=users,
        completion=completion,
        completion_count=counted,
        watchers=watchers,
        raw_since=_raw_since(span),
    )

"""Catalog browsing: rows, genres and film pages, each a keyset walk over one index."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from aura.errors import NotFound
from aura.extensions import cache, db
from aura.models import Genre, ListEntry, Movie, SiteCounter, movie_genre
from aura.services import cursors, upserts, values, visibility
from aura.services.cursors import Page


@dataclass(frozen=True)
class RowSpec:
    name: str
    title: str
    blurb: str
    column: sa.orm.InstrumentedAttribute
    descending: bool = True
    kind: str = "number"  # how the sort key travels in a cursor


ROWS: dict[str, RowSpec] = {
    spec.name: spec
    for spec in (
        RowSpec(
            "trending",
            "Trending now",
            "What visitors here opened this week, the most recent counting most.",
            Movie.trending_score,
        ),
        RowSpec("popular", "Popular", "The films most people know and watch.", Movie.popular_score),
        RowSpec(
            "top_rated",
            "Top rated",
            "Highest scores, weighted by how many people voted.",
            Movie.top_rated_score,
        ),
        RowSpec(
            "upcoming",
            "Coming soon",
            "Release dates still ahead, soonest first.",
            Movie.release_date,
            descending=False,
            kind="date",
        ),
    )
}


def get_row(name: str) -> RowSpec:
    try:
        return ROWS[name]
    except KeyError:
        raise NotFound("There is no such row.") from None


def _today():
    return datetime.now(UTC).date()


ROW_PAGE = 24
UNTIL_LIMIT = 10 * ROW_PAGE  # the most cards a page reloaded with ``until=`` shows


def row_page(
    name: str,
    after: str | None = None,
    limit: int = ROW_PAGE,
    include_hidden: bool = False,
    until: str | None = None,
) -> Page:
    """One page of a catalog row, continuing after ``after`` (a cursor from the previous page),
    or every card up to ``until`` (at most UNTIL_LIMIT)."""
    spec = get_row(name)
    if until:
        limit = UNTIL_LIMIT
    if has_list(name):
        return _list_page(name, after, limit, include_hidden, until)
    stmt = sa.select(Movie).where(visibility.films(include_hidden))
    if name == "upcoming":
        stmt = stmt.where(Movie.release_date > _today())
    elif name == "trending":  # only what visitors opened this week: never a copy of Popular
        stmt = stmt.where(Movie.trending_score > 0)
    return cursors.paginate(
        stmt, spec.column, Movie.id, spec.kind, spec.descending, after, limit, until
    )


def genre_page(
    slug: str,
    after: str | None = None,
    limit: int = ROW_PAGE,
    include_hidden: bool = False,
    until: str | None = None,
) -> tuple[Genre, Page]:
    genre = db.session.scalar(sa.select(Genre).where(Genre.slug == slug))
    if genre is None:
        raise NotFound("There is no such genre.")
    stmt = (
        sa.select(Movie)
        .join(movie_genre, movie_genre.c.movie_id == Movie.id)
        .where(movie_genre.c.genre_id == genre.id, visibility.films(include_hidden))
    )
    if until:
        limit = UNTIL_LIMIT
    return genre, cursors.paginate(
        stmt, Movie.popular_score, Movie.id, "number", True, after, limit, until
    )


def has_list(name: str) -> bool:
    """Whether TMDB gave this row an order; cached briefly since sync rewrites it rarely."""
    key = f"catalog:has-list:{name}"
    found = cache.get(key)
    if found is None:
        found = db.session.scalar(sa.select(sa.exists().where(ListEntry.list_name == name)))
        cache.set(key, bool(found), timeout=60)
    return bool(found)


CATALOG_COUNTER = "catalog"
# Asked on every home page: built once, a Core statement (no ORM work to run it).
_COUNTERS = SiteCounter.__table__
_VERSION = sa.select(_COUNTERS.c.value).where(_COUNTERS.c.name == CATALOG_COUNTER)


def version() -> int:
    """The catalog's version: whatever was rendered from the rows under another is stale.

    A request that holds no database connection yet (an anonymous home page asks nothing
    else) reads it straight from the driver on a pooled connection of its own: starting an
    ORM session, or even a Core statement, costs several times the query."""
    if db.session.registry.has() and db.session().in_transaction():
        return db.session.scalar(_VERSION) or 0
    engine = db.engine
    sql, driver_error = _version_sql(engine.dialect), engine.dialect.loaded_dbapi.Error
    try:
        connection = engine.raw_connection()
    except driver_error as error:  # the database is down: SQLAlchemy's error, as any query's
        raise sa.exc.DBAPIError.instance(sql, None, error, driver_error) from error
    try:
        cursor = connection.cursor()
        cursor.execute(sql)
        row = cursor.fetchone()
        cursor.close()
    except driver_error as error:
        # Made SQLAlchemy's (what the error pages answer); a dropped connection is not given
        # back to the pool.
        if engine.dialect.is_disconnect(error, connection.dbapi_connection, None):
            connection.invalidate(error)
        raise sa.exc.DBAPIError.instance(sql, None, error, driver_error) from error
    finally:
        connection.close()  # back to the pool, which rolls the read back
    return (row[0] if row else 0) or 0


@functools.cache
def _version_sql(dialect: sa.Dialect) -> str:
    """The version's query for one database, with its constant written in (no parameters)."""
    return str(_VERSION.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def bump_version() -> None:
    """What viewers see in the rows changed (a film hidden or shown, a sync, new scores): every
    process renders them again. Does not commit: the change's unit of work does."""
    upserts.add(SiteCounter, {"name": CATALOG_COUNTER}, value=1)


def forget_list(name: str) -> None:
    """A sync rewrote a row's TMDB order: the next page asks the database again."""
    cache.delete(f"catalog:has-list:{name}")


def _list_page(
    name: str, after: str | None, limit: int, include_hidden: bool, until: str | None = None
) -> Page:
    stmt = (
        sa.select(Movie)
        .join(ListEntry, ListEntry.movie_id == Movie.id)
        .where(ListEntry.list_name == name, visibility.films(include_hidden))
    )
    return cursors.paginate(
        stmt, ListEntry.rank, ListEntry.id, "number", False, after, limit, until
    )


def home_rows(limit: int = 18, include_hidden: bool = False) -> list[tuple[RowSpec, Page]]:
    """Every row's first page, leaving out rows with nothing in them (upcoming, often)."""
    rows = []
    for spec in ROWS.values():
        page = row_page(spec.name, limit=limit, include_hidden=include_hidden)
        if page.items:
            rows.append((spec, page))
    return rows


def get_movie(movie_id: int, include_hidden: bool = False) -> Movie:
    """The film with its genres, if this audience may see it; else NotFound."""
    if not values.is_id(movie_id):
        raise NotFound("There is no such film.")
    movie = db.session.get(
        Movie, movie_id, options=[sa.orm.selectinload(Movie.genres)], populate_existing=True
    )
    return visibility.check_film(movie, include_hidden)


def all_genres() -> list[Genre]:
    return list(db.session.scalars(sa.select(Genre).order_by(Genre.name)))

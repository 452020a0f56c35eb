"""Full-text search over title, original title, director and overview.

SQLite uses an FTS5 index kept by triggers; PostgreSQL a weighted tsvector column with a GIN
index, and pg_trgm for near misses. Both build their query from word tokens only, so no input
can inject query syntax, and both bound the work a query can ask for.

Results come in two tiers, each by relevance (bm25 or ts_rank) and then popularity: films whose
title, original title or director holds the words, then films that hold them elsewhere (the
overview). Ranking is the costly part, and a common word is in thousands of overviews but in
few titles: when the first tier fills a page, the second is never ranked. So a search costs
about what its title matches cost, not what every match in a large catalog would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa

from aura.extensions import db
from aura.models import Movie
from aura.services import visibility

MAX_QUERY_CHARS = 200
MAX_TOKENS = 8
RESULT_LIMIT = 48
_TOKEN = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class SearchResult:
    query: str
    movies: list[Movie]
    limited: bool  # more matched than are shown


def clean_query(raw: str | None) -> str:
    """Strip NULs and control characters, collapse spaces, and cap the length."""
    text = "".join(ch if ch.isprintable() else " " for ch in (raw or ""))
    return " ".join(text.split())[:MAX_QUERY_CHARS]


def tokens(query: str) -> list[str]:
    return [token[:40] for token in _TOKEN.findall(query.lower())][:MAX_TOKENS]


class Backend(Protocol):
    def search(
        self, query: str, words: list[str], limit: int, include_hidden: bool
    ) -> list[Movie]: ...


def _visible(stmt: sa.Select, include_hidden: bool) -> sa.Select:
    return stmt.where(visibility.films(include_hidden))


def like_pattern(text: str) -> str:
    """``%text%`` for LIKE, with the pattern characters in ``text`` escaped (by backslash)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# The FTS5 table lives only in the SQLite migration; queries name it, models do not map it.
MOVIE_FTS = sa.table("movie_fts", sa.column("rowid"))
NAMED_COLUMNS = "title original_title director"  # the first tier's columns


class SQLiteBackend:
    def search(self, query, words, limit, include_hidden):
        # Every word first; failing that, any word.
        for joiner in (" AND ", " OR "):
            if not words:
                break
            match = "(" + joiner.join(f'"{word}"*' for word in words) + ")"
            found = _tiered(
                self._matches, f"{{{NAMED_COLUMNS}}} : {match}", match, limit, include_hidden
            )
            if found:
                return found
        # Near misses: a piece of a word ("atrix") still finds the title.
        stmt = _visible(
            sa.select(Movie).where(Movie.title.ilike(like_pattern(query), escape="\\")),
            include_hidden,
        ).order_by(Movie.popular_score.desc(), Movie.id)
        return list(db.session.scalars(stmt.limit(limit)))

    @staticmethod
    def _matches(match: str, skip: list[int], size: int, include_hidden: bool) -> list[Movie]:
        fts = sa.literal_column("movie_fts")
        stmt = _visible(
            sa.select(Movie)
            .join(MOVIE_FTS, MOVIE_FTS.c.rowid == Movie.id)
            .where(fts.op("MATCH")(match)),
            include_hidden,
        )
        if skip:
            stmt = stmt.where(Movie.id.not_in(skip))
        stmt = stmt.order_by(sa.func.bm25(fts, 10.0, 6.0, 4.0, 1.0), Movie.popular_score.desc())
        return list(db.session.scalars(stmt.limit(size)))


class PostgresBackend:
    def search(self, query, words, limit, include_hidden):
        # Every word first; failing that, any word.
        for joiner in (" & ", " | "):
            if not words:
                break
            # ABC: the weights of title, original title and director (the migration's).
            named = joiner.join(f"{word}:*ABC" for word in words)
            anywhere = joiner.join(f"{word}:*" for word in words)
            found = _tiered(self._matches, named, anywhere, limit, include_hidden)
            if found:
                return found
        # Near misses and typos: trigram similarity on the title.
        stmt = _visible(
            sa.select(Movie).where(
                sa.or_(
                    Movie.title.ilike(like_pattern(query), escape="\\"),
                    Movie.title.op("%")(query),
                )
            ),
            include_hidden,
        ).order_by(sa.func.similarity(Movie.title, query).desc(), Movie.popular_score.desc())
        return list(db.session.scalars(stmt.limit(limit)))

    @staticmethod
    def _matches(text: str, skip: list[int], size: int, include_hidden: bool) -> list[Movie]:
        tsquery = sa.func.to_tsquery("simple", text)
        vector = sa.literal_column("movie.search_vector")
        stmt = _visible(sa.select(Movie).where(vector.op("@@")(tsquery)), include_hidden)
        if skip:
            stmt = stmt.where(Movie.id.not_in(skip))
        stmt = stmt.order_by(sa.func.ts_rank(vector, tsquery).desc(), Movie.popular_score.desc())
        return list(db.session.scalars(stmt.limit(size)))


def _tiered(matches, named: str, anywhere: str, limit: int, include_hidden: bool) -> list[Movie]:
    """Films matched in their names first, then the rest; the second tier is ranked only when
    the first leaves room. ``matches(query, skip, size, include_hidden)`` runs one tier."""
    first = matches(named, [], limit, include_hidden)
    if len(first) >= limit:
        return first
    skip = [movie.id for movie in first]
    return first + matches(anywhere, skip, limit - len(first), include_hidden)


BACKENDS: dict[str, Backend] = {"sqlite": SQLiteBackend(), "postgresql": PostgresBackend()}


def merged(
    result: SearchResult, movie_ids: list[int], include_hidden: bool = False
) -> SearchResult:
    """Aura's matches first, then the films in ``movie_ids`` (TMDB's, stored already) that
    Aura's search did not find, in that order; still at most RESULT_LIMIT films."""
    shown = {movie.id for movie in result.movies}
    extra_ids = [movie_id for movie_id in movie_ids if movie_id not in shown]
    if not extra_ids or len(result.movies) >= RESULT_LIMIT:
        return result
    found = {
        movie.id: movie
        for movie in db.session.scalars(
            sa.select(Movie).where(Movie.id.in_(extra_ids), visibility.films(include_hidden))
        )
    }
    extra = [found[movie_id] for movie_id in extra_ids if movie_id in found]
    movies = [*result.movies, *extra]
    return SearchResult(
        result.query, movies[:RESULT_LIMIT], result.limited or len(movies) > RESULT_LIMIT
    )


def search_movies(raw_query: str | None, include_hidden: bool = False) -> SearchResult:
    """The best matches for ``raw_query``, most relevant first; empty for an empty query."""
    query = clean_query(raw_query)
    if not query:
        return SearchResult("", [], False)
    backend = BACKENDS[db.engine.dialect.name]
    movies = backend.search(query, tokens(query), RESULT_LIMIT + 1, include_hidden)
    return SearchResult(query, movies[:RESULT_LIMIT], len(movies) > RESULT_LIMIT)

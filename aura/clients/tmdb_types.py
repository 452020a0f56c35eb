"""TMDB answers as frozen dataclasses; each ``from_json`` validates what it keeps.

A list item that cannot be a film (no id, no title) is skipped and counted, never fatal; a body
that is not the expected shape at all raises ``TMDBProtocolError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from aura.clients import fields as f
from aura.clients.errors import TMDBProtocolError

MAX_PAGE = 500  # TMDB answers no page past 500, whatever total_pages says


class InvalidItem(ValueError):
    """One item of an answer that cannot be used."""


def clamp_page(page: Any) -> int:
    """A page number TMDB will accept: 1..500; anything unreadable is page 1."""
    if isinstance(page, bool) or not isinstance(page, int):
        return 1
    return min(max(page, 1), MAX_PAGE)


def _body(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise TMDBProtocolError(f"TMDB sent something that is not {what}.")
    return data


@dataclass(frozen=True)
class Genre:
    id: int
    name: str

    @classmethod
    def from_json(cls, data: Any) -> Genre:
        data = f.mapping(data)
        genre_id, name = f.identifier(data.get("id")), f.text(data.get("name"), 80)
        if genre_id is None or name is None:
            raise InvalidItem("a genre needs an id and a name")
        return cls(genre_id, name)


def genre_list(data: Any) -> list[Genre]:
    body = _body(data, "a genre list")
    if not isinstance(body.get("genres"), list):
        raise TMDBProtocolError("TMDB's genre list has no genres.")
    return _valid(Genre.from_json, body["genres"])[0]


@dataclass(frozen=True)
class MovieSummary:
    """A film as the lists and search give it."""

    id: int
    title: str
    original_title: str | None = None
    original_language: str | None = None
    overview: str | None = None
    release_date: date | None = None
    poster_path: str | None = None
    backdrop_path: str | None = None
    popularity: float = 0.0
    vote_average: float | None = None
    vote_count: int | None = None
    genre_ids: tuple[int, ...] = ()
    adult: bool = False

    @staticmethod
    def _fields(data: dict[str, Any]) -> dict[str, Any]:
        movie_id = f.identifier(data.get("id"))
        title = f.text(data.get("title"), 500) or f.text(data.get("original_title"), 500)
        if movie_id is None or title is None:
            raise InvalidItem("a film needs an id and a title")
        votes = f.integer(data.get("vote_count"), 0, 10**9)
        return {
            "id": movie_id,
            "title": title,
            "original_title": f.text(data.get("original_title"), 500),
            "original_language": f.text(data.get("original_language"), 10),
            "overview": f.text(data.get("overview"), 10_000, multiline=True),
            "release_date": f.day(data.get("release_date")),
            "poster_path": f.image_path(data.get("poster_path")),
            "backdrop_path": f.image_path(data.get("backdrop_path")),
            "popularity": f.number(data.get("popularity"), 0, 1e7) or 0.0,
            # TMDB reports 0.0 for films nobody voted on: that is no score, not a bad one.
            "vote_average": f.number(data.get("vote_average"), 0, 10) if votes else None,
            "vote_count": votes,
            "genre_ids": tuple(
                gid for gid in map(f.identifier, f.items(data.get("genre_ids"))) if gid
            )[:20],
            "adult": f.flag(data.get("adult")),
        }

    @classmethod
    def from_json(cls, data: Any) -> MovieSummary:
        return cls(**cls._fields(f.mapping(data)))


@dataclass(frozen=True)
class MoviePage:
    page: int
    total_pages: int  # clamped to 1..500: TMDB serves no page past 500
    total_results: int
    results: tuple[MovieSummary, ...]
    skipped: int = 0  # items that could not be films

    @classmethod
    def from_json(cls, data: Any) -> MoviePage:
        body = _body(data, "a page of films")
        if not isinstance(body.get("results"), list):
            raise TMDBProtocolError("TMDB's page of films has no results.")
        results, skipped = _valid(MovieSummary.from_json, body["results"])
        return cls(
            page=clamp_page(body.get("page")),
            total_pages=clamp_page(body.get("total_pages")),
            total_results=f.integer(body.get("total_results"), 0, 10**9) or 0,
            results=tuple(results),
            skipped=skipped,
        )


@dataclass(frozen=True)
class Video:
    key: str
    site: str
    type: str
    name: str | None = None
    official: bool = False
    language: str | None = None  # iso_639_1
    country: str | None = None  # iso_3166_1
    published_at: datetime | None = None
    size: int | None = None

    @property
    def youtube_key(self) -> str | None:
        """The key, when this is a YouTube video with a well-formed key; else None."""
        return f.youtube_key(self.key) if self.site == "YouTube" else None

    @classmethod
    def from_json(cls, data: Any) -> Video:
        data = f.mapping(data)
        key, site = data.get("key"), f.text(data.get("site"), 40)
        if not isinstance(key, str) or not f.VIDEO_KEY.fullmatch(key) or site is None:
            raise InvalidItem("a video needs a site and a well-formed key")
        return cls(
            key=key,
            site=site,
            type=f.text(data.get("type"), 40) or "",
            name=f.text(data.get("name"), 300),
            official=f.flag(data.get("official")),
            language=f.text(data.get("iso_639_1"), 10),
            country=f.text(data.get("iso_3166_1"), 10),
            published_at=f.instant(data.get("published_at")),
            size=f.integer(data.get("size"), 0, 10_000),
        )


def video_list(data: Any) -> list[Video]:
    body = _body(data, "a list of videos")
    if not isinstance(body.get("results"), list):
        raise TMDBProtocolError("TMDB's list of videos has no results.")
    return _valid(Video.from_json, body["results"])[0]


@dataclass(frozen=True)
class MovieDetails(MovieSummary):
    """``/movie/{id}`` with credits, release dates and videos appended."""

    runtime: int | None = None
    tagline: str | None = None
    imdb_id: str | None = None
    status: str | None = None
    budget: int | None = None
    revenue: int | None = None
    genres: tuple[Genre, ...] = ()
    directors: tuple[str, ...] = ()
    # (country, certification) pairs in TMDB's order, empty certifications left out
    certifications: tuple[tuple[str, str], ...] = ()
    videos: tuple[Video, ...] = ()

    def certification(self, region: str = "US") -> str | None:
        """The region's certification, else the US one, else the first non-empty one."""
        by_country: dict[str, str] = {}
        for country, rating in self.certifications:
            by_country.setdefault(country, rating)
        for country in (region, "US"):
            if country in by_country:
                return by_country[country]
        return self.certifications[0][1] if self.certifications else None

    @classmethod
    def from_json(cls, data: Any) -> MovieDetails:
        body = _body(data, "a film")
        values = MovieSummary._fields(body)
        genres = tuple(_valid(Genre.from_json, f.items(body.get("genres")))[0])
        values["genre_ids"] = tuple(genre.id for genre in genres)
        imdb_id = f.text(body.get("imdb_id"), 20)
        crew = f.items(f.mapping(body.get("credits")).get("crew"))
        directors = [
            name
            for member in crew
            if f.mapping(member).get("job") == "Director"
            and (name := f.text(f.mapping(member).get("name"), 300))
        ]
        videos = f.items(f.mapping(body.get("videos")).get("results"))
        return cls(
            **values,
            runtime=f.integer(body.get("runtime"), 1, 1500),  # 0 is TMDB's "unknown"
            tagline=f.text(body.get("tagline"), 500),
            imdb_id=imdb_id if imdb_id and imdb_id.isascii() and imdb_id.isalnum() else None,
            status=f.text(body.get("status"), 40),
            budget=f.integer(body.get("budget"), 1, 10**13),
            revenue=f.integer(body.get("revenue"), 1, 10**13),
            genres=genres,
            directors=tuple(dict.fromkeys(directors))[:5],
            certifications=_certifications(body.get("release_dates")),
            videos=tuple(_valid(Video.from_json, videos)[0]),
        )


def _certifications(data: Any) -> tuple[tuple[str, str], ...]:
    found = []
    for country in f.items(f.mapping(data).get("results")):
        code = f.text(f.mapping(country).get("iso_3166_1"), 2)
        if code is None:
            continue
        for release in f.items(f.mapping(country).get("release_dates")):
            rating = f.text(f.mapping(release).get("certification"), 20)
            if rating:
                found.append((code, rating))
                break
    return tuple(found)


@dataclass(frozen=True)
class ChangesPage:
    ids: tuple[int, ...]
    page: int
    total_pages: int

    @classmethod
    def from_json(cls, data: Any) -> ChangesPage:
        body = _body(data, "a list of changes")
        if not isinstance(body.get("results"), list):
            raise TMDBProtocolError("TMDB's list of changes has no results.")
        ids = (f.identifier(f.mapping(item).get("id")) for item in body["results"])
        return cls(
            ids=tuple(dict.fromkeys(i for i in ids if i)),
            page=clamp_page(body.get("page")),
            total_pages=clamp_page(body.get("total_pages")),
        )


@dataclass(frozen=True)
class ImageConfig:
    """Where TMDB serves images; only a base on an allowed host is ever kept."""

    secure_base_url: str
    poster_sizes: tuple[str, ...] = field(default=())
    backdrop_sizes: tuple[str, ...] = field(default=())
    logo_sizes: tuple[str, ...] = field(default=())
    profile_sizes: tuple[str, ...] = field(default=())

    @property
    def host(self) -> str:
        return urlsplit(self.secure_base_url).hostname or ""

    @property
    def sizes(self) -> frozenset[str]:
        return frozenset(
            self.poster_sizes + self.backdrop_sizes + self.logo_sizes + self.profile_sizes
        )

    @classmethod
    def from_json(cls, data: Any, allowed_hosts: tuple[str, ...]) -> ImageConfig:
        images = f.mapping(_body(data, "a configuration").get("images"))
        base = images.get("secure_base_url")
        if not isinstance(base, str) or not f.image_base(base, allowed_hosts):
            raise TMDBProtocolError("TMDB's configuration names an image host Aura does not use.")

        def sizes(name: str) -> tuple[str, ...]:
            return tuple(size for size in f.items(images.get(name)) if f.image_size(size))[:20]

        return cls(
            secure_base_url=base if base.endswith("/") else base + "/",
            poster_sizes=sizes("poster_sizes"),
            backdrop_sizes=sizes("backdrop_sizes"),
            logo_sizes=sizes("logo_sizes"),
            profile_sizes=sizes("profile_sizes"),
        )

    def to_json(self) -> dict[str, Any]:
        """A plain form for the cache (never pickles of our classes)."""
        return {
            "images": {
                "secure_base_url": self.secure_base_url,
                "poster_sizes": list(self.poster_sizes),
                "backdrop_sizes": list(self.backdrop_sizes),
                "logo_sizes": list(self.logo_sizes),
                "profile_sizes": list(self.profile_sizes),
            }
        }


def _valid(build, raw_items: list[Any]) -> tuple[list, int]:
    """Every item ``build`` accepts, and how many it refused."""
    built, skipped = [], 0
    for raw in raw_items:
        try:
            built.append(build(raw))
        except InvalidItem:
            skipped += 1
    return built, skipped
